// Starting points a user picks instead of building a stack from nothing.
import { newHeader, newPayload, type DraftLayer } from './draft';

export interface PacketTemplate {
  id: string;
  name: string;
  description: string;
  layers(): DraftLayer[];
}

const PING_TEXT = 'packet workbench';

export const templates: readonly PacketTemplate[] = [
  {
    id: 'icmp-echo',
    name: 'ICMP echo request',
    description: 'IPv4 / ICMP echo request / text payload, to 127.0.0.1',
    layers: () => [
      newHeader('ipv4', { src: '127.0.0.1', dst: '127.0.0.1', ttl: 64 }),
      newHeader('icmp', { type: 8, code: 0, identifier: 0x1234, sequence: 1 }),
      newPayload(PING_TEXT),
    ],
  },
  {
    id: 'icmpv6-echo',
    name: 'ICMPv6 echo request',
    description: 'IPv6 / ICMPv6 echo request / text payload, to ::1',
    layers: () => [
      newHeader('ipv6', { src: '::1', dst: '::1', hopLimit: 64 }),
      newHeader('icmpv6', { type: 128, code: 0, identifier: 0x1234, sequence: 1 }),
      newPayload(PING_TEXT),
    ],
  },
  {
    id: 'udp',
    name: 'UDP datagram',
    description: 'IPv4 / UDP to port 33434 / text payload',
    layers: () => [
      newHeader('ipv4', { src: '127.0.0.1', dst: '127.0.0.1' }),
      newHeader('udp', { srcPort: 49152, dstPort: 33434 }),
      newPayload('hello'),
    ],
  },
  {
    id: 'tcp-syn',
    name: 'TCP SYN',
    description: 'IPv4 / TCP SYN to port 80 with an MSS option',
    layers: () => [
      newHeader('ipv4', { src: '127.0.0.1', dst: '127.0.0.1' }),
      newHeader('tcp', { srcPort: 49152, dstPort: 80, seq: 1, flags: 0x02, window: 64240, options: new Uint8Array([2, 4, 0x05, 0xb4]) }),
    ],
  },
  {
    id: 'bad-checksum',
    name: 'Bad ICMP checksum',
    description: 'ICMP echo request whose checksum is set by hand to a wrong value (0xdead)',
    layers: () => [
      newHeader('ipv4', { src: '127.0.0.1', dst: '127.0.0.1' }),
      newHeader('icmp', { type: 8, code: 0, checksum: 0xdead, identifier: 0x1234, sequence: 1 }),
      newPayload(PING_TEXT),
    ],
  },
];
