// Capture files, checked against tshark as an independent implementation.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from './build';
import { decode } from './decode';
import type { DecodedHeaderLayer, PacketStack } from './layer';
import { encodeTcpOptions } from './options';
import { ipHeaderOffset, LINKTYPE_RAW, readCapture, writePcapng } from './pcapng';
import { summarize } from './summary';

const directory = mkdtempSync(join(tmpdir(), 'packets-test-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function tshark(args: readonly string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

const T0 = 1_700_000_000_123_456_789n;
const stacks: PacketStack[] = [
  [
    { kind: 'ipv4', fields: { ttl: 64, src: '198.18.0.1', dst: '198.18.0.2', identification: 0x1234 } },
    { kind: 'icmp', fields: { type: 8, identifier: 0x1234, sequence: 1 } },
    { kind: 'payload', data: 'de ad be ef' },
  ],
  [
    { kind: 'ipv4', fields: { ttl: 3, src: '198.18.0.254', dst: '198.18.0.1' } },
    { kind: 'icmp', fields: { type: 11, code: 0 } },
    { kind: 'ipv4', fields: { ttl: 1, src: '198.18.0.1', dst: '198.19.0.9' } },
    { kind: 'udp', fields: { srcPort: 5353, dstPort: 33434 } },
    { kind: 'payload', data: '00 01 02 03' },
  ],
  [
    { kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.0.2', options: '94 04 00 00' } },
    { kind: 'tcp', fields: { srcPort: 40000, dstPort: 80, seq: 12345, flags: 0x02, window: 64240, options: encodeTcpOptions([{ kind: 'mss', value: 1460 }, { kind: 'sackPermitted' }, { kind: 'windowScale', shift: 7 }]) } },
  ],
  [
    { kind: 'ipv6', fields: { src: 'fd42::1', dst: 'fd42::2', hopLimit: 5 } },
    { kind: 'icmpv6', fields: { type: 128, identifier: 0xabcd, sequence: 9 } },
    { kind: 'payload', data: '70 69 6e 67' },
  ],
  [
    { kind: 'ipv6', fields: { src: 'fd42::1', dst: 'fd42::53' } },
    { kind: 'udp', fields: { srcPort: 5353, dstPort: 53 } },
    { kind: 'payload', data: '00 00 01 00 00 01' },
  ],
  // Wrong by hand: tshark must agree it is wrong.
  [
    { kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.0.2', checksum: 0x1111 } },
    { kind: 'icmp', fields: { type: 0, identifier: 7, sequence: 8, checksum: 0x2222 } },
  ],
  // A refused connection: the flags read as Wireshark writes them.
  [
    { kind: 'ipv4', fields: { src: '198.18.0.2', dst: '198.18.0.1' } },
    { kind: 'tcp', fields: { srcPort: 80, dstPort: 40000, seq: 0, ack: 12346, flags: 0x14, window: 0 } },
  ],
];
const packets = stacks.map((stack, i) => ({ data: build(stack), timestampNs: T0 + BigInt(i) * 1_000_001n, comment: i === 0 ? 'first packet, ü' : undefined }));
const ourFile = join(directory, 'ours.pcapng');
writeFileSync(ourFile, writePcapng(packets, { application: 'Packet Workbench test' }));

describe('tshark reads what we write', () => {
  const fields = [
    'frame.time_epoch', 'frame.comment', 'ip.src', 'ip.dst', 'ip.ttl', 'ip.checksum.status', 'ipv6.src', 'ipv6.hlim',
    'icmp.type', 'icmp.code', 'icmp.checksum', 'icmp.checksum.status', 'icmp.ident', 'icmp.seq',
    'icmpv6.type', 'icmpv6.checksum', 'icmpv6.checksum.status', 'icmpv6.echo.identifier',
    'udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum.status',
    'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.hdr_len', 'tcp.options.mss_val', 'tcp.options.wscale.shift', 'tcp.checksum.status',
  ];
  const rows = tshark(['-r', ourFile, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
    '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=;', ...fields.flatMap((f) => ['-e', f])])
    .trim()
    .split('\n')
    .map((line) => Object.fromEntries(line.split('|').map((value, i) => [fields[i], value])));

  it('sees every packet with our nanosecond timestamps and comment', () => {
    expect(rows).toHaveLength(stacks.length);
    expect(rows[0]['frame.time_epoch']).toBe('1700000000.123456789');
    expect(rows[1]['frame.time_epoch']).toBe('1700000000.124456790');
    expect(rows[0]['frame.comment']).toBe('first packet, ü');
  });

  it('agrees on fields and checksum verdicts, packet by packet', () => {
    // Wireshark's checksum status: 0 bad, 1 good, 2 unverified.
    expect(rows[0]).toMatchObject({ 'ip.src': '198.18.0.1', 'ip.ttl': '64', 'ip.checksum.status': '1', 'icmp.type': '8', 'icmp.ident': '4660', 'icmp.seq': '1', 'icmp.checksum.status': '1' });
    const ours0 = decode(packets[0].data);
    expect(Number(rows[0]['icmp.checksum'])).toBe((ours0[1] as DecodedHeaderLayer).values.checksum);

    // Time Exceeded: tshark decodes the quoted IPv4 and UDP too (aggregated with ';').
    expect(rows[1]).toMatchObject({ 'ip.src': '198.18.0.254;198.18.0.1', 'ip.ttl': '3;1', 'icmp.type': '11', 'icmp.code': '0', 'icmp.checksum.status': '1', 'udp.srcport': '5353', 'udp.dstport': '33434', 'udp.length': '12' });
    expect(rows[1]['ip.checksum.status']).toBe('1;1');

    expect(rows[2]).toMatchObject({ 'tcp.srcport': '40000', 'tcp.dstport': '80', 'tcp.seq_raw': '12345', 'tcp.hdr_len': '32', 'tcp.options.mss_val': '1460', 'tcp.options.wscale.shift': '7', 'tcp.checksum.status': '1', 'ip.checksum.status': '1' });

    expect(rows[3]).toMatchObject({ 'ipv6.src': 'fd42::1', 'ipv6.hlim': '5', 'icmpv6.type': '128', 'icmpv6.echo.identifier': '0xabcd', 'icmpv6.checksum.status': '1' });
    const ours3 = decode(packets[3].data);
    expect(Number(rows[3]['icmpv6.checksum'])).toBe((ours3[1] as DecodedHeaderLayer).values.checksum);

    expect(rows[4]).toMatchObject({ 'udp.srcport': '5353', 'udp.dstport': '53', 'udp.length': '14', 'udp.checksum.status': '1' });

    expect(rows[5]).toMatchObject({ 'ip.checksum.status': '0', 'icmp.checksum.status': '0', 'icmp.checksum': '0x2222' });
    const ours5 = decode(packets[5].data);
    expect(ours5.map((l) => (l.kind === 'ipv4' || l.kind === 'icmp' ? l.checksum?.status : l.kind))).toEqual(['wrong', 'wrong']);
  });

  it('summaries match what tshark shows in its Info column for echo (in the log\'s words) and errors', () => {
    const info = tshark(['-r', ourFile, '-T', 'fields', '-e', '_ws.col.Info']).trim().split('\n');
    // tshark says "Echo (ping) request id=0x1234, seq=1"; the workbench says it as its log does.
    expect(info[0]).toMatch(/^Echo \(ping\) request\s+id=0x1234, seq=1/);
    expect(summarize(decode(packets[0].data))).toBe('Echo request id=0x1234 seq=1');
    expect(info[1]).toMatch(/^Time-to-live exceeded/);
    expect(summarize(decode(packets[1].data))).toBe('Time-to-live exceeded');
    expect(info[2]).toMatch(/^40000 → 80 \[SYN\] Seq=0/);
    expect(info[2]).toMatch(/ MSS=1460 SACK_PERM WS=128$/);
    expect(summarize(decode(packets[2].data))).toBe('TCP 40000 → 80 [SYN] seq=12345 win=64240 MSS=1460 SACK_PERM WS=128');
    expect(info[6]).toMatch(/^80 → 40000 \[RST, ACK\] Seq=1 Ack=1 Win=0/);
    expect(summarize(decode(packets[6].data))).toBe('TCP 80 → 40000 [RST, ACK] seq=0 ack=12346 win=0');
  });
});

describe('we read what tshark writes', () => {
  it('reads back a pcapng rewritten by tshark, byte for byte', () => {
    const theirs = join(directory, 'theirs.pcapng');
    tshark(['-r', ourFile, '-F', 'pcapng', '-w', theirs]);
    const capture = readCapture(new Uint8Array(readFileSync(theirs)));
    expect(capture.format).toBe('pcapng');
    expect(capture.problems).toEqual([]);
    expect(capture.packets.map((p) => p.data)).toEqual(packets.map((p) => p.data));
    expect(capture.packets.map((p) => p.timestampNs)).toEqual(packets.map((p) => p.timestampNs));
    expect(capture.packets.every((p) => p.linkType === LINKTYPE_RAW)).toBe(true);
    expect(capture.packets[0].comment).toBe('first packet, ü');
  });

  it('reads classic pcap in microseconds and nanoseconds', () => {
    for (const [format, expected] of [['pcap', T0 - (T0 % 1000n)], ['nsecpcap', T0]] as const) {
      const file = join(directory, `theirs.${format}`);
      tshark(['-r', ourFile, '-F', format, '-w', file]);
      const capture = readCapture(new Uint8Array(readFileSync(file)));
      expect(capture.format).toBe('pcap');
      expect(capture.packets[0].timestampNs).toBe(expected);
      expect(capture.packets.map((p) => p.data)).toEqual(packets.map((p) => p.data));
    }
  });

  it('reads an Ethernet capture text2pcap made, and finds the IP header in it', () => {
    const hex = join(directory, 'frame.txt');
    const ip = packets[0].data;
    const lines = [...ip].map((b) => b.toString(16).padStart(2, '0'));
    writeFileSync(hex, `0000 ${lines.join(' ')}\n`);
    const file = join(directory, 'ethernet.pcapng');
    execFileSync('text2pcap', ['-q', '-e', '0x800', hex, file], { stdio: 'ignore' });
    const capture = readCapture(new Uint8Array(readFileSync(file)));
    const packet = capture.packets[0];
    expect(packet.linkType).toBe(1);
    const offset = ipHeaderOffset(packet.data, packet.linkType);
    expect(offset).toBe(14);
    expect(summarize(decode(packet.data, { start: offset }))).toBe('Echo request id=0x1234 seq=1');
    expect(decode(packet.data, { start: offset })[0].range).toEqual({ start: 14, end: 34 });
  });
});

describe('capture reader', () => {
  it('reads a big-endian pcapng section', () => {
    const little = writePcapng([{ data: Uint8Array.of(0x45, 1, 2), timestampNs: 5_000_000_001n }]);
    const big = toBigEndian(little);
    const capture = readCapture(big);
    expect(capture.packets).toEqual([{ data: Uint8Array.of(0x45, 1, 2), timestampNs: 5_000_000_001n, linkType: 101, originalLength: 3, interfaceId: 0 }]);
  });

  it('rejects what is not a capture with a clear Error', () => {
    expect(() => readCapture(new TextEncoder().encode('hello world, not a capture'))).toThrow(/Not a capture file/);
    expect(() => readCapture(new Uint8Array(0))).toThrow(/Not a capture file/);
  });

  it('keeps the packets before a cut and says where the file ended', () => {
    const file = writePcapng(packets);
    const capture = readCapture(file.subarray(0, file.length - 10));
    expect(capture.packets).toHaveLength(packets.length - 1);
    expect(capture.problems[0]).toMatch(/claims \d+ bytes/);
  });

  it('throws only Errors, and never hangs, on damaged files', () => {
    const file = writePcapng(packets.slice(0, 2));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }), fc.nat(), (mutations, cut) => {
        const bytes = file.slice(0, file.length - (cut % file.length));
        for (const [position, value] of mutations) bytes[position % bytes.length] = value;
        try {
          readCapture(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect((error as Error).message).toMatch(/^Not a (capture|pcapng|pcap) file/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

/** Rewrites our little-endian pcapng (SHB, IDB with options, EPBs) in big-endian. */
function toBigEndian(little: Uint8Array): Uint8Array {
  const out = little.slice();
  const from = new DataView(little.buffer, little.byteOffset, little.byteLength);
  const to = new DataView(out.buffer);
  const u32 = (o: number) => to.setUint32(o, from.getUint32(o, true), false);
  const u16 = (o: number) => to.setUint16(o, from.getUint16(o, true), false);
  const options = (o: number, end: number) => {
    while (o + 4 <= end) {
      const length = from.getUint16(o + 2, true);
      u16(o);
      u16(o + 2);
      if (from.getUint16(o, true) === 0) break;
      o += 4 + ((length + 3) & ~3);
    }
  };
  let offset = 0;
  while (offset < little.length) {
    const type = from.getUint32(offset, true);
    const length = from.getUint32(offset + 4, true);
    u32(offset);
    u32(offset + 4);
    u32(offset + length - 4);
    const body = offset + 8;
    if (type === 0x0a0d0d0a) {
      u32(body);
      u16(body + 4);
      u16(body + 6);
      to.setBigInt64(body + 8, from.getBigInt64(body + 8, true), false);
      options(body + 16, offset + length - 4);
    } else if (type === 1) {
      u16(body);
      u32(body + 4);
      options(body + 8, offset + length - 4);
    } else if (type === 6) {
      for (let i = 0; i < 5; i++) u32(body + 4 * i);
      const captured = from.getUint32(body + 12, true);
      options(body + 20 + ((captured + 3) & ~3), offset + length - 4);
    }
    offset += length;
  }
  return out;
}
