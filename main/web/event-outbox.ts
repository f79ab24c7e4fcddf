// Events on their way to one WebSocket client: at most one frame per
// EVENT_BATCH_INTERVAL_MS, and bounded memory when the client reads slowly.
//
// While the socket's send buffer is above HIGH_WATER_BYTES nothing is sent and
// pending events are coalesced:
// - log rows: only the newest MAX_PENDING_LOG_ROWS are kept; the older ones are named in
//   a 'logSkipped' event (a client pages them in with queryLog), never dropped silently.
// - 'logCleared' drops the rows pending before it.
// - socket / sendJob / experiment / capture: the latest state per socketId / jobId / runId /
//   captureId; helper and logStatus: the latest.
// Live rows also keep within the client's row budget (engine/row-budget.ts): in a flood the
// newest rows go, the older ones are named in 'logSkipped'.
// - pingReply / tracerouteHop: the newest MAX_PENDING_PROGRESS; the full run is
//   in the 'experiment' event and in listExperiments.
// A flush lists: logCleared, logSkipped, log, progress events, then state events, so a run's
// final state never precedes its last reply. Its rows go in WebSocket frames of at
// most FRAME_ROWS (engine/event-frames.ts).
import { EVENT_BATCH_INTERVAL_MS, type EventBatch, type LogRow, type WorkbenchEvent } from '../../common/contract';
import { FRAME_ROWS, framesOf } from '../engine/event-frames';
import { IntervalScheduler } from '../engine/interval-scheduler';
import { LIVE_ROWS_BURST, RowBudget, skipRows, type SkippedRows } from '../engine/row-budget';

export const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Twice the engine's largest 'log' event (10 000 rows), so a client that keeps up is sent every one. */
export const MAX_PENDING_LOG_ROWS = 20_000;
export const MAX_PENDING_PROGRESS = 2000;
export { FRAME_ROWS };

type StateEvent = Extract<WorkbenchEvent, { type: 'socket' | 'sendJob' | 'experiment' | 'helper' | 'capture' | 'logStatus' }>;
type ProgressEvent = Extract<WorkbenchEvent, { type: 'pingReply' | 'tracerouteHop' }>;

export interface OutboxTarget {
  /** Bytes queued in the socket but not yet written to the kernel. */
  bufferedAmount(): number;
  send(frame: string): void;
}

export class EventOutbox {
  private cleared = false;
  private rows: LogRow[] = [];
  /** Rows older than `rows` this client will not be sent (budget, slow reader). */
  private skipped: SkippedRows | null = null;
  private progress: ProgressEvent[] = [];
  private readonly states = new Map<string, StateEvent>();
  private readonly scheduler: IntervalScheduler;
  private closed = false;
  /** Progress events dropped and log rows not sent (named in 'logSkipped'), for diagnostics and tests. */
  dropped = 0;
  /** Log rows named in 'logSkipped' events sent so far. */
  skippedRows = 0;

  constructor(
    private readonly target: OutboxTarget,
    now: () => number = () => performance.now(),
    /** null: every row goes (a client that is not a GUI). */
    private readonly budget: RowBudget | null = budgetFromEnvironment(now),
  ) {
    this.scheduler = new IntervalScheduler(EVENT_BATCH_INTERVAL_MS, () => this.flush(), now);
  }

  push(batch: EventBatch): void {
    if (this.closed) return;
    for (const event of batch) this.add(event);
    this.schedule();
  }

  close(): void {
    this.closed = true;
    this.scheduler.cancel();
    this.rows = [];
    this.skipped = null;
    this.progress = [];
    this.states.clear();
  }

  private add(event: WorkbenchEvent): void {
    switch (event.type) {
      case 'logCleared':
        this.cleared = true;
        this.rows = [];
        this.skipped = null;
        return;
      case 'log':
        for (const row of event.rows) this.rows.push(row);
        if (this.rows.length > MAX_PENDING_LOG_ROWS) this.skipOldest(this.rows.length - MAX_PENDING_LOG_ROWS);
        return;
      case 'logSkipped':
        // From an engine that already skipped (not today's): older than the rows pending after it.
        this.skipped = this.skipped ? { ...event, fromId: this.skipped.fromId, count: this.skipped.count + event.count } : event;
        return;
      case 'pingReply':
      case 'tracerouteHop':
        this.progress.push(event);
        if (this.progress.length > MAX_PENDING_PROGRESS) {
          this.dropped += this.progress.length - MAX_PENDING_PROGRESS;
          this.progress = this.progress.slice(-MAX_PENDING_PROGRESS);
        }
        return;
      case 'socket':
        this.setState(`socket:${event.socket.socketId}`, event);
        return;
      case 'sendJob':
        this.setState(`sendJob:${event.job.jobId}`, event);
        return;
      case 'experiment':
        this.setState(`experiment:${event.run.runId}`, event);
        return;
      case 'helper':
        this.setState('helper', event);
        return;
      case 'capture':
        this.setState(`capture:${event.capture.captureId}`, event);
        return;
      case 'logStatus':
        this.setState('logStatus', event);
        return;
    }
  }

  private skipOldest(count: number): void {
    this.skipped = skipRows(this.skipped, this.rows, 0, count);
    this.dropped += count;
    this.rows = this.rows.slice(count);
  }

  private setState(key: string, event: StateEvent): void {
    // Re-inserting keeps the map in order of the latest change.
    this.states.delete(key);
    this.states.set(key, event);
  }

  private hasPending(): boolean {
    return this.cleared || this.skipped !== null || this.rows.length > 0 || this.progress.length > 0 || this.states.size > 0;
  }

  private schedule(): void {
    if (!this.hasPending() || this.closed) return;
    this.scheduler.schedule();
  }

  private flush(): void {
    if (this.closed || !this.hasPending()) return;
    if (this.target.bufferedAmount() > HIGH_WATER_BYTES) {
      // The client is behind: keep coalescing and look again a little later.
      this.scheduler.ran();
      this.schedule();
      return;
    }
    if (this.budget && this.rows.length > 0) {
      const over = this.rows.length - this.budget.grant(this.rows.length);
      if (over > 0) this.skipOldest(over);
    }
    const batch: EventBatch = [];
    if (this.cleared) batch.push({ type: 'logCleared' });
    if (this.skipped) {
      batch.push(this.skipped);
      this.skippedRows += this.skipped.count;
    }
    if (this.rows.length > 0) batch.push({ type: 'log', rows: this.rows });
    batch.push(...this.progress, ...this.states.values());
    this.cleared = false;
    this.rows = [];
    this.skipped = null;
    this.progress = [];
    this.states.clear();
    this.scheduler.ran();
    for (const frame of framesOf(batch)) this.target.send(JSON.stringify({ events: frame }));
  }
}

/**
 * The row budget of each client: LIVE_ROWS_PER_SECOND, or WORKBENCH_LIVE_ROWS_PER_SECOND when set
 * (0: every row, for a benchmark of the transport itself, e.g. bench:engine).
 */
export function budgetFromEnvironment(now: () => number, setting = process.env.WORKBENCH_LIVE_ROWS_PER_SECOND): RowBudget | null {
  if (setting === undefined || setting.trim() === '') return new RowBudget(undefined, undefined, now);
  const perSecond = Number(setting);
  if (!Number.isFinite(perSecond) || perSecond < 0) {
    throw new RangeError(`WORKBENCH_LIVE_ROWS_PER_SECOND must be a number of rows per second, 0 for no budget; got '${setting}'`);
  }
  return perSecond === 0 ? null : new RowBudget(perSecond, Math.max(LIVE_ROWS_BURST, perSecond), now);
}
