// The log's duplicate filter. Every raw socket of a protocol receives its own copy of
// each packet of the host, so with N ICMP sockets open every ICMP packet would be
// logged N times. A received packet is a copy of one already logged when its family
// and bytes are identical and its kernel receive timestamp (SO_TIMESTAMPNS, stamped
// once per packet and shared by every socket's copy) is the same to the nanosecond.
// The exact stamp, not a time window: identical bytes arriving microseconds apart (a
// flood of one packet, two identical ICMPv6 echoes) are different packets.
//
// A direct-mapped table of recent packets (hash of the first bytes, the length, the
// family and the microsecond → slot): fixed typed arrays, nothing allocated per packet.
// A colliding packet evicts the older one; the worst that does is log a copy twice.
// Copies arrive within one socket's batch of the others (microseconds to a few ms),
// long before 4096 other packets have passed.
import type { PacketRing } from './ring';

const SLOTS = 4096;
/** Bytes of a packet the hash reads (the whole packet is compared on a hit). */
const HASHED_BYTES = 64;
const EMPTY = -1;

export class DuplicateFilter {
  private readonly mask: number;
  private readonly hashes: Int32Array;
  private readonly stamps: BigInt64Array;
  /** The ring id logged for the packet in each slot, EMPTY for none. */
  private readonly ids: Float64Array;
  /** Where find() looked, for remember(). */
  private slot = 0;
  private hash = 0;
  private stamp: bigint | undefined;

  constructor(slots = SLOTS) {
    if (!Number.isInteger(Math.log2(slots))) throw new RangeError(`slots must be a power of two, got ${slots}`);
    this.mask = slots - 1;
    this.hashes = new Int32Array(slots);
    this.stamps = new BigInt64Array(slots);
    this.ids = new Float64Array(slots).fill(EMPTY);
  }

  /**
   * The ring id of an earlier copy of this received packet that is still in the log, or -1.
   * stampNs is the kernel receive time (without one nothing is a duplicate); timeMs the same
   * time in ms (as logged), which spreads packets of equal bytes over the table.
   */
  find(bytes: Uint8Array, family: number, stampNs: bigint | undefined, timeMs: number, ring: PacketRing): number {
    this.stamp = stampNs;
    if (stampNs === undefined) return -1;
    const length = bytes.length;
    // FNV-1a over the first bytes, then the length, family and microsecond.
    let hash = 0x811c9dc5 | 0;
    const hashed = length < HASHED_BYTES ? length : HASHED_BYTES;
    for (let i = 0; i < hashed; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
    hash = Math.imul(hash ^ length, 0x01000193);
    hash = Math.imul(hash ^ family, 0x01000193);
    hash = Math.imul(hash ^ (Math.round(timeMs * 1000) | 0), 0x01000193);
    hash ^= hash >>> 15;
    const slot = hash & this.mask;
    this.slot = slot;
    this.hash = hash;
    const id = this.ids[slot];
    if (id === EMPTY || this.hashes[slot] !== hash || this.stamps[slot] !== stampNs) return -1;
    return ring.holds(id, bytes) && ring.familyOf(id) === family ? id : -1;
  }

  /** Remembers the packet the last find() looked up as logged under this ring id. */
  remember(id: number): void {
    if (this.stamp === undefined) return;
    const slot = this.slot;
    this.hashes[slot] = this.hash;
    this.stamps[slot] = this.stamp;
    this.ids[slot] = id;
  }
}
