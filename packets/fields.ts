// Field descriptions: one table per layer drives the GUI editor, build and decode alike.

import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './address';
import { formatHex, formatHexNumber, parseHex } from './hex';

export type FieldType = 'uint' | 'enum' | 'flags' | 'ipv4' | 'ipv6' | 'bytes';

/** uint/enum/flags: number; ipv4/ipv6: address text; bytes: Uint8Array (hex text accepted when building). */
export type FieldValue = number | string | Uint8Array;
export type FieldValues = Record<string, FieldValue>;

/** What an automatic field is computed from when it is not set by hand. */
export type AutomaticRule = 'length' | 'checksum' | 'protocol';

/** The field applies only when an earlier numeric field has (or has not) one of these values. */
export interface FieldCondition {
  readonly field: string;
  readonly in?: readonly number[];
  readonly notIn?: readonly number[];
}

export interface FieldDescription {
  readonly name: string;
  readonly label: string;
  readonly type: FieldType;
  /** Offset from the start of the layer's header, in bits. */
  readonly bitOffset: number;
  /** Width in bits; 0 for the variable-length options field (see maxBytes). */
  readonly bitWidth: number;
  readonly default: FieldValue;
  /** Valid range of numeric fields (uint, enum, flags). */
  readonly range?: { readonly min: number; readonly max: number };
  /** Names of known values of an enum field. */
  readonly enumNames?: Readonly<Record<number, string>>;
  /** Names that depend on another field, e.g. ICMP codes per type. */
  readonly enumNamesBy?: {
    readonly field: string;
    readonly names: Readonly<Record<number, Readonly<Record<number, string>>>>;
  };
  /** Flag names, most significant bit first; one per bit. */
  readonly flagNames?: readonly string[];
  /** Computed by build unless set by hand. */
  readonly automatic?: AutomaticRule;
  /** Variable-length bytes field: the largest length allowed. */
  readonly maxBytes?: number;
  readonly when?: FieldCondition;
  /** Show the value in hex (checksums, identifiers). */
  readonly hex?: boolean;
  readonly unit?: string;
}

type FieldSpec = Omit<FieldDescription, 'default' | 'range'> & {
  readonly default?: FieldValue;
  readonly range?: { readonly min: number; readonly max: number };
};

export function isNumericField(field: FieldDescription): boolean {
  return field.type === 'uint' || field.type === 'enum' || field.type === 'flags';
}

/** Fills in the default value and, for numeric fields, the range the bit width allows. */
export function defineField(spec: FieldSpec): FieldDescription {
  const numeric = spec.type === 'uint' || spec.type === 'enum' || spec.type === 'flags';
  const fallback: FieldValue = numeric ? 0 : spec.type === 'ipv4' ? '0.0.0.0' : spec.type === 'ipv6' ? '::' : new Uint8Array(0);
  return {
    ...spec,
    default: spec.default ?? fallback,
    ...(numeric ? { range: spec.range ?? { min: 0, max: 2 ** spec.bitWidth - 1 } } : {}),
  };
}

export function fieldApplies(field: FieldDescription, values: Readonly<FieldValues>): boolean {
  const condition = field.when;
  if (!condition) return true;
  const value = values[condition.field];
  if (typeof value !== 'number') return false;
  if (condition.in && !condition.in.includes(value)) return false;
  if (condition.notIn && condition.notIn.includes(value)) return false;
  return true;
}

/** Big-endian bit read; widths up to 32 bits. */
export function readBits(bytes: Uint8Array, bitOffset: number, bitWidth: number): number {
  let value = 0;
  if (bitOffset % 8 === 0 && bitWidth % 8 === 0) {
    const first = bitOffset / 8;
    for (let i = 0; i < bitWidth / 8; i++) value = value * 256 + bytes[first + i];
    return value;
  }
  for (let i = 0; i < bitWidth; i++) {
    const bit = bitOffset + i;
    value = value * 2 + ((bytes[bit >> 3] >> (7 - (bit & 7))) & 1);
  }
  return value;
}

export function writeBits(bytes: Uint8Array, bitOffset: number, bitWidth: number, value: number): void {
  let rest = value;
  for (let i = bitWidth - 1; i >= 0; i--) {
    const bit = bitOffset + i;
    const mask = 1 << (7 - (bit & 7));
    if (rest % 2 === 1) bytes[bit >> 3] |= mask;
    else bytes[bit >> 3] &= ~mask;
    rest = Math.floor(rest / 2);
  }
}

/** Reads a fixed-width field of the header starting at byte `layerStart`. */
export function readField(bytes: Uint8Array, layerStart: number, field: FieldDescription): FieldValue {
  const bitOffset = layerStart * 8 + field.bitOffset;
  const byte = bitOffset / 8;
  switch (field.type) {
    case 'ipv4':
      return formatIpv4(bytes.subarray(byte, byte + 4));
    case 'ipv6':
      return formatIpv6(bytes.subarray(byte, byte + 16));
    case 'bytes':
      return bytes.slice(byte, byte + field.bitWidth / 8);
    default:
      return readBits(bytes, bitOffset, field.bitWidth);
  }
}

/** Writes a validated value into a header buffer that starts at offset 0. */
export function writeField(header: Uint8Array, field: FieldDescription, value: FieldValue): void {
  const byte = field.bitOffset / 8;
  if (field.type === 'ipv4' || field.type === 'ipv6') {
    header.set(field.type === 'ipv4' ? parseIpv4(String(value)) : parseIpv6(String(value)), byte);
  } else if (field.type === 'bytes') {
    header.set(value as Uint8Array, byte);
  } else {
    writeBits(header, field.bitOffset, field.bitWidth, value as number);
  }
}

/**
 * Checks a value given for building and returns it in canonical form
 * (bytes given as hex text become a Uint8Array). Throws an Error naming the layer and field.
 */
export function normalizeFieldValue(layer: string, field: FieldDescription, value: unknown): FieldValue {
  const where = `${layer} field '${field.name}' (${field.label})`;
  if (isNumericField(field)) {
    const range = field.range ?? { min: 0, max: 2 ** field.bitWidth - 1 };
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
      throw new Error(`${where} must be an integer from ${range.min} to ${range.max}, got ${String(value)}`);
    }
    return value;
  }
  if (field.type === 'ipv4' || field.type === 'ipv6') {
    if (typeof value !== 'string') throw new Error(`${where} must be an address string, got ${typeof value}`);
    try {
      return field.type === 'ipv4' ? formatIpv4(parseIpv4(value)) : formatIpv6(parseIpv6(value));
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`);
    }
  }
  let bytes: Uint8Array;
  if (value instanceof Uint8Array) bytes = value;
  else if (typeof value === 'string') {
    try {
      bytes = parseHex(value);
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`);
    }
  } else throw new Error(`${where} must be a Uint8Array or hex text`);
  const maxBytes = field.bitWidth > 0 ? field.bitWidth / 8 : (field.maxBytes ?? Infinity);
  if (bytes.length > maxBytes) throw new Error(`${where} holds at most ${maxBytes} bytes, got ${bytes.length}`);
  return bytes;
}

/** Human-readable value for the tree and hex views: "Echo Request (8)", "0x4000 (DF)", "0x1c46". */
export function formatFieldValue(field: FieldDescription, value: FieldValue, values: Readonly<FieldValues>): string {
  if (value instanceof Uint8Array) return value.length === 0 ? '(none)' : formatHex(value);
  if (typeof value === 'string') return value;
  if (field.type === 'flags' && field.flagNames) {
    const set = field.flagNames.filter((_, i) => (value >> (field.flagNames!.length - 1 - i)) & 1);
    return `${formatHexNumber(value, Math.ceil(field.bitWidth / 4))}${set.length ? ` (${set.join(', ')})` : ''}`;
  }
  const name = enumName(field, value, values);
  if (name !== undefined) return `${name} (${value})`;
  return field.hex ? formatHexNumber(value, Math.ceil(field.bitWidth / 4)) : String(value);
}

export function enumName(field: FieldDescription, value: number, values: Readonly<FieldValues>): string | undefined {
  if (field.enumNamesBy) {
    const selector = values[field.enumNamesBy.field];
    if (typeof selector === 'number') return field.enumNamesBy.names[selector]?.[value];
    return undefined;
  }
  return field.enumNames?.[value];
}
