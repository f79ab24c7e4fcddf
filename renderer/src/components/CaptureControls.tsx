// Capture mode in the status bar: start a packet-socket capture on an interface (or all),
// stop it, its counters; what the log lost (ring overflows, kernel drops); classic pcap export.
import { useEffect } from 'react';
import { useWorkbench } from '../store';

/** Ring overflows and kernel drops: shown as a warning as soon as there are any. */
export function LossStatus() {
  const status = useWorkbench((s) => s.capture.status);
  if (!status) return null;
  const lost = status.overflowed + status.kernelDrops;
  return (
    <span className={`status-fit${lost > 0 ? ' bad' : ''}`} aria-label="Packets lost" title="Ring overflows: rows the full log dropped before the view received them. Kernel drops: packets a full socket receive buffer lost (SO_RXQ_OVFL).">
      Lost: {status.kernelDrops.toLocaleString()} kernel drops · {status.overflowed.toLocaleString()} ring overflows
    </span>
  );
}

export function CaptureControls() {
  const list = useWorkbench((s) => s.capture.list);
  const interfaceName = useWorkbench((s) => s.capture.interfaceName);
  const error = useWorkbench((s) => s.capture.error);
  const busy = useWorkbench((s) => s.capture.busy);
  const filter = useWorkbench((s) => s.capture.filter);
  const setInterface = useWorkbench((s) => s.capture.setInterface);
  const setFilter = useWorkbench((s) => s.capture.setFilter);
  const start = useWorkbench((s) => s.capture.start);
  const stop = useWorkbench((s) => s.capture.stop);
  const load = useWorkbench((s) => s.capture.load);
  const exportPcap = useWorkbench((s) => s.capture.exportPcap);
  const connection = useWorkbench((s) => s.settings.connection);
  const host = useWorkbench((s) => s.lab.host);
  useEffect(() => {
    if (connection === 'open') void load();
  }, [connection, load]);
  const running = list.filter((capture) => capture.state === 'running');
  return (
    <span className="capture-controls" aria-label="Capture">
      <input
        aria-label="Capture interface"
        placeholder="all interfaces"
        size={10}
        value={interfaceName}
        onChange={(event) => setInterface(event.target.value)}
      />
      <input aria-label="Packet capture filter" placeholder="capture filter (tcpdump)" size={16} value={filter} onChange={(event) => setFilter(event.target.value)} />
      <button type="button" disabled={busy} onClick={() => void start()} title="Capture whole packets, both directions, on a packet socket (what tcpdump sees)">
        Capture
      </button>
      {host && <span>in {host}</span>}
      {running.map((capture) => (
        <span key={capture.captureId} aria-label={`Capture ${capture.captureId}`}>
          {capture.captureId} on {capture.interface ?? 'all'}{capture.host ? ` in ${capture.host}` : ''}: {(capture.counters.received + capture.counters.sent).toLocaleString()} packets
          {capture.counters.kernelDrops > 0 ? <span className="bad"> ({capture.counters.kernelDrops.toLocaleString()} dropped)</span> : null}{' '}
          <button type="button" onClick={() => void stop(capture.captureId)}>
            Stop
          </button>
        </span>
      ))}
      <button type="button" onClick={() => void exportPcap()} title="The whole log as classic pcap (raw IP; no direction, interfaces or comments: pcapng keeps those)">
        Export pcap
      </button>
      {error ? (
        <span className="bad" role="alert">
          {error}
        </span>
      ) : null}
    </span>
  );
}
