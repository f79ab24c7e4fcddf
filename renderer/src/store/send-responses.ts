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
 * The last send's sent rows, newest first (at most `limit`, and no more than the job's `total`),
 * each with its matched reply if the log still holds it. Scans forward from the row the send
 * started after and stops at the job's last sent row, so traffic logged later costs nothing.
 */
export function responsePairs(buffer: LogBuffer, last: LastSend, total: number, limit = MAX_PAIRS): ResponsePair[] {
  const rows = buffer.all;
  /** Ring indexes of the job's sent rows, the newest `limit` kept. */
  let sent: number[] = [];
  let count = 0;
  let end = rows.lowerBound((row) => row.id > last.afterId);
  for (; end < rows.length && count < total; end++) {
    const row = rows.at(end) as LogRow;
    if (row.direction !== 'sent' || row.socketId !== last.socketId) continue;
    count++;
    sent.push(end);
    if (sent.length > 2 * limit) sent = sent.slice(-limit);
  }
  sent = sent.slice(-limit);
  // Replies between the oldest pair shown and the job's end, by request: a request row can miss
  // its replyId (both came in one batch); later replies it has learnt through its replyId.
  const replies = new Map<number, LogRow>();
  // On loopback a raw socket also receives its own request; the engine may link the reply to
  // that copy. Such a reply counts for the sent row it copies (same socket, same Info).
  const byInfo = new Map<string, number>();
  for (const index of sent) {
    const row = rows.at(index) as LogRow;
    byInfo.set(row.info, row.id);
  }
  const scanEnd = Math.min(rows.length, end + 2 * limit);
  for (let i = sent[0] ?? end; i < scanEnd; i++) {
    const row = rows.at(i) as LogRow;
    const requestId = row.match?.requestId;
    if (requestId === undefined) continue;
    const request = buffer.byId(requestId);
    const copied = request && request.direction === 'received' && request.socketId === last.socketId ? byInfo.get(request.info) : undefined;
    const key = copied ?? requestId;
    if (!replies.has(key)) replies.set(key, row);
  }
  return sent.reverse().map((index) => {
    const request = rows.at(index) as LogRow;
    const replyId = request.match?.replyId;
    return { request, reply: replies.get(request.id) ?? (replyId === undefined ? undefined : buffer.byId(replyId)) };
  });
}
