import { describe, expect, it } from 'vitest';
import { DIRECTION_RECEIVED, DIRECTION_SENT, PacketRing, type PacketFacts } from './ring';

function ipv4Echo(id: number, seq: number, payload = 8): Uint8Array {
  const bytes = new Uint8Array(20 + 8 + payload);
  bytes[0] = 0x45;
  bytes[3] = bytes.length;
  bytes[8] = 64;
  bytes[9] = 1;
  bytes.set([127, 0, 0, 1], 12);
  bytes.set([127, 0, 0, 2], 16);
  bytes[20] = 8;
  bytes[24] = id >> 8;
  bytes[25] = id & 0xff;
  bytes[26] = seq >> 8;
  bytes[27] = seq & 0xff;
  return bytes;
}

const received: PacketFacts = { time: 1, direction: DIRECTION_RECEIVED, socket: -1, family: 4, withIpHeader: true, protocol: 0, peer: null, local: null };

describe('PacketRing', () => {
  it('builds rows by peeking at fixed offsets', () => {
    const ring = new PacketRing({ capacity: 10 });
    const id = ring.append(ipv4Echo(0x1a2b, 3), 0, 36, received);
    expect(ring.row(id)).toEqual({
      id: 0,
      time: 1,
      direction: 'received',
      socketId: null,
      family: 'ipv4',
      source: '127.0.0.1',
      destination: '127.0.0.2',
      protocol: 'ICMP',
      length: 36,
      info: 'Echo request id=0x1a2b seq=3',
    });
  });

  it('keeps the addresses of packets without an IP header beside them', () => {
    const ring = new PacketRing({ capacity: 10 });
    const socket = ring.socketIndex('socket-1');
    const icmpv6 = Uint8Array.of(129, 0, 0, 0, 0, 7, 0, 1);
    const facts: PacketFacts = { time: 2, direction: DIRECTION_RECEIVED, socket, family: 6, withIpHeader: false, protocol: 58, peer: '::1', local: null };
    const a = ring.append(icmpv6, 0, icmpv6.length, facts);
    const b = ring.append(Uint8Array.of(8, 0, 0, 0, 0, 1, 0, 2), 0, 8, { ...facts, direction: DIRECTION_SENT, family: 4, protocol: 1, peer: '198.18.2.2', local: '198.18.1.2' });
    expect(ring.row(a)).toMatchObject({ socketId: 'socket-1', source: '::1', destination: '', protocol: 'ICMPv6', info: 'Echo reply id=0x0007 seq=1' });
    expect(ring.row(b)).toMatchObject({ direction: 'sent', source: '198.18.1.2', destination: '198.18.2.2', protocol: 'ICMP', info: 'Echo request id=0x0001 seq=2' });
  });

  it('drops the oldest packets when full, ids keep counting', () => {
    const ring = new PacketRing({ capacity: 100 });
    for (let i = 0; i < 250; i++) ring.append(ipv4Echo(1, i), 0, 36, received);
    expect(ring.count).toBe(100);
    expect(ring.oldestId).toBe(150);
    expect(ring.has(149)).toBe(false);
    expect(ring.row(150)?.info).toBe('Echo request id=0x0001 seq=150');
    expect(ring.row(249)?.info).toBe('Echo request id=0x0001 seq=249');
  });

  it('wraps its byte arena without corrupting packets of mixed sizes', () => {
    const ring = new PacketRing({ capacity: 1000, maxBytes: 64 * 1024 });
    const sizes = [8, 1400, 300, 9000, 60, 4000];
    for (let i = 0; i < 5000; i++) {
      const packet = ipv4Echo(i & 0xffff, i & 0xffff, sizes[i % sizes.length]);
      packet[packet.length - 1] = i & 0xff;
      ring.append(packet, 0, packet.length, received);
    }
    expect(ring.arenaBytes).toBeLessThanOrEqual(64 * 1024);
    for (let id = ring.oldestId; id < ring.nextId; id++) {
      const bytes = ring.bytes(id)!;
      expect(bytes.length).toBe(28 + sizes[id % sizes.length]);
      expect(bytes[26] * 256 + bytes[27]).toBe(id & 0xffff);
      expect(bytes[bytes.length - 1]).toBe(id & 0xff);
    }
  });

  it('resizes keeping the newest packets', () => {
    const ring = new PacketRing({ capacity: 100 });
    for (let i = 0; i < 80; i++) ring.append(ipv4Echo(1, i), 0, 36, received);
    ring.resize(10);
    expect(ring.count).toBe(10);
    expect(ring.oldestId).toBe(70);
    expect(ring.row(79)?.info).toContain('seq=79');
    ring.resize(1000);
    expect(ring.count).toBe(10);
    ring.append(ipv4Echo(1, 80), 0, 36, received);
    expect(ring.row(80)?.info).toContain('seq=80');
  });

  it('clears', () => {
    const ring = new PacketRing({ capacity: 10 });
    ring.append(ipv4Echo(1, 1), 0, 36, received);
    ring.clear();
    expect(ring.count).toBe(0);
    expect(ring.row(0)).toBeNull();
    expect(ring.append(ipv4Echo(1, 2), 0, 36, received)).toBe(1);
  });

  it('stays the same size when many more packets pass than it holds', () => {
    const ring = new PacketRing({ capacity: 10_000 });
    const packet = ipv4Echo(1, 1, 56);
    for (let i = 0; i < 20_000; i++) ring.append(packet, 0, packet.length, received);
    const arena = ring.arenaBytes;
    global.gc?.();
    const before = process.memoryUsage();
    for (let i = 0; i < 100_000; i++) ring.append(packet, 0, packet.length, received);
    global.gc?.();
    const after = process.memoryUsage();
    expect(ring.arenaBytes).toBe(arena);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(1 << 20);
  });
});
