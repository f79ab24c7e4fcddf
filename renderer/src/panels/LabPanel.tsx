// A teaching lab: pick a shipped topology, start and stop it, see it drawn (hosts, routers,
// links with addresses, MTU and impairments), and pick the lab host the workbench acts from:
// Send's sockets, captures and experiments then open inside that host's network namespace.
import { useEffect } from 'react';
import type { LabInfo } from '../../../common/contract';
import { LabDiagram, LabLinksTable } from '../components/LabDiagram';
import { LabHostPicker } from '../components/LabHostPicker';
import '../components/lab.css';
import { formatClock } from '../model/format';
import { useWorkbench } from '../store';

const BUSY_STATES = new Set<LabInfo['state']>(['starting', 'stopping']);

export function LabPanel() {
  const topologies = useWorkbench((s) => s.lab.topologies);
  const topology = useWorkbench((s) => s.lab.topology);
  const info = useWorkbench((s) => s.lab.info);
  const busy = useWorkbench((s) => s.lab.busy);
  const error = useWorkbench((s) => s.lab.error);
  const host = useWorkbench((s) => s.lab.host);
  const setTopology = useWorkbench((s) => s.lab.setTopology);
  const setHost = useWorkbench((s) => s.lab.setHost);
  const start = useWorkbench((s) => s.lab.start);
  const stop = useWorkbench((s) => s.lab.stop);
  const load = useWorkbench((s) => s.lab.load);
  const online = useWorkbench((s) => s.settings.connection === 'open');
  useEffect(() => {
    if (online) void load();
  }, [online, load]);
  const running = info.state !== 'down' && info.state !== 'failed';
  const chosen = topologies.find((t) => t.name === topology);
  return (
    <section className="lab-panel" aria-label="Lab">
      <form
        className="toolbar"
        aria-label="Start or stop a lab"
        onSubmit={(event) => {
          event.preventDefault();
          if (online && !running) void start();
        }}
      >
        <label className="inline">
          <span>Topology</span>
          <select aria-label="Topology" value={topology} disabled={running || topologies.length === 0} onChange={(event) => setTopology(event.target.value)}>
            {topologies.length === 0 && <option value="">(none yet)</option>}
            {topologies.map((t) => (
              <option key={t.name} value={t.name}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={!online || busy || running || !topology}>
          Start lab
        </button>
        <button type="button" disabled={!online || busy || info.state === 'stopping' || !running} onClick={() => void stop()}>
          Stop lab
        </button>
        <LabStateText info={info} />
        <span className="separator" />
        <LabHostPicker map={info.state === 'up' ? info.map : undefined} host={host} onPick={setHost} />
      </form>
      {error && (
        <div className="field-error pad" role="alert">
          {error.code ? <strong>{error.code}: </strong> : null}
          {error.message}
        </div>
      )}
      {info.state === 'failed' && info.error && (
        <div className="field-error pad" role="alert" aria-label="Why the lab failed">
          <strong>{info.error.code}: </strong>
          {info.error.message}
        </div>
      )}
      <div className="lab-body">
        {info.map && running ? (
          <>
            <p className="hint pad-x">{info.map.description ?? chosen?.description}</p>
            <LabDiagram map={info.map} host={host} onPick={setHost} />
            <p className="hint pad-x">
              Click a host or router (or focus it and press Enter) to act from it: Send, Capture and the experiments then open their sockets inside it; click it again to act from this machine. Labs need root: the workbench runs as root or
              through its elevated helper.
            </p>
            <LabLinksTable map={info.map} />
          </>
        ) : (
          <div className="pad">
            {chosen && <p>{chosen.description}</p>}
            {chosen && <p className="muted">Hosts: {chosen.hosts.join(', ')}. Start the lab to see it drawn with its addresses and impairments.</p>}
            {!chosen && topologies.length === 0 && <p className="muted">Reading the shipped topologies…</p>}
          </div>
        )}
      </div>
    </section>
  );
}

/** down, starting…, up since 18:40:02, stopping…, failed. */
export function labStateWords(info: LabInfo): string {
  switch (info.state) {
    case 'starting':
      return 'starting…';
    case 'stopping':
      return 'stopping…';
    case 'up':
      return info.startedAt ? `up since ${formatClock(info.startedAt).slice(0, 8)}` : 'up';
    case 'failed':
      return 'failed';
    default:
      return 'down';
  }
}

function LabStateText({ info }: { info: LabInfo }) {
  const tone = info.state === 'up' ? 'ok-text' : info.state === 'failed' ? 'bad' : BUSY_STATES.has(info.state) ? 'warn-text' : 'muted';
  return (
    <span role="status" aria-label="Lab state" className={`lab-state ${tone}`}>
      {labStateWords(info)}
    </span>
  );
}
