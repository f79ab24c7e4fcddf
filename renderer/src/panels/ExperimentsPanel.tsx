// Ping (live RTT chart and statistics) beside traceroute (a hop table that fills as probes
// return), mtr (MtrView) or path-MTU discovery (PmtuView), with every run kept in a history
// that can be exported as JSON.
import type { Hop } from '../../../common/contract';
import { isIpv6 } from '../../../packets';
import { Field, FormError, ResolvedNote, RunError, runVia, Stat } from '../components/ExperimentParts';
import { RawNeededNote, useRawAccess } from '../components/RawAccess';
import { RttChart } from '../components/RttChart';
import { Split } from '../components/Split';
import { pingAvailability, tracerouteAvailability, viaWords } from '../model/capabilities';
import { formatClock, formatMs } from '../model/format';
import { probeWords, resultWords } from '../model/run-words';
import { useWorkbench } from '../store';
import type { RouteView } from '../store/experiments';
import './experiments.css';
import { MtrView } from './MtrView';
import { PmtuView } from './PmtuView';

const PROBE_WORDS = { icmp: 'ICMP echo', udp: 'UDP', tcp: 'TCP SYN' } as const;

export function ExperimentsPanel() {
  return (
    <section className="experiments-panel" aria-label="Experiments">
      <Split
        id="experiments"
        direction="column"
        label="Resize runs and history"
        initial={0.72}
        minFirst={200}
        minSecond={110}
        first={
          <div className="experiments-columns">
            <PingView />
            <RouteExperiments />
          </div>
        }
        second={<History />}
      />
    </section>
  );
}

const ROUTE_VIEWS: [RouteView, string][] = [
  ['traceroute', 'Traceroute'],
  ['mtr', 'mtr'],
  ['pmtu', 'Path MTU'],
];

/** The second column: traceroute, mtr or path-MTU discovery, one at a time. */
function RouteExperiments() {
  const view = useWorkbench((s) => s.experiments.routeView);
  const setView = useWorkbench((s) => s.experiments.setRouteView);
  return (
    <div className="route-experiments">
      <div role="tablist" aria-label="Route experiment" className="tabs route-tabs">
        {ROUTE_VIEWS.map(([id, label]) => (
          <button key={id} type="button" role="tab" id={`route-tab-${id}`} aria-selected={view === id} aria-controls={`route-view-${id}`} className="tab" onClick={() => setView(id)}>
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`route-view-${view}`} aria-labelledby={`route-tab-${view}`}>
        {view === 'traceroute' ? <TracerouteView /> : view === 'mtr' ? <MtrView /> : <PmtuView />}
      </div>
    </div>
  );
}

function PingView() {
  const form = useWorkbench((s) => s.experiments.pingForm);
  const setForm = useWorkbench((s) => s.experiments.setPingForm);
  const start = useWorkbench((s) => s.experiments.startPing);
  const stop = useWorkbench((s) => s.experiments.stop);
  const error = useWorkbench((s) => s.experiments.pingError);
  const resolved = useWorkbench((s) => s.experiments.pingResolved);
  const online = useWorkbench((s) => s.settings.connection === 'open');
  const run = useWorkbench((s) => s.experiments.runs.find((candidate) => candidate.runId === s.experiments.pingRunId));
  const stats = run?.ping?.statistics;
  const replies = run?.ping?.replies ?? [];
  const bad = (field: string) => !!error && (error.field === field || (error.fields !== undefined && field in error.fields));
  return (
    <section className="experiment" aria-label="Ping">
      <h2 className="pane-title">Ping</h2>
      <form
        className="toolbar wrap"
        onSubmit={(event) => {
          event.preventDefault();
          if (online) void start();
        }}
      >
        <Field label="Ping target" value={form.target} onChange={(target) => setForm({ target })} width="wide" invalid={!!bad('target')} />
        <Field label="Ping count" value={form.count} onChange={(count) => setForm({ count })} invalid={!!bad('count')} />
        <Field label="Interval" value={form.interval} onChange={(interval) => setForm({ interval })} unit="ms" invalid={!!bad('interval')} />
        <Field label="Size" value={form.size} onChange={(size) => setForm({ size })} unit="bytes" invalid={!!bad('size')} />
        <Field label="TTL" value={form.ttl} onChange={(ttl) => setForm({ ttl })} invalid={!!bad('ttl')} />
        <Field label="Timeout" value={form.timeout} onChange={(timeout) => setForm({ timeout })} unit="ms" invalid={!!bad('timeout')} />
        <label className="inline">
          <span>Mode</span>
          <select aria-label="Ping mode" value={form.mode} onChange={(event) => setForm({ mode: event.target.value as typeof form.mode })}>
            <option value="auto">Auto</option>
            <option value="raw">Raw</option>
            <option value="datagram">Unprivileged</option>
          </select>
        </label>
        <button type="submit" className="primary" disabled={run?.state === 'running' || !online}>
          Start ping
        </button>
        {run?.state === 'running' && (
          <button type="button" onClick={() => void stop(run.runId)}>
            Stop ping
          </button>
        )}
      </form>
      <PingAvailability />
      <FormError error={error} />
      <ResolvedNote text={resolved} />
      {run && (
        <>
          <div className="run-line muted">
            {run.runId} · {run.target} · {runVia(run)} · <span className={`state state-${run.state}`}>{run.state}</span>
          </div>
          <RunError run={run} />
          <dl className="stats" aria-label="Ping statistics">
            <Stat name="Transmitted" value={String(stats?.transmitted ?? 0)} />
            <Stat name="Received" value={String(stats?.received ?? 0)} />
            <Stat name="Loss" value={`${(stats?.loss ?? 0).toFixed(1)}%`} />
            <Stat name="Min" value={`${formatMs(stats?.min)} ms`} />
            <Stat name="Avg" value={`${formatMs(stats?.avg)} ms`} />
            <Stat name="Max" value={`${formatMs(stats?.max)} ms`} />
            <Stat name="Mdev" value={`${formatMs(stats?.mdev)} ms`} />
          </dl>
          <RttChart replies={replies} label={`Round-trip times of ${run.target}`} />
          <div className="scroll-box" role="region" aria-label="Ping replies, scrollable" tabIndex={0}>
            <table className="grid-table" aria-label="Ping replies">
              <thead>
                <tr>
                  <th scope="col" className="num">Seq</th>
                  <th scope="col">From</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="num">RTT (ms)</th>
                  <th scope="col" className="num">TTL</th>
                  <th scope="col" className="num">Bytes</th>
                </tr>
              </thead>
              <tbody>
                {replies.slice(-200).map((reply) => (
                  <tr key={reply.sequence}>
                    <td className="num">{reply.sequence}</td>
                    <td className="mono">{reply.from ?? ''}</td>
                    <td className={reply.status === 'reply' ? '' : 'bad'}>{reply.error ?? reply.status}</td>
                    <td className="num">{formatMs(reply.rtt)}</td>
                    <td className="num">{reply.ttl ?? ''}</td>
                    <td className="num">{reply.bytes ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function PingAvailability() {
  const form = useWorkbench((s) => s.experiments.pingForm);
  const { capabilities, helper } = useRawAccess();
  if (!capabilities) return null;
  const family = isIpv6(form.target.trim()) ? 'ipv6' : 'ipv4';
  const now = pingAvailability(capabilities, helper, form.mode, family);
  if (now.works) return null;
  const what =
    form.mode === 'datagram'
      ? `Unprivileged ping cannot run now: ping sockets are not allowed for this user (${family === 'ipv4' ? 'IPv4' : 'IPv6'}).`
      : form.mode === 'raw'
        ? 'Ping with raw sockets cannot run now: no raw sockets.'
        : 'Ping cannot run now: no raw sockets and no ping sockets.';
  return <RawNeededNote what={what} remedy={now.remedy} offerHelper={now.needsRaw} />;
}

function TracerouteAvailability() {
  const form = useWorkbench((s) => s.experiments.traceForm);
  const { capabilities, helper } = useRawAccess();
  if (!capabilities) return null;
  const family = isIpv6(form.target.trim()) ? 'ipv6' : 'ipv4';
  const now = tracerouteAvailability(capabilities, helper, form.probe, form.mode, family);
  if (now.works) {
    return <p className="hint">{PROBE_WORDS[form.probe]} probes will go {`via ${viaWords(now.via)}`}.</p>;
  }
  const what =
    form.mode === 'raw'
      ? `${PROBE_WORDS[form.probe]} traceroute with raw sockets cannot run now: no raw sockets.`
      : form.mode === 'error-queue'
        ? `${PROBE_WORDS[form.probe]} traceroute without privileges cannot run now.`
        : `${PROBE_WORDS[form.probe]} traceroute cannot run now: it needs raw sockets${form.probe === 'icmp' ? ' or a ping socket' : ''}.`;
  return <RawNeededNote what={what} remedy={now.remedy} offerHelper={now.needsRaw} />;
}

function TracerouteView() {
  const form = useWorkbench((s) => s.experiments.traceForm);
  const setForm = useWorkbench((s) => s.experiments.setTraceForm);
  const start = useWorkbench((s) => s.experiments.startTraceroute);
  const stop = useWorkbench((s) => s.experiments.stop);
  const error = useWorkbench((s) => s.experiments.traceError);
  const resolved = useWorkbench((s) => s.experiments.traceResolved);
  const online = useWorkbench((s) => s.settings.connection === 'open');
  const run = useWorkbench((s) => s.experiments.runs.find((candidate) => candidate.runId === s.experiments.traceRunId));
  const hops = run?.traceroute?.hops ?? [];
  const maxHops = Number(run?.params.maxHops ?? form.maxHops) || 30;
  const firstHop = Number(run?.params.firstHop ?? 1) || 1;
  const probes = Number(run?.params.probesPerHop ?? form.probesPerHop) || 3;
  const done = run && run.state !== 'running';
  const lastTtl = hops.length ? hops[hops.length - 1].ttl : firstHop - 1;
  const progress = done ? 1 : Math.min(1, (lastTtl - firstHop + 1) / Math.max(1, maxHops - firstHop + 1));
  const bad = (field: string) => !!error && (error.field === field || (error.fields !== undefined && field in error.fields));
  return (
    <section className="experiment" aria-label="Traceroute">
      <h2 className="pane-title">Traceroute</h2>
      <form
        className="toolbar wrap"
        onSubmit={(event) => {
          event.preventDefault();
          if (online) void start();
        }}
      >
        <Field label="Traceroute target" value={form.target} onChange={(target) => setForm({ target })} width="wide" invalid={!!bad('target')} />
        <label className="inline">
          <span>Probe</span>
          <select aria-label="Probe kind" value={form.probe} onChange={(event) => setForm({ probe: event.target.value as typeof form.probe })}>
            <option value="icmp">ICMP echo</option>
            <option value="udp">UDP</option>
            <option value="tcp">TCP SYN</option>
          </select>
        </label>
        <label className="inline">
          <span>Mode</span>
          <select aria-label="Traceroute mode" value={form.mode} onChange={(event) => setForm({ mode: event.target.value as typeof form.mode })}>
            <option value="auto">Auto (raw, else no privileges)</option>
            <option value="raw">Raw sockets</option>
            <option value="error-queue">Error queue (no privileges)</option>
          </select>
        </label>
        <Field label="First hop" value={form.firstHop} onChange={(firstHop) => setForm({ firstHop })} invalid={!!bad('firstHop')} />
        <Field label="Max hops" value={form.maxHops} onChange={(maxHops) => setForm({ maxHops })} invalid={!!bad('maxHops')} />
        <Field label="Probes per hop" value={form.probesPerHop} onChange={(probesPerHop) => setForm({ probesPerHop })} invalid={!!bad('probesPerHop')} />
        <Field label="Probe timeout" value={form.timeout} onChange={(timeout) => setForm({ timeout })} unit="ms" invalid={!!bad('timeout')} />
        {form.probe !== 'icmp' && <Field label="Port" value={form.port} onChange={(port) => setForm({ port })} invalid={!!bad('port')} />}
        <button type="submit" className="primary" disabled={run?.state === 'running' || !online}>
          Start traceroute
        </button>
        {run?.state === 'running' && (
          <button type="button" onClick={() => void stop(run.runId)}>
            Stop traceroute
          </button>
        )}
      </form>
      <TracerouteAvailability />
      <FormError error={error} />
      <ResolvedNote text={resolved} />
      {run && (
        <>
          <div className="run-line muted">
            {run.runId} · {run.target} · {String(run.params.probe ?? 'icmp')} · {runVia(run)} · <span className={`state state-${run.state}`}>{run.state}</span>
            {run.traceroute && (run.traceroute.reached || run.state !== 'running') ? ` · ${resultWords(run)}` : ''}
          </div>
          <RunError run={run} />
          <progress className="wide-progress" max={1} value={progress} aria-label="Traceroute progress" />
          <div className="hops-scroll" role="region" aria-label="Hops, scrollable" tabIndex={0}>
            <table className="grid-table" aria-label="Hops">
              <thead>
                <tr>
                  <th scope="col" className="num">Hop</th>
                  <th scope="col">Responder</th>
                  {Array.from({ length: probes }, (_, i) => (
                    <th key={i} scope="col" className="num">
                      RTT {i + 1} (ms)
                    </th>
                  ))}
                  <th scope="col">Answer</th>
                </tr>
              </thead>
              <tbody>
                {hops.map((hop) => (
                  <HopRow key={hop.ttl} hop={hop} probes={probes} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function HopRow({ hop, probes }: { hop: Hop; probes: number }) {
  const responders = [...new Set(hop.probes.flatMap((probe) => (probe.responder ? [probe.responder] : [])))];
  const kinds = [...new Set(hop.probes.flatMap((probe) => (probe.kind ? [probe.kind] : [])))];
  return (
    <tr>
      <td className="num">{hop.ttl}</td>
      <td className="mono">{responders.length ? responders.join(', ') : '*'}</td>
      {Array.from({ length: probes }, (_, i) => {
        const probe = hop.probes[i];
        return (
          <td key={i} className="num">
            {probe ? (probe.status === 'reply' ? formatMs(probe.rtt) : '*') : ''}
          </td>
        );
      })}
      <td className="muted">{kinds.join(', ')}</td>
    </tr>
  );
}

function History() {
  const runs = useWorkbench((s) => s.experiments.runs);
  const show = useWorkbench((s) => s.experiments.show);
  const exportHistory = useWorkbench((s) => s.experiments.exportHistory);
  return (
    <section className="history" aria-label="Run history">
      <div className="pane-title">
        <span>History ({runs.length})</span>
        <button type="button" disabled={runs.length === 0} onClick={() => exportHistory()}>
          Export history (JSON)
        </button>
      </div>
      {runs.length === 0 ? (
        <p className="muted pad">No runs yet: start a ping, a traceroute, mtr or path MTU discovery above. Every run is kept here, and can be shown again or exported as JSON.</p>
      ) : (
        <div className="region-scroll" role="region" aria-label="Runs, scrollable" tabIndex={0}>
          <table className="grid-table" aria-label="Runs">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Kind</th>
                <th scope="col">Probe</th>
                <th scope="col">Target</th>
                <th scope="col">Via</th>
                <th scope="col">Started</th>
                <th scope="col">State</th>
                <th scope="col">Result</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {[...runs].reverse().map((run) => (
                <tr key={run.runId}>
                  <td className="mono">{run.runId}</td>
                  <td>{run.kind}</td>
                  <td>{probeWords(run)}</td>
                  <td className="mono">{run.target}</td>
                  <td>{viaWords(run.via ?? run.mode)}</td>
                  <td className="mono">{formatClock(run.startedAt)}</td>
                  <td className={`state state-${run.state}`}>{run.state}</td>
                  <td className={run.state === 'failed' ? 'bad wrap' : undefined}>{run.state === 'failed' && run.error ? `${run.error.code}: ${run.error.message}` : resultWords(run)}</td>
                  <td className="actions">
                    <button type="button" aria-label={`Show ${run.runId}`} onClick={() => show(run.runId)}>
                      Show
                    </button>
                    <button type="button" aria-label={`Export ${run.runId}`} onClick={() => exportHistory(run.runId)}>
                      Export
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
