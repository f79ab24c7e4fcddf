// The block encoders behind streamed capture files: several interfaces, direction in
// the EPB flags, classic pcap; read back by our reader and by tshark.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from './build';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapEncoder, PcapngEncoder, readCapture, writePcap, writePcapng, type PacketToWrite } from './pcapng';

const directory = mkdtempSync(join(tmpdir(), 'pcapng-test-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const T0 = 1_700_000_000_000_000_001n;
const echo = (ttl: number, seq: number) =>
  build([
    { kind: 'ipv4', fields: { ttl, src: '198.18.0.1', dst: '198.18.0.2' } },
    { kind: 'icmp', fields: { type: 8, identifier: 7, sequence: seq } },
  ]);
const interfaces = [
  { name: 'socket-1', description: 'Packet Workbench socket-1: IPv4 raw socket, protocol 1 (ICMP)' },
  { name: 'lo', description: 'Packet Workbench socket-2: packet socket on lo' },
];
const packets: PacketToWrite[] = [
  { data: echo(1, 1), timestampNs: T0, interfaceId: 0, direction: 'outbound' },
  { data: echo(64, 2), timestampNs: T0 + 1000n, interfaceId: 1, direction: 'inbound', comment: 'a comment, ü' },
  { data: echo(3, 3), timestampNs: T0 + 2000n, interfaceId: 1 },
];

function tsharkFields(file: string, fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out.trimEnd().split('\n').map((line) => line.split('|'));
}

describe('pcapng with several interfaces and directions', () => {
  const bytes = writePcapng(packets, { application: 'test', interfaces });

  it('is read back with interface names, descriptions and directions', () => {
    const capture = readCapture(bytes);
    expect(capture.problems).toEqual([]);
    expect(capture.interfaces).toEqual(interfaces.map((i) => ({ linkType: LINKTYPE_RAW, ...i })));
    expect(capture.packets.map((p) => [p.interfaceId, p.direction, p.comment, p.data[8]])).toEqual([
      [0, 'outbound', undefined, 1],
      [1, 'inbound', 'a comment, ü', 64],
      [1, undefined, undefined, 3],
    ]);
  });

  it('is what tshark reads: direction flags (1 in, 2 out), interface name and description, comment, TTL', () => {
    const file = join(directory, 'interfaces.pcapng');
    writeFileSync(file, bytes);
    const rows = tsharkFields(file, ['frame.packet_flags_direction', 'frame.interface_name', 'frame.interface_description', 'frame.comment', 'ip.ttl', 'frame.time_epoch']);
    expect(rows).toEqual([
      ['0x00000002', 'socket-1', interfaces[0].description, '', '1', '1700000000.000000001'],
      ['0x00000001', 'lo', interfaces[1].description, 'a comment, ü', '64', '1700000000.000001001'],
      ['', 'lo', interfaces[1].description, '', '3', '1700000000.000002001'],
    ]);
  });

  it('refuses a packet naming an interface not described, and a comment too long for an option', () => {
    const encoder = new PcapngEncoder();
    expect(() => encoder.addPacket({ data: echo(1, 1), timestampNs: T0 })).toThrow(RangeError);
    encoder.addInterface({});
    expect(() => encoder.addPacket({ data: echo(1, 1), timestampNs: T0, interfaceId: 1 })).toThrow(/interface 1; 1 interface/);
    expect(() => encoder.addPacket({ data: echo(1, 1), timestampNs: T0, comment: 'x'.repeat(70_000) })).toThrow(/65535/);
  });
});

describe('block by block', () => {
  it('take() hands out whole blocks: every prefix of chunks is a valid file, and all of them the same file writePcapng makes', () => {
    const encoder = new PcapngEncoder({ application: 'test' });
    for (const iface of interfaces) encoder.addInterface(iface);
    const chunks = [encoder.take()];
    for (const packet of packets) {
      encoder.addPacket(packet);
      chunks.push(encoder.take());
    }
    expect(encoder.pendingBytes).toBe(0);
    let file = new Uint8Array(0);
    for (const [i, chunk] of chunks.entries()) {
      const next = new Uint8Array(file.length + chunk.length);
      next.set(file);
      next.set(chunk, file.length);
      file = next;
      const capture = readCapture(file);
      expect(capture.problems).toEqual([]);
      expect(capture.packets).toHaveLength(i);
    }
    expect(file).toEqual(writePcapng(packets, { application: 'test', interfaces }));
  });

  it('a big packet after small ones grows the buffer without corrupting what it holds', () => {
    const encoder = new PcapngEncoder();
    encoder.addInterface({});
    const big = new Uint8Array(200_000).map((_, i) => i & 0xff);
    big[0] = 0x45;
    encoder.addPacket({ data: echo(1, 1), timestampNs: T0 });
    encoder.addPacket({ data: big, timestampNs: T0 });
    encoder.addPacket({ data: echo(2, 2), timestampNs: T0 });
    const capture = readCapture(encoder.take());
    expect(capture.packets.map((p) => p.data.length)).toEqual([28, 200_000, 28]);
    expect(Buffer.compare(capture.packets[1].data, big)).toBe(0);
  });
});

describe('classic pcap', () => {
  it('LINKTYPE_RAW, nanoseconds: tshark and our reader see the packets and times (no direction, no interfaces)', () => {
    const file = join(directory, 'raw.pcap');
    writeFileSync(file, writePcap(packets));
    const capture = readCapture(writePcap(packets));
    expect(capture.format).toBe('pcap');
    expect(capture.packets.map((p) => [p.timestampNs, p.direction, p.data])).toEqual(packets.map((p) => [p.timestampNs, undefined, p.data]));
    expect(tsharkFields(file, ['frame.time_epoch', 'ip.ttl', 'frame.packet_flags_direction'])).toEqual([
      ['1700000000.000000001', '1', ''],
      ['1700000000.000001001', '64', ''],
      ['1700000000.000002001', '3', ''],
    ]);
    const info = execFileSync('capinfos', ['-E', '-T', file], { encoding: 'utf8' });
    expect(info).toMatch(/\trawip\n/);
  });

  it('refuses an interface of another link type', () => {
    const encoder = new PcapEncoder();
    expect(encoder.addInterface({ name: 'x' })).toBe(0);
    expect(() => encoder.addInterface({ linkType: LINKTYPE_ETHERNET, name: 'eth0' })).toThrow(/one link type \(101\).*eth0 has 1/);
  });
});
