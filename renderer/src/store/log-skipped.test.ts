// Rows the host did not push in a flood ('logSkipped'): markers in the log where they belong,
// counted, and paged in from the engine's log on "Show".
import { describe, expect, it, vi } from 'vitest';
import type { EventBatch, LogPage, LogRow } from '../../../common/contract';
import type { WorkbenchClient } from '../api/client';
import { pumpEvents } from '../api/events';
import { isGap } from '../model/log-gap';
import { createWorkbenchStore } from './index';

const row = (id: number): LogRow => ({
  id, time: id, direction: 'received', socketId: 's1', family: 'ipv4',
  source: '127.0.0.1', destination: '127.0.0.1', protocol: 'ICMP', length: 44, info: `Echo reply id=0x1234 seq=${id}`,
});
const rows = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => row(from + i));

/** An engine log holding ids [oldest, newest]; queryLog pages by position as the engine does. */
function engineLog(state: { oldest: number; newest: number }) {
  return vi.fn(async ({ start = 0, limit = 500 }: { start?: number; limit?: number }): Promise<LogPage> => {
    const first = state.oldest + start;
    const last = Math.min(state.newest, first + limit - 1);
    return { total: state.newest - state.oldest + 1, rows: first <= last ? rows(first, last) : [], capacity: 100_000 };
  });
}

function setup(engine: { oldest: number; newest: number }, nextFrame: (callback: () => void) => void = (callback) => callback()) {
  let listener: ((batch: EventBatch) => void) | null = null;
  const queryLog = engineLog(engine);
  const client = {
    queryLog,
    onEvents: (l: (batch: EventBatch) => void) => {
      listener = l;
      return () => (listener = null);
    },
  } as unknown as WorkbenchClient;
  const store = createWorkbenchStore({ client, storage: null, saveFile: vi.fn(), nextFrame });
  pumpEvents((l) => client.onEvents(l), store, nextFrame);
  return { store, queryLog, emit: (batch: EventBatch) => listener?.(batch) };
}

const items = (store: ReturnType<typeof setup>['store']) => store.getState().log.buffer.all.toArray().map((r) => (isGap(r) ? `gap ${r.id}..${r.gap.toId}` : r.id));
const skipped = (fromId: number, toId: number) => ({ type: 'logSkipped', fromId, toId, count: toId - fromId + 1 }) as const;

describe('rows not shown (flood)', () => {
  it('stands in for skipped rows with a marker in id order, counted, passed by no filter', () => {
    const { store, emit } = setup({ oldest: 0, newest: 104 });
    emit([{ type: 'log', rows: rows(0, 2) }, skipped(3, 52), { type: 'log', rows: rows(53, 54) }]);
    emit([skipped(55, 99), { type: 'log', rows: rows(100, 100) }]);
    expect(items(store)).toEqual([0, 1, 2, 'gap 3..52', 53, 54, 'gap 55..99', 100]);
    expect(store.getState().log.notShown).toBe(95);
    expect(store.getState().log.buffer.at(3)?.info).toBe('50 rows not shown (flood)');
    // No row behind a marker: a lookup by its id finds nothing, a filter shows none.
    expect(store.getState().log.buffer.byId(3)).toBeUndefined();
    store.getState().log.setFilter({ direction: 'received' });
    expect(store.getState().log.buffer.shownIds()).toEqual([0, 1, 2, 53, 54, 100]);
    expect(store.getState().log.buffer.length).toBe(6);
  });

  it('"Show" on one marker pages exactly its rows in; "Show" pages in the rest', async () => {
    const { store, emit, queryLog } = setup({ oldest: 0, newest: 104 });
    emit([{ type: 'log', rows: rows(0, 2) }, skipped(3, 52), { type: 'log', rows: rows(53, 54) }, skipped(55, 99), { type: 'log', rows: rows(100, 104) }]);
    store.getState().log.setFilter({ direction: 'received' });
    await store.getState().log.showSkipped(3);
    expect(items(store)).toEqual([...Array.from({ length: 55 }, (_, i) => i), 'gap 55..99', 100, 101, 102, 103, 104]);
    expect(store.getState().log.notShown).toBe(45);
    // The filter applies to the rows paged in.
    expect(store.getState().log.buffer.length).toBe(55 + 5);
    await store.getState().log.showSkipped();
    expect(items(store)).toEqual(Array.from({ length: 105 }, (_, i) => i));
    expect(store.getState().log.notShown).toBe(0);
    expect(store.getState().log.message).toEqual({ kind: 'info', text: '45 rows shown' });
    // Paged, never past the range asked for.
    for (const [params] of queryLog.mock.calls) expect(params.limit).toBeLessThanOrEqual(5000);
  });

  it('says how many rows the engine overwrote before they could be shown', async () => {
    const engine = { oldest: 0, newest: 60 };
    const { store, emit } = setup(engine);
    emit([{ type: 'log', rows: rows(0, 0) }, skipped(1, 50), { type: 'log', rows: rows(51, 60) }]);
    engine.oldest = 31; // the engine's ring moved on
    await store.getState().log.showSkipped();
    expect(items(store)).toEqual([0, ...Array.from({ length: 30 }, (_, i) => 31 + i)]);
    expect(store.getState().log.message?.text).toBe("20 rows shown; 30 were overwritten in the engine's log before");
  });

  it('a hidden page (no frames) keeps the newest rows and one marker for the rest', () => {
    let pending: (() => void) | null = null;
    const { store, emit } = setup({ oldest: 0, newest: 0 }, (callback) => (pending = callback));
    store.getState().log.buffer.setCapacity(10);
    emit([{ type: 'log', rows: rows(0, 14) }]);
    emit([skipped(15, 19), { type: 'log', rows: rows(20, 29) }]);
    (pending as unknown as () => void)();
    expect(items(store)).toEqual(['gap 0..20', ...Array.from({ length: 9 }, (_, i) => 21 + i)]);
    expect(store.getState().log.notShown).toBe(21);
  });

  it('while paused, the oldest held rows beyond the bound become one marker', () => {
    const { store, emit } = setup({ oldest: 0, newest: 0 });
    store.getState().log.buffer.setCapacity(10);
    store.getState().log.setPaused(true);
    emit([{ type: 'log', rows: rows(0, 15) }]);
    expect(store.getState().log.held).toBe(10); // one marker for rows 0..6, then rows 7..15
    store.getState().log.setPaused(false);
    expect(items(store)).toEqual(['gap 0..6', ...Array.from({ length: 9 }, (_, i) => 7 + i)]);
    expect(store.getState().log.notShown).toBe(7);
  });
});
