// The response pane's rows: the last send's sent rows on its socket with their matched answers,
// not earlier sends, not other sockets' copies, not a later send on the same socket; bounded.
import { describe, expect, it } from 'vitest';
import type { LogRow } from '../../../common/contract';
import { LogBuffer } from '../model/log-buffer';
import { responsePairs } from './send-responses';

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
