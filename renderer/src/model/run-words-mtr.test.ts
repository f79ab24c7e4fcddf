import { describe, expect, it } from 'vitest';
import type { ExperimentRun } from '../../../common/contract';
import { probeWords, resultWords } from './run-words';

const base = (kind: 'mtr' | 'pmtu', state: ExperimentRun['state'], params: Record<string, unknown> = {}): ExperimentRun => ({
  runId: 'run-1', kind, target: '198.18.4.2', family: 'ipv4', params, state, startedAt: 0, mode: 'raw', via: 'raw',
});

describe('run words for mtr and pmtu', () => {
  it('mtr: cycles, the last hop (target or not) with its loss and average', () => {
    const hop = { ttl: 4, address: '198.18.4.2', addresses: ['198.18.4.2'], sent: 10, received: 8, lossPercent: 20, avgMs: 40.25 };
    expect(resultWords({ ...base('mtr', 'done'), mtr: { cycles: 10, hops: [hop], reached: true } })).toBe('10 cycles, target 4: 20.0% loss, avg 40.25 ms');
    expect(resultWords({ ...base('mtr', 'running'), mtr: { cycles: 1, hops: [{ ...hop, avgMs: undefined, received: 0, lossPercent: 100 }], reached: false } })).toBe(
      '1 cycle, last answering hop 4: 100.0% loss',
    );
    expect(resultWords({ ...base('mtr', 'running'), mtr: { cycles: 0, hops: [], reached: false } })).toBe('0 cycles, no answer yet');
    expect(probeWords(base('mtr', 'done', { probe: 'udp', port: 33434 }))).toBe('UDP to port 33434');
  });

  it('pmtu: reached or not, and the path MTU', () => {
    const hops = [{ ttl: 1, address: '198.18.1.2', mtu: 1500 }, { ttl: 2, address: '198.18.1.2', mtu: 1280, note: 'Fragmentation Needed' }, { ttl: 3, address: '198.18.3.2', mtu: 1280, note: 'reached' }];
    expect(resultWords({ ...base('pmtu', 'done'), pmtu: { hops, pathMtu: 1280, reached: true } })).toBe('reached after 3 hops, path MTU 1280');
    expect(resultWords({ ...base('pmtu', 'done'), pmtu: { hops: hops.slice(0, 2), pathMtu: 1280, reached: false } })).toBe('not reached after 2 hops, path MTU 1280');
    expect(resultWords({ ...base('pmtu', 'running'), pmtu: { hops: hops.slice(0, 1), reached: false } })).toBe('1 hop so far');
    expect(probeWords(base('pmtu', 'done'))).toBe('UDP, DF set');
  });
});
