// Variable fields (Ostinato's "variable fields"): a layer stack and the fields that change from
// packet to packet, compiled once into a plan of bit offsets, value rules and the checksums each
// field is covered by. writeVariant(plan, k, target) then turns a copy of the template into packet
// k without allocating: it writes the varied fields and updates every checksum that covers them
// incrementally (RFC 1624: the one's-complement sum changes by the difference of the words),
// including pseudo-header checksums when an IP address varies. A checksum set by hand stays as given.

import { formatIpv6, parseIpv4, parseIpv6 } from './address';
import { build, resolveLayer, type BuildOptions } from './build';
import { endpointsFromOptions } from './checksum';
import { fieldApplies, readBits, type FieldDescription } from './fields';
import type { LayerDefinition, PacketStack } from './layer';
import { isHeaderKind } from './registry';

export type VariationMode = 'increment' | 'decrement' | 'random' | 'list';

export interface VariationSpec {
  /** Index of the layer in the stack. */
  readonly layer: number;
  /** A numeric or address field of that layer. */
  readonly field: string;
  readonly mode: VariationMode;
  /** increment/decrement: per packet (default 1). */
  readonly step?: number;
  /** increment/decrement: values before it starts over at the packet's own value; random: values drawn from [own value, own value + count). */
  readonly count?: number;
  /** list: the values in turn. */
  readonly values?: readonly (number | string)[];
}

/** A variation that cannot be planned; `path` names the part at fault ('variations.0.field'). */
export class VariationError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'VariationError';
  }
}

const MODE_INCREMENT = 0;
const MODE_DECREMENT = 1;
const MODE_RANDOM = 2;
const MODE_LIST = 3;
const MODES: Record<VariationMode, number> = { increment: MODE_INCREMENT, decrement: MODE_DECREMENT, random: MODE_RANDOM, list: MODE_LIST };

interface PlannedField {
  readonly name: string;
  /** Absolute bit offset and width of the part written (an IPv6 address: its low 32 bits). */
  readonly bitOffset: number;
  readonly bitWidth: number;
  /** The values run over [0, size): size = 2^bitWidth, mask = size - 1 (as an int32 for widths of 32). */
  readonly size: number;
  readonly mask: number;
  /** The packet's own value (from the template). */
  readonly base: number;
  readonly mode: number;
  readonly step: number;
  /** 0: no count (wraps at the field's range). */
  readonly count: number;
  readonly list: Float64Array;
  readonly salt: number;
}

interface PlannedChecksum {
  /** Byte offset of the 16-bit checksum field. */
  readonly at: number;
  /** Where the summed bytes start (word parity is counted from here). */
  readonly coverStart: number;
  /** The template's one's-complement sum (checksum field as 0), ≡ ~checksum. */
  readonly baseSum: number;
  readonly zeroMeansNone: boolean;
  /** Byte spans [start, end) that may differ from the template, in the covered bytes. */
  readonly spans: Int32Array;
  /** Address spans [start, end) in the packet that sit in this checksum's pseudo header (word parity from the span start). */
  readonly pseudo: Int32Array;
}

export interface VariationPlan {
  /** Packet 0 without variation: the stack as build() makes it. Every target starts as a copy of it. */
  readonly template: Uint8Array;
  readonly fields: readonly PlannedField[];
  /** Innermost first, so that an outer checksum sees the inner ones already written. */
  readonly checksums: readonly PlannedChecksum[];
  /** The outermost IP header's destination varies: its byte offset and family (the send address must follow). */
  readonly destination: { readonly at: number; readonly family: 4 | 6 } | null;
  /** Words for people, one per variation: 'sequence +1', 'src random', 'ttl list of 3'. */
  readonly descriptions: readonly string[];
  /** Random values are a function of (seed, k, field): the same plan writes the same packet k. */
  readonly seed: number;
}

/** Fields of this layer kind's definition that may vary (applying to these values). */
function variableFields(definition: LayerDefinition, values: Readonly<Record<string, unknown>>): FieldDescription[] {
  const selectors = new Set(definition.fields.map((field) => field.when?.field).filter((name) => name !== undefined));
  return definition.fields.filter(
    (field) =>
      fieldApplies(field, values as never) &&
      !selectors.has(field.name) &&
      field.bitWidth > 0 &&
      (field.type === 'uint' || field.type === 'enum' || field.type === 'flags' || field.type === 'ipv4' || field.type === 'ipv6'),
  );
}

/** Names of the fields that may vary in a layer of a stack (for forms and error messages). */
export function variableFieldNames(stack: PacketStack, layer: number): string[] {
  const spec = stack[layer];
  if (!spec || !isHeaderKind(spec.kind)) return [];
  const resolved = resolveLayer(spec, layer);
  if (resolved.kind === 'payload') return [];
  return variableFields(resolved.definition, resolved.values).map((field) => field.name);
}

/** The default for a packet sent more than once: an ICMP/ICMPv6 echo request increments its sequence. */
export function defaultVariations(stack: PacketStack): VariationSpec[] {
  for (let i = 0; i < stack.length; i++) {
    const spec = stack[i];
    if (spec.kind !== 'icmp' && spec.kind !== 'icmpv6') continue;
    const type = spec.fields?.type ?? (spec.kind === 'icmp' ? 8 : 128);
    if (type === (spec.kind === 'icmp' ? 8 : 128)) return [{ layer: i, field: 'sequence', mode: 'increment' }];
    return [];
  }
  return [];
}

/** Words for a variation: 'sequence +1', 'ttl -2 (10 values)', 'src random', 'dstPort list of 3'. */
export function describeVariation(variation: VariationSpec): string {
  const count = variation.count !== undefined ? ` (${variation.count} values)` : '';
  switch (variation.mode) {
    case 'increment':
      return `${variation.field} +${variation.step ?? 1}${count}`;
    case 'decrement':
      return `${variation.field} -${variation.step ?? 1}${count}`;
    case 'random':
      return `${variation.field} random${count}`;
    case 'list':
      return `${variation.field} list of ${variation.values?.length ?? 0}`;
  }
}

/**
 * Compiles a stack and its variations into a plan. Throws what build() throws for a bad stack, and a
 * VariationError naming the variation for a bad one (unknown field, with the layer's variable fields).
 */
export function planVariations(stack: PacketStack, variations: readonly VariationSpec[], options: BuildOptions = {}, seed = (Math.random() * 2 ** 32) >>> 0): VariationPlan {
  const template = build(stack, options);
  const layers = stack.map(resolveLayer);
  // Where each layer starts, and which IP layer's addresses its pseudo header takes (-1: options, -2: none).
  const starts: number[] = [];
  const ends: number[] = [];
  let at = 0;
  for (const layer of layers) {
    starts.push(at);
    if (layer.kind === 'payload') at += layer.data.length;
    else {
      const options = layer.definition.fields.find((field) => field.bitWidth === 0);
      const optionBytes = options ? (layer.values[options.name] as Uint8Array).length : 0;
      at += layer.definition.minHeaderLength + Math.ceil(optionBytes / 4) * 4;
    }
    ends.push(at);
  }
  const enclosingIp: number[] = [];
  let ip = endpointsFromOptions(options) ? -1 : -2;
  layers.forEach((layer, index) => {
    enclosingIp.push(ip);
    if (layer.kind !== 'payload' && layer.definition.endpoints) ip = index;
  });

  const fields: PlannedField[] = [];
  const spans: { layer: number; start: number; end: number; address: boolean; name: string }[] = [];
  let destination: VariationPlan['destination'] = null;
  const taken = new Set<string>();
  variations.forEach((variation, index) => {
    const path = `variations.${index}`;
    const layer = layers[variation.layer];
    if (!layer) throw new VariationError(`there is no layer ${variation.layer}: the packet has layers 0 to ${layers.length - 1}`, `${path}.layer`);
    if (layer.kind === 'payload') throw new VariationError(`layer ${variation.layer} is a payload: only header fields vary`, `${path}.layer`);
    const candidates = variableFields(layer.definition, layer.values);
    const field = candidates.find((candidate) => candidate.name === variation.field);
    if (!field) {
      const selector = layer.definition.fields.some((other) => other.when?.field === variation.field);
      const where = `layer ${variation.layer} (${layer.definition.name})`;
      const why = selector ? `${where}: ${variation.field} decides which fields the header has, so it cannot vary (send a stream of packets instead)` : `${where} has no variable field '${variation.field}'`;
      throw new VariationError(`${why}; ${layer.definition.name} has: ${candidates.map((candidate) => candidate.name).join(', ')}`, `${path}.field`);
    }
    const key = `${variation.layer}.${field.name}`;
    if (taken.has(key)) throw new VariationError(`${layer.definition.name} ${field.name} varies twice`, `${path}.field`);
    taken.add(key);
    const start = starts[variation.layer] + field.bitOffset / 8;
    const address = field.type === 'ipv4' || field.type === 'ipv6';
    const bitOffset = starts[variation.layer] * 8 + field.bitOffset + (field.type === 'ipv6' ? 96 : 0);
    const bitWidth = field.type === 'ipv6' ? 32 : field.bitWidth;
    // Every numeric field takes its bit width's whole range (0 to 2^width - 1): the masks below rely on it.
    const size = 2 ** bitWidth;
    const base = readBits(template, bitOffset, bitWidth);
    const list = new Float64Array(variation.mode === 'list' ? (variation.values?.length ?? 0) : 0);
    if (variation.mode === 'list') {
      if (!variation.values || variation.values.length === 0) throw new VariationError("mode 'list' needs values", `${path}.values`);
      variation.values.forEach((value, i) => {
        list[i] = listValue(value, field, template, start, size, `${path}.values.${i}`);
      });
    }
    if (variation.step !== undefined && (!Number.isInteger(variation.step) || variation.step < 1 || variation.step > 0xffffffff)) {
      throw new VariationError(`step must be an integer from 1 to 4294967295, got ${variation.step}`, `${path}.step`);
    }
    if (variation.count !== undefined && (!Number.isInteger(variation.count) || variation.count < 1)) {
      throw new VariationError(`count must be an integer of at least 1, got ${variation.count}`, `${path}.count`);
    }
    fields.push({
      name: field.name,
      bitOffset,
      bitWidth,
      size,
      mask: (size - 1) | 0,
      base,
      mode: MODES[variation.mode],
      step: variation.step ?? 1,
      count: variation.count ?? 0,
      list,
      salt: Math.imul(index + 1, 0x85ebca6b),
    });
    spans.push({ layer: variation.layer, start, end: start + Math.ceil(((field.bitOffset % 8) + field.bitWidth) / 8), address, name: field.name });
    if (address && field.name === 'dst' && variation.layer === firstIpLayer(layers)) destination = { at: start, family: field.type === 'ipv4' ? 4 : 6 };
  });

  // Checksums: each header's own, if build computed it (not set by hand, addresses known for a pseudo header).
  const checksums: PlannedChecksum[] = [];
  const updated: { at: number; layer: number }[] = [];
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    if (layer.kind === 'payload' || !layer.definition.checksum) continue;
    const rule = layer.definition.checksum;
    const field = layer.definition.fields.find((candidate) => candidate.automatic === 'checksum');
    // Set by hand, or varied itself: kept as given.
    if (!field || layer.setByHand.has(field.name) || taken.has(`${i}.${field.name}`)) continue;
    if (rule.pseudoHeaderProtocol !== undefined && enclosingIp[i] === -2) continue;
    const coverStart = starts[i];
    const coverEnd = rule.covers === 'header' ? ends[i] : template.length;
    const checksumAt = coverStart + field.bitOffset / 8;
    const inside = (start: number): boolean => start >= coverStart && start < coverEnd && start !== checksumAt;
    const own: [number, number][] = [];
    for (const span of spans) if (inside(span.start)) own.push([span.start, span.end]);
    for (const inner of updated) if (inside(inner.at)) own.push([inner.at, inner.at + 2]);
    const pseudo: [number, number][] = [];
    const ipLayer = enclosingIp[i];
    if (rule.pseudoHeaderProtocol !== undefined && ipLayer >= 0) {
      for (const span of spans) if (span.layer === ipLayer && span.address && (span.name === 'src' || span.name === 'dst')) pseudo.push([span.start, span.end]);
    }
    if (own.length === 0 && pseudo.length === 0) continue;
    const value = (template[checksumAt] << 8) | template[checksumAt + 1];
    checksums.push({ at: checksumAt, coverStart, baseSum: ~value & 0xffff, zeroMeansNone: rule.zeroMeansNone === true, spans: merged(own), pseudo: merged(pseudo) });
    updated.push({ at: checksumAt, layer: i });
  }
  return { template, fields, checksums, destination, descriptions: variations.map(describeVariation), seed: seed >>> 0 };
}

/** Spans as [start, end, start, end…], overlaps joined: bit fields sharing a byte count it once. */
function merged(spans: [number, number][]): Int32Array {
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [start, end] of sorted) {
    if (out.length > 0 && start <= out[out.length - 1]) out[out.length - 1] = Math.max(out[out.length - 1], end);
    else out.push(start, end);
  }
  return Int32Array.from(out);
}

function firstIpLayer(layers: readonly ReturnType<typeof resolveLayer>[]): number {
  return layers.length > 0 && layers[0].kind !== 'payload' && layers[0].definition.endpoints ? 0 : -1;
}

/** A list value as a number in the field's range; an IPv6 address must share its first 96 bits with the packet's own. */
function listValue(value: number | string, field: FieldDescription, template: Uint8Array, start: number, size: number, path: string): number {
  if (field.type === 'ipv4' && typeof value === 'string') {
    try {
      const bytes = parseIpv4(value);
      return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
    } catch (error) {
      throw new VariationError((error as Error).message, path);
    }
  }
  if (field.type === 'ipv6' && typeof value === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = parseIpv6(value);
    } catch (error) {
      throw new VariationError((error as Error).message, path);
    }
    for (let i = 0; i < 12; i++) {
      if (bytes[i] !== template[start + i]) {
        const prefix = formatIpv6(Uint8Array.from([...template.subarray(start, start + 12), 0, 0, 0, 0]));
        throw new VariationError(`${value}: only the low 32 bits of an IPv6 address vary; the first 96 must be those of the packet's ${field.name} (${prefix})`, path);
      }
    }
    return ((bytes[12] << 24) | (bytes[13] << 16) | (bytes[14] << 8) | bytes[15]) >>> 0;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > size - 1) {
    const what = field.type === 'ipv4' ? 'an IPv4 address or a number' : field.type === 'ipv6' ? 'an IPv6 address or a number (its low 32 bits)' : 'an integer';
    throw new VariationError(`${field.name} takes ${what} from 0 to ${size - 1}, got ${JSON.stringify(value)}`, path);
  }
  return value;
}

/** The value of a planned field in packet k. */
export function variantValue(field: PlannedField, k: number, seed: number): number {
  switch (field.mode) {
    case MODE_LIST:
      return field.list[k % field.list.length];
    case MODE_RANDOM: {
      const offset = Math.floor((mix32(k, seed ^ field.salt) / 4294967296) * Math.min(field.count || field.size, field.size));
      return ((field.base + offset) & field.mask) >>> 0;
    }
    default: {
      const n = (field.count ? k % field.count : k) >>> 0;
      // Low 32 bits of n * step, then of the sum: exact modulo 2^width for every width up to 32 bits.
      const offset = Math.imul(n, field.step | 0);
      return ((field.mode === MODE_INCREMENT ? field.base + offset : field.base - offset) & field.mask) >>> 0;
    }
  }
}

/** fields.ts writeBits for values below 2^32, in integer operations only (it runs per packet and field). */
function writeUint(target: Uint8Array, bitOffset: number, bitWidth: number, value: number): void {
  if ((bitOffset & 7) === 0 && (bitWidth & 7) === 0) {
    let rest = value >>> 0;
    for (let at = (bitOffset + bitWidth) / 8 - 1; at >= bitOffset >> 3; at--) {
      target[at] = rest & 0xff;
      rest >>>= 8;
    }
    return;
  }
  const bits = value >>> 0;
  for (let i = 0; i < bitWidth; i++) {
    const bit = bitOffset + i;
    const mask = 1 << (7 - (bit & 7));
    if ((bits >>> (bitWidth - 1 - i)) & 1) target[bit >> 3] |= mask;
    else target[bit >> 3] &= ~mask;
  }
}

/** murmur3's finalizer over (k, seed): uniform 32-bit values, the same for the same k. */
function mix32(k: number, seed: number): number {
  let h = (Math.imul(k >>> 0, 0x9e3779b1) ^ seed) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Writes packet k of the plan into target, which must hold a copy of plan.template (only the varied
 * fields and the checksums covering them are rewritten, so a slot is copied once). Allocates nothing.
 */
export function writeVariant(plan: VariationPlan, k: number, target: Uint8Array): void {
  const fields = plan.fields;
  const seed = plan.seed;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    writeUint(target, field.bitOffset, field.bitWidth, variantValue(field, k, seed));
  }
  const template = plan.template;
  const checksums = plan.checksums;
  for (let c = 0; c < checksums.length; c++) {
    const checksum = checksums[c];
    let delta = 0;
    const spans = checksum.spans;
    for (let s = 0; s < spans.length; s += 2) {
      for (let p = spans[s]; p < spans[s + 1]; p++) {
        const d = target[p] - template[p];
        if (d !== 0) delta += (p - checksum.coverStart) & 1 ? d : d * 256;
      }
    }
    const pseudo = checksum.pseudo;
    for (let s = 0; s < pseudo.length; s += 2) {
      for (let p = pseudo[s]; p < pseudo[s + 1]; p++) {
        const d = target[p] - template[p];
        if (d !== 0) delta += (p - pseudo[s]) & 1 ? d : d * 256;
      }
    }
    // One's-complement sums are sums modulo 0xffff, with 0 written as 0xffff.
    let sum = (checksum.baseSum + delta) % 0xffff;
    if (sum <= 0) sum += 0xffff;
    let value = ~sum & 0xffff;
    if (value === 0 && checksum.zeroMeansNone) value = 0xffff;
    target[checksum.at] = value >> 8;
    target[checksum.at + 1] = value & 0xff;
  }
}
