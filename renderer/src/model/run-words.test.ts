import { describe, expect, it } from 'vitest';
import type { ExperimentRun, Hop } from '../../../common/contract';
import { probeWords, resultWords } from './run-words';

const hop = (ttl: number): Hop => ({ ttl, probes: [] }) as unknown as Hop;
function trace(params: Record<string, unknown>, hops: number, reached: boolean, state: ExperimentRun['state'] = 'done'): ExperimentRun {
  return {
    runId: 'run-1',
    kind: 'traceroute',
    target: '127.0.0.1',
    family: 'ipv4',
    params,
    state,
    startedAt: 0,
    mode: 'raw',
    via: 'raw',
    traceroute: { hops: Array.from({ length: hops }, (_, i) => hop(i + 1)), reached },
  } as ExperimentRun;
}

describe('run words', () => {
  it('names the probe and its port', () => {
    expect(probeWords(trace({ probe: 'udp' }, 0, false))).toBe('UDP to port 33434 (+1 per probe)');
    expect(probeWords(trace({ probe: 'udp', port: 53 }, 0, false))).toBe('UDP to port 53');
    expect(probeWords(trace({ probe: 'tcp', port: 443 }, 0, false))).toBe('TCP SYN to port 443');
    expect(probeWords(trace({ probe: 'tcp' }, 0, false))).toBe('TCP SYN to port 80');
    expect(probeWords({ ...trace({}, 0, false), family: 'ipv6' })).toBe('ICMPv6 echo');
    expect(probeWords({ ...trace({ size: 56 }, 0, false), kind: 'ping' })).toBe('ICMP echo, 56 bytes');
  });

  it('says whether a traceroute reached its target', () => {
    expect(resultWords(trace({}, 2, false))).toBe('not reached after 2 hops');
    expect(resultWords(trace({}, 1, true))).toBe('destination reached after 1 hop');
    expect(resultWords(trace({}, 3, false, 'running'))).toBe('3 hops so far');
    expect(resultWords(trace({}, 3, false, 'stopped'))).toBe('stopped after 3 hops, not reached');
  });

  it('says how many echoes were answered', () => {
    const ping = { ...trace({}, 0, false), kind: 'ping', traceroute: undefined } as ExperimentRun;
    const statistics = { transmitted: 4, received: 0, loss: 100, min: 0, avg: 0, max: 0, stddev: 0 };
    expect(resultWords({ ...ping, ping: { replies: [], statistics } } as unknown as ExperimentRun)).toBe('4 sent, 0 received, 100.0% loss');
    expect(resultWords({ ...ping, ping: { replies: [], statistics: { ...statistics, received: 4, loss: 0, avg: 0.05 } } } as unknown as ExperimentRun)).toBe(
      '4 sent, 4 received, 0.0% loss, avg 0.050 ms',
    );
  });
});
