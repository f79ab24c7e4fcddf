// Type-length-value options shared by IPv4 and TCP headers: naming them for the tree view,
// and encoding the common TCP options so nobody has to write their bytes by hand.

import { formatHex } from './hex';
import type { DecodedOption } from './layer';

export interface OptionKind {
  readonly name: string;
  /** Formats the option's data (the bytes after type and length). */
  readonly format?: (data: Uint8Array) => string;
}

const END_OF_OPTIONS = 0;
const NO_OPERATION = 1;

/** Walks options encoded as type, length, data (with 1-byte End and No-Operation). */
export function describeTlvOptions(
  bytes: Uint8Array,
  start: number,
  kinds: Readonly<Record<number, OptionKind>>,
): { options: DecodedOption[]; problems: string[] } {
  const options: DecodedOption[] = [];
  const problems: string[] = [];
  let i = 0;
  while (i < bytes.length) {
    const type = bytes[i];
    if (type === END_OF_OPTIONS) {
      options.push({ name: 'End of Option List', display: '', range: { start: start + i, end: start + bytes.length } });
      break;
    }
    if (type === NO_OPERATION) {
      options.push({ name: 'No-Operation', display: '', range: { start: start + i, end: start + i + 1 } });
      i++;
      continue;
    }
    const length = bytes[i + 1];
    if (length === undefined || length < 2 || i + length > bytes.length) {
      problems.push(`option ${type} at byte ${start + i} has length ${length ?? 'missing'}, which does not fit the options`);
      break;
    }
    const kind = kinds[type];
    const data = bytes.subarray(i + 2, i + length);
    options.push({
      name: kind?.name ?? `Option ${type}`,
      display: kind?.format ? kind.format(data) : formatHex(data),
      range: { start: start + i, end: start + i + length },
    });
    i += length;
  }
  return { options, problems };
}

export function readUint(data: Uint8Array): number {
  let value = 0;
  for (const byte of data) value = value * 256 + byte;
  return value;
}

export type TcpOption =
  | { readonly kind: 'end' }
  | { readonly kind: 'nop' }
  | { readonly kind: 'mss'; readonly value: number }
  | { readonly kind: 'windowScale'; readonly shift: number }
  | { readonly kind: 'sackPermitted' }
  | { readonly kind: 'sack'; readonly blocks: readonly (readonly [number, number])[] }
  | { readonly kind: 'timestamps'; readonly value: number; readonly echo: number }
  | { readonly kind: 'raw'; readonly type: number; readonly data: Uint8Array };

/** Encodes TCP options (RFC 9293, 7323, 2018) for the TCP 'options' field; build pads to 4 bytes. */
export function encodeTcpOptions(options: readonly TcpOption[]): Uint8Array {
  const out: number[] = [];
  const tlv = (type: number, data: readonly number[]) => out.push(type, data.length + 2, ...data);
  const u16 = (v: number) => [(v >>> 8) & 0xff, v & 0xff];
  const u32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  for (const option of options) {
    switch (option.kind) {
      case 'end':
        out.push(0);
        break;
      case 'nop':
        out.push(1);
        break;
      case 'mss':
        tlv(2, u16(option.value));
        break;
      case 'windowScale':
        tlv(3, [option.shift]);
        break;
      case 'sackPermitted':
        tlv(4, []);
        break;
      case 'sack':
        tlv(5, option.blocks.flatMap(([left, right]) => [...u32(left), ...u32(right)]));
        break;
      case 'timestamps':
        tlv(8, [...u32(option.value), ...u32(option.echo)]);
        break;
      case 'raw':
        tlv(option.type, [...option.data]);
        break;
    }
  }
  if (out.length > 40) throw new Error(`TCP options take ${out.length} bytes; the header allows at most 40`);
  return Uint8Array.from(out);
}
