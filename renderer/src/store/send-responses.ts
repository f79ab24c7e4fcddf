// The answers to the last send, read from the renderer's log: the job's sent rows (on its socket,
// after the newest row known when it started) and the row the engine matched to each.
import type { LogRow, SendJobInfo } from '../../../common/contract';
import type { LogBuffer } from '../model/log-buffer';
import type { LastSend } from './send';
import type { WorkbenchState } from './types';

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

/** What the pane's heading says: how many sent, answered and not (yet) answered, the mean RTT. */
export interface ResponseCounts {
  sent: number;
  answered: number;
  unanswered: number;
  meanRtt: number | null;
}

/**
 * The job's counts as the engine keeps them (SendJobInfo: every request, not only the pairs the
 * pane shows); from the pairs for an engine that does not count answers. A reply the engine
 * linked to the socket's loopback copy of a request is not counted there; the pairs then know more.
 */
export function responseCounts(pairs: readonly ResponsePair[], job: SendJobInfo): ResponseCounts {
  const paired = pairs.filter((pair) => pair.reply).length;
  const rtts = pairs.map((pair) => pair.reply?.match?.rttMs).filter((rtt): rtt is number => rtt !== undefined);
  const pairsMean = rtts.length ? rtts.reduce((sum, rtt) => sum + rtt, 0) / rtts.length : null;
  if (job.answered === undefined || job.answered < paired) return { sent: pairs.length, answered: paired, unanswered: pairs.length - paired, meanRtt: pairsMean };
  let rttSum = 0;
  for (const packet of job.packets ?? []) if (packet.rttMs) rttSum += packet.rttMs.avg * packet.answered;
  const sent = Math.max(job.sent, pairs.length);
  return { sent, answered: job.answered, unanswered: sent - job.answered, meanRtt: job.answered > 0 && rttSum > 0 ? rttSum / job.answered : pairsMean };
}

/** How long after a job ends its answers are still looked for (the engine's default answer window). */
const ANSWER_WINDOW_MS = 2000;

/**
 * The markers (rows the host did not push) that may hold answers to the last send: past its
 * first request, and, once the job finished, starting before its answer window closed (the row
 * before a marker tells its time). A later flood's markers are not this send's.
 */
export function gapsWithAnswers(buffer: LogBuffer, last: LastSend, job: SendJobInfo): number[] {
  const until = job.finishedAt === undefined ? Infinity : job.finishedAt + ANSWER_WINDOW_MS;
  const ids: number[] = [];
  for (const gap of buffer.gapsNewestFirst()) {
    if (gap.gap.toId <= last.afterId) break;
    const before = buffer.all.at(buffer.all.lowerBound((row) => row.id >= gap.id) - 1);
    if (before === undefined || before.time <= until) ids.push(gap.id);
  }
  return ids;
}

/**
 * A send faster than the row budget leaves markers where its rows were not pushed: once the job
 * no longer sends, those that may hold its answers are paged in from the engine, so the pane
 * pairs its newest requests with their answers as the engine's log does.
 */
export async function pageInSkippedAnswers(state: WorkbenchState): Promise<void> {
  const last = state.send.last;
  const job = last && state.send.jobs.find((candidate) => candidate.jobId === last.jobId);
  if (!last || !job || job.state === 'running') return;
  const gapIds = gapsWithAnswers(state.log.buffer, last, job);
  if (gapIds.length > 0) await state.log.showSkippedOf(gapIds);
}
