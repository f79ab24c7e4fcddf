// The packet log: a bounded ring. Bytes live in one circular byte arena, per-packet
// facts in typed arrays indexed by slot (id % capacity), so logging a packet
// allocates nothing on the JS heap and a full ring stays the same size however
// many packets pass. Rows (LogRow objects) are built only when somebody asks.
import type { LogRow } from '../../common/contract';
import { parseIpAddress } from '../../packets/address';
import { formatIpv4At, formatIpv6At, ipHeaderFacts, protocolLabel, transportInfo } from './peek';

export const DIRECTION_SENT = 0;
export const DIRECTION_RECEIVED = 1;
export const DIRECTION_IMPORTED = 2;
const directionNames = ['sent', 'received', 'imported'] as const;
export type DirectionCode = typeof DIRECTION_SENT | typeof DIRECTION_RECEIVED | typeof DIRECTION_IMPORTED;

/** The packet starts with its IP header. Otherwise it starts at the transport header and the addresses are kept beside it. */
const LAYOUT_IP = 1;
/** The local address of a headerless packet is known. */
const LAYOUT_LOCAL = 2;
/** Imported from a file that gave its direction: direction holds sent/received, the row says imported. */
const LAYOUT_IMPORTED = 4;

const MIN_ARENA = 1 << 20;
/** Bytes the arena may grow to, per slot of capacity (an average packet of up to this size fills the ring by count). */
const BYTES_PER_SLOT = 2048;
const MAX_ARENA = 1 << 30;
const ADDRESS_CACHE_LIMIT = 1024;

export interface PacketRingOptions {
  capacity: number;
  /** Largest arena in bytes; default capacity * 2048, at most 1 GiB. */
  maxBytes?: number;
}

/** What a caller knows about a packet besides its bytes. */
export interface PacketFacts {
  time: number;
  direction: DirectionCode;
  /** Index from socketIndex(), or -1 for none. */
  socket: number;
  family: 4 | 6;
  /** The bytes start with the IP header (IPv4 raw receive, IP_HDRINCL sends, imports). */
  withIpHeader: boolean;
  /** The transport protocol of a headerless packet (the socket's protocol). */
  protocol: number;
  /** For headerless packets: the far end (destination of a sent packet, source of a received one). */
  peer: string | null;
  /** For headerless packets: our address, when known. */
  local: string | null;
  /**
   * For headerless packets: the TTL / hop limit it was sent with, or arrived with (IP_RECVTTL,
   * IPV6_RECVHOPLIMIT), so a capture file's synthesized header has the real value. Unknown when absent.
   */
  hopLimit?: number;
  /** The network interface it was captured on (packet sockets, imported files). */
  interface?: string | null;
  /** Imported with a direction from its file (direction is then sent or received). */
  imported?: boolean;
}

export class PacketRing {
  private capacityValue: number;
  private maxBytes: number;
  private arena: Uint8Array;
  private readPos = 0;
  private writePos = 0;
  private wrapped = false;
  private countValue = 0;
  private nextIdValue = 0;

  private time: Float64Array;
  private offset: Uint32Array;
  private length: Uint32Array;
  private direction: Uint8Array;
  private family: Uint8Array;
  private layout: Uint8Array;
  private protocol: Uint8Array;
  private socket: Int32Array;
  private peer: Uint8Array;
  private local: Uint8Array;
  /** -1: unknown. */
  private hopLimit: Int16Array;
  /** Index into interfaceNames, -1: none. */
  private iface: Int16Array;
  private evictedValue = 0;

  private readonly socketIds: string[] = [];
  private readonly interfaceNames: string[] = [];
  private readonly interfaceIndexes = new Map<string, number>();
  private readonly socketIndexes = new Map<string, number>();
  private readonly addressCache = new Map<string, Uint8Array | null>();

  constructor(options: PacketRingOptions) {
    this.capacityValue = checkCapacity(options.capacity);
    this.maxBytes = options.maxBytes ?? Math.min(MAX_ARENA, Math.max(MIN_ARENA, this.capacityValue * BYTES_PER_SLOT));
    this.arena = new Uint8Array(Math.min(MIN_ARENA, this.maxBytes));
    const c = this.capacityValue;
    this.time = new Float64Array(c);
    this.offset = new Uint32Array(c);
    this.length = new Uint32Array(c);
    this.direction = new Uint8Array(c);
    this.family = new Uint8Array(c);
    this.layout = new Uint8Array(c);
    this.protocol = new Uint8Array(c);
    this.socket = new Int32Array(c);
    this.peer = new Uint8Array(c * 16);
    this.local = new Uint8Array(c * 16);
    this.hopLimit = new Int16Array(c);
    this.iface = new Int16Array(c);
  }

  get capacity(): number {
    return this.capacityValue;
  }

  get count(): number {
    return this.countValue;
  }

  /** The id the next packet gets. */
  get nextId(): number {
    return this.nextIdValue;
  }

  get oldestId(): number {
    return this.nextIdValue - this.countValue;
  }

  /** Packets removed to make room for newer ones, since the ring was made. */
  get evicted(): number {
    return this.evictedValue;
  }

  /** Bytes held by the arena (allocated, not used). */
  get arenaBytes(): number {
    return this.arena.length;
  }

  /** A small integer standing for a socket id, kept for the ring's lifetime. */
  socketIndex(socketId: string | null): number {
    if (socketId === null) return -1;
    let index = this.socketIndexes.get(socketId);
    if (index === undefined) {
      index = this.socketIds.length;
      this.socketIds.push(socketId);
      this.socketIndexes.set(socketId, index);
    }
    return index;
  }

  has(id: number): boolean {
    return Number.isInteger(id) && id >= this.oldestId && id < this.nextIdValue;
  }

  /** Appends a copy of bytes[start, end); returns the packet's id. */
  append(bytes: Uint8Array, start: number, end: number, facts: PacketFacts): number {
    let length = end - start;
    if (length > this.maxBytes) length = this.maxBytes;
    if (this.countValue === this.capacityValue) this.evictOldest();
    const at = this.place(length);
    this.arena.set(length === end - start ? bytes.subarray(start, end) : bytes.subarray(start, start + length), at);
    const id = this.nextIdValue++;
    const slot = id % this.capacityValue;
    this.countValue++;
    this.writePos = at + length;
    this.time[slot] = facts.time;
    this.offset[slot] = at;
    this.length[slot] = length;
    this.direction[slot] = facts.direction;
    this.family[slot] = facts.family;
    this.socket[slot] = facts.socket;
    this.hopLimit[slot] = facts.hopLimit ?? -1;
    this.iface[slot] = facts.interface ? this.interfaceIndex(facts.interface) : -1;
    let layout = facts.imported ? LAYOUT_IMPORTED : 0;
    if (facts.withIpHeader) {
      layout |= LAYOUT_IP;
      // Peek at the version and protocol in place (no subarray, no object: this runs per packet).
      const version = length > 0 ? this.arena[at] >> 4 : 0;
      if (version === 4 && length >= 20) {
        this.family[slot] = 4;
        this.protocol[slot] = this.arena[at + 9];
      } else if (version === 6 && length >= 40) {
        this.family[slot] = 6;
        this.protocol[slot] = this.arena[at + 6];
      } else {
        this.protocol[slot] = 0;
      }
    } else {
      this.protocol[slot] = facts.protocol;
      this.writeAddress(this.peer, slot, facts.peer);
      if (facts.local !== null && this.writeAddress(this.local, slot, facts.local)) layout |= LAYOUT_LOCAL;
    }
    this.layout[slot] = layout;
    return id;
  }

  clear(): void {
    this.countValue = 0;
    this.readPos = 0;
    this.writePos = 0;
    this.wrapped = false;
  }

  /** Keeps the newest min(count, capacity) packets in a ring of the new capacity. */
  resize(capacity: number): void {
    const next = new PacketRing({ capacity });
    for (const socketId of this.socketIds) next.socketIndex(socketId);
    const first = Math.max(this.oldestId, this.nextIdValue - next.capacityValue);
    next.nextIdValue = first;
    for (let id = first; id < this.nextIdValue; id++) {
      const slot = id % this.capacityValue;
      const at = this.offset[slot];
      const withIp = (this.layout[slot] & LAYOUT_IP) !== 0;
      const iface = this.iface[slot];
      const newId = next.append(this.arena, at, at + this.length[slot], {
        time: this.time[slot],
        direction: this.direction[slot] as DirectionCode,
        socket: this.socket[slot],
        family: this.family[slot] as 4 | 6,
        withIpHeader: withIp,
        protocol: this.protocol[slot],
        peer: null,
        local: null,
        hopLimit: this.hopLimit[slot],
        interface: iface >= 0 ? this.interfaceNames[iface] : null,
      });
      const newSlot = newId % next.capacityValue;
      next.peer.set(this.peer.subarray(slot * 16, slot * 16 + 16), newSlot * 16);
      next.local.set(this.local.subarray(slot * 16, slot * 16 + 16), newSlot * 16);
      next.layout[newSlot] = this.layout[slot];
    }
    Object.assign(this, {
      capacityValue: next.capacityValue,
      maxBytes: next.maxBytes,
      arena: next.arena,
      readPos: next.readPos,
      writePos: next.writePos,
      wrapped: next.wrapped,
      countValue: next.countValue,
      nextIdValue: this.nextIdValue,
      time: next.time,
      offset: next.offset,
      length: next.length,
      direction: next.direction,
      family: next.family,
      layout: next.layout,
      protocol: next.protocol,
      socket: next.socket,
      peer: next.peer,
      local: next.local,
      hopLimit: next.hopLimit,
      iface: next.iface,
    });
    // The new ring numbered its interfaces in the order it met them.
    this.interfaceNames.length = 0;
    this.interfaceIndexes.clear();
    for (const name of next.interfaceNames) this.interfaceIndex(name);
  }

  // ---- reading -------------------------------------------------------------------

  /** A view of the packet's bytes (valid until the next append); null when the id is gone. */
  bytes(id: number): Uint8Array | null {
    if (!this.has(id)) return null;
    const slot = id % this.capacityValue;
    return this.arena.subarray(this.offset[slot], this.offset[slot] + this.length[slot]);
  }

  /** The packet is still in the log and its bytes are exactly these (compared in place). */
  holds(id: number, bytes: Uint8Array): boolean {
    if (!this.has(id)) return false;
    const slot = id % this.capacityValue;
    const length = bytes.length;
    if (this.length[slot] !== length) return false;
    const arena = this.arena;
    const at = this.offset[slot];
    for (let i = 0; i < length; i++) if (arena[at + i] !== bytes[i]) return false;
    return true;
  }

  timeOf(id: number): number {
    return this.time[id % this.capacityValue];
  }

  directionOf(id: number): DirectionCode {
    return this.direction[id % this.capacityValue] as DirectionCode;
  }

  familyOf(id: number): 4 | 6 {
    return this.family[id % this.capacityValue] as 4 | 6;
  }

  protocolOf(id: number): number {
    return this.protocol[id % this.capacityValue];
  }

  startsWithIpHeader(id: number): boolean {
    return (this.layout[id % this.capacityValue] & LAYOUT_IP) !== 0;
  }

  /** Imported from a file (with or without a direction from it). */
  isImported(id: number): boolean {
    const slot = id % this.capacityValue;
    return this.direction[slot] === DIRECTION_IMPORTED || (this.layout[slot] & LAYOUT_IMPORTED) !== 0;
  }

  /** The TTL / hop limit a headerless packet was sent or received with; undefined when unknown. */
  hopLimitOf(id: number): number | undefined {
    const value = this.hopLimit[id % this.capacityValue];
    return value < 0 ? undefined : value;
  }

  /** The socket index the packet was logged under (-1: none). */
  socketOf(id: number): number {
    return this.socket[id % this.capacityValue];
  }

  /** The socket id for a socket index, null for -1. */
  socketIdOf(index: number): string | null {
    return index < 0 ? null : (this.socketIds[index] ?? null);
  }

  interfaceOf(id: number): string | null {
    const index = this.iface[id % this.capacityValue];
    return index < 0 ? null : this.interfaceNames[index];
  }

  /** Source and destination ('' where unknown). */
  addresses(id: number): { source: string; destination: string } {
    const slot = id % this.capacityValue;
    const at = this.offset[slot];
    const length = this.length[slot];
    const family = this.family[slot];
    if (this.layout[slot] & LAYOUT_IP) {
      if (family === 4 && length >= 20) return { source: formatIpv4At(this.arena, at + 12), destination: formatIpv4At(this.arena, at + 16) };
      if (family === 6 && length >= 40) return { source: formatIpv6At(this.arena, at + 8), destination: formatIpv6At(this.arena, at + 24) };
      return { source: '', destination: '' };
    }
    const format = family === 4 ? (b: Uint8Array, o: number) => formatIpv4At(b, o) : formatIpv6At;
    const peer = format(this.peer, slot * 16);
    const local = this.layout[slot] & LAYOUT_LOCAL ? format(this.local, slot * 16) : '';
    return this.direction[slot] === DIRECTION_SENT ? { source: local, destination: peer } : { source: peer, destination: local };
  }

  row(id: number): LogRow | null {
    if (!this.has(id)) return null;
    const slot = id % this.capacityValue;
    const at = this.offset[slot];
    const length = this.length[slot];
    const protocol = this.protocol[slot];
    let transportStart = at;
    if (this.layout[slot] & LAYOUT_IP) {
      const ip = ipHeaderFacts(this.arena.subarray(at, at + length));
      transportStart = ip ? at + ip.headerLength : at + length;
    }
    const { source, destination } = this.addresses(id);
    const socket = this.socket[slot];
    return {
      id,
      time: this.time[slot],
      direction: directionNames[this.direction[slot]],
      socketId: socket < 0 ? null : (this.socketIds[socket] ?? null),
      family: this.family[slot] === 4 ? 'ipv4' : 'ipv6',
      source,
      destination,
      protocol: protocolLabel(protocol),
      length,
      info: transportInfo(protocol, this.arena, transportStart, at + length),
      ...(this.iface[slot] >= 0 ? { interface: this.interfaceNames[this.iface[slot]] } : {}),
      ...(this.layout[slot] & LAYOUT_IMPORTED ? { imported: true as const } : {}),
    };
  }

  // ---- the arena ----------------------------------------------------------------------

  private evictOldest(): void {
    if (this.countValue === 0) return;
    this.countValue--;
    this.evictedValue++;
    if (this.countValue === 0) {
      this.readPos = 0;
      this.writePos = 0;
      this.wrapped = false;
      return;
    }
    const nextOffset = this.offset[this.oldestId % this.capacityValue];
    if (nextOffset < this.readPos) this.wrapped = false;
    this.readPos = nextOffset;
  }

  /** Where `length` bytes go; evicts the oldest packets (or grows the arena) to make room. */
  private place(length: number): number {
    for (;;) {
      if (this.countValue === 0) {
        if (length > this.arena.length) this.grow(length);
        this.readPos = 0;
        this.writePos = 0;
        this.wrapped = false;
        return 0;
      }
      if (!this.wrapped) {
        if (this.writePos + length <= this.arena.length) return this.writePos;
        if (length <= this.readPos) {
          this.wrapped = true;
          return 0;
        }
      } else if (this.writePos + length <= this.readPos) {
        return this.writePos;
      }
      if (this.arena.length < this.maxBytes) this.grow(length);
      else this.evictOldest();
    }
  }

  /** A larger arena (doubling, up to maxBytes) holding the live packets from offset 0, oldest first. */
  private grow(atLeast: number): void {
    const used = this.usedBytes();
    let size = Math.max(this.arena.length * 2, MIN_ARENA);
    while (size < used + atLeast && size < this.maxBytes) size *= 2;
    size = Math.max(Math.min(size, this.maxBytes), atLeast);
    const arena = new Uint8Array(size);
    let at = 0;
    for (let id = this.oldestId; id < this.nextIdValue; id++) {
      const slot = id % this.capacityValue;
      const length = this.length[slot];
      arena.set(this.arena.subarray(this.offset[slot], this.offset[slot] + length), at);
      this.offset[slot] = at;
      at += length;
    }
    this.arena = arena;
    this.readPos = 0;
    this.writePos = at;
    this.wrapped = false;
  }

  private usedBytes(): number {
    let used = 0;
    for (let id = this.oldestId; id < this.nextIdValue; id++) used += this.length[id % this.capacityValue];
    return used;
  }

  private interfaceIndex(name: string): number {
    let index = this.interfaceIndexes.get(name);
    if (index === undefined) {
      // An Int16Array slot holds the index; past that many names, new ones are not kept.
      if (this.interfaceNames.length >= 0x7fff) return -1;
      index = this.interfaceNames.length;
      this.interfaceNames.push(name);
      this.interfaceIndexes.set(name, index);
    }
    return index;
  }

  private writeAddress(target: Uint8Array, slot: number, address: string | null): boolean {
    target.fill(0, slot * 16, slot * 16 + 16);
    if (address === null) return false;
    let bytes = this.addressCache.get(address);
    if (bytes === undefined) {
      try {
        bytes = parseIpAddress(address);
      } catch {
        bytes = null;
      }
      if (this.addressCache.size >= ADDRESS_CACHE_LIMIT) this.addressCache.clear();
      this.addressCache.set(address, bytes);
    }
    if (bytes === null) return false;
    target.set(bytes, slot * 16);
    return true;
  }
}

function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`The log capacity must be a positive integer, got ${capacity}`);
  return capacity;
}
