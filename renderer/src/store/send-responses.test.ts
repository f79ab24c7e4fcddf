// The response pane's rows: the last send's sent rows on its socket with their matched answers,
// not earlier sends, not other sockets' copies, not a later send on the same socket; bounded.
import { describe, expect, it } from 'vitest';
import type { LogRow, SendJobInfo } from '../../../common/contract';
import { LogBuffer } from '../model/log-buffer';
import { logGap } from '../model/log-gap';
import { gapsWithAnswers, responseCounts, responsePairs } from './send-responses';

const row = (id: number, direction: LogRow['direction'], socketId: string, match?: LogRow['match']): LogRow => ({
  id,
  time: id,
  direction,
  socketId,
  family: 'ipv4',
  source: '127.0.0.1',
  destination: '127.0.0.1',
  protocol: 'ICMP',
  length: 44,
  info: direction === 'sent' ? `Echo request seq=${id}` : `Echo reply seq=${id}`,
  ...(match ? { match } : {}),
});

const last = { jobId: 'job-2', socketId: 'socket-1', how: 'reused' as const, afterId: 2 };

describe('responsePairs', () => {
  it("pairs the job's sent rows with their answers, newest first, and marks the unanswered", () => {
    const buffer = new LogBuffer(1000);
    buffer.append([
      row(1, 'sent', 'socket-1'), // an earlier send
      row(2, 'received', 'socket-1', { requestId: 1, rttMs: 0.1 }),
      row(3, 'sent', 'socket-1'),
      row(4, 'sent', 'socket-2'), // another socket's traffic
      row(5, 'received', 'socket-1', { requestId: 3, rttMs: 0.25 }),
      row(6, 'received', 'socket-2'), // another socket's copy of the reply
      row(7, 'sent', 'socket-1'),
    ]);
    const pairs = responsePairs(buffer, last, 2);
    expect(pairs.map((pair) => [pair.request.id, pair.reply?.id, pair.reply?.match?.rttMs])).toEqual([
      [7, undefined, undefined],
      [3, 5, 0.25],
    ]);
    // Appended in one batch, the request row has no replyId: the pair comes from the reply's requestId.
    expect(buffer.byId(3)?.match?.replyId).toBeUndefined();
    // A reply in a later batch, past the job's last sent row: found through the request's link.
    buffer.append([row(8, 'received', 'socket-2', { requestId: 7, rttMs: 1.5 }), row(9, 'sent', 'socket-1')]);
    expect(responsePairs(buffer, last, 2).map((pair) => [pair.request.id, pair.reply?.id, pair.reply?.match?.rttMs])).toEqual([
      [7, 8, 1.5],
      [3, 5, 0.25],
    ]);
  });

  it("pairs a reply the engine linked to the socket's loopback copy of the request with the sent row", () => {
    const buffer = new LogBuffer(1000);
    const copy = { ...row(4, 'received', 'socket-1'), info: 'Echo request seq=3' };
    const other = { ...row(6, 'received', 'socket-2'), info: 'Echo request seq=3' };
    buffer.append([row(3, 'sent', 'socket-1'), copy, row(5, 'received', 'socket-1', { requestId: 4, rttMs: 0.05 })]);
    expect(responsePairs(buffer, last, 1).map((pair) => [pair.request.id, pair.reply?.id])).toEqual([[3, 5]]);
    // Another socket's copy is not this send's request.
    const elsewhere = new LogBuffer(1000);
    elsewhere.append([row(3, 'sent', 'socket-1'), other, row(7, 'received', 'socket-2', { requestId: 6, rttMs: 0.05 })]);
    expect(responsePairs(elsewhere, last, 1).map((pair) => [pair.request.id, pair.reply?.id])).toEqual([[3, undefined]]);
  });

  it('leaves out a later send on the same socket and keeps the newest `limit` pairs', () => {
    const buffer = new LogBuffer(1000);
    const rows: LogRow[] = [];
    for (let id = 3; id < 3 + 300; id++) rows.push(row(id, 'sent', 'socket-1'));
    buffer.append(rows);
    expect(responsePairs(buffer, last, 250).map((pair) => pair.request.id)).toHaveLength(100);
    expect(responsePairs(buffer, last, 250)[0].request.id).toBe(252);
    expect(responsePairs(buffer, last, 250, 5).map((pair) => pair.request.id)).toEqual([252, 251, 250, 249, 248]);
    expect(responsePairs(buffer, { ...last, afterId: 302 }, 1)).toEqual([]);
  });
});

const job = (change: Partial<SendJobInfo> = {}): SendJobInfo => ({
  jobId: 'job-2', socketId: 'socket-1', address: '127.0.0.1', total: 3, sent: 3, errors: 0, state: 'done', startedAt: 0, ...change,
});

describe('responseCounts', () => {
  const pairs = (answered: number, unanswered: number) => [
    ...Array.from({ length: answered }, (_, i) => ({ request: row(10 + 2 * i, 'sent', 'socket-1'), reply: row(11 + 2 * i, 'received', 'socket-1', { requestId: 10 + 2 * i, rttMs: 1 }) })),
    ...Array.from({ length: unanswered }, (_, i) => ({ request: row(100 + i, 'sent', 'socket-1'), reply: undefined })),
  ];

  it("says the job's counts, which cover every request, not only the pairs shown", () => {
    const packets = [{ description: 'ICMP echo request', total: 20_000, sent: 20_000, answered: 19_990, lost: 10, rttMs: { min: 0.01, avg: 0.05, max: 2 } }];
    expect(responseCounts(pairs(100, 0), job({ total: 20_000, sent: 20_000, answered: 19_990, packets }))).toEqual({ sent: 20_000, answered: 19_990, unanswered: 10, meanRtt: 0.05 });
  });

  it('counts the pairs when the engine counted no answers or fewer than the pairs show (a reply linked to the loopback copy)', () => {
    expect(responseCounts(pairs(2, 1), job())).toEqual({ sent: 3, answered: 2, unanswered: 1, meanRtt: 1 });
    expect(responseCounts(pairs(1, 0), job({ total: 1, sent: 1, answered: 0 }))).toEqual({ sent: 1, answered: 1, unanswered: 0, meanRtt: 1 });
  });
});

describe('gapsWithAnswers', () => {
  const timed = (id: number, time: number) => ({ ...row(id, 'received', 'socket-1'), time });

  it("names the markers past the send's first request that begin before its answer window closed", () => {
    const buffer = new LogBuffer(1000);
    buffer.append([timed(1, 1000), logGap(2, 9, 8), timed(10, 5000), logGap(11, 19, 9), timed(20, 7100), logGap(21, 29, 9), timed(30, 9000)]);
    // The job ended at 5,000 ms: answers until 7,000 ms. Its first request came after row 1.
    expect(gapsWithAnswers(buffer, { ...last, afterId: 1 }, job({ finishedAt: 5000 }))).toEqual([11, 2]);
    expect(gapsWithAnswers(buffer, { ...last, afterId: 10 }, job({ finishedAt: 5000 }))).toEqual([11]);
    // Still sending or waiting (no end yet): every marker past the first request.
    expect(gapsWithAnswers(buffer, { ...last, afterId: 10 }, job({ state: 'waiting' }))).toEqual([21, 11]);
    expect(gapsWithAnswers(buffer, { ...last, afterId: 29 }, job())).toEqual([]);
  });
});
