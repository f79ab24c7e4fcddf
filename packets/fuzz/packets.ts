// Fuzz inputs and properties for the packet decoder, layer by layer: random, built (by the
// builder, with options and ICMP errors quoting a packet), mutated and truncated bytes.

import { createChecksum } from '@packet-workbench/raw-socket';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../address';
import { build } from '../build';
import { endpointsFromOptions, internetChecksum, pseudoHeader, type IpEndpoints } from '../checksum';
import { decode, type DecodeOptions } from '../decode';
import { fieldApplies, type FieldValues } from '../fields';
import type { ByteRange, DecodedHeaderLayer, DecodedLayer, HeaderKind, LayerSpec } from '../layer';
import { encodeTcpOptions, type TcpOption } from '../options';
import { layerKinds } from '../registry';
import { describePacket } from '../summary';
import { concat, mutate, Random } from './random';

export class FuzzFailure extends Error {}

/** How often the stronger properties actually applied, so a test can tell they were exercised. */
export const decodeStats = { roundTrips: 0, checksumsCompared: 0 };

function fail(message: string): never {
  throw new FuzzFailure(message);
}

/** Random values for the hand-editable fields of a header; `fixed` wins. */
function randomFields(random: Random, kind: HeaderKind, fixed: FieldValues = {}): FieldValues {
  const values: FieldValues = {};
  for (const field of layerKinds[kind].fields) {
    if (field.automatic || field.name in fixed || field.name === 'version' || field.bitWidth === 0) continue;
    if (!random.chance(0.8)) continue;
    if (field.type === 'ipv4') values[field.name] = formatIpv4(random.bytes(4));
    else if (field.type === 'ipv6') values[field.name] = formatIpv6(random.bytes(16));
    else if (field.range) values[field.name] = Math.min(field.range.max, random.interesting(field.bitWidth));
  }
  return { ...values, ...fixed };
}

function randomTcpOptions(random: Random): Uint8Array {
  const options: TcpOption[] = [];
  const count = random.int(5);
  for (let i = 0; i < count; i++) {
    options.push(
      random.pick<() => TcpOption>([
        () => ({ kind: 'nop' }),
        () => ({ kind: 'mss', value: random.interesting(16) }),
        () => ({ kind: 'windowScale', shift: random.int(16) }),
        () => ({ kind: 'sackPermitted' }),
        () => ({ kind: 'sack', blocks: [[random.next(), random.next()]] }),
        () => ({ kind: 'timestamps', value: random.next(), echo: random.next() }),
        () => ({ kind: 'raw', type: random.between(6, 254), data: random.bytes(random.int(4)) }),
      ])(),
    );
  }
  try {
    return encodeTcpOptions(options);
  } catch {
    return new Uint8Array(0); // over 40 bytes: no options this time
  }
}

/** IPv4 options: a Router Alert, NOPs, or random bytes (which may not parse). */
function randomIpv4Options(random: Random): Uint8Array {
  switch (random.int(4)) {
    case 0:
      return Uint8Array.of(148, 4, 0, 0);
    case 1:
      return Uint8Array.of(1, 1, 1, 0);
    case 2:
      return random.bytes(random.int(11) * 4);
    default:
      return new Uint8Array(0);
  }
}

function ipLayer(random: Random, version: 4 | 6): LayerSpec {
  if (version === 6) return { kind: 'ipv6', fields: randomFields(random, 'ipv6') };
  const fields = randomFields(random, 'ipv4', { flags: random.pick([0, 2]), fragmentOffset: 0 });
  if (random.chance(0.3)) fields.options = randomIpv4Options(random);
  return { kind: 'ipv4', fields };
}

function transport(random: Random, version: 4 | 6, depth: number): LayerSpec[] {
  const icmp = version === 4 ? 'icmp' : 'icmpv6';
  switch (random.int(depth < 2 ? 5 : 3)) {
    case 0:
      return [{ kind: icmp, fields: randomFields(random, icmp, { type: version === 4 ? random.pick([0, 8]) : random.pick([128, 129]) }) }];
    case 1:
      return [{ kind: 'udp', fields: randomFields(random, 'udp') }];
    case 2: {
      const fields = randomFields(random, 'tcp');
      if (random.chance(0.5)) fields.options = randomTcpOptions(random);
      return [{ kind: 'tcp', fields }];
    }
    default: {
      // An ICMP error quoting a whole packet (which the decoder may see cut short).
      const type = version === 4 ? random.pick([3, 4, 5, 11, 12]) : random.pick([1, 2, 3, 4]);
      return [{ kind: icmp, fields: randomFields(random, icmp, { type }) }, ...randomStack(random, version, depth + 1)];
    }
  }
}

export function randomStack(random: Random, version: 4 | 6 = random.chance(0.5) ? 4 : 6, depth = 0): LayerSpec[] {
  const stack = [ipLayer(random, version), ...transport(random, version, depth)];
  const payload = random.bytes(random.chance(0.05) ? random.int(600) : random.int(40));
  return payload.length > 0 ? [...stack, { kind: 'payload', data: payload }] : stack;
}

/** A packet built from a random stack; undefined when the builder refuses the stack (too large). */
export function builtPacket(random: Random): Uint8Array | undefined {
  try {
    return build(randomStack(random));
  } catch {
    return undefined;
  }
}

let pool: Uint8Array[] | undefined;
/** 4096 packets built from fixed seeds: the same in every run, so inputs drawn from it replay. */
function packetPool(): Uint8Array[] {
  return (pool ??= Array.from({ length: 4096 }, (_, k) => builtPacket(new Random(0x5eed, k)) ?? new Uint8Array(0)));
}

/** A built packet: freshly built one time in four, else from the pool. */
export function somePacket(random: Random): Uint8Array {
  return (random.chance(0.25) ? builtPacket(random) : random.pick(packetPool())) ?? new Uint8Array(0);
}

export interface DecodeInput {
  readonly bytes: Uint8Array;
  readonly options: DecodeOptions;
}

const firsts: DecodeOptions['first'][] = ['auto', 'ipv4', 'ipv6', 'icmp', 'icmpv6', 'udp', 'tcp'];

/** The header kind a layer-specific target puts first; 'auto' lets the version nibble pick. */
export function decodeInput(random: Random, first?: HeaderKind): DecodeInput {
  // Building costs as much as decoding: most inputs start from a fixed pool of built packets.
  const built = somePacket(random);
  let bytes: Uint8Array;
  let start = 0;
  switch (random.int(first ? 4 : 5)) {
    case 0:
      bytes = random.bytes(random.int(120));
      break;
    case 1:
      bytes = built;
      break;
    case 2: // truncated
      bytes = built.slice(0, random.int(built.length + 1));
      break;
    case 3:
      bytes = mutate(random, built);
      break;
    default: // a plausible IP version nibble ahead of random bytes
      bytes = concat(Uint8Array.of(random.pick([0x45, 0x46, 0x4f, 0x60, 0x41])), random.bytes(random.int(120)));
  }
  if (first) {
    // Strip the outer IP header so the bytes start with the layer under test.
    const inner = Math.min(bytes.length, bytes[0] >> 4 === 4 ? (bytes[0] & 0xf) * 4 : bytes[0] >> 4 === 6 ? 40 : 0);
    if (random.chance(0.7)) bytes = bytes.slice(inner);
    else start = inner;
    // Below IP, pseudo-header addresses may come as options: valid, of mixed families, or not addresses.
    const addresses = random.pick<[string, string] | undefined>([undefined, ['127.0.0.1', '198.18.0.2'], ['::1', 'fd42::2'], ['127.0.0.1', '::1'], ['nonsense', '1.2.3'], ['', '']]);
    return { bytes, options: { first, start, ...(addresses ? { source: addresses[0], destination: addresses[1] } : {}) } };
  }
  if (random.chance(0.1)) return { bytes, options: { first: random.pick(firsts) } };
  return { bytes, options: {} };
}

/** Every property of decode on one input; throws FuzzFailure naming the first broken one. */
export function checkDecode({ bytes, options }: DecodeInput): void {
  let layers: DecodedLayer[];
  try {
    layers = decode(bytes, options);
  } catch (error) {
    fail(`decode threw: ${(error as Error).stack}`);
  }
  const wellFormed = checkLayers(layers, bytes.length);
  if (typeof describePacket(layers).summary !== 'string') fail('describePacket gave no summary');
  checkChecksums(layers, bytes, options);
  if (wellFormed && (options.start ?? 0) === 0) {
    let rebuilt: Uint8Array;
    try {
      rebuilt = build(stackFromDecoded(layers));
    } catch (error) {
      fail(`build(decode(x)) threw on a well-formed packet: ${(error as Error).message}`);
    }
    if (!sameBytes(rebuilt, bytes)) fail(`build(decode(x)) differs from x:\n  x:       ${hex(bytes)}\n  rebuilt: ${hex(rebuilt)}`);
    decodeStats.roundTrips++;
  }
}

/** Checks ranges and reasons; true when nothing is malformed and no layer reports a problem. */
function checkLayers(layers: readonly DecodedLayer[], length: number): boolean {
  let wellFormed = true;
  for (const layer of layers) {
    checkRange(layer.range, length, `${layer.kind} layer`);
    if (layer.kind === 'malformed') {
      if (/internal decoder error/.test(layer.reason)) fail(`decoder caught its own exception: ${layer.reason}`);
      wellFormed = false;
      continue;
    }
    if (layer.kind === 'payload') {
      if (layer.data.length !== layer.range.end - layer.range.start) fail('payload data length differs from its range');
      if (layer.note) wellFormed = false;
      continue;
    }
    if (layer.problems.length > 0) wellFormed = false;
    for (const field of layer.fields) {
      checkRange(field.range, length, `${layer.name} ${field.name}`);
      if (field.bits) checkRange(field.bits, length * 8, `${layer.name} ${field.name} bits`);
      for (const option of field.options ?? []) checkRange(option.range, length, `${layer.name} option ${option.name}`);
      if (typeof field.display !== 'string') fail(`${layer.name} ${field.name} has no display text`);
    }
    if (layer.quoted && !checkLayers(layer.quoted, length)) wellFormed = false;
  }
  return wellFormed;
}

function checkRange(range: ByteRange, length: number, what: string): void {
  if (!(Number.isInteger(range.start) && Number.isInteger(range.end) && range.start >= 0 && range.start <= range.end && range.end <= length)) {
    fail(`${what} range ${range.start}..${range.end} is outside the ${length}-unit input`);
  }
}

/** The values decode returns, as a stack that build turns back into the same bytes. */
export function stackFromDecoded(layers: readonly DecodedLayer[]): LayerSpec[] {
  return layers.flatMap((layer): LayerSpec[] => {
    if (layer.kind === 'payload' || layer.kind === 'malformed') return [{ kind: 'payload', data: layer.data }];
    const values: FieldValues = {};
    for (const field of layerKinds[layer.kind].fields) if (fieldApplies(field, layer.values) && field.name in layer.values) values[field.name] = layer.values[field.name];
    return [{ kind: layer.kind, fields: values }, ...(layer.quoted ? stackFromDecoded(layer.quoted) : [])];
  });
}

/**
 * A verdict of correct or wrong must agree with two reference sums: the native addon's
 * createChecksum and packets' own internetChecksum, over the bytes the rule covers.
 */
function checkChecksums(layers: readonly DecodedLayer[], bytes: Uint8Array, options: DecodeOptions, ip?: { layer: DecodedHeaderLayer; end: number }): void {
  let enclosing = ip;
  for (const layer of layers) {
    if (layer.kind === 'payload' || layer.kind === 'malformed') continue;
    referenceCheck(layer, bytes, options, enclosing);
    let inner = enclosing;
    if (layer.kind === 'ipv4' || layer.kind === 'ipv6') {
      const declared = layer.kind === 'ipv4' ? (layer.values.totalLength as number) : 40 + (layer.values.payloadLength as number);
      const outerEnd = enclosing?.end ?? bytes.length;
      const fits = declared >= layer.range.end - layer.range.start && layer.range.start + declared <= outerEnd;
      inner = { layer, end: fits ? layer.range.start + declared : outerEnd };
    }
    if (layer.quoted) checkChecksums(layer.quoted, bytes, options, inner);
    enclosing = inner;
  }
}

function referenceCheck(layer: DecodedHeaderLayer, bytes: Uint8Array, options: DecodeOptions, enclosing: { layer: DecodedHeaderLayer; end: number } | undefined): void {
  const verdict = layer.checksum;
  if (!verdict || verdict.status === 'unverified') return;
  const rule = layerKinds[layer.kind].checksum!;
  const coveredEnd = rule.covers === 'header' ? layer.range.end : (enclosing?.end ?? bytes.length);
  const covered = bytes.slice(layer.range.start, coveredEnd);
  const chunks: Uint8Array[] = [];
  if (rule.pseudoHeaderProtocol !== undefined) {
    if (!enclosing && options.source === undefined) fail(`${layer.name} checksum judged ${verdict.status} without known addresses`);
    const endpoints = enclosing ? endpointsOf(enclosing.layer) : optionEndpoints(options);
    if (!enclosing && !endpoints) fail(`${layer.name} checksum judged ${verdict.status} with addresses that are not a pair: ${options.source}, ${options.destination}`);
    if (!endpoints) return;
    chunks.push(pseudoHeader(endpoints, rule.pseudoHeaderProtocol, covered.length));
  }
  chunks.push(covered);
  const native = createChecksum(...chunks);
  const own = internetChecksum(...chunks);
  if (native !== own) fail(`reference sums disagree: native ${native}, packets ${own}`);
  // Over bytes that hold a right checksum, the checksum comes out 0 (RFC 1071).
  if ((native === 0) !== (verdict.status === 'correct')) fail(`${layer.name} checksum judged ${verdict.status}, reference sum gives ${native}`);
  decodeStats.checksumsCompared++;
  if (verdict.status === 'wrong' && verdict.value === verdict.expected) fail(`${layer.name} checksum judged wrong but equals its expected value`);
}

function optionEndpoints(options: DecodeOptions): IpEndpoints | undefined {
  try {
    return endpointsFromOptions(options);
  } catch {
    return undefined;
  }
}

/** Endpoints for the pseudo header; undefined when an IPv4 source route changes the destination (not modelled here). */
function endpointsOf(layer: DecodedHeaderLayer): IpEndpoints | undefined {
  if (layer.kind === 'ipv6') return { version: 6, source: parseIpv6(layer.values.src as string), destination: parseIpv6(layer.values.dst as string) };
  const options = layer.values.options;
  if (options instanceof Uint8Array && options.some((b) => b === 131 || b === 137)) return undefined;
  return { version: 4, source: parseIpv4(layer.values.src as string), destination: parseIpv4(layer.values.dst as string) };
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
