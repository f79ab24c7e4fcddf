// Bytes -> layers. Never throws: what cannot be read becomes a 'malformed' layer, and what
// disagrees (lengths, checksums) is reported on the layer that holds it.

import { endpointsFromOptions, expectedChecksum, type IpEndpoints } from './checksum';
import { fieldApplies, formatFieldValue, readField, writeBits, type FieldValues } from './fields';
import type {
  ChecksumVerdict,
  DecodedField,
  DecodedHeaderLayer,
  DecodedLayer,
  DecodedOption,
  HeaderKind,
  LayerDefinition,
  MalformedLayer,
} from './layer';
import { layerKinds } from './registry';

export interface DecodeOptions {
  /** The first header; 'auto' (default) picks IPv4 or IPv6 from the version nibble. */
  readonly first?: HeaderKind | 'auto';
  /** Byte offset where the first header starts (e.g. after a link-layer header); ranges stay absolute. */
  readonly start?: number;
  /** Addresses for pseudo-header checksums when the bytes start below IP. */
  readonly source?: string;
  readonly destination?: string;
}

interface DecodeContext {
  readonly ip: IpEndpoints | undefined;
  /** Inside the packet an ICMP error quotes: it may be cut short, and that is normal. */
  readonly quoted: boolean;
  /** An enclosing length field covers bytes past the end of the capture (or of the quote). */
  readonly cutShort: boolean;
  readonly fragment: boolean;
  readonly depth: number;
}

/** Tunnels and quotes can nest; beyond this depth the rest is reported as malformed. */
const MAX_DEPTH = 8;

export function decode(bytes: Uint8Array, options: DecodeOptions = {}): DecodedLayer[] {
  const start = Math.min(Math.max(0, Math.floor(options.start ?? 0)), bytes.length);
  try {
    if (start >= bytes.length) return [malformed(bytes, start, bytes.length, 'no bytes to decode')];
    let first = options.first ?? 'auto';
    if (first === 'auto') {
      const version = bytes[start] >> 4;
      if (version !== 4 && version !== 6) {
        return [malformed(bytes, start, bytes.length, `not an IP packet: version ${version}, expected 4 or 6`)];
      }
      first = version === 4 ? 'ipv4' : 'ipv6';
    }
    let ip: IpEndpoints | undefined;
    try {
      ip = endpointsFromOptions(options);
    } catch {
      ip = undefined;
    }
    return decodeLayer(first, bytes, start, bytes.length, { ip, quoted: false, cutShort: false, fragment: false, depth: 0 });
  } catch (error) {
    // A bug must not take down the log view; the fuzz tests look for this reason.
    return [malformed(bytes, start, bytes.length, `internal decoder error: ${(error as Error).message}`)];
  }
}

function decodeLayer(kind: HeaderKind | 'payload', bytes: Uint8Array, start: number, end: number, context: DecodeContext): DecodedLayer[] {
  if (start >= end) return [];
  if (kind === 'payload') return [{ kind: 'payload', range: { start, end }, data: bytes.slice(start, end) }];
  if (context.depth >= MAX_DEPTH) return [malformed(bytes, start, end, `headers nested more than ${MAX_DEPTH} deep`)];
  const definition = layerKinds[kind];
  const available = end - start;
  const values: FieldValues = {};
  const fields: DecodedField[] = [];
  const problems: string[] = [];
  const layer = (headerEnd: number, extra: Partial<Pick<DecodedHeaderLayer, 'checksum' | 'quoted'>> = {}): DecodedHeaderLayer => ({
    kind,
    name: definition.name,
    range: { start, end: headerEnd },
    fields,
    values,
    problems,
    ...extra,
  });

  // Fixed fields, as far as the bytes go.
  for (const field of definition.fields) {
    if (field.bitWidth === 0 || !fieldApplies(field, values)) continue;
    if (field.bitOffset + field.bitWidth > available * 8) break;
    const value = readField(bytes, start, field);
    values[field.name] = value;
    fields.push(decodedField(definition, field, value, values, start));
  }
  if (available < definition.minHeaderLength) {
    const reason = `${definition.name} header cut short: needs ${definition.minHeaderLength} bytes, ${available} left`;
    const checksum = uncapturedVerdict(definition, values, context);
    if (context.quoted && fields.length > 0) {
      problems.push(`${reason} (normal in a quoted packet)`);
      return [layer(end, checksum ? { checksum } : {})];
    }
    if (fields.length === 0) return [malformed(bytes, start, end, reason)];
    // The malformed layer may be empty when the bytes end exactly between two fields.
    const readEnd = Math.min(end, start + Math.ceil(lastBit(fields, start) / 8));
    return [layer(readEnd, checksum ? { checksum } : {}), malformed(bytes, readEnd, end, reason)];
  }

  // Variable header length (IPv4 IHL, TCP data offset) and the options it covers.
  const fixedEnd = start + definition.minHeaderLength;
  const headerLength = definition.declaredHeaderLength?.(values) ?? definition.minHeaderLength;
  if (headerLength < definition.minHeaderLength) {
    const reason = `${definition.name} header length ${headerLength} is below the minimum ${definition.minHeaderLength}`;
    problems.push(reason);
    return [layer(fixedEnd), ...(fixedEnd < end ? [malformed(bytes, fixedEnd, end, reason)] : [])];
  }
  if (headerLength > available) {
    const reason = `${definition.name} header length ${headerLength} exceeds the ${available} bytes left`;
    problems.push(reason);
    const checksum = uncapturedVerdict(definition, values, context);
    return [layer(fixedEnd, checksum ? { checksum } : {}), ...(context.quoted || fixedEnd >= end ? [] : [malformed(bytes, fixedEnd, end, reason)])];
  }
  const headerEnd = start + headerLength;
  const optionsField = definition.fields.find((field) => field.bitWidth === 0);
  if (optionsField) {
    const options = bytes.slice(fixedEnd, headerEnd);
    values[optionsField.name] = options;
    let decodedOptions: DecodedOption[] | undefined;
    if (options.length > 0 && definition.describeOptions) {
      const described = definition.describeOptions(options, fixedEnd);
      decodedOptions = described.options;
      problems.push(...described.problems);
    }
    const field = decodedField(definition, optionsField, options, values, start);
    fields.push({
      ...field,
      // Named options read better than their bytes: "Maximum segment size: 1460 bytes; No-Operation".
      ...(decodedOptions?.length ? { display: decodedOptions.map((o) => (o.display ? `${o.name}: ${o.display}` : o.name)).join('; ') } : {}),
      range: { start: fixedEnd, end: headerEnd },
      ...(decodedOptions ? { options: decodedOptions } : {}),
    });
  }

  // What a length field says versus what was captured.
  let payloadEnd = end;
  let cutShort = false;
  const declared = definition.declaredTotalLength?.(values);
  if (declared !== undefined) {
    if (declared < headerLength) {
      problems.push(`${definition.name} length field says ${declared} bytes, less than its ${headerLength}-byte header`);
    } else if (declared > available) {
      cutShort = true;
      if (!context.quoted) problems.push(`${definition.name} length field says ${declared} bytes, only ${available} captured`);
    } else {
      payloadEnd = start + declared;
    }
  }

  const next = definition.next(values);
  const inside = { ...context, cutShort: context.cutShort || cutShort };
  const checksum = definition.checksum ? verifyChecksum(definition, bytes, start, headerEnd, payloadEnd, values, inside) : undefined;
  const inner = decodeLayer(next.kind, bytes, headerEnd, payloadEnd, {
    ip: definition.endpoints ? safeEndpoints(definition, values) : context.ip,
    quoted: context.quoted || next.quoted === true,
    cutShort: inside.cutShort,
    fragment: definition.endpoints ? next.fragment === true : context.fragment,
    depth: context.depth + 1,
  });
  const result: DecodedLayer[] = [layer(headerEnd, { ...(checksum ? { checksum } : {}), ...(next.quoted ? { quoted: inner } : {}) })];
  if (!next.quoted) result.push(...inner);
  if (payloadEnd < end) {
    const note = `${end - payloadEnd} bytes past the ${definition.name} length`;
    problems.push(note);
    result.push({ kind: 'payload', range: { start: payloadEnd, end }, data: bytes.slice(payloadEnd, end), note });
  }
  return result;
}

function verifyChecksum(
  definition: LayerDefinition,
  bytes: Uint8Array,
  start: number,
  headerEnd: number,
  payloadEnd: number,
  values: FieldValues,
  context: DecodeContext,
): ChecksumVerdict | undefined {
  const rule = definition.checksum;
  const field = definition.fields.find((candidate) => candidate.automatic === 'checksum');
  const value = values.checksum;
  if (!rule || !field || typeof value !== 'number') return undefined;
  if (rule.covers === 'packet') {
    if (rule.zeroMeansNone && value === 0 && context.ip?.version === 4) return { status: 'unverified', value, reason: 'checksum not used (0)' };
    if (context.cutShort) return uncapturedVerdict(definition, values, context);
    if (context.fragment) return { status: 'unverified', value, reason: 'the packet is a fragment' };
    if (rule.pseudoHeaderProtocol !== undefined && !context.ip) {
      return { status: 'unverified', value, reason: 'the packet came without its IP header, so the addresses the checksum covers are not known' };
    }
  }
  const header = bytes.slice(start, headerEnd);
  writeBits(header, field.bitOffset, field.bitWidth, 0);
  const expected = expectedChecksum(rule, header, bytes.subarray(headerEnd, payloadEnd), context.ip);
  if (expected === undefined) return { status: 'unverified', value, reason: 'the addresses the checksum covers are not known' };
  return expected === value ? { status: 'correct', value } : { status: 'wrong', value, expected };
}

/** Like tshark: a checksum over bytes that are not all there can be neither correct nor wrong. */
function uncapturedVerdict(definition: LayerDefinition, values: FieldValues, context: DecodeContext): ChecksumVerdict | undefined {
  const value = values.checksum;
  if (!definition.checksum || typeof value !== 'number') return undefined;
  const reason = context.quoted
    ? 'the quoted packet is cut short: an ICMP error quotes only the start of a packet'
    : 'the packet is cut short: the capture ends before the bytes it covers';
  return { status: 'unverified', value, reason };
}

function decodedField(
  definition: LayerDefinition,
  field: LayerDefinition['fields'][number],
  value: DecodedField['value'],
  values: FieldValues,
  start: number,
): DecodedField {
  const bitStart = start * 8 + field.bitOffset;
  const bitEnd = bitStart + field.bitWidth;
  const partial = field.bitOffset % 8 !== 0 || field.bitWidth % 8 !== 0;
  return {
    name: field.name,
    label: field.label,
    type: field.type,
    value,
    display: formatFieldValue(field, value, values),
    range: { start: Math.floor(bitStart / 8), end: Math.ceil(bitEnd / 8) },
    ...(partial ? { bits: { start: bitStart, end: bitEnd } } : {}),
  };
}

function safeEndpoints(definition: LayerDefinition, values: FieldValues): IpEndpoints | undefined {
  try {
    return definition.endpoints?.(values);
  } catch {
    return undefined;
  }
}

function lastBit(fields: readonly DecodedField[], start: number): number {
  const last = fields[fields.length - 1];
  return last.bits ? last.bits.end - start * 8 : (last.range.end - start) * 8;
}

function malformed(bytes: Uint8Array, start: number, end: number, reason: string): MalformedLayer {
  return { kind: 'malformed', range: { start, end }, reason, data: bytes.slice(start, end) };
}
