// "At most once per interval", with timers that may fire early: the one helper the
// engine's EventHub and the browser host's EventOutbox both pace themselves with.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IntervalScheduler } from './interval-scheduler';

describe('IntervalScheduler', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 1000;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at once the first time, then no sooner than the interval after the last run', () => {
    const runs: number[] = [];
    const scheduler: IntervalScheduler = new IntervalScheduler(16, () => {
      runs.push(clock);
      scheduler.ran();
    }, now);
    scheduler.schedule();
    expect(scheduler.pending).toBe(true);
    vi.advanceTimersByTime(0);
    expect(runs).toEqual([1000]);
    expect(scheduler.pending).toBe(false);
    clock = 1005;
    scheduler.schedule();
    scheduler.schedule(); // already pending: one timer, one run
    clock = 1016;
    vi.advanceTimersByTime(11);
    expect(runs).toEqual([1000, 1016]);
  });

  it('waits out the rest when a timer fires early, instead of running early', () => {
    const runs: number[] = [];
    const scheduler: IntervalScheduler = new IntervalScheduler(16, () => {
      runs.push(clock);
      scheduler.ran();
    }, now);
    scheduler.ran(); // ran at 1000
    scheduler.schedule(); // due at 1016: a 16 ms timer
    clock = 1015; // the timer fires, but the clock says 1 ms is left
    vi.advanceTimersByTime(16);
    expect(runs).toEqual([]);
    expect(scheduler.pending).toBe(true);
    clock = 1016;
    vi.advanceTimersByTime(1);
    expect(runs).toEqual([1016]);
  });

  it('ran() cancels a pending timer; cancel() too', () => {
    const run = vi.fn();
    const scheduler = new IntervalScheduler(16, run, now);
    scheduler.schedule();
    scheduler.ran();
    expect(scheduler.pending).toBe(false);
    vi.advanceTimersByTime(100);
    expect(run).not.toHaveBeenCalled();
    clock = 2000;
    scheduler.schedule();
    scheduler.cancel();
    vi.advanceTimersByTime(100);
    expect(run).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
