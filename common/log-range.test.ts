import { describe, expect, it } from 'vitest';
import type { LogPage, LogRow } from './contract-results';
import { readLogRange } from './log-range';

/** A log of ids [oldest, newest] paged by position; `afterCall` may move it between calls. */
function log(state: { oldest: number; newest: number }, afterCall: (call: number) => void = () => {}) {
  let calls = 0;
  return async ({ start, limit }: { start: number; limit: number }): Promise<LogPage> => {
    const first = state.oldest + start;
    const rows: LogRow[] = [];
    for (let id = first; id <= state.newest && rows.length < limit; id++) rows.push({ id } as LogRow);
    afterCall(++calls);
    return { total: state.newest - state.oldest + 1, rows, capacity: 1000 };
  };
}

describe('readLogRange', () => {
  it('reads exactly the ids asked for, a page at a time', async () => {
    const range = await readLogRange(log({ oldest: 100, newest: 999 }), 150, 420, 64);
    expect(range.rows.map((row) => row.id)).toEqual(Array.from({ length: 271 }, (_, i) => 150 + i));
    expect(range.gone).toBe(0);
  });

  it('follows a ring that moves on while it reads, and counts what it overwrote', async () => {
    const state = { oldest: 0, newest: 999 };
    // After the first page the ring drops 40 more of the oldest.
    const range = await readLogRange(log(state, (call) => call === 2 && (state.oldest = 60)), 10, 99, 10);
    expect(range.rows.map((row) => row.id)).toEqual([...Array.from({ length: 10 }, (_, i) => 10 + i), ...Array.from({ length: 40 }, (_, i) => 60 + i)]);
    expect(range.gone).toBe(40);
  });

  it('reports a range the log no longer has, and refuses a bad range', async () => {
    expect(await readLogRange(log({ oldest: 500, newest: 600 }), 10, 19)).toEqual({ rows: [], gone: 10 });
    await expect(readLogRange(log({ oldest: 0, newest: 1 }), 5, 4)).rejects.toThrow(RangeError);
  });
});
