// IPv6 fixed header (RFC 8200). Extension headers are not modelled: they decode as payload.

import { parseIpv6 } from '../address';
import { defineField, type FieldValues } from '../fields';
import type { LayerDefinition } from '../layer';
import { ipProtocolNames, layerKindForProtocol, protocolName, protocolNumberFor } from '../protocols';

const NO_NEXT_HEADER = 59;

export const ipv6: LayerDefinition = {
  kind: 'ipv6',
  name: 'IPv6',
  title: 'Internet Protocol version 6',
  minHeaderLength: 40,
  fields: [
    defineField({ name: 'version', label: 'Version', type: 'uint', bitOffset: 0, bitWidth: 4, default: 6 }),
    defineField({ name: 'trafficClass', label: 'Traffic class', type: 'uint', bitOffset: 4, bitWidth: 8, hex: true }),
    defineField({ name: 'flowLabel', label: 'Flow label', type: 'uint', bitOffset: 12, bitWidth: 20, hex: true }),
    defineField({ name: 'payloadLength', label: 'Payload length', type: 'uint', bitOffset: 32, bitWidth: 16, automatic: 'length', unit: 'bytes' }),
    defineField({ name: 'nextHeader', label: 'Next header', type: 'enum', bitOffset: 48, bitWidth: 8, default: NO_NEXT_HEADER, enumNames: ipProtocolNames, automatic: 'protocol' }),
    defineField({ name: 'hopLimit', label: 'Hop limit', type: 'uint', bitOffset: 56, bitWidth: 8, default: 64, unit: 'hops' }),
    defineField({ name: 'src', label: 'Source', type: 'ipv6', bitOffset: 64, bitWidth: 128, default: '::' }),
    defineField({ name: 'dst', label: 'Destination', type: 'ipv6', bitOffset: 192, bitWidth: 128, default: '::1' }),
  ],
  declaredTotalLength: (values) => 40 + (values.payloadLength as number),
  automaticValues: ({ payloadLength, next }): FieldValues => ({
    payloadLength,
    nextHeader: protocolNumberFor(next, NO_NEXT_HEADER),
  }),
  endpoints: (values) => ({ version: 6, source: parseIpv6(values.src as string), destination: parseIpv6(values.dst as string) }),
  next: (values) => ({ kind: layerKindForProtocol(values.nextHeader as number) }),
  summarize: ({ values }) =>
    `IPv6 ${protocolName(values.nextHeader as number)} ${values.src} → ${values.dst} len=${40 + (values.payloadLength as number)}`,
};
