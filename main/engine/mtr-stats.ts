// One mtr hop's statistics, kept as replies and losses arrive: mtr's report columns
// (Snt, Loss%, Last, Avg, Best, Wrst, StDev). The mean and the sum of squared deviations
// are updated with Welford's method, so a long run never sums large squares.
import type { MtrHop } from '../../common/contract';

export class HopStatistics {
  readonly addresses: string[] = [];
  sent = 0;
  received = 0;
  lost = 0;
  private last: number | undefined;
  private best = Infinity;
  private worst = -Infinity;
  private mean = 0;
  private squaredDeviations = 0;

  constructor(readonly ttl: number) {}

  probeSent(): void {
    this.sent++;
  }

  /** A probe sent but never judged (the run stopped while it waited): as if never sent. */
  probeWithdrawn(): void {
    this.sent--;
  }

  reply(responder: string, rttMs: number): void {
    if (!this.addresses.includes(responder)) this.addresses.push(responder);
    this.received++;
    this.last = rttMs;
    this.best = Math.min(this.best, rttMs);
    this.worst = Math.max(this.worst, rttMs);
    const delta = rttMs - this.mean;
    this.mean += delta / this.received;
    this.squaredDeviations += delta * (rttMs - this.mean);
  }

  lose(): void {
    this.lost++;
  }

  /** Loss over the probes whose wait is over (those still waiting are neither lost nor answered). */
  lossPercent(): number {
    const judged = this.received + this.lost;
    return judged === 0 ? 0 : (this.lost * 100) / judged;
  }

  /** Sample standard deviation (n − 1), as mtr's StDev; 0 with a single reply. */
  stdev(): number {
    return this.received > 1 ? Math.sqrt(this.squaredDeviations / (this.received - 1)) : 0;
  }

  toHop(): MtrHop {
    const hop: MtrHop = { ttl: this.ttl, addresses: [...this.addresses], sent: this.sent, received: this.received, lossPercent: this.lossPercent() };
    if (this.addresses.length > 0) hop.address = this.addresses[0];
    if (this.received > 0) {
      hop.lastMs = this.last;
      hop.avgMs = this.mean;
      hop.bestMs = this.best;
      hop.worstMs = this.worst;
      hop.stdevMs = this.stdev();
    }
    return hop;
  }
}
