// mtr: a live table of every hop (mtr's report columns) that updates as each cycle's
// probes come back, and its form.
import type { MtrHop } from '../../../common/contract';
import { Field, FormError, RunError, runVia } from '../components/ExperimentParts';
import { formatMs } from '../model/format';
import { resultWords } from '../model/run-words';
import { useWorkbench } from '../store';

const COLUMNS = ['Hop', 'Host', 'Loss%', 'Snt', 'Last', 'Avg', 'Best', 'Wrst', 'StDev'] as const;

export function MtrView() {
  const form = useWorkbench((s) => s.experiments.mtrForm);
  const setForm = useWorkbench((s) => s.experiments.setMtrForm);
  const start = useWorkbench((s) => s.experiments.startMtr);
  const stop = useWorkbench((s) => s.experiments.stop);
  const error = useWorkbench((s) => s.experiments.mtrError);
  const online = useWorkbench((s) => s.settings.connection === 'open');
  const run = useWorkbench((s) => s.experiments.runs.find((candidate) => candidate.runId === s.experiments.mtrRunId));
  const hops = run?.mtr?.hops ?? [];
  const cycles = Number(run?.params.cycles ?? form.cycles) || 10;
  const bad = (field: string) => !!error && (error.field === field || (error.fields !== undefined && field in error.fields));
  return (
    <section className="experiment" aria-label="mtr">
      <h2 className="pane-title">mtr</h2>
      <form
        className="toolbar wrap"
        onSubmit={(event) => {
          event.preventDefault();
          if (online) void start();
        }}
      >
        <Field label="mtr target" value={form.target} onChange={(target) => setForm({ target })} width="wide" invalid={bad('target')} />
        <label className="inline">
          <span>Probe</span>
          <select aria-label="Probe kind" value={form.probe} onChange={(event) => setForm({ probe: event.target.value as typeof form.probe })}>
            <option value="icmp">ICMP echo</option>
            <option value="udp">UDP</option>
            <option value="tcp">TCP SYN</option>
          </select>
        </label>
        <Field label="Cycles" value={form.cycles} onChange={(value) => setForm({ cycles: value })} invalid={bad('cycles')} />
        <Field label="Cycle interval" value={form.interval} onChange={(interval) => setForm({ interval })} unit="ms" invalid={bad('interval')} />
        <Field label="Max hops" value={form.maxHops} onChange={(maxHops) => setForm({ maxHops })} invalid={bad('maxHops')} />
        <Field label="Probe timeout" value={form.timeout} onChange={(timeout) => setForm({ timeout })} unit="ms" invalid={bad('timeout')} />
        <button type="submit" className="primary" disabled={run?.state === 'running' || !online}>
          Start mtr
        </button>
        {run?.state === 'running' && (
          <button type="button" onClick={() => void stop(run.runId)}>
            Stop mtr
          </button>
        )}
      </form>
      <FormError error={error} />
      {run && (
        <>
          <div className="run-line muted">
            {run.runId} · {run.target} · {String(run.params.probe ?? 'icmp')} · {runVia(run)} · <span className={`state state-${run.state}`}>{run.state}</span> · {resultWords(run)}
          </div>
          <RunError run={run} />
          <progress className="wide-progress" max={cycles} value={run.mtr?.cycles ?? 0} aria-label="mtr cycles done" />
          <div className="hops-scroll" role="region" aria-label="mtr hops, scrollable" tabIndex={0}>
            <table className="grid-table" aria-label="mtr hops">
              <thead>
                <tr>
                  {COLUMNS.map((title) => (
                    <th key={title} scope="col" className={title === 'Host' ? undefined : 'num'}>
                      {title}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {hops.map((hop) => (
                  <MtrRow key={hop.ttl} hop={hop} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function MtrRow({ hop }: { hop: MtrHop }) {
  const times = [hop.lastMs, hop.avgMs, hop.bestMs, hop.worstMs, hop.stdevMs];
  return (
    <tr>
      <td className="num">{hop.ttl}</td>
      <td className="mono" title={hop.addresses.join(', ')}>
        {hop.addresses.length ? hop.addresses.join(', ') : '???'}
      </td>
      <td className={hop.lossPercent > 0 ? 'num bad' : 'num'}>{hop.lossPercent.toFixed(1)}</td>
      <td className="num">{hop.sent}</td>
      {times.map((ms, i) => (
        <td key={i} className="num">
          {ms === undefined ? '' : formatMs(ms)}
        </td>
      ))}
    </tr>
  );
}
