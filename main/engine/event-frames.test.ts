import { describe, expect, it } from 'vitest';
import type { EventBatch, LogRow } from '../../common/contract';
import { framesOf } from './event-frames';

const rows = (from: number, count: number): LogRow[] =>
  Array.from({ length: count }, (_, i) => ({
    id: from + i, time: 0, direction: 'sent', socketId: 's1', family: 'ipv4',
    source: '127.0.0.1', destination: '127.0.0.1', protocol: 'ICMP', length: 84, info: '',
  }));
const job = { type: 'sendJob', job: { jobId: 'j1', socketId: 's1', address: '127.0.0.1', total: 1, sent: 1, errors: 0, state: 'done', startedAt: 0 } } as const;

describe('framesOf', () => {
  it('cuts log rows into frames of at most maxRows, keeping every event in order', () => {
    const batch: EventBatch = [{ type: 'logCleared' }, { type: 'log', rows: rows(0, 5) }, { type: 'log', rows: rows(5, 4) }, job];
    const frames = framesOf(batch, 3);
    expect(frames.map((frame) => frame.map((event) => (event.type === 'log' ? event.rows.map((row) => row.id) : event.type)))).toEqual([
      ['logCleared', [0, 1, 2]],
      [[3, 4], [5]],
      [[6, 7, 8], 'sendJob'],
    ]);
  });

  it('leaves a small batch whole (the same row arrays) and an empty one as one empty frame', () => {
    const log = { type: 'log', rows: rows(0, 2) } as const;
    const [frame, ...more] = framesOf([log, job], 3);
    expect(more).toEqual([]);
    expect(frame).toEqual([log, job]);
    expect((frame[0] as { rows: LogRow[] }).rows).toBe(log.rows); // not copied
    expect(framesOf([])).toEqual([[]]);
  });
});
