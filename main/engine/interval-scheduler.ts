// "At most once per interval": one timer, due `intervalMs` after the last run. Timers
// may fire a little early (whole milliseconds, libuv's clock read once per loop
// turn); when one does, the rest is waited out instead of running early. Used by the
// engine's EventHub and the browser host's EventOutbox.

export class IntervalScheduler {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private last = -Infinity;

  constructor(
    private readonly intervalMs: number,
    /** Called when due; it calls ran() when it did run (it may decline, e.g. nothing to do). */
    private readonly run: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A timer is waiting. */
  get pending(): boolean {
    return this.timer !== null;
  }

  /** Runs once the interval since the last run has passed (at once if it has); no-op while a timer waits. */
  schedule(): void {
    if (this.timer) return;
    const wait = this.last + this.intervalMs - this.now();
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(wait)));
  }

  /** Records a run now and drops a waiting timer (the next schedule() counts from here). */
  ran(): void {
    this.cancel();
    this.last = this.now();
  }

  /** Drops a waiting timer. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private onTimer = (): void => {
    this.timer = null;
    if (this.now() - this.last < this.intervalMs) {
      this.schedule();
      return;
    }
    this.run();
  };
}
