import { describe, expect, it } from 'vitest';
import type { Capabilities, ExperimentCapability, HelperStatus } from '../../../common/contract';
import { experimentsOf, pingAvailability, sendAvailability, shellCommand, summarize, tracerouteAvailability, viaWords } from './capabilities';

const helper = (state: HelperStatus['state']): HelperStatus => ({
  state,
  via: state === 'running' ? 'sudo' : null,
  path: '/opt/helper',
  pid: state === 'running' ? 7 : null,
  capabilities: state === 'running' ? ['net_raw'] : [],
  reason: null,
  command: null,
  launchers: { installed: false, pkexec: false, sudo: true },
});

const HELPER_REMEDY = 'Start the socket helper: "Allow raw sockets"';
const entry = (experiment: ExperimentCapability['experiment'], label: string, via: ExperimentCapability['via']): ExperimentCapability => ({
  experiment,
  label,
  works: via !== null,
  via,
  remedy: via === 'raw' || via === 'helper' ? null : HELPER_REMEDY,
});

/** A normal user on Linux without ping_group_range: what the engine describes. */
const unprivileged: Capabilities = {
  platform: 'linux',
  uid: 65534,
  raw: false,
  datagram: { ipv4: false, ipv6: false },
  pingGroupRange: [1, 0],
  modes: [],
  remedy: HELPER_REMEDY,
  helper: helper('not-started'),
  experiments: [
    entry('ping', 'Ping', null),
    entry('traceroute-icmp', 'Traceroute (ICMP)', null),
    entry('traceroute-udp', 'Traceroute (UDP)', 'error-queue'),
    entry('traceroute-tcp', 'Traceroute (TCP)', 'error-queue'),
    entry('send-raw', 'Send a crafted packet', null),
    entry('capture', 'Capture', null),
    entry('socket-options', 'Socket options', null),
  ],
};

describe('capabilities in words', () => {
  it('names each way as the banner says it', () => {
    expect(['raw', 'helper', 'datagram', 'error-queue'].map((via) => viaWords(via as never))).toEqual([
      'raw socket',
      'socket helper',
      'ping socket',
      'error queue (no privileges)',
    ]);
  });

  it('summarizes what works now, grouped by how, and what needs raw sockets', () => {
    const summary = summarize(unprivileged, unprivileged.helper);
    expect(summary.level).toBe('warn');
    expect(summary.text).toBe('No raw sockets: 2 of 7 experiments work without them.');
    expect(summary.byVia).toEqual([{ via: 'error-queue', labels: ['Traceroute (UDP)', 'Traceroute (TCP)'] }]);
    expect(summary.missing.map((e) => e.label)).toContain('Send a crafted packet');
  });

  it('says every experiment works through the helper once it runs', () => {
    const withHelper: Capabilities = {
      ...unprivileged,
      modes: ['raw'],
      helper: helper('running'),
      experiments: unprivileged.experiments.map((e) => ({ ...e, works: true, via: 'helper', remedy: null })),
    };
    expect(summarize(withHelper, withHelper.helper)).toMatchObject({ level: 'ok', text: 'Raw sockets through the socket helper: every experiment works.' });
  });

  it('an engine without the per-experiment list claims only what raw/datagram say', () => {
    const old = { platform: 'linux', uid: 1000, raw: false, datagram: { ipv4: true, ipv6: false }, pingGroupRange: [0, 10], modes: ['datagram'], remedy: 'setcap' } as unknown as Capabilities;
    const list = experimentsOf(old);
    expect(list.filter((e) => e.works).map((e) => [e.experiment, e.via])).toEqual([
      ['ping', 'datagram'],
      ['socket-options', 'datagram'],
    ]);
    expect(summarize({ ...old, raw: true } as Capabilities, null)).toMatchObject({ level: 'ok', text: 'Raw sockets available: every experiment works.' });
  });
});

describe('availability before Start/Send', () => {
  it('traceroute: UDP/TCP run through the error queue, ICMP needs a ping socket or raw sockets', () => {
    const none = unprivileged.helper;
    expect(tracerouteAvailability(unprivileged, none, 'udp', 'auto', 'ipv4')).toMatchObject({ works: true, via: 'error-queue' });
    expect(tracerouteAvailability(unprivileged, none, 'icmp', 'auto', 'ipv4')).toMatchObject({ works: false, needsRaw: true, remedy: HELPER_REMEDY });
    expect(tracerouteAvailability(unprivileged, none, 'icmp', 'error-queue', 'ipv4')).toMatchObject({ works: false, needsRaw: false, remedy: expect.stringContaining('ping_group_range') });
    expect(tracerouteAvailability(unprivileged, none, 'tcp', 'raw', 'ipv4')).toMatchObject({ works: false, needsRaw: true });
    const ping = { ...unprivileged, datagram: { ipv4: true, ipv6: false } };
    expect(tracerouteAvailability(ping, none, 'icmp', 'auto', 'ipv4')).toMatchObject({ works: true, via: 'error-queue' });
    expect(tracerouteAvailability(ping, none, 'icmp', 'auto', 'ipv6')).toMatchObject({ works: false });
    // The helper's state counts at once, before the capabilities are read again.
    expect(tracerouteAvailability(unprivileged, helper('running'), 'icmp', 'auto', 'ipv4')).toMatchObject({ works: true, via: 'helper' });
    expect(tracerouteAvailability({ ...unprivileged, modes: ['raw'] }, helper('failed'), 'icmp', 'auto', 'ipv4')).toMatchObject({ works: false });
  });

  it('ping and send: raw sockets, or a ping socket for echo requests', () => {
    const ping = { ...unprivileged, datagram: { ipv4: true, ipv6: false } };
    expect(pingAvailability(unprivileged, unprivileged.helper, 'auto', 'ipv4')).toMatchObject({ works: false, needsRaw: true });
    expect(pingAvailability(ping, unprivileged.helper, 'auto', 'ipv4')).toMatchObject({ works: true });
    expect(pingAvailability(ping, unprivileged.helper, 'raw', 'ipv4')).toMatchObject({ works: false, needsRaw: true });
    expect(sendAvailability(ping, unprivileged.helper, { family: 'ipv4', protocol: 1, echoRequest: true })).toMatchObject({ works: true, via: 'datagram' });
    expect(sendAvailability(ping, unprivileged.helper, { family: 'ipv4', protocol: 6, echoRequest: false })).toEqual({ works: false, via: null, remedy: HELPER_REMEDY });
    expect(sendAvailability(unprivileged, helper('running'), { family: 'ipv4', protocol: 6, echoRequest: false })).toMatchObject({ works: true, via: 'helper' });
  });

  it('quotes a command line only where a shell needs it', () => {
    expect(shellCommand(['/usr/bin/sudo', '-n', '--', '/opt/Packet Workbench/helper', '--elevated'])).toBe("/usr/bin/sudo -n -- '/opt/Packet Workbench/helper' --elevated");
    expect(shellCommand(["it's"])).toBe(`'it'\\''s'`);
  });
});
