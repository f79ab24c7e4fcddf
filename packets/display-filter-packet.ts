// What a display filter reads from: a packet's bytes plus what the log knows beside them,
// and where each header starts. The walk follows decode()'s rules (header lengths, length
// fields, what follows a header, the packet an ICMP error quotes) but builds no field list,
// no display text and no checksum verdict: a filter runs over 100,000 logged packets.
import { parseIpv4, parseIpv6 } from './address';
import { fieldApplies, readBits, type FieldDescription, type FieldValues } from './fields';
import type { HeaderKind } from './layer';
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
    const definition = layerKinds[kind];
    this.push(kind, start, end, false);
    const index = this.count - 1;
    const available = end - start;
    if (available < definition.minHeaderLength) return;
    // The numeric fields decide what follows; addresses are read only when a filter asks.
    const values: FieldValues = {};
    for (const field of definition.fields) {
      if (field.type === 'ipv4' || field.type === 'ipv6' || field.type === 'bytes' || !fieldApplies(field, values)) continue;
      values[field.name] = readBits(this.bytes, start * 8 + field.bitOffset, field.bitWidth);
    }
    const headerLength = definition.declaredHeaderLength?.(values) ?? definition.minHeaderLength;
    if (headerLength < definition.minHeaderLength || headerLength > available) return;
    this.ends[index] = start + headerLength;
    let payloadEnd = end;
    const declared = definition.declaredTotalLength?.(values);
    if (declared !== undefined && declared >= headerLength && declared <= available) payloadEnd = start + declared;
    this.walk(definition.next(values).kind, start + headerLength, payloadEnd, depth + 1);
  }
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

function conditionHolds(layers: PacketLayers, index: number, kind: HeaderKind, field: FieldDescription): boolean {
  const condition = field.when!;
  const selector = layerKinds[kind].fields.find((candidate) => candidate.name === condition.field && !candidate.when);
  if (!selector) return false;
  const start = layers.starts[index];
  if (selector.bitOffset + selector.bitWidth > (layers.limits[index] - start) * 8) return false;
  return fieldApplies(field, { [condition.field]: readBits(layers.bytes, start * 8 + selector.bitOffset, selector.bitWidth) });
}
