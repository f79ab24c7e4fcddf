// A send-and-match job's results as CSV (RFC 4180): one line per request, answered or not,
// in send order, so a spreadsheet can sort and chart them.
import type { SendResults } from '../../../common/contract';

export const RESULTS_CSV_HEADER = 'status,packet,request_id,reply_id,rtt_ms,summary';

const quoted = (text: string): string => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

/** `packet` counts from 1, as the job table shows the stream's packets. */
export function resultsCsv(answered: SendResults['answered'], unanswered: SendResults['unanswered']): string {
  const lines = [
    ...answered.map((pair) => ({ id: pair.requestId, line: ['answered', pair.packetIndex + 1, pair.requestId, pair.replyId, pair.rttMs.toFixed(3), quoted(pair.summary)].join(',') })),
    ...unanswered.map((request) => ({ id: request.requestId, line: ['unanswered', request.packetIndex + 1, request.requestId, '', '', quoted(request.summary)].join(',') })),
  ].sort((a, b) => a.id - b.id);
  return [RESULTS_CSV_HEADER, ...lines.map((entry) => entry.line)].join('\r\n') + '\r\n';
}
