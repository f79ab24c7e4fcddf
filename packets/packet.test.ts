import { describe, expect, it } from 'vitest';
import { build } from './build';
import { internetChecksum, pseudoHeader } from './checksum';
import { decode } from './decode';
import { parseHex, formatHex } from './hex';
import type { DecodedHeaderLayer, DecodedLayer, PacketStack } from './layer';
import { encodeTcpOptions } from './options';
import { describePacket, summarize } from './summary';
import { parseIpv6 } from './address';

const header = (layers: readonly DecodedLayer[], index: number): DecodedHeaderLayer => {
  const layer = layers[index];
  if (layer.kind === 'payload' || layer.kind === 'malformed') throw new Error(`layer ${index} is ${layer.kind}`);
  return layer;
};
const field = (layer: DecodedHeaderLayer, name: string) => {
  const found = layer.fields.find((f) => f.name === name);
  if (!found) throw new Error(`no field ${name}`);
  return found;
};
const ascii = (text: string) => new TextEncoder().encode(text);

describe('known vectors', () => {
  it('decodes the minimal echo request 08 00 f7 ff', () => {
    const layers = decode(parseHex('08 00 f7 ff 00 00 00 00'), { first: 'icmp' });
    const icmp = header(layers, 0);
    expect(icmp.values).toMatchObject({ type: 8, code: 0, checksum: 0xf7ff, identifier: 0, sequence: 0 });
    expect(icmp.checksum).toEqual({ status: 'correct', value: 0xf7ff });
    expect(layers).toHaveLength(1);
  });

  it('builds the classic Windows ping (checksum 0x4d5a) without an IP layer', () => {
    const bytes = build([
      { kind: 'icmp', fields: { type: 8, code: 0, identifier: 1, sequence: 1 } },
      { kind: 'payload', data: ascii('abcdefghijklmnopqrstuvwabcdefghi') },
    ]);
    expect(formatHex(bytes.subarray(0, 8))).toBe('08 00 4d 5a 00 01 00 01');
    expect(summarize(decode(bytes, { first: 'icmp' }))).toBe('Echo request id=0x0001 seq=1');
  });

  it('checks a known IPv4 header checksum (0xb861) and rebuilds the same header', () => {
    const known = parseHex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');
    const packet = new Uint8Array(0x73);
    packet.set(known);
    const ip = header(decode(packet), 0);
    expect(ip.checksum).toEqual({ status: 'correct', value: 0xb861 });
    expect(ip.values).toMatchObject({ version: 4, ihl: 5, totalLength: 0x73, flags: 0b010, ttl: 64, protocol: 17, src: '192.168.0.1', dst: '192.168.0.199' });
    expect(field(ip, 'flags').display).toBe('0x2 (DF)');
    expect(field(ip, 'ihl').bits).toEqual({ start: 4, end: 8 });
    expect(field(ip, 'ttl').range).toEqual({ start: 8, end: 9 });
    const rebuilt = build([
      { kind: 'ipv4', fields: { flags: 0b010, ttl: 64, protocol: 17, src: '192.168.0.1', dst: '192.168.0.199' } },
      { kind: 'payload', data: new Uint8Array(0x73 - 20) },
    ]);
    expect(formatHex(rebuilt.subarray(0, 20))).toBe(formatHex(known));
  });

  it('builds a TCP SYN with options and a correct pseudo-header checksum', () => {
    const options = encodeTcpOptions([
      { kind: 'mss', value: 1460 },
      { kind: 'sackPermitted' },
      { kind: 'timestamps', value: 0x01020304, echo: 0 },
      { kind: 'nop' },
      { kind: 'windowScale', shift: 7 },
    ]);
    expect(formatHex(options)).toBe('02 04 05 b4 04 02 08 0a 01 02 03 04 00 00 00 00 01 03 03 07');
    const bytes = build([
      { kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.0.2', identification: 0x1c46, flags: 0b010 } },
      { kind: 'tcp', fields: { srcPort: 40000, dstPort: 80, seq: 0, flags: 0x02, window: 64240, options } },
    ]);
    expect(bytes.length).toBe(20 + 40);
    expect(bytes[9]).toBe(6); // protocol filled in
    expect(bytes[20 + 12] >> 4).toBe(10); // data offset: 40 bytes
    // Independent check: the checksum over pseudo header and segment comes out 0.
    const ipHeader = bytes.subarray(0, 20);
    const pseudo = pseudoHeader({ version: 4, source: ipHeader.slice(12, 16), destination: ipHeader.slice(16, 20) }, 6, 40);
    expect(internetChecksum(pseudo, bytes.subarray(20))).toBe(0);
    const layers = decode(bytes);
    const tcp = header(layers, 1);
    expect(tcp.checksum?.status).toBe('correct');
    expect(field(tcp, 'options').options?.map((o) => `${o.name}: ${o.display}`)).toEqual([
      'Maximum segment size: 1460 bytes',
      'SACK permitted: ',
      'Timestamps: TSval 16909060, TSecr 0',
      'No-Operation: ',
      'Window scale: shift 7 (×128)',
    ]);
    // The tree shows the options by name, not as hex.
    expect(field(tcp, 'options').display).toBe(
      'Maximum segment size: 1460 bytes; SACK permitted; Timestamps: TSval 16909060, TSecr 0; No-Operation; Window scale: shift 7 (×128)',
    );
    const info = 'TCP 40000 → 80 [SYN] seq=0 win=64240 MSS=1460 SACK_PERM TSval=16909060 TSecr=0 WS=128';
    expect(summarize(layers)).toBe(info);
    expect(describePacket(layers)).toEqual({ source: '198.18.0.1', destination: '198.18.0.2', protocol: 'TCP', summary: info });
  });

  it('computes the ICMPv6 echo checksum over the IPv6 pseudo header, with or without an IP layer', () => {
    const stack: PacketStack = [
      { kind: 'ipv6', fields: { src: 'fd42::1', dst: 'fd42::2', hopLimit: 64 } },
      { kind: 'icmpv6', fields: { type: 128, identifier: 0x1234, sequence: 7 } },
      { kind: 'payload', data: ascii('ping') },
    ];
    const bytes = build(stack);
    expect(bytes[6]).toBe(58);
    expect(bytes[4] * 256 + bytes[5]).toBe(12);
    const icmp = bytes.subarray(40);
    const pseudo = pseudoHeader({ version: 6, source: parseIpv6('fd42::1'), destination: parseIpv6('fd42::2') }, 58, icmp.length);
    expect(internetChecksum(pseudo, icmp)).toBe(0);
    // Known value, computed independently (Python) over the pseudo header and message words.
    expect(icmp[2] * 256 + icmp[3]).toBe(0x9424);
    const alone = build(stack.slice(1), { source: 'fd42::1', destination: 'fd42::2' });
    expect(alone).toEqual(icmp);
    expect(build(stack.slice(1)).subarray(2, 4)).toEqual(Uint8Array.of(0, 0)); // left for the kernel
    expect(header(decode(alone, { first: 'icmpv6', source: 'fd42::1', destination: 'fd42::2' }), 0).checksum?.status).toBe('correct');
    expect(header(decode(alone, { first: 'icmpv6' }), 0).checksum).toMatchObject({
      status: 'unverified',
      reason: 'the packet came without its IP header, so the addresses the checksum covers are not known',
    });
    expect(summarize(decode(bytes))).toBe('Echo request id=0x1234 seq=7');
  });
});

describe('ICMP errors quote the packet that caused them', () => {
  const probe: PacketStack = [
    { kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.19.0.9', ttl: 1, identification: 0xbeef } },
    { kind: 'udp', fields: { srcPort: 5353, dstPort: 33434 } },
    { kind: 'payload', data: new Uint8Array(12) },
  ];

  it('decodes a Time Exceeded quoting a whole UDP probe as nested layers', () => {
    const bytes = build([{ kind: 'ipv4', fields: { src: '198.18.0.254', dst: '198.18.0.1' } }, { kind: 'icmp', fields: { type: 11, code: 0 } }, ...probe]);
    const layers = decode(bytes);
    expect(layers.map((l) => l.kind)).toEqual(['ipv4', 'icmp']);
    const icmp = header(layers, 1);
    expect(icmp.checksum?.status).toBe('correct');
    expect(icmp.values).toMatchObject({ type: 11, code: 0, unused: 0 });
    const quoted = icmp.quoted ?? [];
    expect(quoted.map((l) => l.kind)).toEqual(['ipv4', 'udp', 'payload']);
    expect(header(quoted, 0).values).toMatchObject({ ttl: 1, dst: '198.19.0.9', identification: 0xbeef });
    expect(header(quoted, 1).values).toMatchObject({ srcPort: 5353, dstPort: 33434, length: 20 });
    expect(header(quoted, 1).checksum?.status).toBe('correct');
    expect(quoted[0].range.start).toBe(28); // ranges stay absolute for the hex view
    expect(summarize(layers)).toBe('Time-to-live exceeded');
    expect(summarize(decode(build(probe)))).toBe('UDP 5353 → 33434 len=12');
  });

  it('accepts a quote cut after 8 bytes of UDP, as RFC 792 routers send', () => {
    const full = build([{ kind: 'ipv4', fields: { src: '198.18.0.254', dst: '198.18.0.1' } }, { kind: 'icmp', fields: { type: 11 } }, ...probe]);
    const cut = build([
      { kind: 'ipv4', fields: { src: '198.18.0.254', dst: '198.18.0.1' } },
      { kind: 'icmp', fields: { type: 11 } },
      { kind: 'payload', data: full.subarray(28, 28 + 28) },
    ]);
    const layers = decode(cut);
    expect(layers.some((l) => l.kind === 'malformed')).toBe(false);
    const quoted = header(layers, 1).quoted ?? [];
    expect(quoted.map((l) => l.kind)).toEqual(['ipv4', 'udp']);
    expect(header(quoted, 0).problems).toEqual([]);
    expect(header(quoted, 1).checksum).toMatchObject({ status: 'unverified', reason: expect.stringMatching(/^the quoted packet is cut short/) });
  });

  it('decodes Destination Unreachable, Packet Too Big and Parameter Problem', () => {
    const unreachable = decode(build([{ kind: 'ipv4' }, { kind: 'icmp', fields: { type: 3, code: 4, nextHopMtu: 1400 } }, ...probe]));
    expect(summarize(unreachable)).toBe('Destination unreachable (Fragmentation needed) mtu=1400');
    const port = decode(build([{ kind: 'ipv4' }, { kind: 'icmp', fields: { type: 3, code: 3 } }, ...probe]));
    expect(summarize(port)).toBe('Destination unreachable (Port unreachable)');
    const problem = decode(build([{ kind: 'ipv4' }, { kind: 'icmp', fields: { type: 12, pointer: 8 } }, ...probe]));
    expect(header(problem, 1).values.pointer).toBe(8);
    expect(summarize(problem)).toBe('Parameter problem (Pointer indicates the error) pointer=8');

    const probe6: PacketStack = [{ kind: 'ipv6', fields: { src: 'fd42::1', dst: 'fd42::9', hopLimit: 1 } }, { kind: 'udp', fields: { dstPort: 33434 } }];
    const outer6: PacketStack = [{ kind: 'ipv6', fields: { src: 'fd42::fe', dst: 'fd42::1' } }];
    const tooBig = decode(build([...outer6, { kind: 'icmpv6', fields: { type: 2, mtu: 1280 } }, ...probe6]));
    expect(header(tooBig, 1).checksum?.status).toBe('correct');
    expect(summarize(tooBig)).toBe('Packet too big mtu=1280');
    expect(header(header(tooBig, 1).quoted ?? [], 1).checksum?.status).toBe('correct');
    const hopLimit = decode(build([...outer6, { kind: 'icmpv6', fields: { type: 3 } }, ...probe6]));
    expect(summarize(hopLimit)).toBe('Hop limit exceeded in transit');
    const unreachable6 = decode(build([...outer6, { kind: 'icmpv6', fields: { type: 1, code: 4 } }, ...probe6]));
    expect(summarize(unreachable6)).toBe('Destination unreachable (Port unreachable)');
    const parameter6 = decode(build([...outer6, { kind: 'icmpv6', fields: { type: 4, pointer: 6 } }, ...probe6]));
    expect(summarize(parameter6)).toBe('Parameter problem (Erroneous header field) pointer=6');
  });
});

describe('build', () => {
  it('keeps every field set by hand, wrong checksums included', () => {
    const stack: PacketStack = [
      { kind: 'ipv4', fields: { dst: '198.18.0.1', checksum: 0x1234, totalLength: 99, protocol: 17 } },
      { kind: 'icmp', fields: { checksum: 0xbeef, identifier: 1, sequence: 2 } },
    ];
    const bytes = build(stack);
    expect(bytes[10] * 256 + bytes[11]).toBe(0x1234);
    expect(bytes[2] * 256 + bytes[3]).toBe(99);
    expect(bytes[9]).toBe(17);
    expect(bytes[22] * 256 + bytes[23]).toBe(0xbeef);
    const layers = decode(bytes);
    const ip = header(layers, 0);
    const automatic = build([{ kind: 'ipv4', fields: { dst: '198.18.0.1', totalLength: 99, protocol: 17 } }, stack[1]]);
    expect(ip.checksum).toEqual({ status: 'wrong', value: 0x1234, expected: automatic[10] * 256 + automatic[11] });
    expect(ip.problems).toContain('IPv4 length field says 99 bytes, only 28 captured');
  });

  it('fills lengths, next-protocol fields and pads options', () => {
    const bytes = build([
      { kind: 'ipv4', fields: { options: '94 04 00 00 01' } }, // Router Alert + NOP, padded to 8
      { kind: 'udp' },
      { kind: 'payload', data: 'de ad' },
    ]);
    expect(bytes[0]).toBe(0x47);
    expect(bytes.length).toBe(28 + 8 + 2);
    const layers = decode(bytes);
    const ip = header(layers, 0);
    expect(field(ip, 'options').options?.map((o) => o.name)).toEqual(['Router Alert', 'No-Operation', 'End of Option List']);
    expect(header(layers, 1).values.length).toBe(10);
    expect(layers[2]).toMatchObject({ kind: 'payload', data: Uint8Array.of(0xde, 0xad) });
  });

  it('sends a computed UDP checksum of 0 as 0xffff', () => {
    // Payload chosen so the checksum would be 0: make the segment sum to 0xffff.
    const base = build([{ kind: 'ipv4', fields: { src: '10.0.0.1', dst: '10.0.0.2' } }, { kind: 'udp', fields: { srcPort: 1, dstPort: 2 } }, { kind: 'payload', data: '00 00' }]);
    const current = base[26] * 256 + base[27];
    const fix = current; // adding this word to the sum turns the checksum into 0
    const bytes = build([
      { kind: 'ipv4', fields: { src: '10.0.0.1', dst: '10.0.0.2' } },
      { kind: 'udp', fields: { srcPort: 1, dstPort: 2 } },
      { kind: 'payload', data: Uint8Array.of(fix >> 8, fix & 0xff) },
    ]);
    expect(bytes[26] * 256 + bytes[27]).toBe(0xffff);
    expect(header(decode(bytes), 1).checksum?.status).toBe('correct');
  });

  it('refuses mistakes with errors that name the layer and field', () => {
    expect(() => build([{ kind: 'ipv4', fields: { tll: 3 } }])).toThrow(/layer 1 \(IPv4\) has no field 'tll'/);
    expect(() => build([{ kind: 'ipv4', fields: { ttl: 300 } }])).toThrow(/'ttl' \(Time to live\) must be an integer from 0 to 255/);
    expect(() => build([{ kind: 'ipv4', fields: { dst: '1.2.3' } }])).toThrow(/'dst'.*four decimal numbers/);
    expect(() => build([{ kind: 'tcp' }])).toThrow(/TCP checksum needs the IP addresses/);
    expect(() => build([{ kind: 'ipv4' }, { kind: 'payload', data: new Uint8Array(70000) }])).toThrow(/too large/);
    expect(() => build([{ kind: 'payload', data: 'zz' }])).toThrow(/layer 1 \(payload\).*'z' at position 1/);
  });

  it('builds UDP without addresses with checksum 0 (no checksum over IPv4)', () => {
    const bytes = build([{ kind: 'udp', fields: { srcPort: 5353, dstPort: 53 } }, { kind: 'payload', data: 'aa bb' }]);
    expect(formatHex(bytes)).toBe('14 e9 00 35 00 0a 00 00 aa bb');
  });
});

describe('decode of damaged input', () => {
  it('reads what it can of a cut IPv4 header and marks the rest', () => {
    const bytes = build([{ kind: 'ipv4', fields: { ttl: 9 } }, { kind: 'icmp' }]).subarray(0, 11);
    const layers = decode(bytes);
    expect(layers.map((l) => l.kind)).toEqual(['ipv4', 'malformed']);
    expect(header(layers, 0).values.ttl).toBe(9);
    expect(header(layers, 0).values.checksum).toBeUndefined();
    const exact = decode(bytes.subarray(0, 10));
    expect(exact[1]).toMatchObject({ kind: 'malformed', range: { start: 10, end: 10 } });
    expect(layers[1]).toMatchObject({ kind: 'malformed', range: { start: 10, end: 11 }, reason: 'IPv4 header cut short: needs 20 bytes, 11 left' });
  });

  it('reports an IHL below 5', () => {
    const bytes = build([{ kind: 'ipv4', fields: { ihl: 3 } }, { kind: 'payload', data: 'aa' }]);
    const layers = decode(bytes);
    expect(layers.map((l) => l.kind)).toEqual(['ipv4', 'malformed']);
    expect(layers[1]).toMatchObject({ reason: 'IPv4 header length 12 is below the minimum 20', range: { start: 20, end: 21 } });
  });

  it('marks bytes past the IP total length as a trailer', () => {
    const bytes = build([{ kind: 'ipv4', fields: { totalLength: 28 } }, { kind: 'icmp' }, { kind: 'payload', data: '00 00 00 00' }]);
    const layers = decode(bytes);
    expect(layers.map((l) => l.kind)).toEqual(['ipv4', 'icmp', 'payload']);
    expect(layers[2]).toMatchObject({ note: '4 bytes past the IPv4 length', range: { start: 28, end: 32 } });
  });

  it('says what is wrong with non-IP input', () => {
    expect(decode(parseHex('ff 00'))).toEqual([{ kind: 'malformed', range: { start: 0, end: 2 }, reason: 'not an IP packet: version 15, expected 4 or 6', data: parseHex('ff 00') }]);
    expect(decode(new Uint8Array(0))[0]).toMatchObject({ kind: 'malformed', reason: 'no bytes to decode' });
    expect(summarize(decode(parseHex('ff 00')))).toBe('Malformed: not an IP packet: version 15, expected 4 or 6');
  });

  it('decodes only the first fragment as a transport header', () => {
    const first = decode(build([{ kind: 'ipv4', fields: { flags: 0b001 } }, { kind: 'udp' }, { kind: 'payload', data: '01 02' }]));
    expect(header(first, 1).checksum).toMatchObject({ status: 'unverified', reason: 'the packet is a fragment' });
    const later = decode(build([{ kind: 'ipv4', fields: { fragmentOffset: 10, protocol: 17 } }, { kind: 'payload', data: '01 02' }]));
    expect(later.map((l) => l.kind)).toEqual(['ipv4', 'payload']);
    expect(summarize(later)).toBe('IPv4 UDP 0.0.0.0 → 127.0.0.1 len=22 fragment offset=80 id=0x0000');
  });
});
