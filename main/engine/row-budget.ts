// How many live log rows a GUI client is sent. A person cannot read 100,000 rows a second and a
// renderer spends ~10 µs on each one it takes in, so during a flood the host sends each client
// at most LIVE_ROWS_PER_SECOND (bursts up to LIVE_ROWS_BURST pass whole) and names the rest in
// a 'logSkipped' event: the GUI shows "N rows not shown" where they belong and pages them in from
// the engine's log (queryLog) when asked. Ids never jump silently.
import type { EventBatch, LogRow, WorkbenchEvent } from '../../common/contract';

/** Chosen by bench:ui: 5,000 rows/s keep a flood's renderer tasks short on a 2-core machine. */
export const LIVE_ROWS_PER_SECOND = 5000;
/** One full engine batch (MAX_LOG_ROWS_PER_BATCH): a burst such as a pcapng import arrives whole. */
export const LIVE_ROWS_BURST = 10_000;

export type SkippedRows = Extract<WorkbenchEvent, { type: 'logSkipped' }>;

/** A token bucket of rows: `perSecond` refill, at most `burst` saved up. */
export class RowBudget {
  private tokens: number;
  private last: number;

  constructor(
    readonly perSecond = LIVE_ROWS_PER_SECOND,
    readonly burst = LIVE_ROWS_BURST,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new RangeError(`row budget needs perSecond > 0 and burst >= 1, got ${perSecond}, ${burst}`);
    this.tokens = burst;
    this.last = now();
  }

  /** How many of `wanted` rows may go now; they are spent. */
  grant(wanted: number): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    const granted = Math.min(wanted, Math.floor(this.tokens));
    this.tokens -= granted;
    return granted;
  }
}

/** Extends `skipped` (or starts it) over rows, which are older than any row sent after them. */
export function skipRows(skipped: SkippedRows | null, rows: readonly LogRow[], from = 0, to = rows.length): SkippedRows | null {
  if (to <= from) return skipped;
  const count = to - from;
  if (!skipped) return { type: 'logSkipped', fromId: rows[from].id, toId: rows[to - 1].id, count };
  return { type: 'logSkipped', fromId: skipped.fromId, toId: rows[to - 1].id, count: skipped.count + count };
}

/**
 * The batch as one client may be sent it: its log rows within the budget, newest kept, and a
 * 'logSkipped' event for the older ones in place of the rows it names. For a sender without
 * a queue of its own (Electron IPC); the web outbox does the same over its pending rows.
 */
export function withinBudget(batch: EventBatch, budget: RowBudget): EventBatch {
  let rows = 0;
  for (const event of batch) if (event.type === 'log') rows += event.rows.length;
  if (rows === 0) return batch;
  let toSkip = rows - budget.grant(rows);
  if (toSkip === 0) return batch;
  const out: EventBatch = [];
  let skipped: SkippedRows | null = null;
  for (const event of batch) {
    if (event.type === 'log' && toSkip > 0) {
      const cut = Math.min(toSkip, event.rows.length);
      skipped = skipRows(skipped, event.rows, 0, cut);
      toSkip -= cut;
      if (cut === event.rows.length) continue;
      out.push(skipped as SkippedRows, { type: 'log', rows: event.rows.slice(cut) });
      skipped = null;
      continue;
    }
    // Rows before a clear belong to the old log: nothing of them to page in.
    if (event.type === 'logCleared') skipped = null;
    out.push(event);
  }
  if (skipped) out.push(skipped);
  return out;
}
