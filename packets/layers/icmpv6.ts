// ICMPv6 (RFC 4443). Its checksum covers the IPv6 pseudo header.

import { defineField } from '../fields';
import type { LayerDefinition } from '../layer';
import { summarizeIcmp } from './icmp';

export const icmpv6Types = {
  destinationUnreachable: 1,
  packetTooBig: 2,
  timeExceeded: 3,
  parameterProblem: 4,
  echoRequest: 128,
  echoReply: 129,
} as const;

const typeNames: Record<number, string> = {
  1: 'Destination Unreachable',
  2: 'Packet Too Big',
  3: 'Time Exceeded',
  4: 'Parameter Problem',
  128: 'Echo Request',
  129: 'Echo Reply',
  133: 'Router Solicitation',
  134: 'Router Advertisement',
  135: 'Neighbor Solicitation',
  136: 'Neighbor Advertisement',
  137: 'Redirect',
};

const codeNames: Record<number, Record<number, string>> = {
  1: {
    0: 'No route to destination',
    1: 'Administratively prohibited',
    2: 'Beyond scope of source address',
    3: 'Address unreachable',
    4: 'Port unreachable',
    5: 'Source address failed ingress/egress policy',
    6: 'Reject route to destination',
  },
  2: { 0: 'No code' },
  3: { 0: 'Hop limit exceeded in transit', 1: 'Fragment reassembly time exceeded' },
  4: { 0: 'Erroneous header field', 1: 'Unrecognized Next Header type', 2: 'Unrecognized IPv6 option' },
  128: { 0: 'No code' },
  129: { 0: 'No code' },
};

const ERRORS = [1, 2, 3, 4];
const ECHO = [128, 129];

export const icmpv6: LayerDefinition = {
  kind: 'icmpv6',
  name: 'ICMPv6',
  title: 'Internet Control Message Protocol for IPv6',
  minHeaderLength: 8,
  fields: [
    defineField({ name: 'type', label: 'Type', type: 'enum', bitOffset: 0, bitWidth: 8, default: 128, enumNames: typeNames }),
    defineField({ name: 'code', label: 'Code', type: 'enum', bitOffset: 8, bitWidth: 8, enumNamesBy: { field: 'type', names: codeNames } }),
    defineField({ name: 'checksum', label: 'Checksum', type: 'uint', bitOffset: 16, bitWidth: 16, hex: true, automatic: 'checksum' }),
    defineField({ name: 'identifier', label: 'Identifier', type: 'uint', bitOffset: 32, bitWidth: 16, hex: true, when: { field: 'type', in: ECHO } }),
    defineField({ name: 'sequence', label: 'Sequence number', type: 'uint', bitOffset: 48, bitWidth: 16, when: { field: 'type', in: ECHO } }),
    defineField({ name: 'unused', label: 'Unused', type: 'uint', bitOffset: 32, bitWidth: 32, when: { field: 'type', in: [1, 3] } }),
    defineField({ name: 'mtu', label: 'MTU', type: 'uint', bitOffset: 32, bitWidth: 32, default: 1280, unit: 'bytes', when: { field: 'type', in: [2] } }),
    defineField({ name: 'pointer', label: 'Pointer', type: 'uint', bitOffset: 32, bitWidth: 32, when: { field: 'type', in: [4] } }),
    defineField({ name: 'restOfHeader', label: 'Rest of header', type: 'uint', bitOffset: 32, bitWidth: 32, hex: true, when: { field: 'type', notIn: [...ERRORS, ...ECHO] } }),
  ],
  automaticValues: () => ({}),
  checksum: { covers: 'packet', pseudoHeaderProtocol: 58 },
  next: (values) => (ERRORS.includes(values.type as number) ? { kind: 'ipv6', quoted: true } : { kind: 'payload' }),
  summarize: (layer) => summarizeIcmp(layer, typeNames, codeNames, { echoRequest: 128, echoReply: 129, timeExceeded: 3 }),
};
