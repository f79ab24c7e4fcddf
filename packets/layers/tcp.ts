// TCP header (RFC 9293), options included. The checksum covers the pseudo header.

import { defineField } from '../fields';
import type { LayerDefinition } from '../layer';
import { describeTlvOptions, readUint } from '../options';
import { payloadLength } from './udp';

export const tcpFlags = { CWR: 0x80, ECE: 0x40, URG: 0x20, ACK: 0x10, PSH: 0x08, RST: 0x04, SYN: 0x02, FIN: 0x01 } as const;
const flagNames = ['CWR', 'ECE', 'URG', 'ACK', 'PSH', 'RST', 'SYN', 'FIN'];
/** The Info column lists flags from the low bit up, as Wireshark does: "[SYN, ACK]", "[RST, ACK]". */
const infoFlagOrder = [...flagNames].reverse();

/** Options as Wireshark's Info column shows them: "MSS=1460 SACK_PERM TSval=1 TSecr=0 WS=128". */
function infoOptions(options: Uint8Array): string {
  const words: string[] = [];
  for (let i = 0; i < options.length; ) {
    const type = options[i];
    if (type === 0) break;
    if (type === 1) {
      i++;
      continue;
    }
    const length = options[i + 1];
    if (length === undefined || length < 2 || i + length > options.length) break;
    const data = options.subarray(i + 2, i + length);
    if (type === 2 && data.length === 2) words.push(`MSS=${readUint(data)}`);
    else if (type === 3 && data.length === 1) words.push(`WS=${2 ** Math.min(data[0], 14)}`);
    else if (type === 4) words.push('SACK_PERM');
    else if (type === 5) for (let j = 0; j + 8 <= data.length; j += 8) words.push(`SLE=${readUint(data.subarray(j, j + 4))} SRE=${readUint(data.subarray(j + 4, j + 8))}`);
    else if (type === 8 && data.length === 8) words.push(`TSval=${readUint(data.subarray(0, 4))} TSecr=${readUint(data.subarray(4, 8))}`);
    i += length;
  }
  return words.join(' ');
}

const u32Pairs = (data: Uint8Array): string => {
  const parts: string[] = [];
  for (let i = 0; i + 8 <= data.length; i += 8) parts.push(`${readUint(data.subarray(i, i + 4))}-${readUint(data.subarray(i + 4, i + 8))}`);
  return parts.join(' ');
};

const optionKinds = {
  2: { name: 'Maximum segment size', format: (data: Uint8Array) => `${readUint(data)} bytes` },
  3: { name: 'Window scale', format: (data: Uint8Array) => `shift ${readUint(data)} (×${2 ** Math.min(readUint(data), 14)})` },
  4: { name: 'SACK permitted', format: () => '' },
  5: { name: 'SACK', format: u32Pairs },
  8: {
    name: 'Timestamps',
    format: (data: Uint8Array) => `TSval ${readUint(data.subarray(0, 4))}, TSecr ${readUint(data.subarray(4, 8))}`,
  },
  34: { name: 'TCP Fast Open cookie' },
};

export const tcp: LayerDefinition = {
  kind: 'tcp',
  name: 'TCP',
  title: 'Transmission Control Protocol',
  minHeaderLength: 20,
  fields: [
    defineField({ name: 'srcPort', label: 'Source port', type: 'uint', bitOffset: 0, bitWidth: 16, default: 49152 }),
    defineField({ name: 'dstPort', label: 'Destination port', type: 'uint', bitOffset: 16, bitWidth: 16, default: 80 }),
    defineField({ name: 'seq', label: 'Sequence number', type: 'uint', bitOffset: 32, bitWidth: 32 }),
    defineField({ name: 'ack', label: 'Acknowledgment number', type: 'uint', bitOffset: 64, bitWidth: 32 }),
    defineField({ name: 'dataOffset', label: 'Header length', type: 'uint', bitOffset: 96, bitWidth: 4, default: 5, automatic: 'length', unit: '32-bit words' }),
    defineField({ name: 'reserved', label: 'Reserved', type: 'uint', bitOffset: 100, bitWidth: 4 }),
    defineField({ name: 'flags', label: 'Flags', type: 'flags', bitOffset: 104, bitWidth: 8, default: tcpFlags.SYN, flagNames }),
    defineField({ name: 'window', label: 'Window', type: 'uint', bitOffset: 112, bitWidth: 16, default: 65535 }),
    defineField({ name: 'checksum', label: 'Checksum', type: 'uint', bitOffset: 128, bitWidth: 16, hex: true, automatic: 'checksum' }),
    defineField({ name: 'urgentPointer', label: 'Urgent pointer', type: 'uint', bitOffset: 144, bitWidth: 16 }),
    defineField({ name: 'options', label: 'Options', type: 'bytes', bitOffset: 160, bitWidth: 0, maxBytes: 40 }),
  ],
  declaredHeaderLength: (values) => (values.dataOffset as number) * 4,
  automaticValues: ({ headerLength }) => ({ dataOffset: headerLength / 4 }),
  checksum: { covers: 'packet', pseudoHeaderProtocol: 6 },
  next: () => ({ kind: 'payload' }),
  describeOptions: (options, start) => describeTlvOptions(options, start, optionKinds),
  summarize: ({ values }, inner) => {
    const flags = values.flags as number;
    const set = infoFlagOrder.filter((_, i) => (flags >> i) & 1);
    const length = payloadLength(inner);
    const options = values.options instanceof Uint8Array ? infoOptions(values.options) : '';
    return (
      `TCP ${values.srcPort} → ${values.dstPort} [${set.join(', ')}] seq=${values.seq}` +
      (flags & tcpFlags.ACK ? ` ack=${values.ack}` : '') +
      ` win=${values.window}` +
      (length > 0 ? ` len=${length}` : '') +
      (options ? ` ${options}` : '')
    );
  },
};
