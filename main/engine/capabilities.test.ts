import { describe, expect, it } from 'vitest';
import type { HelperStatus } from '../../common/contract';
import { describeCapabilities, type Facts } from './capabilities';

const helper = (state: HelperStatus['state']): HelperStatus => ({
  state,
  via: state === 'running' ? 'sudo' : null,
  path: '/usr/local/libexec/packet-workbench/packet-workbench-helper',
  pid: state === 'running' ? 1234 : null,
  capabilities: state === 'running' ? ['net_raw'] : [],
  reason: null,
  command: null,
  launchers: { installed: false, pkexec: false, sudo: true },
});

const facts = (patch: Partial<Facts>): Facts => ({
  platform: 'linux',
  uid: 1000,
  raw: false,
  datagram: { ipv4: false, ipv6: false },
  pingGroupRange: [1, 0],
  helper: helper('not-started'),
  libraryRemedy: 'Raw sockets need the CAP_NET_RAW capability.',
  ...patch,
});

const table = (capabilities: ReturnType<typeof describeCapabilities>) =>
  Object.fromEntries(capabilities.experiments.map((row) => [row.experiment, row.works ? row.via : null]));

describe('describeCapabilities', () => {
  it('root or CAP_NET_RAW: every experiment through raw sockets, no remedy', () => {
    const result = describeCapabilities(facts({ raw: true, uid: 0 }));
    expect(new Set(Object.values(table(result)))).toEqual(new Set(['raw']));
    expect(result.experiments.every((row) => row.remedy === null)).toBe(true);
    expect(result.remedy).toBeNull();
    expect(result.modes).toEqual(['raw']);
  });

  it('a normal user with ping_group_range closed and no helper: UDP and TCP traceroute through the error queue, the rest with a remedy', () => {
    const result = describeCapabilities(facts({}));
    expect(table(result)).toEqual({
      ping: null,
      'traceroute-icmp': null,
      'traceroute-udp': 'error-queue',
      'traceroute-tcp': 'error-queue',
      'send-raw': null,
      capture: null,
      'socket-options': null,
    });
    const ping = result.experiments.find((row) => row.experiment === 'ping')!;
    expect(ping.remedy).toMatch(/Allow raw sockets/);
    expect(ping.remedy).toMatch(/setup-helper/);
    expect(ping.remedy).toMatch(/ping_group_range='0 2147483647'/);
    expect(result.experiments.find((row) => row.experiment === 'traceroute-udp')!.remedy).toMatch(/^Works without privileges/);
    expect(result.modes).toEqual([]);
  });

  it('with ping sockets allowed: ping through them, ICMP traceroute through the error queue', () => {
    const result = describeCapabilities(facts({ datagram: { ipv4: true, ipv6: true }, pingGroupRange: [0, 2147483647] }));
    expect(table(result)).toMatchObject({ ping: 'datagram', 'traceroute-icmp': 'error-queue', 'send-raw': null, 'socket-options': 'datagram' });
    expect(result.modes).toEqual(['datagram']);
  });

  it('with the helper running: every experiment through the helper', () => {
    const result = describeCapabilities(facts({ helper: helper('running') }));
    expect(new Set(Object.values(table(result)))).toEqual(new Set(['helper']));
    expect(result.modes).toEqual(['raw']);
    expect(result.helper.state).toBe('running');
  });

  it('off Linux there is no error queue and no helper: the library remedy only', () => {
    const result = describeCapabilities(facts({ platform: 'darwin', datagram: { ipv4: true, ipv6: false } }));
    expect(table(result)).toMatchObject({ ping: 'datagram', 'traceroute-udp': null, 'traceroute-tcp': null });
    expect(result.remedy).not.toMatch(/setup-helper/);
  });

  it('labels every experiment for people, in a fixed order', () => {
    expect(describeCapabilities(facts({})).experiments.map((row) => row.label)).toEqual([
      'Ping',
      'Traceroute (ICMP)',
      'Traceroute (UDP)',
      'Traceroute (TCP)',
      'Send a crafted packet',
      'Capture',
      'Socket options',
    ]);
  });
});
