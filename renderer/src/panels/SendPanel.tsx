// Sending the edited packet: where to, through which socket, how many and how fast, with
// variable fields or as a stream, optionally matching the answers; running jobs.
import { useState } from 'react';
import type { SendJobInfo } from '../../../common/contract';
import { protocolName } from '../../../packets';
import { AllowRawButton, RawNeededNote, RemedyText, useRawAccess } from '../components/RawAccess';
import { formatRtt, ResponsePane } from '../components/ResponsePane';
import { SendResultsView } from '../components/SendResultsView';
import { StreamList } from '../components/StreamList';
import { VariableFields } from '../components/VariableFields';
import '../components/stream.css';
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
  const streamLength = useWorkbench((s) => s.send.stream.length);
  const addToStream = useWorkbench((s) => s.send.addToStream);
  const resultsShown = useWorkbench((s) => s.send.results !== null && s.send.results.jobId === s.send.last?.jobId);
  const access = useRawAccess();
  const open = sockets.filter((socket) => !socket.closed);
  // Pacing matters once more than one packet goes out.
  const paced = form.repeat === 'count' || streamLength > 0;
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

          <span id="send-from-label">From</span>
          <SendFrom />

          <label htmlFor="send-socket">Socket</label>
          <div>
            <select id="send-socket" value={form.socketId} onChange={(event) => setForm({ socketId: event.target.value })}>
              <option value={AUTOMATIC_SOCKET}>Automatic (reuse or open)</option>
              <option value={NEW_SOCKET}>New socket</option>
              {open.map((socket) => (
                <option key={socket.socketId} value={socket.socketId}>
                  {socket.socketId} ({socket.family}, protocol {socket.protocol}, {socket.mode}{socket.host ? `, in ${socket.host}` : ''})
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
              {...invalidIf(error?.where === 'count', 'send-count-error')}
              value={form.count}
              disabled={!paced}
              inputMode="numeric"
              onChange={(event) => setForm({ count: event.target.value })}
            />
            {errorAt('count')}
          </div>

          <span id="send-pacing-label">Pacing</span>
          <div role="radiogroup" aria-labelledby="send-pacing-label" className="wrap-inline">
            <span className="nowrap-option">
              <label className="inline">
                <input
                  type="radio"
                  name="send-pacing"
                  checked={form.pacing === 'interval'}
                  disabled={!paced}
                  onChange={() => setForm({ pacing: 'interval' })}
                />
                Interval
              </label>
              <input
                aria-label="Interval (ms)"
                className="narrow"
                {...invalidIf(form.pacing === 'interval' && error?.where === 'pacing', 'send-pacing-error')}
                value={form.interval}
                disabled={!paced || form.pacing !== 'interval'}
                onChange={(event) => setForm({ interval: event.target.value })}
              />
              <span className="unit">ms</span>
            </span>
            <span className="nowrap-option">
              <label className="inline">
                <input type="radio" name="send-pacing" checked={form.pacing === 'rate'} disabled={!paced} onChange={() => setForm({ pacing: 'rate' })} />
                Rate
              </label>
              <input
                aria-label="Rate (packets/s)"
                className="narrow"
                {...invalidIf(form.pacing === 'rate' && error?.where === 'pacing', 'send-pacing-error')}
                value={form.rate}
                disabled={!paced || form.pacing !== 'rate'}
                onChange={(event) => setForm({ rate: event.target.value })}
              />
              <span className="unit">pkt/s</span>
            </span>
            <span className="nowrap-option">
              <label className="inline">
                <input type="radio" name="send-pacing" checked={form.pacing === 'burst'} disabled={!paced} onChange={() => setForm({ pacing: 'burst' })} />
                Bursts
              </label>
              <input
                aria-label="Burst size (packets)"
                className="narrow"
                {...invalidIf(form.pacing === 'burst' && error?.where === 'pacing', 'send-pacing-error')}
                value={form.burstSize}
                disabled={!paced || form.pacing !== 'burst'}
                inputMode="numeric"
                onChange={(event) => setForm({ burstSize: event.target.value })}
              />
              <span className="unit">packets</span>
            </span>
            <span className="nowrap-option">
              <span className="unit">then a gap of</span>
              <input
                aria-label="Burst gap (ms)"
                className="narrow"
                {...invalidIf(form.pacing === 'burst' && error?.where === 'pacing', 'send-pacing-error')}
                value={form.burstGap}
                disabled={!paced || form.pacing !== 'burst'}
                onChange={(event) => setForm({ burstGap: event.target.value })}
              />
              <span className="unit">ms</span>
            </span>
            {errorAt('pacing')}
          </div>

          <span>Answers</span>
          <div className="wrap-inline">
            <label className="inline">
              <input type="checkbox" checked={form.matching} onChange={(event) => setForm({ matching: event.target.checked })} />
              Send and match
            </label>
            <input
              aria-label="Answer timeout (ms)"
              className="narrow"
              value={form.answerTimeout}
              disabled={!form.matching}
              inputMode="numeric"
              aria-invalid={error?.where === 'answers' ? true : undefined}
              aria-describedby={error?.where === 'answers' ? 'send-answers-error' : undefined}
              onChange={(event) => setForm({ answerTimeout: event.target.value })}
            />
            <span className="unit">ms to wait for answers after the last packet</span>
            {errorAt('answers')}
          </div>
        </div>
        <VariableFields />
        {errorAt('variations')}
        <div className="row-actions">
          <button type="submit" className="primary" disabled={busy || !online} title="Send (Ctrl+Enter)">
            {busy ? 'Sending…' : streamLength > 0 ? 'Send stream' : 'Send'}
          </button>
          <button type="button" disabled={!valid} onClick={() => addToStream()}>
            Add to stream
          </button>
          {streamLength > 0 && <span className="muted small">Sends the stream below; Add to stream adds the edited packet with its count and variable fields.</span>}
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
      <StreamList />
      <SendResultsView />
      {!resultsShown && <ResponsePane />}
      <JobTable />
    </section>
  );
}

/** 'min / avg / max ms', one unit for the three (they share a scale). */
function rttTriple({ min, avg, max }: { min: number; avg: number; max: number }): string {
  return `${[min, avg, max].map((ms) => formatRtt(ms).replace(/ ms$/, '')).join(' / ')} ms`;
}

/** Marks the control an error is about and points at the error's text. */
const invalidIf = (invalid: boolean, errorId: string) => (invalid ? { 'aria-invalid': true, 'aria-describedby': errorId } : {});

const STATE_WORDS: Record<SendJobInfo['state'], string> = {
  running: 'running',
  waiting: 'waiting for answers',
  done: 'done',
  cancelled: 'cancelled',
  failed: 'failed',
};

function JobTable() {
  const jobs = useWorkbench((s) => s.send.jobs);
  const stop = useWorkbench((s) => s.send.stop);
  const showResults = useWorkbench((s) => s.send.showResults);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  if (jobs.length === 0) return <p className="muted">No send jobs yet.</p>;
  const shown = [...jobs].reverse().slice(0, 12);
  const toggle = (jobId: string) =>
    setExpanded((now) => {
      const next = new Set(now);
      if (!next.delete(jobId)) next.add(jobId);
      return next;
    });
  return (
    <div className="jobs-scroll" tabIndex={0} role="region" aria-label="Send jobs, scrollable">
      <table className="grid-table jobs" aria-label="Send jobs">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Progress</th>
            <th scope="col">Answers</th>
            <th scope="col">State</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {shown.map((job) => (
            <JobRows
              key={job.jobId}
              job={job}
              expanded={expanded.has(job.jobId)}
              onToggle={() => toggle(job.jobId)}
              onStop={() => void stop(job.jobId)}
              onResults={() => void showResults(job.jobId)}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function JobRows({ job, expanded, onToggle, onStop, onResults }: { job: SendJobInfo; expanded: boolean; onToggle(): void; onStop(): void; onResults(): void }) {
  const percent = job.total > 0 ? Math.round((100 * job.sent) / job.total) : 0;
  const packets = job.packets ?? [];
  return (
    <>
      <tr>
        <td className="job-what">
          {job.description ?? `to ${job.address}`}
          <span className="job-id">{job.jobId}</span>
        </td>
        <td>
          <progress max={job.total} value={job.sent} aria-label={`Job ${job.jobId} progress`} /> <span className="muted">{percent}%</span>
          <div className="num small">
            {job.sent.toLocaleString('en-US')} / {job.total.toLocaleString('en-US')} sent
            {job.errors ? <span className="bad"> · {job.errors.toLocaleString('en-US')} errors</span> : null}
          </div>
        </td>
        <td className="small">
          {job.answered !== undefined ? `${job.answered.toLocaleString('en-US')} answered` : ''}
          {job.lost ? ` · ${job.lost.toLocaleString('en-US')} lost` : ''}
        </td>
        <td className={`state state-${job.state}`}>
          {STATE_WORDS[job.state]}
          {job.error ? `: ${job.error.code}` : ''}
          {job.error && <span className="state-detail">{job.error.message}</span>}
        </td>
        <td>
          <div className="job-actions">
            {packets.length > 0 && (
              <button type="button" aria-expanded={expanded} aria-label={`Counters of ${job.jobId}`} onClick={onToggle}>
                Counters
              </button>
            )}
            {job.matching && (
              <button type="button" aria-label={`Results of ${job.jobId}`} onClick={onResults}>
                Results
              </button>
            )}
            {(job.state === 'running' || job.state === 'waiting') && (
              <button type="button" onClick={onStop} aria-label={`Stop job ${job.jobId}`}>
                Stop
              </button>
            )}
          </div>
        </td>
      </tr>
      {expanded && packets.length > 0 && (
        <tr>
          <td colSpan={5} className="counters-cell">
            <table className="grid-table counters" aria-label={`Per-packet counters of ${job.jobId}`}>
              <thead>
                <tr>
                  <th scope="col">Packet</th>
                  <th scope="col" className="num">
                    Sent
                  </th>
                  <th scope="col" className="num">
                    Answered
                  </th>
                  <th scope="col" className="num">
                    Lost
                  </th>
                  <th scope="col" className="num rtt">
                    RTT min / avg / max
                  </th>
                </tr>
              </thead>
              <tbody>
                {packets.map((counters, index) => (
                  <tr key={index}>
                    <td className="wrap">
                      {index + 1}. {counters.description}
                    </td>
                    <td className="num">
                      {counters.sent.toLocaleString('en-US')} / {counters.total.toLocaleString('en-US')}
                    </td>
                    <td className="num">{counters.answered.toLocaleString('en-US')}</td>
                    <td className="num">{counters.lost.toLocaleString('en-US')}</td>
                    <td className="num">{counters.rttMs ? rttTriple(counters.rttMs) : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </td>
        </tr>
      )}
    </>
  );
}

/** Where a new socket opens: this machine, or the lab host picked in the Lab panel. */
function SendFrom() {
  const host = useWorkbench((s) => s.lab.host);
  const topology = useWorkbench((s) => s.lab.info.topology);
  const showPanel = useWorkbench((s) => s.settings.showPanel);
  return (
    <div aria-labelledby="send-from-label" role="group" className="inline">
      <span className="lab-from">
        {host ? `lab host ${host}${topology ? ` (${topology})` : ''}` : 'this machine'}
      </span>
      <button type="button" className="small" onClick={() => showPanel('lab')}>
        {host ? 'Change in Lab' : 'Act from a lab host…'}
      </button>
    </div>
  );
}
