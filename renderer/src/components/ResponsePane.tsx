// Under the Send form: what answered the last send. Its sent rows (the job's socket, after the
// newest row known when it started) with the row the engine matched to each (echo reply, an ICMP
// error quoting it, SYN-ACK/RST) and the round trip; each opens in the Log panel.
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { LogRow } from '../../../common/contract';
import { useWorkbench, useWorkbenchStore } from '../store';
import { pageInSkippedAnswers, responseCounts, responsePairs } from '../store/send-responses';
import { KernelChanges } from './KernelChanges';
import { useOpenInLog } from './open-in-log';

/** An unanswered request reads "waiting" this long after its job ends, then "no answer". */
const ANSWER_GRACE_MS = 2000;
/**
 * While a job runs the pairs are worked out again at most this often: at 1,000 pkt/s the log
 * changes every frame, and laying the table out each time made 100+ ms tasks (bench:ui).
 */
const RUNNING_REFRESH_MS = 250;

export function ResponsePane() {
  const last = useWorkbench((s) => s.send.last);
  const job = useWorkbench((s) => (s.send.last ? s.send.jobs.find((candidate) => candidate.jobId === s.send.last?.jobId) : undefined));
  const buffer = useWorkbench((s) => s.log.buffer);
  const version = useWorkbench((s) => s.log.version);
  const open = useOpenInLog();
  const running = job?.state === 'running';
  const [graceOver, setGraceOver] = useState(true);
  // After the job ends, unanswered requests wait a moment before they read "no answer".
  useEffect(() => {
    if (running) {
      setGraceOver(false);
      return;
    }
    setGraceOver(false);
    const timer = setTimeout(() => setGraceOver(true), ANSWER_GRACE_MS);
    return () => clearTimeout(timer);
  }, [running, last?.jobId]);
  const pane = useRef<HTMLElement>(null);
  const shownVersion = useThrottled(version, running ? RUNNING_REFRESH_MS : 0);
  const pairs = useMemo(() => (last && job ? responsePairs(buffer, last, job.total) : []), [buffer, last, job?.total, shownVersion]);
  const shown = pairs.length > 0;
  // Rows of this send the host did not push (a flood beyond the row budget): read in once it stops sending.
  const store = useWorkbenchStore();
  const notShown = useWorkbench((s) => s.log.notShown);
  useEffect(() => {
    if (job && job.state !== 'running' && notShown > 0) void pageInSkippedAnswers(store.getState());
  }, [store, last?.jobId, job?.state, notShown]);
  // A new send, and again when its first rows arrive: bring the answers into view (the form
  // sits low in a small window).
  useEffect(() => {
    if (last) pane.current?.scrollIntoView?.({ block: 'nearest' });
  }, [last?.jobId, shown]);
  if (!last || !job) return null;
  const { sent, answered, unanswered, meanRtt } = responseCounts(pairs, job);
  const waiting = running || !graceOver;
  return (
    <section className="response-pane" aria-label="Responses" ref={pane}>
      <h3 className="pane-title">
        Responses to {job.jobId}
        <span className="muted small" role="status">
          {' '}
          {sent.toLocaleString()} sent{sent > pairs.length ? ` (newest ${pairs.length} shown)` : ''} · {answered.toLocaleString()} answered ·{' '}
          {unanswered.toLocaleString()} {waiting && unanswered > 0 ? 'waiting' : 'unanswered'}
          {meanRtt !== null ? ` · mean RTT ${formatRtt(meanRtt)}` : ''}
        </span>
      </h3>
      {pairs.length === 0 ? (
        <p className="muted small pad">{running ? 'Sending…' : 'No sent packet of this job is in the log.'}</p>
      ) : (
        <div className="response-scroll" tabIndex={0} aria-label="Request and answer pairs">
          <PairsTable pairs={pairs} waiting={waiting} onOpen={open} />
        </div>
      )}
      {pairs.length > 0 && pairs[pairs.length - 1].request.host !== undefined && <KernelChanges row={pairs[pairs.length - 1].request} />}
    </section>
  );
}

/** The table alone, redrawn only when its pairs or the waiting words change (not on every log event). */
const PairsTable = memo(function PairsTable({ pairs, waiting, onOpen }: { pairs: ReturnType<typeof responsePairs>; waiting: boolean; onOpen(id: number): void }) {
  const open = onOpen;
  return (
    <table className="grid-table responses" aria-label="Request and answer">
      <thead>
        <tr>
          <th scope="col">Sent</th>
          <th scope="col">Answer</th>
          <th scope="col" className="num">
            RTT
          </th>
        </tr>
      </thead>
      <tbody>
        {pairs.map(({ request, reply }) => (
          <tr key={request.id}>
            <td>
              <RowLink row={request} onOpen={open} />
            </td>
            <td>{reply ? <RowLink row={reply} onOpen={open} /> : <span className="muted">{waiting ? 'waiting…' : 'no answer'}</span>}</td>
            <td className="num">{reply?.match?.rttMs !== undefined ? formatRtt(reply.match.rttMs) : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
});

/** `value`, changing at most once per `ms` (to the newest value) while ms > 0. */
function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const lastShown = useRef(0);
  useEffect(() => {
    if (ms <= 0) return;
    const show = () => {
      lastShown.current = performance.now();
      setShown(value);
    };
    const wait = lastShown.current + ms - performance.now();
    if (wait <= 0) {
      show();
      return;
    }
    const timer = setTimeout(show, wait);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return ms > 0 ? shown : value;
}

function RowLink({ row, onOpen }: { row: LogRow; onOpen(id: number): void }) {
  return (
    <>
      <button type="button" className="link" aria-label={`Open #${row.id} in the log`} onClick={() => onOpen(row.id)}>
        #{row.id}
      </button>{' '}
      <span className="mono small">
        {row.direction === 'received' ? `${row.source} ` : ''}
        {row.info}
      </span>
    </>
  );
}

export function formatRtt(ms: number): string {
  return ms < 1 ? `${ms.toFixed(3)} ms` : ms < 100 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`;
}
