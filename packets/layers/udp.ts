// UDP (RFC 768). The checksum covers the pseudo header of the enclosing IP header.

import { defineField } from '../fields';
import type { DecodedLayer, LayerDefinition } from '../layer';

export const udp: LayerDefinition = {
  kind: 'udp',
  name: 'UDP',
  title: 'User Datagram Protocol',
  minHeaderLength: 8,
  fields: [
    defineField({ name: 'srcPort', label: 'Source port', type: 'uint', bitOffset: 0, bitWidth: 16, default: 49152 }),
    defineField({ name: 'dstPort', label: 'Destination port', type: 'uint', bitOffset: 16, bitWidth: 16, default: 33434 }),
    defineField({ name: 'length', label: 'Length', type: 'uint', bitOffset: 32, bitWidth: 16, automatic: 'length', unit: 'bytes' }),
    defineField({ name: 'checksum', label: 'Checksum', type: 'uint', bitOffset: 48, bitWidth: 16, hex: true, automatic: 'checksum' }),
  ],
  declaredTotalLength: (values) => values.length as number,
  automaticValues: ({ headerLength, payloadLength }) => ({ length: headerLength + payloadLength }),
  checksum: { covers: 'packet', pseudoHeaderProtocol: 17, zeroMeansNone: true },
  next: () => ({ kind: 'payload' }),
  summarize: ({ values }, inner) => `UDP ${values.srcPort} → ${values.dstPort} len=${payloadLength(inner)}`,
};

/** Bytes of payload that follow a transport header. */
export function payloadLength(inner: readonly DecodedLayer[]): number {
  return inner.reduce((sum, layer) => sum + (layer.kind === 'payload' && !layer.note ? layer.data.length : 0), 0);
}
