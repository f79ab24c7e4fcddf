// Reading what ICMP sockets deliver (with or without the IPv4 header) and the
// packets ICMP errors quote, for ping and traceroute to match answers to probes.
import { formatIpv4At, formatIpv6At } from './peek';

export interface IcmpView {
  type: number;
  code: number;
  /** The ICMP message (header first). */
  icmp: Uint8Array;
  /** TTL / hop limit of the answer, when the IP header was delivered. */
  ttl?: number;
}

/** IPv4 raw sockets deliver the IP header; IPv6 raw and ICMP datagram sockets do not. */
export function readIcmp(buffer: Uint8Array, withIpHeader: boolean): IcmpView | null {
  let start = 0;
  let ttl: number | undefined;
  if (withIpHeader) {
    if (buffer.length < 20 || buffer[0] >> 4 !== 4) return null;
    start = (buffer[0] & 0x0f) * 4;
    ttl = buffer[8];
  }
  if (buffer.length < start + 8) return null;
  const icmp = buffer.subarray(start);
  return { type: icmp[0], code: icmp[1], icmp, ...(ttl !== undefined ? { ttl } : {}) };
}

export interface QuotedPacket {
  protocol: number;
  destination: string;
  /** The quoted transport header (often only its first 8 bytes). */
  transport: Uint8Array;
}

/** The packet an ICMP or ICMPv6 error quotes (its IP header and the start of its payload). */
export function readQuoted(icmp: Uint8Array, family: 4 | 6): QuotedPacket | null {
  const inner = icmp.subarray(8);
  if (family === 4) {
    if (inner.length < 20 || inner[0] >> 4 !== 4) return null;
    const headerLength = (inner[0] & 0x0f) * 4;
    if (inner.length < headerLength) return null;
    return { protocol: inner[9], destination: formatIpv4At(inner, 16), transport: inner.subarray(headerLength) };
  }
  if (inner.length < 40 || inner[0] >> 4 !== 6) return null;
  return { protocol: inner[6], destination: formatIpv6At(inner, 24), transport: inner.subarray(40) };
}

export function isEchoReply(type: number, family: 4 | 6): boolean {
  return family === 4 ? type === 0 : type === 129;
}

/**
 * The ICMP errors that answer a probe: Destination Unreachable, Time Exceeded and
 * Parameter Problem (ICMPv6 also Packet Too Big). Source Quench (IPv4 type 4) is not
 * one: deprecated (RFC 6633), never sent by current routers, and filtered out by
 * answerTypes. Keep this, answerTypes and errorKind in step.
 */
export function isError(type: number, family: 4 | 6): boolean {
  return family === 4 ? type === 3 || type === 11 || type === 12 : type >= 1 && type <= 4;
}

export function echoRequestType(family: 4 | 6): number {
  return family === 4 ? 8 : 128;
}

/** The ICMP types ping and traceroute listen for (a kernel filter on raw sockets). */
export function answerTypes(family: 4 | 6): number[] {
  return family === 4 ? [0, 3, 11, 12] : [129, 1, 2, 3, 4];
}

// Destination Unreachable codes as HopProbe.kind, grouped as traceroute(8) marks them
// (!N, !H, !P, !F, !S, !X, !V, !C; other codes 'unreachable-code-N', marked !<N>).
// Port unreachable is the UDP probe's normal end: 'port-unreachable'.
const v4UnreachableKinds: readonly string[] = [
  'unreachable-net', // 0 net unreachable
  'unreachable-host', // 1 host unreachable
  'unreachable-protocol', // 2 protocol unreachable
  'port-unreachable', // 3 port unreachable
  'unreachable-fragmentation', // 4 fragmentation needed and DF set
  'unreachable-source-route', // 5 source route failed
  'unreachable-net', // 6 destination network unknown
  'unreachable-host', // 7 destination host unknown
  'unreachable-net', // 8 source host isolated
  'unreachable-prohibited', // 9 network administratively prohibited
  'unreachable-prohibited', // 10 host administratively prohibited
  'unreachable-net', // 11 network unreachable for TOS
  'unreachable-host', // 12 host unreachable for TOS
  'unreachable-prohibited', // 13 communication administratively prohibited
  'unreachable-precedence', // 14 host precedence violation
  'unreachable-precedence-cutoff', // 15 precedence cutoff in effect
];

const v6UnreachableKinds: readonly string[] = [
  'unreachable-net', // 0 no route to destination
  'unreachable-prohibited', // 1 administratively prohibited
  'unreachable-scope', // 2 beyond scope of source address
  'unreachable-host', // 3 address unreachable
  'port-unreachable', // 4 port unreachable
];

/** What answered a probe, in the words of HopProbe.kind. */
export function errorKind(type: number, code: number, family: 4 | 6): string {
  if (family === 4) {
    if (type === 11) return 'time-exceeded';
    if (type === 3) return v4UnreachableKinds[code] ?? `unreachable-code-${code}`;
    if (type === 12) return 'parameter-problem';
    return `icmp-type-${type}`;
  }
  if (type === 3) return 'time-exceeded';
  if (type === 1) return v6UnreachableKinds[code] ?? `unreachable-code-${code}`;
  if (type === 2) return 'packet-too-big';
  if (type === 4) return 'parameter-problem';
  return `icmpv6-type-${type}`;
}

/** A Destination Unreachable other than the port's (and the older engines' plain 'unreachable'): the trace ends there. */
export function isUnreachableKind(kind: string | undefined): boolean {
  return kind !== undefined && kind.startsWith('unreachable');
}

const v4Unreachable: Record<number, string> = {
  0: 'Destination Net Unreachable',
  1: 'Destination Host Unreachable',
  2: 'Destination Protocol Unreachable',
  3: 'Destination Port Unreachable',
  4: 'Frag needed and DF set',
  5: 'Source Route Failed',
  6: 'Destination Net Unknown',
  7: 'Destination Host Unknown',
  9: 'Destination Net Prohibited',
  10: 'Destination Host Prohibited',
  13: 'Communication prohibited by filter',
};

const v6Unreachable: Record<number, string> = {
  0: 'Destination unreachable: No route',
  1: 'Destination unreachable: Administratively prohibited',
  2: 'Destination unreachable: Beyond scope of source address',
  3: 'Destination unreachable: Address unreachable',
  4: 'Destination unreachable: Port unreachable',
  5: 'Destination unreachable: Source address failed policy',
  6: 'Destination unreachable: Reject route',
};

/** ping(8)'s words for an ICMP error. */
export function errorText(type: number, code: number, family: 4 | 6): string {
  if (family === 4) {
    if (type === 11) return code === 1 ? 'Frag reassembly time exceeded' : 'Time to live exceeded';
    if (type === 3) return v4Unreachable[code] ?? `Destination unreachable, code ${code}`;
    if (type === 12) return 'Parameter problem';
    return `ICMP type ${type} code ${code}`;
  }
  if (type === 3) return code === 1 ? 'Time exceeded: Fragment reassembly time exceeded' : 'Time exceeded: Hop limit';
  if (type === 1) return v6Unreachable[code] ?? `Destination unreachable, code ${code}`;
  if (type === 2) return 'Packet too big';
  if (type === 4) return 'Parameter problem';
  return `ICMPv6 type ${type} code ${code}`;
}

export function readUint16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

export function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/** Kernel timestamps (ns since the epoch) to a round trip in ms; falls back to the monotonic clock. */
export function roundTripMs(sentAtNs: bigint | undefined, receivedAtNs: bigint | undefined, sentMono: number, receivedMono: number): number {
  if (sentAtNs !== undefined && receivedAtNs !== undefined && receivedAtNs >= sentAtNs) {
    return Number(receivedAtNs - sentAtNs) / 1e6;
  }
  return receivedMono - sentMono;
}
