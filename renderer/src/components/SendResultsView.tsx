// The results of a send-and-match job (Scapy's sr()): answered pairs with their round trip
// and the requests nothing answered, a page at a time; each row opens in the log; exports.
import type { SendResults } from '../../../common/contract';
import { useWorkbench } from '../store';
import { RESULTS_PAGE } from '../store/send-results';
import { useOpenInLog } from './open-in-log';
import { formatRtt } from './ResponsePane';
import './stream.css';

export function SendResultsView() {
  const results = useWorkbench((s) => s.send.results);
  const job = useWorkbench((s) => (s.send.results ? s.send.jobs.find((candidate) => candidate.jobId === s.send.results?.jobId) : undefined));
  const show = useWorkbench((s) => s.send.showResults);
  const close = useWorkbench((s) => s.send.closeResults);
  const exportResults = useWorkbench((s) => s.send.exportResults);
  const open = useOpenInLog();
  if (!results) return null;
  const { page, offset, loading, message, jobId } = results;
  const waiting = !page || !page.final;
  const largest = page ? Math.max(page.answeredTotal, page.unansweredTotal) : 0;
  return (
    <section className="send-results" aria-label="Send and match results">
      <h3 className="pane-title">
        <span>
          Results of {job?.description ?? jobId}
          <span className="muted small" role="status">
            {' '}
            {page
              ? `${page.answeredTotal.toLocaleString('en-US')} answered · ${page.unansweredTotal.toLocaleString('en-US')} unanswered${page.final ? '' : ' so far'}`
              : job?.state === 'waiting'
                ? 'waiting for answers…'
                : loading
                  ? 'reading…'
                  : 'sending…'}
          </span>
        </span>
        <button type="button" onClick={close} aria-label="Close the results">
          Close
        </button>
      </h3>
      <div className="row-actions results-actions">
        <button type="button" disabled={waiting} onClick={() => void exportResults('pcapng')}>
          Export pcapng
        </button>
        <button type="button" disabled={waiting} onClick={() => void exportResults('csv')}>
          Export CSV
        </button>
        {message && (
          <span className={message.kind === 'error' ? 'field-error' : 'muted'} role={message.kind === 'error' ? 'alert' : 'status'}>
            {message.text}
          </span>
        )}
      </div>
      {page && (
        <>
          <AnsweredTable page={page} onOpen={open} />
          <UnansweredTable page={page} onOpen={open} />
          {largest > RESULTS_PAGE && (
            <div className="row-actions" role="group" aria-label="Result pages">
              <button type="button" disabled={offset === 0 || loading} onClick={() => void show(jobId, Math.max(0, offset - RESULTS_PAGE))}>
                Previous page
              </button>
              <span className="muted small">
                Rows {(offset + 1).toLocaleString('en-US')}–{Math.min(offset + RESULTS_PAGE, largest).toLocaleString('en-US')} of {largest.toLocaleString('en-US')}
              </span>
              <button type="button" disabled={offset + RESULTS_PAGE >= largest || loading} onClick={() => void show(jobId, offset + RESULTS_PAGE)}>
                Next page
              </button>
            </div>
          )}
        </>
      )}
    </section>
  );
}

function AnsweredTable({ page, onOpen }: { page: SendResults; onOpen(id: number): void }) {
  if (page.answered.length === 0) return <p className="muted small pad">No request was answered{page.final ? '' : ' yet'}.</p>;
  return (
    <div className="results-scroll" tabIndex={0} role="region" aria-label="Answered requests, scrollable">
      <table className="grid-table results" aria-label="Answered requests">
        <thead>
          <tr>
            <th scope="col">Request → answer</th>
            <th scope="col">Answer</th>
            <th scope="col" className="num">
              RTT
            </th>
          </tr>
        </thead>
        <tbody>
          {page.answered.map((pair) => (
            <tr key={pair.requestId}>
              <td>
                <RowLink id={pair.requestId} what="request" onOpen={onOpen} /> <span className="mono small">{pair.summary}</span>
              </td>
              <td>
                <RowLink id={pair.replyId} what="answer" onOpen={onOpen} />
              </td>
              <td className="num">{formatRtt(pair.rttMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function UnansweredTable({ page, onOpen }: { page: SendResults; onOpen(id: number): void }) {
  if (page.unanswered.length === 0) return page.unansweredTotal === 0 ? <p className="muted small pad">Every request was answered.</p> : null;
  return (
    <div className="results-scroll" tabIndex={0} role="region" aria-label="Unanswered requests, scrollable">
      <table className="grid-table results" aria-label="Unanswered requests">
        <thead>
          <tr>
            <th scope="col">Unanswered request</th>
            <th scope="col" className="num">
              Stream packet
            </th>
          </tr>
        </thead>
        <tbody>
          {page.unanswered.map((request) => (
            <tr key={request.requestId}>
              <td>
                <RowLink id={request.requestId} what="request" onOpen={onOpen} /> <span className="mono small">{request.summary}</span>
              </td>
              <td className="num">{request.packetIndex + 1}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RowLink({ id, what, onOpen }: { id: number; what: string; onOpen(id: number): void }) {
  return (
    <button type="button" className="link" aria-label={`Open ${what} #${id} in the log`} onClick={() => onOpen(id)}>
      #{id}
    </button>
  );
}
