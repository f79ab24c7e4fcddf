// "Act from host": this machine, or a host of the running lab (hosts first, then routers).
import type { LabMap } from '../../../common/contract';
import { labHosts } from '../store/lab';

export function LabHostPicker({ map, host, onPick }: { map: LabMap | undefined; host: string; onPick(host: string): void }) {
  const hosts = labHosts(map);
  return (
    <label className="inline">
      <span>Act from</span>
      <select aria-label="Act from host" value={host} disabled={hosts.length === 0} onChange={(event) => onPick(event.target.value)}>
        <option value="">This machine</option>
        {hosts.map((h) => (
          <option key={h.name} value={h.name}>
            {h.name} ({h.role}{h.addresses.length > 0 ? `, ${h.addresses[0].replace(/\/\d+$/, '')}` : ''})
          </option>
        ))}
      </select>
    </label>
  );
}
