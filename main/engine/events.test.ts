import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EventBatch, LogRow } from '../../common/contract';
import { EventHub } from './events';

function row(id: number): LogRow {
  return { id, time: id, direction: 'received', socketId: null, family: 'ipv4', source: '', destination: '', protocol: 'ICMP', length: 1, info: '' };
}

describe('EventHub', () => {
  let hub: EventHub | undefined;
  afterEach(() => hub?.close());

  it('coalesces a burst into one batch with one log event', async () => {
    let next = 0;
    let cursor = 0;
    hub = new EventHub({
      collectLogRows: () => {
        const rows: LogRow[] = [];
        for (; cursor < next; cursor++) rows.push(row(cursor));
        return rows;
      },
    });
    const batches: EventBatch[] = [];
    hub.subscribe((batch) => batches.push(batch));
    for (let i = 0; i < 1000; i++) {
      next++;
      hub.logAppended();
      hub.coalesce('sendJob:a', () => ({ type: 'sendJob', job: { jobId: 'a', socketId: 's', address: '::1', total: 1000, sent: i + 1, errors: 0, state: 'running', startedAt: 0 } }));
    }
    await vi.waitFor(() => expect(batches.length).toBe(1));
    const [batch] = batches;
    expect(batch.map((event) => event.type)).toEqual(['log', 'sendJob']);
    expect(batch[0].type === 'log' && batch[0].rows.length).toBe(1000);
    expect(batch[1].type === 'sendJob' && batch[1].job.sent).toBe(1000);
  });

  it('delivers at most one batch per interval to each subscriber', async () => {
    hub = new EventHub({ intervalMs: 16 });
    const times: number[] = [];
    hub.subscribe(() => times.push(performance.now()));
    const start = performance.now();
    while (performance.now() - start < 200) {
      hub.push({ type: 'logCleared' });
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(times.length).toBeGreaterThan(5);
    expect(times.length).toBeLessThanOrEqual(Math.ceil(240 / 16) + 1);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(15.5);
  });

  it('keeps delivering to the others when a subscriber throws', async () => {
    const errors: unknown[] = [];
    hub = new EventHub({ onListenerError: (error) => errors.push(error) });
    const good: EventBatch[] = [];
    hub.subscribe(() => {
      throw new Error('broken subscriber');
    });
    hub.subscribe((batch) => good.push(batch));
    hub.push({ type: 'logCleared' });
    await vi.waitFor(() => expect(good.length).toBe(1));
    hub.push({ type: 'logCleared' });
    await vi.waitFor(() => expect(good.length).toBe(2));
    expect(errors).toHaveLength(2);
    expect(hub.listenerErrors).toBe(2);
  });

  it('puts logCleared before the rows logged after it, and skips log rows nobody listens to', async () => {
    let collected = 0;
    let discarded = 0;
    hub = new EventHub({ collectLogRows: () => (collected++, [row(7)]), discardLogRows: () => discarded++ });
    hub.logAppended();
    hub.flush();
    expect(discarded).toBe(1);
    const batches: EventBatch[] = [];
    const unsubscribe = hub.subscribe((batch) => batches.push(batch));
    hub.logWasCleared();
    hub.logAppended();
    hub.flush();
    expect(batches[0].map((event) => event.type)).toEqual(['logCleared', 'log']);
    expect(collected).toBe(1);
    unsubscribe();
    hub.push({ type: 'logCleared' });
    hub.flush();
    expect(batches).toHaveLength(1);
  });

  it('leaves no timer behind after close', () => {
    vi.useFakeTimers();
    try {
      hub = new EventHub();
      hub.push({ type: 'logCleared' });
      expect(vi.getTimerCount()).toBe(1);
      hub.close();
      hub.push({ type: 'logCleared' });
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
