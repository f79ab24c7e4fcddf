// Stack of layers -> bytes. Lengths, next-protocol fields and checksums are filled in
// unless set by hand; a field set by hand is written as given, even when it is wrong.

import { endpointsFromOptions, expectedChecksum, type IpEndpoints } from './checksum';
import { fieldApplies, normalizeFieldValue, writeBits, writeField, type FieldValue, type FieldValues } from './fields';
import type { HeaderKind, LayerDefinition, LayerKindName, PacketStack } from './layer';
import { payloadBytes } from './layers/payload';
import { isHeaderKind, layerKinds, layerKindNames } from './registry';

export interface BuildOptions {
  /**
   * Addresses for pseudo-header checksums when the stack starts below IP (ICMPv6, UDP, TCP on a
   * socket where the kernel writes the IP header). Without them, ICMPv6 and UDP checksums are
   * left 0 (the kernel fills ICMPv6 checksums; 0 means "no checksum" for UDP over IPv4) and TCP is refused.
   */
  readonly source?: string;
  readonly destination?: string;
}

interface ResolvedHeader {
  readonly kind: HeaderKind;
  readonly definition: LayerDefinition;
  readonly values: FieldValues;
  readonly setByHand: ReadonlySet<string>;
}

type ResolvedLayer = ResolvedHeader | { readonly kind: 'payload'; readonly data: Uint8Array };

/** Builds the bytes of a packet; throws an Error naming the layer and field when the stack is invalid. */
export function build(stack: PacketStack, options: BuildOptions = {}): Uint8Array {
  const layers = stack.map(resolveLayer);
  const enclosingIp: (IpEndpoints | undefined)[] = [];
  let ip = endpointsFromOptions(options);
  for (const layer of layers) {
    enclosingIp.push(ip);
    if (layer.kind !== 'payload' && layer.definition.endpoints) ip = layer.definition.endpoints(layer.values);
  }
  let packet: Uint8Array = new Uint8Array(0);
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    const bytes = layer.kind === 'payload' ? layer.data : encodeHeader(layer, packet, layers[i + 1]?.kind, enclosingIp[i]);
    packet = concat(bytes, packet);
  }
  return packet;
}

/** The defaults and hand-set values of one header, validated, before automatic fields are filled. */
export function resolveLayer(spec: PacketStack[number], index: number): ResolvedLayer {
  const where = `layer ${index + 1}`;
  if (spec.kind === 'payload') {
    try {
      return { kind: 'payload', data: payloadBytes(spec) };
    } catch (error) {
      throw new Error(`${where} (payload): ${(error as Error).message}`);
    }
  }
  if (!isHeaderKind(spec.kind)) {
    throw new Error(`${where}: unknown kind '${String(spec.kind)}'; use one of ${layerKindNames.join(', ')}`);
  }
  const definition = layerKinds[spec.kind];
  const given: Readonly<Record<string, FieldValue>> = spec.fields ?? {};
  const names = new Set(definition.fields.map((field) => field.name));
  for (const name of Object.keys(given)) {
    if (!names.has(name)) {
      throw new Error(`${where} (${definition.name}) has no field '${name}'; its fields are ${[...names].join(', ')}`);
    }
  }
  const values: FieldValues = {};
  const setByHand = new Set<string>();
  for (const field of definition.fields) {
    if (!fieldApplies(field, values)) continue;
    const value = given[field.name];
    if (value === undefined) {
      values[field.name] = field.default instanceof Uint8Array ? field.default.slice() : field.default;
    } else {
      values[field.name] = normalizeFieldValue(`${where} (${definition.name})`, field, value);
      setByHand.add(field.name);
    }
  }
  return { kind: spec.kind, definition, values, setByHand };
}

function encodeHeader(layer: ResolvedHeader, payload: Uint8Array, next: LayerKindName | undefined, ip: IpEndpoints | undefined): Uint8Array {
  const { definition, values, setByHand } = layer;
  const optionsField = definition.fields.find((field) => field.bitWidth === 0);
  const options = optionsField ? padTo4(values[optionsField.name] as Uint8Array) : new Uint8Array(0);
  const headerLength = definition.minHeaderLength + options.length;
  const automatic = definition.automaticValues({ headerLength, payloadLength: payload.length, next });
  for (const [name, value] of Object.entries(automatic)) {
    if (setByHand.has(name)) continue;
    const field = definition.fields.find((candidate) => candidate.name === name);
    if (field?.range && typeof value === 'number' && value > field.range.max) {
      throw new Error(`${definition.name} ${field.label} would be ${value}, above its maximum ${field.range.max}: the packet is too large`);
    }
    values[name] = value;
  }
  const header = new Uint8Array(headerLength);
  for (const field of definition.fields) {
    if (!fieldApplies(field, values)) continue;
    if (field === optionsField) header.set(options, definition.minHeaderLength);
    else writeField(header, field, values[field.name]);
  }
  const checksumField = definition.fields.find((field) => field.automatic === 'checksum');
  if (definition.checksum && checksumField && !setByHand.has(checksumField.name)) {
    writeBits(header, checksumField.bitOffset, checksumField.bitWidth, 0);
    const checksum = expectedChecksum(definition.checksum, header, payload, ip);
    if (checksum === undefined && definition.kind === 'tcp') {
      throw new Error(
        'The TCP checksum needs the IP addresses: put an IP layer before TCP, pass build options source and destination, or set checksum by hand',
      );
    }
    writeBits(header, checksumField.bitOffset, checksumField.bitWidth, checksum ?? 0);
  }
  return header;
}

function padTo4(bytes: Uint8Array): Uint8Array {
  if (bytes.length % 4 === 0) return bytes;
  const padded = new Uint8Array(bytes.length + 4 - (bytes.length % 4));
  padded.set(bytes);
  return padded;
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first, 0);
  joined.set(second, first.length);
  return joined;
}
