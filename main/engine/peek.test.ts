// The log's one-line info for TCP lists flags in Wireshark's order (from the low bit up),
// the same words as the decoder's summary (packets/layers/tcp.ts).
import { describe, expect, it } from 'vitest';
import { build } from '../../packets/build';
import { summarize } from '../../packets/summary';
import { decode } from '../../packets/decode';
import { transportInfo } from './peek';

const segment = (flags: number) => build([{ kind: 'tcp', fields: { srcPort: 9, dstPort: 40000, flags } }], { source: '127.0.0.1', destination: '127.0.0.1' });

describe('transportInfo for TCP', () => {
  it.each([
    [0x02, '[SYN]'],
    [0x12, '[SYN, ACK]'],
    [0x14, '[RST, ACK]'],
    [0x18, '[PSH, ACK]'],
    [0x11, '[FIN, ACK]'],
    [0xc2, '[SYN, ECE, CWR]'],
  ])('flags %#x → %s, as the decoder says', (flags, words) => {
    const bytes = segment(flags);
    const info = transportInfo(6, bytes, 0, bytes.length);
    expect(info).toContain(`9 → 40000 ${words} seq=`);
    expect(summarize(decode(bytes, { first: 'tcp', source: '127.0.0.1', destination: '127.0.0.1' }))).toContain(words);
  });
});
