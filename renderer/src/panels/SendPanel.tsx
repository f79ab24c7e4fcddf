// Sending the edited packet: where to, through which socket, how many and how fast; running jobs.
import type { SendJobInfo } from '../../../common/contract';
import { protocolName } from '../../../packets';
import { AllowRawButton, RawNeededNote, RemedyText, useRawAccess } from '../components/RawAccess';
import { ResponsePane } from '../components/ResponsePane';
import { sendAvailability, viaWords } from '../model/capabilities';
import { useWorkbench } from '../store';
import { AUTOMATIC_SOCKET, isEchoRequest, NEW_SOCKET } from '../store/send';
import { IMPLICIT_IDLE_MS } from '../store/sockets-implicit';

const PERMISSION = new Set(['EPERM', 'EACCES']);

export function SendPanel() {
  const form = useWorkbench((s) => s.send.form);
  const setForm = useWorkbench((s) => s.send.setForm);
  const start = useWorkbench((s) => s.send.start);
  const error = useWorkbench((s) => s.send.error);
  const busy = useWorkbench((s) => s.send.busy);
  const online = useWorkbench((s) => s.settings.connection === 'open');
  const needs = useWorkbench((s) => s.editor.analysis.needs);
  const valid = useWorkbench((s) => s.editor.analysis.spec !== null);
  const destination = useWorkbench((s) => s.editor.analysis.destination);
  const sockets = useWorkbench((s) => s.sockets.list);
  const echoRequest = useWorkbench((s) => isEchoRequest(s.editor.layers));
  const last = useWorkbench((s) => s.send.last);
  const access = useRawAccess();
  const open = sockets.filter((socket) => !socket.closed);
  // Only a new socket depends on what this process may open; a chosen one is open already.
  const availability =
    access.capabilities && needs && (form.socketId === AUTOMATIC_SOCKET || form.socketId === NEW_SOCKET) ? sendAvailability(access.capabilities, access.helper, { ...needs, echoRequest }) : null;
  const errorAt = (where: string) =>
    error && error.where === where ? (
      <div className="field-error" role="alert" id={`send-${where}-error`}>
        {error.code ? <strong>{error.code}: </strong> : null}
        {error.message}
        {error.remedy && (
          <div className="remedy">
            Remedy: <RemedyText text={error.remedy} />
          </div>
        )}
        {error.code && PERMISSION.has(error.code) && access.canAllow && (
          <div>
            <AllowRawButton />
          </div>
        )}
      </div>
    ) : null;

  return (
    <section className="send-panel" aria-label="Send">
      <h2 className="pane-title">Send</h2>
      <form
        className="send-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (online) void start();
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
            event.preventDefault();
            if (online) void start();
          }
        }}
      >
        <div className="form-grid">
          <label htmlFor="send-target">Target address</label>
          <div>
            <input
              id="send-target"
              value={form.target}
              placeholder={destination ? `${destination} (from the IP header)` : '127.0.0.1 or ::1'}
              spellCheck={false}
              aria-invalid={error?.where === 'target' ? true : undefined}
              aria-describedby={error?.where === 'target' ? 'send-target-error' : undefined}
              onChange={(event) => setForm({ target: event.target.value })}
            />
            {errorAt('target')}
          </div>

          <label htmlFor="send-socket">Socket</label>
          <div>
            <select id="send-socket" value={form.socketId} onChange={(event) => setForm({ socketId: event.target.value })}>
              <option value={AUTOMATIC_SOCKET}>Automatic (reuse or open)</option>
              <option value={NEW_SOCKET}>New socket</option>
              {open.map((socket) => (
                <option key={socket.socketId} value={socket.socketId}>
                  {socket.socketId} ({socket.family}, protocol {socket.protocol}, {socket.mode})
                </option>
              ))}
            </select>
            {(form.socketId === AUTOMATIC_SOCKET || form.socketId === NEW_SOCKET) && (
              <div className="muted small">
                {form.socketId === AUTOMATIC_SOCKET ? 'Reuses a socket Send opened' : 'Opens a socket'}
                {needs ? ` for ${needs.family}, protocol ${needs.protocol}${needs.headerIncluded ? ' (IP header included)' : ''}` : ''}
                {form.socketId === AUTOMATIC_SOCKET ? ', else opens one' : ''}; Send's sockets close after {IMPLICIT_IDLE_MS / 1000} s without a send.
              </div>
            )}
            {errorAt('socket')}
          </div>

          <span id="send-repeat-label">Repeat</span>
          <div role="radiogroup" aria-labelledby="send-repeat-label" className="inline">
            <label className="inline">
              <input type="radio" name="send-repeat" checked={form.repeat === 'once'} onChange={() => setForm({ repeat: 'once' })} />
              Once
            </label>
            <label className="inline">
              <input type="radio" name="send-repeat" checked={form.repeat === 'count'} onChange={() => setForm({ repeat: 'count' })} />
              Count
            </label>
            <input
              aria-label="Packet count"
              className="narrow"
              value={form.count}
              disabled={form.repeat !== 'count'}
              inputMode="numeric"
              onChange={(event) => setForm({ count: event.target.value })}
            />
            {errorAt('count')}
          </div>

          <span id="send-pacing-label">Pacing</span>
          <div role="radiogroup" aria-labelledby="send-pacing-label" className="inline">
            <label className="inline">
              <input
                type="radio"
                name="send-pacing"
                checked={form.pacing === 'interval'}
                disabled={form.repeat !== 'count'}
                onChange={() => setForm({ pacing: 'interval' })}
              />
              Interval
            </label>
            <input
              aria-label="Interval (ms)"
              className="narrow"
              value={form.interval}
              disabled={form.repeat !== 'count' || form.pacing !== 'interval'}
              onChange={(event) => setForm({ interval: event.target.value })}
            />
            <span className="unit">ms</span>
            <label className="inline">
              <input type="radio" name="send-pacing" checked={form.pacing === 'rate'} disabled={form.repeat !== 'count'} onChange={() => setForm({ pacing: 'rate' })} />
              Rate
            </label>
            <input
              aria-label="Rate (packets/s)"
              className="narrow"
              value={form.rate}
              disabled={form.repeat !== 'count' || form.pacing !== 'rate'}
              onChange={(event) => setForm({ rate: event.target.value })}
            />
            <span className="unit">pkt/s</span>
            {errorAt('pacing')}
          </div>
        </div>
        <div className="row-actions">
          <button type="submit" className="primary" disabled={busy || !online} title="Send (Ctrl+Enter)">
            {busy ? 'Sending…' : 'Send'}
          </button>
          {!online && <span className="field-error">Disconnected: reconnect to send.</span>}
          {availability?.works && availability.via !== 'raw' && <span className="muted">Sends through a {viaWords(availability.via)}</span>}
          {!valid && <span className="muted">The packet has errors: fix them first.</span>}
          {last && !busy && (
            <span className="muted" role="status" aria-label="Socket used">
              {last.jobId} via {last.socketId} ({last.how === 'reused' ? 'reused' : last.how === 'opened' ? 'opened for it' : 'chosen'})
            </span>
          )}
          {errorAt('packet')}
          {errorAt('send')}
        </div>
        {availability && !availability.works && needs && (
          <RawNeededNote
            what={`Sending this ${protocolName(needs.protocol)} packet needs raw sockets, which are not available now${
              (needs.protocol === 1 || needs.protocol === 58) && !echoRequest ? ' (without them only echo requests go out, through a ping socket where allowed)' : ''
            }.`}
            remedy={availability.remedy}
          />
        )}
      </form>
      <ResponsePane />
      <JobTable />
    </section>
  );
}

function JobTable() {
  const jobs = useWorkbench((s) => s.send.jobs);
  const stop = useWorkbench((s) => s.send.stop);
  if (jobs.length === 0) return <p className="muted">No send jobs yet.</p>;
  const shown = [...jobs].reverse().slice(0, 12);
  return (
    <table className="grid-table jobs" aria-label="Send jobs">
      <thead>
        <tr>
          <th scope="col">Job</th>
          <th scope="col">Target</th>
          <th scope="col">Progress</th>
          <th scope="col" className="num">Sent</th>
          <th scope="col" className="num">Errors</th>
          <th scope="col">State</th>
          <th scope="col">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {shown.map((job) => (
          <JobRow key={job.jobId} job={job} onStop={() => void stop(job.jobId)} />
        ))}
      </tbody>
    </table>
  );
}

function JobRow({ job, onStop }: { job: SendJobInfo; onStop(): void }) {
  const percent = job.total > 0 ? Math.round((100 * job.sent) / job.total) : 0;
  return (
    <tr>
      <td className="mono">{job.jobId}</td>
      <td className="mono">{job.address}</td>
      <td>
        <progress max={job.total} value={job.sent} aria-label={`Job ${job.jobId} progress`} /> <span className="muted">{percent}%</span>
      </td>
      <td className="num">
        {job.sent.toLocaleString()} / {job.total.toLocaleString()}
      </td>
      <td className={`num${job.errors ? ' bad' : ''}`}>{job.errors}</td>
      <td className={`state state-${job.state}`}>
        {job.state}
        {job.error ? `: ${job.error.code}` : ''}
        {job.error && <span className="state-detail">{job.error.message}</span>}
      </td>
      <td>
        {job.state === 'running' && (
          <button type="button" onClick={onStop} aria-label={`Stop job ${job.jobId}`}>
            Stop
          </button>
        )}
      </td>
    </tr>
  );
}
