// Path-MTU discovery (tracepath): each hop with the packet size that reached it, the
// router that reported a smaller MTU, and the path MTU.
import type { PmtuHop } from '../../../common/contract';
import { Field, FormError, RunError, runVia, Stat } from '../components/ExperimentParts';
import { formatMs } from '../model/format';
import { useWorkbench } from '../store';

export function PmtuView() {
  const form = useWorkbench((s) => s.experiments.pmtuForm);
  const setForm = useWorkbench((s) => s.experiments.setPmtuForm);
  const start = useWorkbench((s) => s.experiments.startPmtu);
  const stop = useWorkbench((s) => s.experiments.stop);
  const error = useWorkbench((s) => s.experiments.pmtuError);
  const online = useWorkbench((s) => s.settings.connection === 'open');
  const run = useWorkbench((s) => s.experiments.runs.find((candidate) => candidate.runId === s.experiments.pmtuRunId));
  const result = run?.pmtu;
  const bad = (field: string) => !!error && (error.field === field || (error.fields !== undefined && field in error.fields));
  return (
    <section className="experiment" aria-label="Path MTU">
      <h2 className="pane-title">Path MTU discovery</h2>
      <form
        className="toolbar wrap"
        onSubmit={(event) => {
          event.preventDefault();
          if (online) void start();
        }}
      >
        <Field label="Path MTU target" value={form.target} onChange={(target) => setForm({ target })} width="wide" invalid={bad('target')} />
        <Field label="Max hops" value={form.maxHops} onChange={(maxHops) => setForm({ maxHops })} invalid={bad('maxHops')} />
        <Field label="Probe timeout" value={form.timeout} onChange={(timeout) => setForm({ timeout })} unit="ms" invalid={bad('timeout')} />
        <button type="submit" className="primary" disabled={run?.state === 'running' || !online}>
          Start path MTU discovery
        </button>
        {run?.state === 'running' && (
          <button type="button" onClick={() => void stop(run.runId)}>
            Stop path MTU discovery
          </button>
        )}
      </form>
      <p className="hint">UDP probes with DF set, growing to the largest packet and shrinking where a router answers Fragmentation Needed / Packet Too Big; no privileges needed.</p>
      <FormError error={error} />
      {run && result && (
        <>
          <div className="run-line muted">
            {run.runId} · {run.target} · {runVia(run)} · <span className={`state state-${run.state}`}>{run.state}</span>
          </div>
          <RunError run={run} />
          <dl className="stats pmtu-stats" aria-label="Path MTU result">
            <Stat name="Path MTU" value={result.pathMtu === undefined ? '—' : `${result.pathMtu} bytes`} />
            <Stat name="Hops" value={String(result.hops.length ? result.hops[result.hops.length - 1].ttl : 0)} />
            <Stat name="Target" value={result.reached ? 'reached' : run.state === 'running' ? '…' : 'not reached'} />
          </dl>
          <div className="hops-scroll" role="region" aria-label="Path MTU hops, scrollable" tabIndex={0}>
            <table className="grid-table" aria-label="Path MTU hops">
              <thead>
                <tr>
                  <th scope="col" className="num">Hop</th>
                  <th scope="col">Host</th>
                  <th scope="col" className="num">MTU</th>
                  <th scope="col" className="num">RTT (ms)</th>
                  <th scope="col">Note</th>
                </tr>
              </thead>
              <tbody>
                {result.hops.map((hop, i) => (
                  <PmtuRow key={i} hop={hop} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function PmtuRow({ hop }: { hop: PmtuHop }) {
  const shrinks = hop.note === 'Fragmentation Needed' || hop.note === 'Packet Too Big' || hop.note === 'local interface MTU';
  return (
    <tr>
      <td className="num">{hop.ttl}</td>
      <td className="mono">{hop.address ?? (hop.note === 'local interface MTU' ? '[this host]' : '*')}</td>
      <td className="num">{shrinks ? <strong>{hop.mtu}</strong> : (hop.mtu ?? '')}</td>
      <td className="num">{hop.rttMs === undefined ? '' : formatMs(hop.rttMs)}</td>
      <td>{hop.note ?? ''}</td>
    </tr>
  );
}
