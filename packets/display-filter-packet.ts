// What a display filter reads from: a packet's bytes plus what the log knows beside them,
// and where each header starts. The walk follows decode()'s rules (header lengths, length
// fields, what follows a header, the packet an ICMP error quotes) but builds no field list,
// no display text, no checksum verdict and no object per layer: a filter runs over 100,000
// logged packets.
import { parseIpv4, parseIpv6 } from './address';
import { readBits, type FieldDescription } from './fields';
import type { HeaderKind } from './layer';
import { layerKindForProtocol } from './protocols';
import { layerKinds } from './registry';

/** A packet as the display filter sees it. */
export interface FilterPacket {
  /** The bytes as logged. */
  readonly bytes: Uint8Array;
  /**
   * What the bytes start with: 'auto' for an IPv4/IPv6 header (from the version nibble), or the
   * header of a packet logged without its IP header (IPv6 raw and ICMP datagram sockets), or 'payload'.
   */
  readonly first: HeaderKind | 'payload' | 'auto';
  /** Packets without an IP header: the family and addresses the log keeps beside them ('' when unknown). */
  readonly family?: 4 | 6;
  readonly source?: string;
  readonly destination?: string;
  /** The log row's number, direction ('sent', 'received', 'imported') and socket. */
  readonly number?: number;
  readonly direction?: string;
  readonly socket?: string | null;
  /** Request/response links of the row. */
  readonly match?: { readonly requestId?: number; readonly replyId?: number; readonly rttMs?: number };
}

const MAX_LAYERS = 16;
const MAX_DEPTH = 8;

/** The headers found in one packet; reused from packet to packet. */
export class PacketLayers {
  count = 0;
  readonly kinds: (HeaderKind | 'data')[] = new Array(MAX_LAYERS);
  /** Where the header starts, and where the bytes it may read end (its packet's length or the capture). */
  readonly starts = new Int32Array(MAX_LAYERS);
  readonly limits = new Int32Array(MAX_LAYERS);
  /** Where the header ends (options included), or -1 when the bytes end inside it. */
  readonly ends = new Int32Array(MAX_LAYERS);
  /** An IP layer made up from the log's addresses (the packet was logged without its IP header). */
  readonly pseudo = new Uint8Array(MAX_LAYERS);
  bytes: Uint8Array = new Uint8Array(0);
  packet: FilterPacket | null = null;
  private readonly addressCache = new Map<string, Uint8Array | null>();

  read(packet: FilterPacket): this {
    this.count = 0;
    this.packet = packet;
    const bytes = packet.bytes;
    this.bytes = bytes;
    let first = packet.first;
    if (first === 'auto') {
      const version = bytes.length > 0 ? bytes[0] >> 4 : 0;
      if (version !== 4 && version !== 6) return this;
      first = version === 4 ? 'ipv4' : 'ipv6';
    } else if (packet.family === 4 || packet.family === 6) {
      this.push(packet.family === 4 ? 'ipv4' : 'ipv6', 0, 0, true);
    }
    this.walk(first, 0, bytes.length, 0);
    return this;
  }

  /** The address bytes of a made-up IP layer: the packet's source or destination, parsed once per address. */
  pseudoAddress(which: 'src' | 'dst'): Uint8Array | null {
    const text = which === 'src' ? this.packet?.source : this.packet?.destination;
    if (!text) return null;
    let bytes = this.addressCache.get(text);
    if (bytes === undefined) {
      try {
        bytes = text.includes(':') ? parseIpv6(text) : parseIpv4(text);
      } catch {
        bytes = null;
      }
      if (this.addressCache.size >= 1024) this.addressCache.clear();
      this.addressCache.set(text, bytes);
    }
    return bytes;
  }

  private push(kind: HeaderKind | 'data', start: number, limit: number, pseudo: boolean): void {
    if (this.count >= MAX_LAYERS) return;
    this.kinds[this.count] = kind;
    this.starts[this.count] = start;
    this.limits[this.count] = limit;
    this.ends[this.count] = -1;
    this.pseudo[this.count] = pseudo ? 1 : 0;
    this.count++;
  }

  private walk(kind: HeaderKind | 'payload', start: number, end: number, depth: number): void {
    if (start >= end) return;
    if (kind === 'payload' || depth >= MAX_DEPTH) {
      this.push('data', start, end, false);
      return;
    }
    this.push(kind, start, end, false);
    const index = this.count - 1;
    const available = end - start;
    const minimum = layerKinds[kind].minHeaderLength;
    if (available < minimum) return;
    const { headerLength, total, next } = shapeOf(kind, this.bytes, start);
    if (headerLength < minimum || headerLength > available) return;
    this.ends[index] = start + headerLength;
    const payloadEnd = total >= headerLength && total <= available ? start + total : end;
    this.walk(next, start + headerLength, payloadEnd, depth + 1);
  }
}

/** The layer after an IP header, by protocol number (what layerKindForProtocol says, as a table). */
const kindOfProtocol: (HeaderKind | 'payload')[] = Array.from({ length: 256 }, (_, protocol) => layerKindForProtocol(protocol));
/** The layer after an ICMP / ICMPv6 header, by type (what their next() says, as a table). */
const afterIcmp = {
  icmp: Array.from({ length: 256 }, (_, type) => layerKinds.icmp.next({ type }).kind),
  icmpv6: Array.from({ length: 256 }, (_, type) => layerKinds.icmpv6.next({ type }).kind),
};

const shape = { headerLength: 0, total: -1, next: 'payload' as HeaderKind | 'payload' };

/**
 * A header's length, the length its length field claims (-1: none) and what follows it, read
 * straight from the bytes: the layer definitions' rules (declaredHeaderLength, declaredTotalLength,
 * next) without building their values objects. display-filter.test.ts checks the walk against decode().
 */
export function shapeOf(kind: HeaderKind, bytes: Uint8Array, at: number): typeof shape {
  switch (kind) {
    case 'ipv4':
      shape.headerLength = (bytes[at] & 0x0f) * 4;
      shape.total = (bytes[at + 2] << 8) | bytes[at + 3];
      // Only the first fragment starts with the next header.
      shape.next = (((bytes[at + 6] & 0x1f) << 8) | bytes[at + 7]) > 0 ? 'payload' : kindOfProtocol[bytes[at + 9]];
      break;
    case 'ipv6':
      shape.headerLength = 40;
      shape.total = 40 + ((bytes[at + 4] << 8) | bytes[at + 5]);
      shape.next = kindOfProtocol[bytes[at + 6]];
      break;
    case 'icmp':
    case 'icmpv6':
      shape.headerLength = 8;
      shape.total = -1;
      shape.next = afterIcmp[kind][bytes[at]];
      break;
    case 'udp':
      shape.headerLength = 8;
      shape.total = (bytes[at + 4] << 8) | bytes[at + 5];
      shape.next = 'payload';
      break;
    case 'tcp':
      shape.headerLength = (bytes[at + 12] >> 4) * 4;
      shape.total = -1;
      shape.next = 'payload';
      break;
  }
  return shape;
}

/**
 * Reads one field of layer `index`: a number, address bytes (a view), or undefined when the
 * field does not apply (an ICMP identifier on a Time Exceeded) or was not captured.
 */
export function readLayerField(layers: PacketLayers, index: number, fields: readonly FieldDescription[]): number | Uint8Array | undefined {
  const kind = layers.kinds[index];
  if (layers.pseudo[index]) {
    const name = fields[0].name;
    return name === 'src' || name === 'dst' ? (layers.pseudoAddress(name) ?? undefined) : undefined;
  }
  const start = layers.starts[index];
  const availableBits = (layers.limits[index] - start) * 8;
  const bytes = layers.bytes;
  for (const field of fields) {
    if (field.when && !conditionHolds(layers, index, kind as HeaderKind, field)) continue;
    if (field.bitWidth === 0) {
      // The options field: from the fixed header's end to the header length; absent when empty.
      const from = start + field.bitOffset / 8;
      const to = layers.ends[index];
      return to > from ? bytes.subarray(from, to) : undefined;
    }
    if (field.bitOffset + field.bitWidth > availableBits) return undefined;
    const byte = start + field.bitOffset / 8;
    if (field.type === 'ipv4') return bytes.subarray(byte, byte + 4);
    if (field.type === 'ipv6') return bytes.subarray(byte, byte + 16);
    if (field.type === 'bytes') return bytes.subarray(byte, byte + field.bitWidth / 8);
    return readBits(bytes, start * 8 + field.bitOffset, field.bitWidth);
  }
  return undefined;
}

/** The field each conditional field depends on (ICMP's type), found once. */
const selectors = new Map<FieldDescription, FieldDescription | null>();

function conditionHolds(layers: PacketLayers, index: number, kind: HeaderKind, field: FieldDescription): boolean {
  const condition = field.when!;
  let selector = selectors.get(field);
  if (selector === undefined) {
    selector = layerKinds[kind].fields.find((candidate) => candidate.name === condition.field && !candidate.when) ?? null;
    selectors.set(field, selector);
  }
  if (!selector) return false;
  const start = layers.starts[index];
  if (selector.bitOffset + selector.bitWidth > (layers.limits[index] - start) * 8) return false;
  const value = readBits(layers.bytes, start * 8 + selector.bitOffset, selector.bitWidth);
  if (condition.in && !condition.in.includes(value)) return false;
  return !condition.notIn?.includes(value);
}
