// ICMP for IPv4 (RFC 792, RFC 1191 for the next-hop MTU). Errors quote the packet that caused them.

import { defineField } from '../fields';
import { formatHexNumber } from '../hex';
import type { DecodedHeaderLayer, LayerDefinition } from '../layer';

export const icmpTypes = {
  echoReply: 0,
  destinationUnreachable: 3,
  sourceQuench: 4,
  redirect: 5,
  echoRequest: 8,
  timeExceeded: 11,
  parameterProblem: 12,
} as const;

const typeNames: Record<number, string> = {
  0: 'Echo Reply',
  3: 'Destination Unreachable',
  4: 'Source Quench',
  5: 'Redirect',
  8: 'Echo Request',
  9: 'Router Advertisement',
  10: 'Router Solicitation',
  11: 'Time Exceeded',
  12: 'Parameter Problem',
  13: 'Timestamp',
  14: 'Timestamp Reply',
};

const codeNames: Record<number, Record<number, string>> = {
  0: { 0: 'No code' },
  8: { 0: 'No code' },
  3: {
    0: 'Network unreachable',
    1: 'Host unreachable',
    2: 'Protocol unreachable',
    3: 'Port unreachable',
    4: 'Fragmentation needed',
    5: 'Source route failed',
    6: 'Destination network unknown',
    7: 'Destination host unknown',
    8: 'Source host isolated',
    9: 'Network administratively prohibited',
    10: 'Host administratively prohibited',
    11: 'Network unreachable for TOS',
    12: 'Host unreachable for TOS',
    13: 'Communication administratively filtered',
    14: 'Host precedence violation',
    15: 'Precedence cutoff in effect',
  },
  5: { 0: 'Redirect for network', 1: 'Redirect for host', 2: 'Redirect for TOS and network', 3: 'Redirect for TOS and host' },
  11: { 0: 'Time-to-live exceeded', 1: 'Fragment reassembly time exceeded' },
  12: { 0: 'Pointer indicates the error', 1: 'Missing a required option', 2: 'Bad length' },
};

const ECHO_LIKE = [0, 8, 13, 14, 15, 16, 17, 18];
const QUOTING = [3, 4, 5, 11, 12];
const SPECIFIC = [...ECHO_LIKE, 3, 4, 5, 11, 12];

export const icmp: LayerDefinition = {
  kind: 'icmp',
  name: 'ICMP',
  title: 'Internet Control Message Protocol',
  minHeaderLength: 8,
  fields: [
    defineField({ name: 'type', label: 'Type', type: 'enum', bitOffset: 0, bitWidth: 8, default: 8, enumNames: typeNames }),
    defineField({ name: 'code', label: 'Code', type: 'enum', bitOffset: 8, bitWidth: 8, enumNamesBy: { field: 'type', names: codeNames } }),
    defineField({ name: 'checksum', label: 'Checksum', type: 'uint', bitOffset: 16, bitWidth: 16, hex: true, automatic: 'checksum' }),
    defineField({ name: 'identifier', label: 'Identifier', type: 'uint', bitOffset: 32, bitWidth: 16, hex: true, when: { field: 'type', in: ECHO_LIKE } }),
    defineField({ name: 'sequence', label: 'Sequence number', type: 'uint', bitOffset: 48, bitWidth: 16, when: { field: 'type', in: ECHO_LIKE } }),
    defineField({ name: 'unused', label: 'Unused', type: 'uint', bitOffset: 32, bitWidth: 16, when: { field: 'type', in: [3] } }),
    defineField({ name: 'nextHopMtu', label: 'Next-hop MTU', type: 'uint', bitOffset: 48, bitWidth: 16, unit: 'bytes', when: { field: 'type', in: [3] } }),
    defineField({ name: 'unused', label: 'Unused', type: 'uint', bitOffset: 32, bitWidth: 32, when: { field: 'type', in: [4, 11] } }),
    defineField({ name: 'gateway', label: 'Gateway address', type: 'ipv4', bitOffset: 32, bitWidth: 32, when: { field: 'type', in: [5] } }),
    defineField({ name: 'pointer', label: 'Pointer', type: 'uint', bitOffset: 32, bitWidth: 8, when: { field: 'type', in: [12] } }),
    defineField({ name: 'unused', label: 'Unused', type: 'uint', bitOffset: 40, bitWidth: 24, when: { field: 'type', in: [12] } }),
    defineField({ name: 'restOfHeader', label: 'Rest of header', type: 'uint', bitOffset: 32, bitWidth: 32, hex: true, when: { field: 'type', notIn: SPECIFIC } }),
  ],
  automaticValues: () => ({}),
  checksum: { covers: 'packet' },
  next: (values) => (QUOTING.includes(values.type as number) ? { kind: 'ipv4', quoted: true } : { kind: 'payload' }),
  summarize: (layer) => summarizeIcmp(layer, typeNames, codeNames, { echoRequest: 8, echoReply: 0, timeExceeded: 11 }),
};

/** The type numbers the one-line summary treats specially. */
export interface IcmpSummaryTypes {
  readonly echoRequest: number;
  readonly echoReply: number;
  readonly timeExceeded: number;
}

/** Shared by ICMP and ICMPv6: Wireshark-like one-liners. */
export function summarizeIcmp(
  { values }: DecodedHeaderLayer,
  types: Record<number, string>,
  codes: Record<number, Record<number, string>>,
  special: IcmpSummaryTypes,
): string {
  const type = values.type as number;
  const code = values.code as number;
  const codeName = codes[type]?.[code] ?? `code ${code}`;
  if (type === special.echoRequest || type === special.echoReply) {
    // The log's Info column (main/engine/peek.ts) says it in the same words.
    const what = type === special.echoRequest ? 'Echo request' : 'Echo reply';
    return `${what} id=${formatHexNumber(values.identifier as number, 4)} seq=${values.sequence}`;
  }
  if (type === special.timeExceeded) return codeName;
  if (values.mtu !== undefined) return `Packet too big mtu=${values.mtu}`;
  const typeName = types[type] ?? `Type ${type}`;
  const pointer = values.pointer !== undefined ? ` pointer=${values.pointer}` : '';
  const mtu = values.nextHopMtu ? ` mtu=${values.nextHopMtu}` : '';
  const sentence = typeName.charAt(0) + typeName.slice(1).toLowerCase();
  return `${sentence} (${codeName})${pointer}${mtu}`;
}
