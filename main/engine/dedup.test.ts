// The log's duplicate filter on its own: a copy is the same bytes, family and kernel stamp, still in the log.
import { describe, expect, it } from 'vitest';
import { DuplicateFilter } from './dedup';
import { DIRECTION_RECEIVED, PacketRing, type PacketFacts } from './ring';

const STAMP = 1_700_000_000_123_456_789n;
const timeOf = (stamp: bigint) => Number(stamp / 1000n) / 1000;

function setup(capacity = 100) {
  const ring = new PacketRing({ capacity });
  const filter = new DuplicateFilter(64);
  const facts: PacketFacts = { time: 0, direction: DIRECTION_RECEIVED, socket: -1, family: 6, withIpHeader: false, protocol: 58, peer: '::1', local: null };
  /** Logs unless a duplicate; returns the id logged or found. */
  const log = (bytes: Uint8Array, stamp: bigint | undefined, family: 4 | 6 = 6) => {
    facts.family = family;
    facts.time = stamp === undefined ? 0 : timeOf(stamp);
    const found = filter.find(bytes, family, stamp, facts.time, ring);
    if (found >= 0) return { id: found, duplicate: true };
    const id = ring.append(bytes, 0, bytes.length, facts);
    filter.remember(id);
    return { id, duplicate: false };
  };
  return { ring, log };
}

const packet = (length: number, fill = 7) => new Uint8Array(length).fill(fill);

describe('DuplicateFilter', () => {
  it('finds a copy with the same bytes, family and stamp, and nothing else', () => {
    const { ring, log } = setup();
    const first = log(packet(100), STAMP);
    expect(first.duplicate).toBe(false);
    expect(log(packet(100), STAMP)).toEqual({ id: first.id, duplicate: true });
    expect(log(packet(100), STAMP + 1n).duplicate).toBe(false); // the same bytes a nanosecond later: another packet
    expect(log(packet(100), STAMP, 4).duplicate).toBe(false);
    expect(log(packet(101), STAMP).duplicate).toBe(false);
    const late = packet(100);
    late[99] = 8; // past the hashed prefix
    expect(log(late, STAMP).duplicate).toBe(false);
    expect(ring.count).toBe(5);
  });

  it('never merges packets without a stamp', () => {
    const { ring, log } = setup();
    log(packet(20), undefined);
    expect(log(packet(20), undefined).duplicate).toBe(false);
    expect(ring.count).toBe(2);
  });

  it('logs the copy again once the first is gone from the log', () => {
    const { ring, log } = setup();
    log(packet(20), STAMP);
    ring.clear();
    expect(log(packet(20), STAMP).duplicate).toBe(false);
    expect(ring.count).toBe(1);
  });

  it('keeps a flood of identical packets apart and still finds each one’s copy', () => {
    const ring = new PacketRing({ capacity: 10_000 });
    const filter = new DuplicateFilter(64);
    const facts: PacketFacts = { time: 0, direction: DIRECTION_RECEIVED, socket: -1, family: 6, withIpHeader: false, protocol: 58, peer: '::1', local: null };
    const slotOf = new Map<bigint, number>();
    const log = (bytes: Uint8Array, stamp: bigint) => {
      facts.time = timeOf(stamp);
      const found = filter.find(bytes, 6, stamp, facts.time, ring);
      slotOf.set(stamp, filter['slot']);
      if (found >= 0) return { id: found, duplicate: true };
      const id = ring.append(bytes, 0, bytes.length, facts);
      filter.remember(id);
      return { id, duplicate: false };
    };
    const bytes = packet(64, 1);
    const stamps = Array.from({ length: 32 }, (_, i) => STAMP + BigInt(i) * 10_000n); // 10 µs apart
    const firstIds = stamps.map((stamp) => log(bytes, stamp));
    for (const first of firstIds) expect(first.duplicate).toBe(false);
    // The second socket's copies arrive after the whole batch. A direct-mapped table keeps one
    // packet per slot: a copy is found exactly when no other packet of the batch shares its slot
    // (a colliding one evicts it, and a missed copy logged again evicts the rest of its slot).
    const slots = stamps.map((stamp) => slotOf.get(stamp)!);
    const alone = stamps.filter((_, i) => slots.filter((slot) => slot === slots[i]).length === 1);
    const copies = stamps.map((stamp) => log(bytes, stamp));
    const found = stamps.filter((_, i) => copies[i].duplicate);
    expect(found).toEqual(alone);
    // 32 packets in 64 slots: most have one to themselves (the table is not degenerate).
    expect(found.length).toBeGreaterThanOrEqual(16);
    // Never merges two: each copy found is the packet logged with its own stamp.
    stamps.forEach((_, i) => {
      if (copies[i].duplicate) expect(copies[i].id).toBe(firstIds[i].id);
    });
    expect(ring.count).toBe(32 + 32 - found.length);
  });
});
