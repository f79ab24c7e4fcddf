// The answers to the last send, read from the renderer's log: the job's sent rows (on its socket,
// after the newest row known when it started) and the row the engine matched to each.
import type { LogRow } from '../../../common/contract';
import type { LogBuffer } from '../model/log-buffer';
import type { LastSend } from './send';

/** The pane shows the newest pairs of a long job only. */
export const MAX_PAIRS = 100;

export interface ResponsePair {
  request: LogRow;
  reply: LogRow | undefined;
}

/**
 * The last send's sent rows, newest first (at most `limit`, and no more than the job sent),
 * each with its matched reply if the log still holds it. Scans back from the newest row and
 * stops at the row the send started after.
 */
export function responsePairs(buffer: LogBuffer, last: LastSend, total: number, limit = MAX_PAIRS): ResponsePair[] {
  const sent: LogRow[] = [];
  // Replies seen on the way, by request: a request row can miss its replyId (both in one batch).
  const replies = new Map<number, LogRow>();
  const rows = buffer.all;
  for (let i = rows.length - 1; i >= 0; i--) {
    const row = rows.at(i) as LogRow;
    if (row.id <= last.afterId) break;
    if (row.direction === 'sent' && row.socketId === last.socketId) sent.push(row);
    const requestId = row.match?.requestId;
    if (requestId !== undefined) replies.set(requestId, row);
  }
  // Later sends on the same socket come after this job's `total` rows: drop them.
  const own = sent.length > total ? sent.slice(sent.length - total) : sent;
  return own.slice(0, limit).map((request) => {
    const replyId = request.match?.replyId;
    return { request, reply: replies.get(request.id) ?? (replyId === undefined ? undefined : buffer.byId(replyId)) };
  });
}
