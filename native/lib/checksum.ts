// raw-socket's checksum and byte-order functions. Small inputs are summed in JS
// (a call into the addon costs more than summing a header); large ones in C++.
import { endianness } from 'node:os';
import { binding } from './binding';

export interface ChecksumRange {
  buffer: Uint8Array;
  offset: number;
  length: number;
}
export type ChecksumPart = Uint8Array | ChecksumRange;

// Below this many bytes the JS loop beats the addon call (measured by bench:native).
const NATIVE_THRESHOLD = 128;

function sumInJs(bytes: Uint8Array, offset: number, length: number): number {
  let sum = 0;
  const end = offset + (length & ~1);
  let i = offset;
  for (; i + 3 < end; i += 4) sum += ((bytes[i] << 8) | bytes[i + 1]) + ((bytes[i + 2] << 8) | bytes[i + 3]);
  for (; i < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (length & 1) sum += bytes[end] << 8;
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum & 0xffff) + (sum >>> 16);
}

function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw new TypeError(`The "${name}" argument must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`The "${name}" argument must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/**
 * The 16-bit one's complement of the one's complement sum of all the data, as if
 * every part followed the previous one in a single buffer (odd lengths included).
 */
export function createChecksum(...parts: ChecksumPart[]): number;
export function createChecksum(): number {
  // The common call, one whole buffer, skips the general path's bookkeeping.
  if (arguments.length === 1 && arguments[0] instanceof Uint8Array) {
    const bytes = arguments[0] as Uint8Array;
    const length = bytes.length;
    let sum = length < NATIVE_THRESHOLD ? sumInJs(bytes, 0, length) : binding.checksumSum(bytes, 0, length);
    sum = (sum & 0xffff) + (sum >>> 16);
    return ~sum & 0xffff;
  }
  // eslint-disable-next-line prefer-rest-params
  return checksumOfParts(arguments as unknown as ArrayLike<ChecksumPart>);
}

function checksumOfParts(parts: ArrayLike<ChecksumPart>): number {
  let sum = 0;
  let odd = false;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p];
    let bytes: Uint8Array;
    let offset = 0;
    let length: number;
    if (part instanceof Uint8Array) {
      bytes = part;
      length = part.length;
    } else if (part !== null && typeof part === 'object' && (part as ChecksumRange).buffer instanceof Uint8Array) {
      bytes = part.buffer;
      offset = part.offset === undefined ? 0 : checkInteger(part.offset, `arguments[${p}].offset`, 0, bytes.length);
      length =
        part.length === undefined
          ? bytes.length - offset
          : checkInteger(part.length, `arguments[${p}].length`, 0, bytes.length);
      if (offset + length > bytes.length) {
        throw new RangeError(
          `arguments[${p}]: offset ${offset} plus length ${length} is past the end of the ${bytes.length}-byte buffer`,
        );
      }
    } else {
      throw new TypeError(`arguments[${p}] must be a Buffer or an object {buffer, offset, length}`);
    }
    let partial = length < NATIVE_THRESHOLD ? sumInJs(bytes, offset, length) : binding.checksumSum(bytes, offset, length);
    // A part that starts at an odd position contributes its sum byte-swapped (RFC 1071).
    if (odd) partial = ((partial & 0xff) << 8) | (partial >>> 8);
    sum += partial;
    sum = (sum & 0xffff) + (sum >>> 16); // fold now: 32-bit arithmetic would lose carries over many parts
    if (length & 1) odd = !odd;
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Writes a checksum big-endian at offset and offset + 1; returns the buffer. */
export function writeChecksum<T extends Uint8Array>(buffer: T, offset: number, checksum: number): T {
  if (!(buffer instanceof Uint8Array)) throw new TypeError('The "buffer" argument must be a Buffer or Uint8Array');
  checkInteger(offset, 'offset', 0, Math.max(0, buffer.length - 2));
  if (buffer.length < 2) throw new RangeError(`The ${buffer.length}-byte buffer has no room for a checksum`);
  checkInteger(checksum, 'checksum', 0, 0xffff);
  buffer[offset] = checksum >>> 8;
  buffer[offset + 1] = checksum & 0xff;
  return buffer;
}

const littleEndian = endianness() === 'LE';

function swap32(value: number): number {
  return (((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24)) >>> 0;
}

function swap16(value: number): number {
  return ((value & 0xff) << 8) | (value >>> 8);
}

/** Host to network byte order, 32 bits (what the OS's htonl returns on this host). */
export function htonl(uint32: number): number {
  checkInteger(uint32, 'uint32', 0, 0xffffffff);
  return littleEndian ? swap32(uint32) : uint32;
}

export function ntohl(uint32: number): number {
  checkInteger(uint32, 'uint32', 0, 0xffffffff);
  return littleEndian ? swap32(uint32) : uint32;
}

export function htons(uint16: number): number {
  checkInteger(uint16, 'uint16', 0, 0xffff);
  return littleEndian ? swap16(uint16) : uint16;
}

export function ntohs(uint16: number): number {
  checkInteger(uint16, 'uint16', 0, 0xffff);
  return littleEndian ? swap16(uint16) : uint16;
}
