// Checksum verdicts: 'unverified' where the covered bytes were not captured, and the
// IPv4 source-route rule for pseudo headers. Expected values come from tshark 4.0.
import { describe, expect, it } from 'vitest';
import { build } from './build';
import { internetChecksum, pseudoHeader } from './checksum';
import { decode } from './decode';
import { parseIpv4 } from './address';
import { parseHex } from './hex';
import type { DecodedHeaderLayer, DecodedLayer, PacketStack } from './layer';

const header = (layers: readonly DecodedLayer[], index: number): DecodedHeaderLayer => {
  const layer = layers[index];
  if (!layer || layer.kind === 'payload' || layer.kind === 'malformed') throw new Error(`layer ${index} is ${layer?.kind}`);
  return layer;
};
const quotedOf = (layers: readonly DecodedLayer[]) => header(layers, 1).quoted ?? [];
const cut = (bytes: Uint8Array, drop: number) => bytes.subarray(0, bytes.length - drop);
const data = new Uint8Array(12).fill(7);

const tcp: PacketStack = [
  { kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.0.2' } },
  { kind: 'tcp', fields: { srcPort: 40000, dstPort: 80 } },
  { kind: 'payload', data },
];
const echo: PacketStack = [{ kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.0.2' } }, { kind: 'icmp', fields: { type: 8, identifier: 1, sequence: 2 } }, { kind: 'payload', data }];
const echo6: PacketStack = [{ kind: 'ipv6', fields: { src: 'fd42::1', dst: 'fd42::2' } }, { kind: 'icmpv6', fields: { type: 128, identifier: 1, sequence: 2 } }, { kind: 'payload', data }];
const udp: PacketStack = [{ kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.0.2' } }, { kind: 'udp', fields: { srcPort: 5353, dstPort: 33434 } }, { kind: 'payload', data }];

/** An ICMP(v6) error quoting the first `quote` bytes of a packet (all of it when omitted). */
function icmpError(quotedPacket: Uint8Array, version: 4 | 6, quote = quotedPacket.length): Uint8Array {
  const outer: PacketStack =
    version === 4
      ? [{ kind: 'ipv4', fields: { src: '198.18.0.254', dst: '198.18.0.1' } }, { kind: 'icmp', fields: { type: 11 } }]
      : [{ kind: 'ipv6', fields: { src: 'fd42::fe', dst: 'fd42::1' } }, { kind: 'icmpv6', fields: { type: 3 } }];
  return build([...outer, { kind: 'payload', data: quotedPacket.subarray(0, quote) }]);
}

describe('a checksum over bytes that were not captured is unverified', () => {
  it('TCP in a capture cut at the snap length', () => {
    const layers = decode(cut(build(tcp), 3));
    expect(header(layers, 0).checksum?.status).toBe('correct'); // the IPv4 header is all there
    expect(header(layers, 1).checksum).toMatchObject({ status: 'unverified', reason: expect.stringMatching(/cut short/) });
  });

  it('ICMP and ICMPv6 echoes cut at the snap length', () => {
    expect(header(decode(cut(build(echo), 3)), 1).checksum?.status).toBe('unverified');
    expect(header(decode(cut(build(echo6), 3)), 1).checksum?.status).toBe('unverified');
  });

  it('the ICMP error itself when the capture cuts its quote', () => {
    const layers = decode(cut(icmpError(build(udp), 4), 3));
    expect(header(layers, 1).checksum?.status).toBe('unverified');
    const layers6 = decode(cut(icmpError(build(echo6), 6), 3));
    expect(header(layers6, 1).checksum?.status).toBe('unverified');
  });

  it('the ICMP echo an ICMP error quotes with its IP header and 8 bytes', () => {
    const layers = decode(icmpError(build(echo), 4, 28));
    expect(header(layers, 1).checksum?.status).toBe('correct');
    expect(header(quotedOf(layers), 0).checksum?.status).toBe('correct');
    expect(header(quotedOf(layers), 1).checksum).toMatchObject({ status: 'unverified', reason: expect.stringMatching(/quote/) });
  });

  it('the ICMPv6 echo an ICMPv6 error quotes with its IPv6 header and 8 bytes', () => {
    const layers = decode(icmpError(build(echo6), 6, 48));
    expect(header(quotedOf(layers), 1).checksum).toMatchObject({ status: 'unverified', reason: expect.stringMatching(/quote/) });
  });

  it('a quoted TCP header cut inside its checksum field has no verdict to give', () => {
    const quoted = quotedOf(decode(icmpError(build(tcp), 4, 28)));
    expect(quoted.map((l) => l.kind)).toEqual(['ipv4', 'tcp']);
    expect(header(quoted, 1).checksum).toBeUndefined();
  });

  it('an IPv4 header cut inside its options: the checksum it read is unverified', () => {
    const withOptions = build([{ kind: 'ipv4', fields: { options: '94 04 00 00 01 01 01 01' } }, { kind: 'payload', data }]);
    const layers = decode(withOptions.subarray(0, 24));
    expect(header(layers, 0).checksum).toMatchObject({ status: 'unverified' });
  });

  it('a header cut after its checksum field: the checksum it read is unverified', () => {
    const ipCut = decode(build(tcp).subarray(0, 14));
    expect(ipCut.map((l) => l.kind)).toEqual(['ipv4', 'malformed']);
    expect(header(ipCut, 0).checksum).toMatchObject({ status: 'unverified', value: header(decode(build(tcp)), 0).values.checksum });
    const tcpCut = decode(build(tcp).subarray(0, 38));
    expect(tcpCut.map((l) => l.kind)).toEqual(['ipv4', 'tcp', 'malformed']);
    expect(header(tcpCut, 1).checksum?.status).toBe('unverified');
    const quotedCut = quotedOf(decode(icmpError(build(udp), 4, 15)));
    expect(header(quotedCut, 0).checksum?.status).toBe('unverified');
  });

  // Found by verdicts-tshark.test.ts: 0 says "no checksum" however much was captured.
  it('a UDP checksum of 0 over IPv4 is "not used" even when the capture is cut', () => {
    const bytes = build([udp[0], { kind: 'udp', fields: { checksum: 0 } }, udp[2]]);
    expect(header(decode(cut(bytes, 3)), 1).checksum).toMatchObject({ status: 'unverified', reason: 'checksum not used (0)' });
  });

  it('still verifies what is all there: a whole quoted echo, a quoted IP header', () => {
    const layers = decode(icmpError(build(echo), 4));
    expect(header(quotedOf(layers), 1).checksum?.status).toBe('correct');
    const broken = build(echo);
    broken[22] ^= 0xff;
    expect(header(quotedOf(decode(icmpError(broken, 4))), 1).checksum?.status).toBe('wrong');
  });
});

describe('UDP and TCP over a pending IPv4 source route use the final address (RFC 1122 3.2.1.8, 4.1.3.x)', () => {
  // From issue 8: LSRR 198.51.100.9, pointer 4 (pending). tshark: the UDP checksum should be 0x07e8.
  const issuePacket = parseHex('47000024000000004011c105c0000201c00002fe01830704c633640903e807d000086f26');

  it('calls the issue packet wrong and names tshark\'s value', () => {
    const layers = decode(issuePacket);
    expect(header(layers, 0).checksum?.status).toBe('correct');
    expect(header(layers, 1).checksum).toEqual({ status: 'wrong', value: 0x6f26, expected: 0x07e8 });
  });

  it('builds the checksum tshark expects', () => {
    const bytes = build([
      { kind: 'ipv4', fields: { src: '192.0.2.1', dst: '192.0.2.254', ttl: 64, options: '01 83 07 04 c6 33 64 09' } },
      { kind: 'udp', fields: { srcPort: 1000, dstPort: 2000 } },
    ]);
    expect(bytes.subarray(0, 34)).toEqual(issuePacket.subarray(0, 34));
    expect(bytes[34] * 256 + bytes[35]).toBe(0x07e8);
    expect(header(decode(bytes), 1).checksum?.status).toBe('correct');
  });

  /** The checksum over the pseudo header with this destination: independent of build and decode. */
  const expectedWith = (bytes: Uint8Array, headerLength: number, protocol: number, destination: string) => {
    const segment = bytes.slice(headerLength);
    segment[protocol === 6 ? 16 : 6] = 0;
    segment[protocol === 6 ? 17 : 7] = 0;
    const pseudo = pseudoHeader({ version: 4, source: bytes.slice(12, 16), destination: parseIpv4(destination) }, protocol, segment.length);
    return internetChecksum(pseudo, segment);
  };

  it('SSRR with two hops left: TCP uses the last address', () => {
    const route = '89 0b 08 c6 33 64 01 c6 33 64 02 00'; // SSRR len 11, pointer 8: 198.51.100.2 is next and last
    const bytes = build([{ kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.51.100.1', options: route } }, { kind: 'tcp' }, { kind: 'payload', data }]);
    expect(bytes[32 + 16] * 256 + bytes[32 + 17]).toBe(expectedWith(bytes, 32, 6, '198.51.100.2'));
    expect(header(decode(bytes), 1).checksum?.status).toBe('correct');
  });

  it('a route already completed (pointer past its end) leaves the IP destination', () => {
    const route = '83 07 08 c6 33 64 09 00'; // pointer 8 > length 7
    const bytes = build([{ kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.0.2', options: route } }, { kind: 'udp' }, { kind: 'payload', data }]);
    expect(bytes[28 + 6] * 256 + bytes[28 + 7]).toBe(expectedWith(bytes, 28, 17, '198.18.0.2'));
    expect(header(decode(bytes), 1).checksum?.status).toBe('correct');
  });

  it('a pointer inside an address or before the first is not a pending route', () => {
    for (const pointer of ['05', '03']) {
      const bytes = build([{ kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.0.2', options: `83 07 ${pointer} c6 33 64 09 00` } }, { kind: 'udp' }]);
      expect(bytes[28 + 6] * 256 + bytes[28 + 7]).toBe(expectedWith(bytes, 28, 17, '198.18.0.2'));
    }
  });

  it('a quoted UDP probe with a pending route is checked against its final address', () => {
    const probe = build([{ kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.0.2', options: '01 83 07 04 c6 33 64 09' } }, { kind: 'udp' }, { kind: 'payload', data }]);
    expect(header(quotedOf(decode(icmpError(probe, 4))), 1).checksum?.status).toBe('correct');
  });
});
