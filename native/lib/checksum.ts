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

// The hot path is shaped for a JIT that has seen every argument shape, not just one
// (bench:native's cold figures): createChecksum takes one or two parts by name (the
// arguments object only for more), each shape is summed by a small function of its
// own, and a part's sum comes back with its length's parity in bit 16: nothing is
// allocated per call, and no error text is built unless a part is wrong.

/** The one's complement sum of bytes[offset, offset + length) folded to 16 bits, the length's parity in bit 16. */
function sumBytes(bytes: Uint8Array, offset: number, length: number): number {
  if (length >= NATIVE_THRESHOLD) return binding.checksumSum(bytes, offset, length) | ((length & 1) << 16);
  // Bytes at even and odd positions summed apart: two adds a word, no shifts in the loop
  // (at most 63 bytes each below the threshold: no overflow).
  let high = 0;
  let low = 0;
  const end = offset + (length & ~1);
  let i = offset;
  for (; i < end; i += 2) {
    high += bytes[i];
    low += bytes[i + 1];
  }
  let sum = (high << 8) + low;
  if (length & 1) sum += bytes[end] << 8;
  sum = (sum & 0xffff) + (sum >>> 16);
  return ((sum & 0xffff) + (sum >>> 16)) | ((length & 1) << 16);
}

function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw new TypeError(`The "${name}" argument must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`The "${name}" argument must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** A part that is not a Uint8Array: a {buffer, offset, length} range, checked. */
function sumRange(part: unknown, index: number): number {
  if (part === null || typeof part !== 'object' || !((part as ChecksumRange).buffer instanceof Uint8Array)) {
    throw new TypeError(`arguments[${index}] must be a Buffer or an object {buffer, offset, length}`);
  }
  const { buffer, offset, length } = part as Partial<ChecksumRange> & { buffer: Uint8Array };
  const size = buffer.length;
  const start = offset === undefined ? 0 : isIndex(offset, size) ? offset : checkInteger(offset, `arguments[${index}].offset`, 0, size);
  const count = length === undefined ? size - start : isIndex(length, size) ? length : checkInteger(length, `arguments[${index}].length`, 0, size);
  if (start + count > size) {
    throw new RangeError(`arguments[${index}]: offset ${start} plus length ${count} is past the end of the ${size}-byte buffer`);
  }
  return sumBytes(buffer, start, count);
}

/** An integer from 0 to max (the common case, tested without building checkInteger's names). */
function isIndex(value: unknown, max: number): value is number {
  return typeof value === 'number' && value >= 0 && value <= max && Math.floor(value) === value;
}

function sumPart(part: unknown, index: number): number {
  return part instanceof Uint8Array ? sumBytes(part, 0, part.length) : sumRange(part, index);
}

/** Adds a part's sum (parity in bit 16) to a running sum (parity in bit 16), RFC 1071 byte order kept. */
function addPart(total: number, part: number): number {
  let partial = part & 0xffff;
  // A part that starts at an odd position contributes its sum byte-swapped.
  if (total & 0x10000) partial = ((partial & 0xff) << 8) | (partial >>> 8);
  let sum = (total & 0xffff) + partial;
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum | ((total ^ part) & 0x10000);
}

/**
 * The 16-bit one's complement of the one's complement sum of all the data, as if
 * every part followed the previous one in a single buffer (odd lengths included).
 */
export function createChecksum(...parts: ChecksumPart[]): number;
export function createChecksum(first?: unknown, second?: unknown): number {
  const count = arguments.length;
  let total: number;
  if (count === 1) total = sumPart(first, 0);
  else if (count === 2) total = addPart(sumPart(first, 0), sumPart(second, 1));
  else if (count === 0) total = 0;
  else {
    total = addPart(sumPart(first, 0), sumPart(second, 1));
    // eslint-disable-next-line prefer-rest-params
    for (let p = 2; p < count; p++) total = addPart(total, sumPart(arguments[p], p));
  }
  return ~total & 0xffff;
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
