import { describe, expect, it } from 'vitest';
import { HopStatistics } from './mtr-stats';

describe('HopStatistics (mtr columns)', () => {
  it('computes last, avg, best, worst and the sample standard deviation', () => {
    const hop = new HopStatistics(3);
    for (const rtt of [2, 4, 4, 4, 5, 5, 7, 9]) {
      hop.probeSent();
      hop.reply('198.18.1.2', rtt);
    }
    const row = hop.toHop();
    expect(row).toMatchObject({ ttl: 3, address: '198.18.1.2', addresses: ['198.18.1.2'], sent: 8, received: 8, lossPercent: 0, lastMs: 9, avgMs: 5, bestMs: 2, worstMs: 9 });
    // Σ(x − 5)² = 32; sample: √(32 / 7) (mtr divides by n − 1), not the population's √(32 / 8) = 2.
    expect(row.stdevMs).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });

  it('gives stdev 0 with one reply and leaves the RTT columns out with none', () => {
    const one = new HopStatistics(1);
    one.probeSent();
    one.reply('127.0.0.1', 0.25);
    expect(one.toHop()).toMatchObject({ stdevMs: 0, avgMs: 0.25, bestMs: 0.25, worstMs: 0.25 });
    const none = new HopStatistics(2);
    none.probeSent();
    none.lose();
    const row = none.toHop();
    expect(row).toEqual({ ttl: 2, addresses: [], sent: 1, received: 0, lossPercent: 100 });
  });

  it('counts loss over judged probes only: one still waiting is neither lost nor answered', () => {
    const hop = new HopStatistics(4);
    for (let i = 0; i < 5; i++) hop.probeSent();
    hop.reply('198.18.4.2', 1);
    hop.reply('198.18.4.2', 1);
    hop.reply('198.18.4.2', 1);
    hop.lose();
    // 4 judged, 1 lost: 25 %, while the fifth waits.
    expect(hop.lossPercent()).toBe(25);
    hop.lose();
    expect(hop.lossPercent()).toBe(40);
    expect(hop.toHop().sent).toBe(5);
  });

  it('keeps every responder in order of first answer (ECMP), the first as the address', () => {
    const hop = new HopStatistics(2);
    for (const responder of ['198.18.2.1', '198.18.3.1', '198.18.2.1']) {
      hop.probeSent();
      hop.reply(responder, 1);
    }
    expect(hop.toHop()).toMatchObject({ address: '198.18.2.1', addresses: ['198.18.2.1', '198.18.3.1'] });
  });

  it('stays exact over many replies (Welford: no sum of large squares)', () => {
    const hop = new HopStatistics(1);
    for (let i = 0; i < 1000; i++) {
      hop.probeSent();
      hop.reply('198.18.1.2', 1e6 + (i % 2));
    }
    expect(hop.toHop().avgMs).toBeCloseTo(1e6 + 0.5, 9);
    // 500 each of ±0.5: Σ = 250, / 999.
    expect(hop.stdev()).toBeCloseTo(Math.sqrt(250 / 999), 9);
  });
});

describe('loss percent', () => {
  it('is exact for whole percentages (29 of 100, not 28.999999999999996)', () => {
    const hop = new HopStatistics(3);
    for (let i = 0; i < 100; i++) {
      hop.probeSent();
      if (i < 29) hop.lose();
      else hop.reply('198.18.3.2', 40);
    }
    expect(hop.lossPercent()).toBe(29);
  });
});
