import { describe, expect, it } from 'vitest';
import type { EventBatch, LogRow } from '../../common/contract';
import { RowBudget, withinBudget } from './row-budget';

const rows = (from: number, count: number): LogRow[] =>
  Array.from({ length: count }, (_, i) => ({
    id: from + i, time: 0, direction: 'sent', socketId: 's1', family: 'ipv4',
    source: '127.0.0.1', destination: '127.0.0.1', protocol: 'ICMP', length: 84, info: '',
  }));
const describeBatch = (batch: EventBatch) =>
  batch.map((event) => (event.type === 'log' ? [event.rows[0].id, event.rows.at(-1)!.id] : event.type === 'logSkipped' ? `skipped ${event.fromId}..${event.toId} (${event.count})` : event.type));

describe('RowBudget', () => {
  it('grants a burst, then refills at its rate, never above the burst', () => {
    let now = 0;
    const budget = new RowBudget(1000, 500, () => now);
    expect(budget.grant(800)).toBe(500);
    expect(budget.grant(10)).toBe(0);
    now = 100; // 100 rows' worth
    expect(budget.grant(800)).toBe(100);
    now = 60_000;
    expect(budget.grant(10_000)).toBe(500);
    expect(() => new RowBudget(0, 10)).toThrow(RangeError);
  });
});

describe('withinBudget', () => {
  it('keeps the newest rows and names the older ones in one logSkipped before them', () => {
    let now = 0;
    const budget = new RowBudget(1000, 5, () => now);
    const job = { type: 'sendJob', job: { jobId: 'j1', socketId: 's1', address: '127.0.0.1', total: 1, sent: 1, errors: 0, state: 'done', startedAt: 0 } } as const;
    const out = withinBudget([{ type: 'log', rows: rows(0, 4) }, job, { type: 'log', rows: rows(4, 6) }], budget);
    expect(describeBatch(out)).toEqual(['sendJob', 'skipped 0..4 (5)', [5, 9]]);
    now = 2; // two rows' worth
    expect(describeBatch(withinBudget([{ type: 'log', rows: rows(10, 3) }], budget))).toEqual(['skipped 10..10 (1)', [11, 12]]);
    // Within the budget: the batch itself, untouched.
    now = 1000;
    const small: EventBatch = [{ type: 'log', rows: rows(13, 2) }];
    expect(withinBudget(small, budget)).toBe(small);
  });

  it('forgets skipped rows of a log that was cleared after them', () => {
    const budget = new RowBudget(1000, 2, () => 0);
    const out = withinBudget([{ type: 'log', rows: rows(0, 3) }, { type: 'logCleared' }, { type: 'log', rows: rows(3, 2) }], budget);
    expect(describeBatch(out)).toEqual(['logCleared', [3, 4]]);
  });
});
