// One wording for an echo in every place a user reads it: the log's Info column (peek.ts) and
// the decoder's summary (stream and send summaries, the decode pane's title).
import { describe, expect, it } from 'vitest';
import { build } from '../../packets/build';
import { decode } from '../../packets/decode';
import { summarize } from '../../packets/summary';
import { transportInfo } from './peek';

describe('echo words', () => {
  it.each([
    ['icmp', 1, 8, 'Echo request id=0x1234 seq=7'],
    ['icmp', 1, 0, 'Echo reply id=0x1234 seq=7'],
    ['icmpv6', 58, 128, 'Echo request id=0x1234 seq=7'],
    ['icmpv6', 58, 129, 'Echo reply id=0x1234 seq=7'],
  ] as const)('%s (protocol %i) type %i: the log and the decoder both say "%s"', (kind, protocol, type, words) => {
    const bytes = build([{ kind, fields: { type, identifier: 0x1234, sequence: 7 } }], { source: kind === 'icmp' ? '127.0.0.1' : '::1', destination: kind === 'icmp' ? '127.0.0.1' : '::1' });
    expect(transportInfo(protocol, bytes, 0, bytes.length)).toBe(words);
    expect(summarize(decode(bytes, { first: kind, source: kind === 'icmp' ? '127.0.0.1' : '::1', destination: kind === 'icmp' ? '127.0.0.1' : '::1' }))).toBe(words);
  });
});
