// What answered a traceroute probe: HopProbe.kind for each ICMP / ICMPv6 error.
import { describe, expect, it } from 'vitest';
import { answerTypes, errorKind, isEchoReply, isError, isUnreachableKind } from './icmp';

describe('errorKind', () => {
  it('names every IPv4 Destination Unreachable code the way traceroute(8) groups them', () => {
    const kinds = Array.from({ length: 17 }, (_, code) => errorKind(3, code, 4));
    expect(kinds).toEqual([
      'unreachable-net', // 0 net
      'unreachable-host', // 1 host
      'unreachable-protocol', // 2 protocol
      'port-unreachable', // 3 port: the UDP probe's normal end
      'unreachable-fragmentation', // 4 fragmentation needed and DF set
      'unreachable-source-route', // 5 source route failed
      'unreachable-net', // 6 net unknown
      'unreachable-host', // 7 host unknown
      'unreachable-net', // 8 source host isolated
      'unreachable-prohibited', // 9 net prohibited
      'unreachable-prohibited', // 10 host prohibited
      'unreachable-net', // 11 net for TOS
      'unreachable-host', // 12 host for TOS
      'unreachable-prohibited', // 13 communication prohibited by filter
      'unreachable-precedence', // 14 host precedence violation
      'unreachable-precedence-cutoff', // 15 precedence cutoff
      'unreachable-code-16',
    ]);
    expect(errorKind(11, 0, 4)).toBe('time-exceeded');
    expect(errorKind(12, 0, 4)).toBe('parameter-problem');
  });

  it('names the ICMPv6 Destination Unreachable codes', () => {
    expect(Array.from({ length: 7 }, (_, code) => errorKind(1, code, 6))).toEqual([
      'unreachable-net', // 0 no route to destination
      'unreachable-prohibited', // 1 administratively prohibited
      'unreachable-scope', // 2 beyond scope of source address
      'unreachable-host', // 3 address unreachable
      'port-unreachable', // 4 port unreachable
      'unreachable-code-5', // 5 source address failed ingress/egress policy
      'unreachable-code-6', // 6 reject route to destination
    ]);
    expect(errorKind(3, 0, 6)).toBe('time-exceeded');
    expect(errorKind(2, 0, 6)).toBe('packet-too-big');
    expect(errorKind(4, 0, 6)).toBe('parameter-problem');
  });

  it('tells unreachable kinds (the trace ends there) from the rest', () => {
    for (const kind of ['unreachable', 'unreachable-host', 'unreachable-code-6']) expect(isUnreachableKind(kind)).toBe(true);
    for (const kind of ['port-unreachable', 'time-exceeded', 'echo-reply', 'packet-too-big', undefined]) expect(isUnreachableKind(kind)).toBe(false);
  });

  it('agrees on which ICMP types are errors: the kernel filter lets them through and each has its own kind', () => {
    for (const family of [4, 6] as const) {
      const errors = Array.from({ length: 256 }, (_, type) => type).filter((type) => isError(type, family));
      // The filter's types are the echo reply and exactly the errors.
      expect(errors).toEqual(family === 4 ? [3, 11, 12] : [1, 2, 3, 4]);
      expect([...answerTypes(family)].sort((a, b) => a - b)).toEqual([...errors, isEchoReply(0, family) ? 0 : 129].sort((a, b) => a - b));
      // Each error type has a kind of its own, never the fallback name of an unknown type.
      const kinds = errors.map((type) => errorKind(type, 0, family));
      for (const kind of kinds) expect(kind).not.toMatch(/^icmp(v6)?-type-/);
      expect(new Set(kinds).size).toBe(errors.length);
    }
    // Source quench (4, deprecated by RFC 6633) answers no probe: not an error, and never 'parameter-problem'.
    expect(isError(4, 4)).toBe(false);
    expect(errorKind(4, 0, 4)).not.toBe('parameter-problem');
    expect([3, 11, 12].every((type) => isError(type, 4))).toBe(true);
    expect(errorKind(12, 0, 4)).toBe('parameter-problem');
    expect(errorKind(12, 1, 4)).toBe('parameter-problem');
    // Any other type is named by its number, not taken for a parameter problem.
    expect(errorKind(5, 1, 4)).toBe('icmp-type-5');
    expect(errorKind(100, 0, 6)).toBe('icmpv6-type-100');
    expect(errorKind(4, 2, 6)).toBe('parameter-problem');
  });
});
