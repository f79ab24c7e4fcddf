// The CLI's pure parts: ping(8) / traceroute(8) line formats, error messages
// that name the flag, and how send picks the socket for a packet.
import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../../common/validate';
import { CliError, toCliError, usageMessage } from '../cli/errors';
import { percentG, pingHeader, pingReplyLine, pingStatisticsLines, pingTime, tracerouteHopLine } from '../cli/format';
import { planPacket } from '../cli/send';

describe('ping format', () => {
  it('prints times with iputils precision', () => {
    expect([0.0451, 1.234, 12.34, 123.4].map(pingTime)).toEqual(['0.045', '1.23', '12.3', '123']);
  });

  it('prints headers, replies, errors and statistics like ping(8)', () => {
    expect(pingHeader('localhost', '127.0.0.1', 4, 56)).toBe('PING localhost (127.0.0.1) 56(84) bytes of data.');
    expect(pingHeader('::1', '::1', 6, 56)).toBe('PING ::1 (::1) 56 data bytes');
    expect(pingReplyLine({ sequence: 1, status: 'reply', from: '127.0.0.1', rtt: 0.045, ttl: 64, bytes: 64 })).toBe('64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms');
    expect(pingReplyLine({ sequence: 2, status: 'error', from: '198.18.1.2', error: 'Time to live exceeded' })).toBe('From 198.18.1.2 icmp_seq=2 Time to live exceeded');
    expect(pingReplyLine({ sequence: 3, status: 'timeout' })).toBeNull();
    expect(pingStatisticsLines('127.0.0.1', { transmitted: 4, received: 4, errors: 0, loss: 0, min: 0.04, avg: 0.045, max: 0.05, mdev: 0.004 }, 3003.2)).toEqual([
      '--- 127.0.0.1 ping statistics ---',
      '4 packets transmitted, 4 received, 0% packet loss, time 3003ms',
      'rtt min/avg/max/mdev = 0.040/0.045/0.050/0.004 ms',
    ]);
    expect(pingStatisticsLines('x', { transmitted: 3, received: 0, errors: 3, loss: 100, min: null, avg: null, max: null, mdev: null }, 2002)).toEqual([
      '--- x ping statistics ---',
      '3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2002ms',
    ]);
    expect(percentG(100 / 3)).toBe('33.3333');
  });
});

describe('traceroute format', () => {
  it('prints a hop like traceroute(8): address once, again when it changes, * for silence', () => {
    expect(tracerouteHopLine({ ttl: 1, probes: [1, 2, 3].map((rtt) => ({ status: 'reply' as const, responder: '198.18.1.2', rtt: rtt / 10, kind: 'time-exceeded' })) })).toBe(
      ' 1  198.18.1.2  0.100 ms  0.200 ms  0.300 ms',
    );
    expect(tracerouteHopLine({ ttl: 12, probes: [{ status: 'timeout' }, { status: 'timeout' }, { status: 'timeout' }] })).toBe('12  * * *');
    expect(
      tracerouteHopLine({
        ttl: 3,
        probes: [
          { status: 'reply', responder: 'a', rtt: 1 },
          { status: 'timeout' },
          { status: 'reply', responder: 'b', rtt: 2, kind: 'unreachable' },
        ],
      }),
    ).toBe(' 3  a  1.000 ms * b  2.000 ms !H');
  });

  it('marks each Destination Unreachable as traceroute(8) does, after the time', () => {
    const marks = (kind: string) => tracerouteHopLine({ ttl: 2, probes: [{ status: 'reply', responder: 'r', rtt: 0.5, kind }] }).slice(' 2  r  0.500 ms'.length);
    expect(
      ['unreachable-net', 'unreachable-host', 'unreachable-scope', 'unreachable-protocol', 'unreachable-fragmentation', 'unreachable-source-route',
        'unreachable-prohibited', 'unreachable-precedence', 'unreachable-precedence-cutoff', 'unreachable-code-16', 'packet-too-big'].map(marks),
    ).toEqual([' !N', ' !H', ' !H', ' !P', ' !F', ' !S', ' !X', ' !V', ' !C', ' !<16>', ' !F']);
    // The normal ends and in-between hops carry no mark.
    expect(['port-unreachable', 'echo-reply', 'time-exceeded', 'tcp-rst', 'tcp-synack'].map(marks)).toEqual(['', '', '', '', '']);
    expect(
      tracerouteHopLine({
        ttl: 2,
        probes: [
          { status: 'reply', responder: '198.18.2.2', rtt: 0.1, kind: 'unreachable-prohibited' },
          { status: 'timeout' },
          { status: 'reply', responder: '198.18.2.2', rtt: 0.2, kind: 'unreachable-prohibited' },
        ],
      }),
    ).toBe(' 2  198.18.2.2  0.100 ms !X *  0.200 ms !X');
  });
});

describe('errors', () => {
  it('names the flag and rescales bounds and the value to its unit', () => {
    const error = toCliError(new WorkbenchError('INVALID_ARGUMENT', 'ping: intervalMs: must be at least 10, got 1', 'intervalMs'), {
      intervalMs: { flag: '-i (interval)', scale: 1000, unit: 's' },
    });
    expect(error).toMatchObject({ exitCode: 2, message: '-i (interval): must be at least 0.01 s, got 0.001 s' });
  });

  it('names the flag and the path below it: a layer of --layers, the hex of --hex', () => {
    const flags = { packet: { flag: '--layers' }, 'packet.layers': { flag: '--layers' } };
    const kind = new WorkbenchError('INVALID_ARGUMENT', 'send: packet.layers[1].kind: unknown kind "bogus" (expected one of ipv4, ipv6)', 'packet.layers.1.kind');
    expect(toCliError(kind, flags).message).toBe('--layers[1].kind: unknown kind "bogus" (expected one of ipv4, ipv6)');
    const key = new WorkbenchError('INVALID_ARGUMENT', 'send: packet.layers[0]: unknown key "colour" (expected kind, fields, data)', 'packet.layers.0.colour');
    expect(toCliError(key, flags).message).toBe('--layers[0]: unknown key "colour" (expected kind, fields, data)');
    // The engine's own refusals name the path in the message and the parameter in the field.
    const built = new WorkbenchError('INVALID_ARGUMENT', "packet.layers: layer 1 (ICMP) field 'type' (Type) must be an integer from 0 to 255, got 300", 'packet');
    expect(toCliError(built, flags).message).toBe("--layers: layer 1 (ICMP) field 'type' (Type) must be an integer from 0 to 255, got 300");
    const hex = new WorkbenchError('INVALID_ARGUMENT', 'packet.hex: Invalid hex digit', 'packet');
    expect(toCliError(hex, { packet: { flag: '--hex' }, 'packet.hex': { flag: '--hex' } }).message).toBe('--hex: invalid hex digit');
    // Without a flag for it, the path as the contract names it.
    expect(toCliError(kind).message).toBe('packet.layers[1].kind: unknown kind "bogus" (expected one of ipv4, ipv6)');
  });

  it('maps missing privileges to 77 and other failures to 1', () => {
    expect(toCliError(new WorkbenchError('EPERM', 'socket: Operation not permitted. Raw sockets need CAP_NET_RAW')).exitCode).toBe(77);
    expect(toCliError(Object.assign(new Error('x'), { code: 'EACCES' })).exitCode).toBe(77);
    expect(toCliError(new WorkbenchError('ENETUNREACH', 'No route')).exitCode).toBe(1);
    expect(toCliError(new CliError(2, 'bad')).exitCode).toBe(2);
  });
});

describe("commander's messages in the contract's form", () => {
  it('names the flag by its short and long name, the value, and what was expected', () => {
    expect(usageMessage("option '-c, --count <count>' argument '1.5' is invalid. '1.5' is not a whole number.")).toBe("-c (count): '1.5' is not a whole number");
    expect(usageMessage("option '--mode <mode>' argument 'fast' is invalid. Allowed choices are auto, raw, datagram.")).toBe("--mode: 'fast' is not one of auto, raw, datagram");
    expect(usageMessage("option '-c, --count <count>' argument missing")).toBe('-c (count): needs a value');
    expect(usageMessage("unknown option '--bogus'")).toBe("unknown option '--bogus'");
  });
});

describe('send: the socket a packet needs', () => {
  it('takes the protocol from the template, the layers or an IPv4 header', () => {
    expect(planPacket({ template: 'icmp-echo' }, 4).protocol).toBe(1);
    expect(planPacket({ template: 'icmpv6-echo' }, 6).protocol).toBe(58);
    expect(planPacket({ template: 'tcp-syn' }, 6).protocol).toBe(6);
    expect(planPacket({ layers: '[{"kind":"udp"},{"kind":"payload","data":"00"}]' }, 4).protocol).toBe(17);
    expect(planPacket({ layers: '[{"kind":"ipv4"},{"kind":"icmp"}]' }, 4).protocol).toBe(255);
    expect(planPacket({ layers: '[{"kind":"ipv6"},{"kind":"tcp"}]' }, 6).protocol).toBe(6);
    expect(planPacket({ hex: '4500001c0000000040010000 7f000001 7f000001 0800f7ff00000000' }, 4).protocol).toBe(255);
    expect(planPacket({ hex: '0800f7ff00000000', protocol: 1 }, 4).protocol).toBe(1);
    expect(() => planPacket({ hex: '0800f7ff00000000' }, 4)).toThrow(/--protocol: needed/);
    expect(() => planPacket({ layers: '[{"kind":"payload","data":"00"}]' }, 4)).toThrow(/--protocol: needed/);
  });
});
