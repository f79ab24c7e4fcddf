import { describe, expect, it } from 'vitest';
import type { MtrHop } from '../../common/contract';
import { mtrReport, mtrReportHeader, pmtuHopLine, pmtuSummary } from './mtr-format';

const hop = (ttl: number, address: string | undefined, rest: Partial<MtrHop> = {}): MtrHop => ({
  ttl,
  ...(address ? { address } : {}),
  addresses: address ? [address] : [],
  sent: 10,
  received: 10,
  lossPercent: 0,
  lastMs: 0.42,
  avgMs: 0.381,
  bestMs: 0.29,
  worstMs: 0.55,
  stdevMs: 0.07,
  ...rest,
});

describe('mtr --report layout', () => {
  it("prints mtr's header and columns, numbers right-aligned under their titles", () => {
    const lines = mtrReport('lab-client', Date.UTC(2026, 11, 3, 18, 40), [
      hop(1, '198.18.1.2'),
      hop(2, undefined, { received: 0, lossPercent: 100, lastMs: undefined, avgMs: undefined, bestMs: undefined, worstMs: undefined, stdevMs: undefined }),
      hop(3, '198.18.3.2', { sent: 1000, received: 799, lossPercent: 20.1, lastMs: 40.123, avgMs: 41.5, bestMs: 40.02, worstMs: 120.75, stdevMs: 12.345 }),
    ]);
    expect(lines).toEqual([
      'Start: 2026-12-03T18:40:00.000Z',
      'HOST: lab-client                  Loss%   Snt   Last   Avg  Best  Wrst StDev',
      '  1.|-- 198.18.1.2                 0.0%    10    0.4   0.4   0.3   0.6   0.1',
      '  2.|-- ???                      100.0%    10    0.0   0.0   0.0   0.0   0.0',
      '  3.|-- 198.18.3.2                20.1%  1000   40.1  41.5  40.0 120.8  12.3',
    ]);
    // Every column ends where its title ends.
    const header = lines[1];
    for (const title of ['Loss%', 'Snt', 'Last', 'Avg', 'Best', 'Wrst', 'StDev']) {
      const end = header.indexOf(title) + title.length;
      for (const line of lines.slice(2)) expect(line[end - 1], `${title} in ${line}`).not.toBe(' ');
      for (const line of lines.slice(2)) expect(line[end] ?? ' ', `${title} in ${line}`).toBe(' ');
    }
  });

  it('widens the host column for long IPv6 addresses and lists extra ECMP responders below', () => {
    const long = 'fd42:0:0:1234:5678:9abc:def0:1234';
    const lines = mtrReport('h', 0, [{ ...hop(1, long), addresses: [long, 'fd42:0:0:2::2'] }]);
    expect(lines[2].startsWith(`  1.|-- ${long} `)).toBe(true);
    expect(lines[1].indexOf('Loss%') + 5).toBe(lines[2].indexOf('0.0%') + 4);
    expect(lines[3]).toBe('       fd42:0:0:2::2');
    expect(mtrReportHeader('h', [])).toBe('HOST: h                           Loss%   Snt   Last   Avg  Best  Wrst StDev');
  });
});

describe('tracepath lines', () => {
  it('prints the local MTU, hops with their time, the MTU a router reports, and ends with the path MTU', () => {
    const hops = [
      { ttl: 1, mtu: 1500, note: 'local interface MTU' },
      { ttl: 1, address: '198.18.1.2', mtu: 1500, rttMs: 0.0814 },
      { ttl: 2, address: '198.18.1.2', mtu: 1280, rttMs: 0.061, note: 'Fragmentation Needed' },
      { ttl: 3, address: '198.18.3.2', mtu: 1280, rttMs: 0.09, note: 'reached' },
      { ttl: 4, mtu: 1280, note: 'no reply' },
    ];
    expect(hops.map(pmtuHopLine)).toEqual([
      ' 1?: [LOCALHOST]                                  pmtu 1500',
      ' 1:  198.18.1.2                                   0.081ms',
      ' 2:  198.18.1.2                                   0.061ms pmtu 1280',
      ' 3:  198.18.3.2                                   0.090ms reached',
      ' 4:  no reply',
    ]);
    expect(pmtuSummary(hops.slice(0, 4), 1280, true)).toBe('     Resume: hops 3, pmtu 1280');
    expect(pmtuSummary(hops, 1280, false)).toMatch(/Not reached after 4 hops: pmtu 1280$/);
  });
});
