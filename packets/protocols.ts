// IP protocol numbers (IANA "Assigned Internet Protocol Numbers") that link the layers.

import type { HeaderKind, LayerKindName } from './layer';

export const ipProtocolNumbers: Readonly<Record<HeaderKind, number>> = {
  icmp: 1,
  ipv4: 4,
  tcp: 6,
  udp: 17,
  ipv6: 41,
  icmpv6: 58,
};

export const ipProtocolNames: Readonly<Record<number, string>> = {
  0: 'IPv6 Hop-by-Hop',
  1: 'ICMP',
  2: 'IGMP',
  4: 'IPv4',
  6: 'TCP',
  17: 'UDP',
  41: 'IPv6',
  43: 'IPv6 Routing',
  44: 'IPv6 Fragment',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'ICMPv6',
  59: 'No Next Header',
  60: 'IPv6 Destination Options',
  132: 'SCTP',
  253: 'Experimental',
  254: 'Experimental',
};

/** Used for raw payload right after an IP header (RFC 3692 experimental value). */
export const EXPERIMENTAL_PROTOCOL = 253;

/** The protocol number an IP header carries for the layer after it. */
export function protocolNumberFor(next: LayerKindName | undefined, whenNothingFollows: number): number {
  if (next === undefined) return whenNothingFollows;
  if (next === 'payload') return EXPERIMENTAL_PROTOCOL;
  return ipProtocolNumbers[next];
}

export function layerKindForProtocol(protocol: number): HeaderKind | 'payload' {
  for (const [kind, number] of Object.entries(ipProtocolNumbers)) {
    if (number === protocol) return kind as HeaderKind;
  }
  return 'payload';
}

export function protocolName(protocol: number): string {
  return ipProtocolNames[protocol] ?? `protocol ${protocol}`;
}
