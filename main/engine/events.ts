// Event batching: whatever happens between two deliveries reaches every subscriber
// as one batch, at most once per interval. Progress-like events (a send job's
// counters, a socket's state, a run's state) are coalesced by key, so a job that
// sends a million packets costs one event per batch, not one per packet; the log's
// new rows are collected once per batch into a single 'log' event.
import { EVENT_BATCH_INTERVAL_MS, type EventBatch, type LogRow, type WorkbenchEvent } from '../../common/contract';
import { IntervalScheduler } from './interval-scheduler';

export type BatchListener = (batch: EventBatch) => void;

export interface EventHubOptions {
  intervalMs?: number;
  /** New log rows since the last batch (called only when the log changed and somebody listens). */
  collectLogRows?: () => LogRow[];
  /** Skip the log rows nobody will see (no subscribers). */
  discardLogRows?: () => void;
  /** A subscriber threw; the others still get the batch. */
  onListenerError?: (error: unknown) => void;
  now?: () => number;
}

export class EventHub {
  private readonly listeners = new Set<BatchListener>();
  private readonly scheduler: IntervalScheduler;
  private queue: (WorkbenchEvent | string)[] = [];
  private readonly coalesced = new Map<string, () => WorkbenchEvent>();
  private logChanged = false;
  private logCleared = false;
  private closed = false;
  /** Errors thrown by subscribers, for diagnostics. */
  listenerErrors = 0;

  constructor(private readonly options: EventHubOptions = {}) {
    this.scheduler = new IntervalScheduler(options.intervalMs ?? EVENT_BATCH_INTERVAL_MS, () => this.flush(), options.now);
  }

  subscribe(listener: BatchListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('The listener must be a function');
    // A wrapper per subscription, so the same function subscribed twice is two subscribers.
    const entry: BatchListener = (batch) => listener(batch);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** An event delivered as is, in order. */
  push(event: WorkbenchEvent): void {
    if (this.closed) return;
    this.queue.push(event);
    this.schedule();
  }

  /** The latest state under a key: produced once, at delivery, however often it changed. */
  coalesce(key: string, produce: () => WorkbenchEvent): void {
    if (this.closed) return;
    if (!this.coalesced.has(key)) this.queue.push(key);
    this.coalesced.set(key, produce);
    this.schedule();
  }

  /** New packets are in the log. */
  logAppended(): void {
    if (this.closed || this.logChanged) return;
    this.logChanged = true;
    this.schedule();
  }

  /** The log was emptied: clients drop their rows; rows logged after this follow in the same batch. */
  logWasCleared(): void {
    if (this.closed) return;
    this.logCleared = true;
    this.schedule();
  }

  /** Delivers what is pending now (tests, shutdown). */
  flush(): void {
    this.scheduler.ran();
    const batch: EventBatch = [];
    const cleared = this.logCleared;
    const changed = this.logChanged;
    // Reset first: collecting may find more rows than one batch carries and mark the log changed again.
    this.logCleared = false;
    this.logChanged = false;
    if (cleared) batch.push({ type: 'logCleared' });
    if (changed) {
      if (this.listeners.size > 0) {
        const rows = this.options.collectLogRows?.() ?? [];
        if (rows.length > 0) batch.push({ type: 'log', rows });
      } else {
        this.options.discardLogRows?.();
      }
    }
    const queue = this.queue;
    this.queue = [];
    for (const item of queue) {
      if (typeof item === 'string') {
        const produce = this.coalesced.get(item);
        this.coalesced.delete(item);
        if (produce) batch.push(produce());
      } else batch.push(item);
    }
    if (batch.length === 0) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(batch.slice());
      } catch (error) {
        this.listenerErrors++;
        try {
          this.options.onListenerError?.(error);
        } catch {
          // a broken error hook must not stop delivery either
        }
      }
    }
  }

  /** Stops delivering; pending events are dropped and the timer cleared. */
  close(): void {
    this.closed = true;
    this.scheduler.cancel();
    this.queue = [];
    this.coalesced.clear();
    this.listeners.clear();
  }

  private schedule(): void {
    this.scheduler.schedule();
  }
}
