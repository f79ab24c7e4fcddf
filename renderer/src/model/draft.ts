// The packet being edited: a stack of layers whose field values are kept as the user typed
// them. analyzeDraft() turns it into everything the editor shows (per-field errors, built
// bytes, which bytes each field covers) and what send needs (the contract's layer spec).
// The field table is drawn from packets/' field descriptions, never written per protocol.
import type { z } from 'zod';
import type { LayerSpec as ContractLayerSpec } from '../../../common/contract';
import {
  build,
  decode,
  fieldApplies,
  formatHex,
  formatIpv4,
  formatIpv6,
  ipProtocolNumbers,
  isIpv4,
  isIpv6,
  layerKinds,
  parseHex,
  parseIpv4,
  parseIpv6,
  type DecodedHeaderLayer,
  type DecodedLayer,
  type FieldDescription,
  type FieldValue,
  type FieldValues,
  type HeaderKind,
  type LayerKindName,
  type LayerSpec,
} from '../../../packets';

export interface DraftHeader {
  id: string;
  kind: HeaderKind;
  /** Text per field name, as typed. Automatic fields use theirs only when set by hand. */
  values: Record<string, string>;
  /** Automatic fields the user set by hand. */
  manual: Record<string, boolean>;
}

export interface DraftPayload {
  id: string;
  kind: 'payload';
  mode: 'text' | 'hex';
  text: string;
}

export type DraftLayer = DraftHeader | DraftPayload;

export interface FieldRow {
  field: FieldDescription;
  /** The text in the input: typed, or the computed value of an automatic field. */
  text: string;
  automatic: boolean;
  /** Automatic and not set by hand. */
  auto: boolean;
  error?: string;
  /** How the built packet shows the value: 'Echo Request (8)'. */
  display?: string;
  /** Bytes of the built packet the field occupies. */
  range?: { start: number; end: number };
}

export interface LayerAnalysis {
  layer: DraftLayer;
  name: string;
  title: string;
  fields: FieldRow[];
  /** Payload: its bytes' error. */
  error?: string;
  range?: { start: number; end: number };
}

export interface SocketNeeds {
  family: 'ipv4' | 'ipv6';
  protocol: number;
  /** The stack starts with an IP header: the socket must take the header as given. */
  headerIncluded: boolean;
}

export interface DraftAnalysis {
  layers: LayerAnalysis[];
  /** Every problem, one line each, in stack order. */
  errors: string[];
  bytes: Uint8Array | null;
  /** A problem the whole stack has (e.g. packet too large) after every field was valid. */
  buildError?: string;
  /** What the contract's send takes, when the packet is valid. */
  spec: z.input<typeof ContractLayerSpec>[] | null;
  needs: SocketNeeds | null;
  /** Destination address of the outermost IP header, if any. */
  destination?: string;
}

let nextId = 1;
export const newLayerId = (): string => `L${Date.now().toString(36)}${(nextId++).toString(36)}`;

export function layerName(kind: LayerKindName): string {
  return kind === 'payload' ? 'Payload' : layerKinds[kind].name;
}

export function layerTitle(kind: LayerKindName): string {
  return kind === 'payload' ? 'Raw payload bytes' : layerKinds[kind].title;
}

/** The text an input shows for a value. */
export function formatFieldText(field: FieldDescription, value: FieldValue): string {
  if (value instanceof Uint8Array) return formatHex(value);
  if (typeof value === 'string') return value;
  if (field.hex) return '0x' + value.toString(16).padStart(Math.ceil(field.bitWidth / 4), '0');
  return String(value);
}

export function newHeader(kind: HeaderKind, values: Record<string, FieldValue> = {}): DraftHeader {
  const texts: Record<string, string> = {};
  const manual: Record<string, boolean> = {};
  for (const field of layerKinds[kind].fields) {
    if (field.name in texts) continue;
    const given = values[field.name];
    texts[field.name] = formatFieldText(field, given ?? field.default);
    if (given !== undefined && field.automatic) manual[field.name] = true;
  }
  // Fields sharing a name under different conditions ('unused'): the given value wins.
  for (const [name, value] of Object.entries(values)) {
    const field = layerKinds[kind].fields.find((candidate) => candidate.name === name);
    if (field) texts[name] = formatFieldText(field, value);
  }
  return { id: newLayerId(), kind, values: texts, manual };
}

export function newPayload(text = '', mode: 'text' | 'hex' = 'text'): DraftPayload {
  return { id: newLayerId(), kind: 'payload', mode, text };
}

export function newLayer(kind: LayerKindName): DraftLayer {
  return kind === 'payload' ? newPayload() : newHeader(kind);
}

/** Parses a number typed as decimal, 0x hex or 0b binary. */
export function parseNumberText(text: string): number | null {
  const trimmed = text.trim().replace(/_/g, '');
  if (/^[0-9]+$/.test(trimmed)) return Number(trimmed);
  if (/^0x[0-9a-f]+$/i.test(trimmed)) return parseInt(trimmed.slice(2), 16);
  if (/^0b[01]+$/i.test(trimmed)) return parseInt(trimmed.slice(2), 2);
  return null;
}

/** A field's text to its value, or the reason it is not one. */
export function parseFieldText(field: FieldDescription, text: string): { value: FieldValue } | { error: string } {
  switch (field.type) {
    case 'uint':
    case 'enum':
    case 'flags': {
      const range = field.range ?? { min: 0, max: 2 ** field.bitWidth - 1 };
      if (text.trim() === '') return { error: `Required: an integer from ${range.min} to ${range.max}` };
      const value = parseNumberText(text);
      if (value === null) return { error: `'${text.trim()}' is not a number: use decimal, 0x hex or 0b binary` };
      if (value < range.min || value > range.max) {
        return { error: `Out of range: ${value} is not within ${range.min}–${range.max} (${field.bitWidth} bits)` };
      }
      return { value };
    }
    case 'ipv4':
    case 'ipv6':
      try {
        const trimmed = text.trim();
        return { value: field.type === 'ipv4' ? formatIpv4(parseIpv4(trimmed)) : formatIpv6(parseIpv6(trimmed)) };
      } catch (error) {
        return { error: (error as Error).message };
      }
    case 'bytes': {
      let bytes: Uint8Array;
      try {
        bytes = parseHex(text);
      } catch (error) {
        return { error: (error as Error).message };
      }
      const maxBytes = field.bitWidth > 0 ? field.bitWidth / 8 : (field.maxBytes ?? Infinity);
      if (bytes.length > maxBytes) return { error: `Too long: ${bytes.length} bytes, at most ${maxBytes}` };
      return { value: bytes };
    }
  }
}

export function payloadBytesOf(layer: DraftPayload): { bytes: Uint8Array } | { error: string } {
  if (layer.mode === 'text') return { bytes: new TextEncoder().encode(layer.text) };
  try {
    return { bytes: parseHex(layer.text) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** The fields of a header that apply for the values typed so far (ICMP shows echo fields for echo types). */
function applicableFields(kind: HeaderKind, parsed: FieldValues): FieldDescription[] {
  return layerKinds[kind].fields.filter((field) => fieldApplies(field, parsed));
}

export function analyzeDraft(layers: readonly DraftLayer[]): DraftAnalysis {
  const errors: string[] = [];
  const analyses: LayerAnalysis[] = [];
  const stack: LayerSpec[] = [];
  const spec: z.input<typeof ContractLayerSpec>[] = [];

  layers.forEach((layer, index) => {
    const where = `Layer ${index + 1} (${layerName(layer.kind)})`;
    if (layer.kind === 'payload') {
      const result = payloadBytesOf(layer);
      if ('error' in result) {
        errors.push(`${where}: ${result.error}`);
        analyses.push({ layer, name: 'Payload', title: layerTitle('payload'), fields: [], error: result.error });
      } else {
        analyses.push({ layer, name: 'Payload', title: layerTitle('payload'), fields: [] });
        stack.push({ kind: 'payload', data: result.bytes });
        spec.push({ kind: 'payload', data: formatHex(result.bytes, '') });
      }
      return;
    }
    const definition = layerKinds[layer.kind];
    const parsed: FieldValues = {};
    const given: Record<string, FieldValue> = {};
    const wire: Record<string, number | string> = {};
    const rows: FieldRow[] = [];
    // Conditions refer to earlier fields, so parse in wire order and re-check applicability.
    for (const field of definition.fields) {
      if (!fieldApplies(field, parsed)) continue;
      const automatic = field.automatic !== undefined;
      const auto = automatic && !layer.manual[field.name];
      const text = layer.values[field.name] ?? formatFieldText(field, field.default);
      if (auto) {
        rows.push({ field, text: '', automatic, auto });
        continue;
      }
      const result = parseFieldText(field, text);
      if ('error' in result) {
        rows.push({ field, text, automatic, auto, error: result.error });
        errors.push(`${where} ${field.label}: ${result.error}`);
        continue;
      }
      parsed[field.name] = result.value;
      given[field.name] = result.value;
      wire[field.name] = result.value instanceof Uint8Array ? formatHex(result.value, '') : result.value;
      rows.push({ field, text, automatic, auto });
    }
    analyses.push({ layer, name: definition.name, title: definition.title, fields: rows });
    stack.push({ kind: layer.kind, fields: given });
    spec.push({ kind: layer.kind, fields: wire });
  });

  const analysis: DraftAnalysis = { layers: analyses, errors, bytes: null, spec: null, needs: needsOf(layers) };
  const first = layers[0];
  if (first && first.kind !== 'payload' && (first.kind === 'ipv4' || first.kind === 'ipv6')) {
    const dst = first.values.dst?.trim();
    if (dst && (isIpv4(dst) || isIpv6(dst))) analysis.destination = dst;
  }
  if (layers.length === 0) {
    analysis.errors.push('The packet is empty: add a layer or load a template');
    return analysis;
  }
  if (errors.length > 0) return analysis;

  let bytes: Uint8Array;
  try {
    bytes = build(stack);
  } catch (error) {
    analysis.buildError = (error as Error).message;
    analysis.errors.push(analysis.buildError);
    return analysis;
  }
  if (bytes.length > 65535) {
    analysis.buildError = `The packet is ${bytes.length} bytes, above the 65535 an IP packet can hold`;
    analysis.errors.push(analysis.buildError);
    return analysis;
  }
  analysis.bytes = bytes;
  analysis.spec = spec;
  attachRanges(analysis, bytes);
  return analysis;
}

/** Decodes the built bytes and gives every field row its byte range and display text. */
function attachRanges(analysis: DraftAnalysis, bytes: Uint8Array): void {
  const first = analysis.layers[0]?.layer.kind;
  if (!first || first === 'payload') {
    if (analysis.layers[0]) analysis.layers[0].range = { start: 0, end: bytes.length };
    return;
  }
  const decoded = flatten(decode(bytes, { first }));
  analysis.layers.forEach((layer, index) => {
    const match = decoded[index];
    if (!match || match.kind !== layer.layer.kind) return;
    layer.range = { start: match.range.start, end: match.range.end };
    if (match.kind === 'payload') return;
    const header = match as DecodedHeaderLayer;
    for (const row of layer.fields) {
      const field = header.fields.find((candidate) => candidate.name === row.field.name);
      if (!field) continue;
      row.range = field.range;
      row.display = field.display;
      if (row.auto) row.text = formatFieldText(row.field, field.value);
    }
  });
}

/** Layers in stack order, quoted packets (ICMP errors) inline after the layer quoting them. */
export function flatten(layers: readonly DecodedLayer[]): DecodedLayer[] {
  const out: DecodedLayer[] = [];
  for (const layer of layers) {
    out.push(layer);
    if (layer.kind !== 'payload' && layer.kind !== 'malformed' && layer.quoted) out.push(...flatten(layer.quoted));
  }
  return out;
}

/** Which socket sends this stack: its family and protocol, and whether it carries its own IP header. */
export function needsOf(layers: readonly DraftLayer[]): SocketNeeds | null {
  const first = layers[0];
  if (!first) return null;
  if (first.kind === 'ipv4' || first.kind === 'ipv6') {
    const inner = layers[1];
    const protocol = inner && inner.kind !== 'payload' ? ipProtocolNumbers[inner.kind] : 255;
    return { family: first.kind, protocol, headerIncluded: true };
  }
  if (first.kind === 'icmp') return { family: 'ipv4', protocol: 1, headerIncluded: false };
  if (first.kind === 'icmpv6') return { family: 'ipv6', protocol: 58, headerIncluded: false };
  if (first.kind === 'udp') return { family: 'ipv4', protocol: 17, headerIncluded: false };
  if (first.kind === 'tcp') return { family: 'ipv4', protocol: 6, headerIncluded: false };
  return null;
}

/**
 * Turns edited bytes back into a stack: header fields take the decoded values; an automatic
 * field is marked as set by hand only where the bytes disagree with what build computes.
 */
export function draftFromBytes(bytes: Uint8Array, first: HeaderKind | 'auto' = 'auto'): DraftLayer[] {
  const decoded = flatten(decode(bytes, { first }));
  const layers: DraftLayer[] = decoded.map((layer) => {
    if (layer.kind === 'payload' || layer.kind === 'malformed') return newPayload(formatHex(layer.data), 'hex');
    const values: Record<string, FieldValue> = {};
    for (const field of layer.fields) values[field.name] = field.value;
    const header = newHeader(layer.kind, values);
    header.manual = {};
    return header;
  });
  // Merge payload pieces (a malformed tail after a payload) into one.
  const merged: DraftLayer[] = [];
  for (const layer of layers) {
    const previous = merged[merged.length - 1];
    if (layer.kind === 'payload' && previous?.kind === 'payload') previous.text = `${previous.text} ${layer.text}`.trim();
    else merged.push(layer);
  }
  const rebuilt = analyzeDraft(merged);
  for (const [index, layer] of rebuilt.layers.entries()) {
    if (layer.layer.kind === 'payload') continue;
    const draft = merged[index] as DraftHeader;
    for (const row of layer.fields) {
      if (!row.automatic || !row.range) continue;
      const wanted = draft.values[row.field.name];
      if (wanted !== undefined && wanted !== row.text) draft.manual[row.field.name] = true;
    }
  }
  // A stack that decoded to one malformed layer is just bytes.
  if (merged.length === 0) return [newPayload(formatHex(bytes), 'hex')];
  return merged;
}

/** The field whose bytes include `offset`: the innermost layer's, narrowest first. */
export function fieldAtByte(analysis: DraftAnalysis, offset: number): { layerId: string; field: string } | null {
  let best: { layerId: string; field: string; size: number } | null = null;
  for (const layer of analysis.layers) {
    if (!layer.range || offset < layer.range.start || offset >= layer.range.end) continue;
    if (layer.layer.kind === 'payload') return { layerId: layer.layer.id, field: '' };
    for (const row of layer.fields) {
      if (!row.range || offset < row.range.start || offset >= row.range.end) continue;
      const size = row.range.end - row.range.start;
      if (!best || size <= best.size) best = { layerId: layer.layer.id, field: row.field.name, size };
    }
  }
  return best && { layerId: best.layerId, field: best.field };
}

/** Replaces the value of one byte (for the hex editor). */
export function withByte(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const next = bytes.slice();
  next[offset] = value & 0xff;
  return next;
}

/**
 * After a byte edit, `next` (decoded from the edited bytes) takes over what the user had set
 * on `previous` where the stack kept its shape: layer ids, which automatic fields are set by
 * hand, a text payload's mode. An automatic field whose own byte was overwritten becomes set
 * by hand (that is what the user typed); every other automatic field stays computed, so the
 * checksum follows an edited identifier. A changed shape (e.g. a new protocol number) keeps
 * `next` as decoded.
 */
export function carryOverEdits(previous: readonly DraftLayer[], next: DraftLayer[], edited: { layerId: string; field: string } | null): DraftLayer[] {
  if (previous.length !== next.length || previous.some((layer, i) => layer.kind !== next[i].kind)) return next;
  return next.map((layer, i) => {
    const before = previous[i];
    if (layer.kind === 'payload' || before.kind === 'payload') {
      if (layer.kind !== 'payload' || before.kind !== 'payload') return layer;
      if (before.mode === 'text') {
        const bytes = payloadBytesOf(layer);
        if (!('error' in bytes)) {
          try {
            return { ...layer, id: before.id, mode: 'text', text: new TextDecoder('utf-8', { fatal: true }).decode(bytes.bytes) };
          } catch {
            // Not UTF-8 any more: shown as hex.
          }
        }
      }
      return { ...layer, id: before.id };
    }
    const header = layer as DraftHeader;
    const manual = { ...(before as DraftHeader).manual };
    if (edited?.layerId === before.id && layerKinds[header.kind].fields.some((field) => field.name === edited.field && field.automatic !== undefined)) {
      manual[edited.field] = true;
    }
    return { ...header, id: before.id, manual };
  });
}
