// IPv4 header (RFC 791), options included.

import { parseIpv4 } from '../address';
import { defineField, type FieldValues } from '../fields';
import type { LayerDefinition } from '../layer';
import { describeTlvOptions, readUint } from '../options';
import { EXPERIMENTAL_PROTOCOL, ipProtocolNames, layerKindForProtocol, protocolName, protocolNumberFor } from '../protocols';

const MORE_FRAGMENTS = 0b001;

const END_OF_OPTIONS = 0;
const NO_OPERATION = 1;
const LOOSE_SOURCE_ROUTE = 131;
const STRICT_SOURCE_ROUTE = 137;

const optionKinds = {
  7: { name: 'Record Route' },
  68: { name: 'Timestamp' },
  130: { name: 'Security' },
  [LOOSE_SOURCE_ROUTE]: { name: 'Loose Source Route' },
  [STRICT_SOURCE_ROUTE]: { name: 'Strict Source Route' },
  148: { name: 'Router Alert', format: (data: Uint8Array) => String(readUint(data)) },
};

export const ipv4: LayerDefinition = {
  kind: 'ipv4',
  name: 'IPv4',
  title: 'Internet Protocol version 4',
  minHeaderLength: 20,
  fields: [
    defineField({ name: 'version', label: 'Version', type: 'uint', bitOffset: 0, bitWidth: 4, default: 4 }),
    defineField({ name: 'ihl', label: 'Header length', type: 'uint', bitOffset: 4, bitWidth: 4, default: 5, automatic: 'length', unit: '32-bit words' }),
    defineField({ name: 'dscp', label: 'Differentiated services', type: 'uint', bitOffset: 8, bitWidth: 6 }),
    defineField({ name: 'ecn', label: 'ECN', type: 'enum', bitOffset: 14, bitWidth: 2, enumNames: { 0: 'Not-ECT', 1: 'ECT(1)', 2: 'ECT(0)', 3: 'CE' } }),
    defineField({ name: 'totalLength', label: 'Total length', type: 'uint', bitOffset: 16, bitWidth: 16, automatic: 'length', unit: 'bytes' }),
    defineField({ name: 'identification', label: 'Identification', type: 'uint', bitOffset: 32, bitWidth: 16, hex: true }),
    defineField({ name: 'flags', label: 'Flags', type: 'flags', bitOffset: 48, bitWidth: 3, flagNames: ['Reserved', 'DF', 'MF'] }),
    defineField({ name: 'fragmentOffset', label: 'Fragment offset', type: 'uint', bitOffset: 51, bitWidth: 13, unit: '8-byte blocks' }),
    defineField({ name: 'ttl', label: 'Time to live', type: 'uint', bitOffset: 64, bitWidth: 8, default: 64, unit: 'hops' }),
    defineField({ name: 'protocol', label: 'Protocol', type: 'enum', bitOffset: 72, bitWidth: 8, default: EXPERIMENTAL_PROTOCOL, enumNames: ipProtocolNames, automatic: 'protocol' }),
    defineField({ name: 'checksum', label: 'Header checksum', type: 'uint', bitOffset: 80, bitWidth: 16, hex: true, automatic: 'checksum' }),
    defineField({ name: 'src', label: 'Source', type: 'ipv4', bitOffset: 96, bitWidth: 32, default: '0.0.0.0' }),
    defineField({ name: 'dst', label: 'Destination', type: 'ipv4', bitOffset: 128, bitWidth: 32, default: '127.0.0.1' }),
    defineField({ name: 'options', label: 'Options', type: 'bytes', bitOffset: 160, bitWidth: 0, maxBytes: 40 }),
  ],
  declaredHeaderLength: (values) => (values.ihl as number) * 4,
  declaredTotalLength: (values) => values.totalLength as number,
  automaticValues: ({ headerLength, payloadLength, next }): FieldValues => ({
    ihl: headerLength / 4,
    totalLength: headerLength + payloadLength,
    protocol: protocolNumberFor(next, EXPERIMENTAL_PROTOCOL),
  }),
  checksum: { covers: 'header' },
  endpoints: (values) => ({
    version: 4,
    source: parseIpv4(values.src as string),
    destination: sourceRouteDestination(values.options) ?? parseIpv4(values.dst as string),
  }),
  next: (values) => {
    const fragment = ((values.flags as number) & MORE_FRAGMENTS) !== 0 || (values.fragmentOffset as number) > 0;
    // Only the first fragment starts with the next header.
    if ((values.fragmentOffset as number) > 0) return { kind: 'payload', fragment };
    return { kind: layerKindForProtocol(values.protocol as number), fragment };
  },
  describeOptions: (options, start) => describeTlvOptions(options, start, optionKinds),
  summarize: ({ values }) => {
    const offset = values.fragmentOffset as number;
    const fragment = offset > 0 || ((values.flags as number) & MORE_FRAGMENTS) !== 0;
    return (
      `IPv4 ${protocolName(values.protocol as number)} ${values.src} → ${values.dst} len=${values.totalLength}` +
      (fragment ? ` fragment offset=${offset * 8} id=0x${(values.identification as number).toString(16).padStart(4, '0')}` : '')
    );
  },
};

/**
 * The final address of a pending LSRR/SSRR route: while a route is pending the IP destination is
 * only the next hop, and transport pseudo headers use the final one (RFC 791; RFC 1122 3.3.5,
 * 4.1.3.4, 4.2.3.2), as tshark and the sender's kernel do. Pending means the pointer names a whole
 * address in the option; a pointer past the end means the route is done. The first route option counts.
 */
export function sourceRouteDestination(options: unknown): Uint8Array | undefined {
  if (!(options instanceof Uint8Array)) return undefined;
  for (let i = 0; i < options.length; ) {
    const type = options[i];
    if (type === END_OF_OPTIONS) return undefined;
    if (type === NO_OPERATION) {
      i++;
      continue;
    }
    const length = options[i + 1];
    if (length === undefined || length < 2 || i + length > options.length) return undefined;
    if (type === LOOSE_SOURCE_ROUTE || type === STRICT_SOURCE_ROUTE) {
      const pointer = options[i + 2];
      const pending = pointer >= 4 && pointer % 4 === 0 && pointer + 3 <= length;
      return pending ? options.slice(i + length - 4, i + length) : undefined;
    }
    i += length;
  }
  return undefined;
}
