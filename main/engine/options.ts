// Reading and writing the socket options of common/socket-options.ts through the
// library's getOption/setOption, converting between their C layouts and the
// contract's values (numbers for int/bool/timeval in ms, text, hex for bytes).
import { endianness } from 'node:os';
import { SocketLevel, SocketOption, type Socket, type SocketKind } from '@packet-workbench/raw-socket';
import type { OptionReading } from '../../common/contract';
import { findSocketOption, socketOptions, type SocketOptionDescription } from '../../common/socket-options';
import { WorkbenchError } from '../../common/validate';
import { formatHex, parseHex } from '../../packets/hex';

const little = endianness() === 'LE';
/** struct timeval on 64-bit Linux and macOS: two 64-bit fields (tv_usec is 32-bit on macOS, padded). */
const TIMEVAL_BYTES = 16;

function levelAndName(option: SocketOptionDescription): [number, number] {
  const level = (SocketLevel as unknown as Record<string, number>)[option.level];
  const name = (SocketOption as unknown as Record<string, number | undefined>)[option.name];
  if (level === undefined || name === undefined) {
    throw new WorkbenchError('ENOTSUP', `${option.name} does not exist on ${process.platform}`, 'name');
  }
  return [level, name];
}

export function optionsFor(family: 'ipv4' | 'ipv6'): readonly SocketOptionDescription[] {
  return socketOptions.filter((option) => option.families.includes(family));
}

function errorOf(error: unknown): { code: string; message: string } {
  const code = (error as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : 'INTERNAL', message: (error as Error).message ?? String(error) };
}

export function readOption(socket: Socket<SocketKind>, option: SocketOptionDescription): OptionReading {
  try {
    const [level, name] = levelAndName(option);
    const size = option.type === 'timeval' ? TIMEVAL_BYTES : option.type === 'int' || option.type === 'bool' ? 4 : (option.maxBytes ?? 64);
    const buffer = Buffer.alloc(size);
    const length = socket.getOption(level, name, buffer, size);
    return { name: option.name, value: decodeValue(option, buffer, length) };
  } catch (error) {
    return { name: option.name, value: null, error: errorOf(error) };
  }
}

function decodeValue(option: SocketOptionDescription, buffer: Buffer, length: number): number | string {
  switch (option.type) {
    case 'int':
      // Some options (IP_TTL on some kernels, IP_TOS) may be returned as one byte.
      if (length === 1) return buffer[0];
      return little ? buffer.readInt32LE(0) : buffer.readInt32BE(0);
    case 'bool': {
      const value = length === 1 ? buffer[0] : little ? buffer.readInt32LE(0) : buffer.readInt32BE(0);
      return value ? 1 : 0;
    }
    case 'timeval': {
      const seconds = Number(little ? buffer.readBigInt64LE(0) : buffer.readBigInt64BE(0));
      const micros = little ? buffer.readInt32LE(8) : buffer.readInt32BE(12);
      return seconds * 1000 + Math.floor(micros / 1000);
    }
    case 'text': {
      const end = buffer.subarray(0, length).indexOf(0);
      return buffer.subarray(0, end < 0 ? length : end).toString('utf8');
    }
    case 'bytes':
      return formatHex(buffer.subarray(0, length));
  }
}

/** The bytes setsockopt takes for a value; WorkbenchError('INVALID_ARGUMENT', …, 'value') when it does not fit. */
export function encodeValue(option: SocketOptionDescription, value: number | string): Buffer {
  const bad = (why: string): never => {
    throw new WorkbenchError('INVALID_ARGUMENT', `${option.name}: ${why}`, 'value');
  };
  if (option.type === 'int' || option.type === 'bool' || option.type === 'timeval') {
    if (typeof value !== 'number' || !Number.isInteger(value)) return bad(`expected an integer, got ${JSON.stringify(value)}`);
    if ((option.min !== undefined && value < option.min) || (option.max !== undefined && value > option.max)) {
      bad(`${value} is outside ${option.min} to ${option.max}`);
    }
    if (option.type === 'timeval') {
      const buffer = Buffer.alloc(TIMEVAL_BYTES);
      const seconds = BigInt(Math.floor(value / 1000));
      const micros = (value % 1000) * 1000;
      if (little) {
        buffer.writeBigInt64LE(seconds, 0);
        buffer.writeBigInt64LE(BigInt(micros), 8);
      } else {
        buffer.writeBigInt64BE(seconds, 0);
        buffer.writeBigInt64BE(BigInt(micros), 8);
      }
      return buffer;
    }
    const buffer = Buffer.alloc(4);
    if (little) buffer.writeInt32LE(value, 0);
    else buffer.writeInt32BE(value, 0);
    return buffer;
  }
  if (typeof value !== 'string') return bad(`expected ${option.type === 'bytes' ? 'hex' : 'text'}, got a number`);
  let bytes: Buffer;
  if (option.type === 'bytes') {
    try {
      bytes = Buffer.from(parseHex(value));
    } catch (error) {
      return bad((error as Error).message);
    }
  } else {
    bytes = Buffer.from(value, 'utf8');
  }
  if (option.maxBytes !== undefined && bytes.length > option.maxBytes) bad(`at most ${option.maxBytes} bytes, got ${bytes.length}`);
  return bytes;
}

export function writeOption(socket: Socket<SocketKind>, family: 'ipv4' | 'ipv6', name: string, value: number | string): OptionReading {
  const option = findSocketOption(name);
  if (!option) throw new WorkbenchError('INVALID_ARGUMENT', `Unknown socket option ${name}`, 'name');
  if (!option.families.includes(family)) {
    throw new WorkbenchError('INVALID_ARGUMENT', `${name} applies to ${option.families.join(' and ')} sockets, not ${family}`, 'name');
  }
  const bytes = encodeValue(option, value);
  const [level, optionName] = levelAndName(option);
  try {
    socket.setOption(level, optionName, bytes, bytes.length);
  } catch (error) {
    const { code, message } = errorOf(error);
    throw new WorkbenchError(code, `Setting ${name} failed: ${message}`, 'value');
  }
  return readOption(socket, option);
}

/**
 * Sets an integer option by name (engine-internal: TTL, hop limit, IP_HDRINCL, SO_RCVBUF),
 * encoded and range-checked by encodeValue like setSocketOption's values. Throws
 * WorkbenchError('INVALID_ARGUMENT') for a value out of range, the library's error when
 * setsockopt fails.
 */
export function setIntOption(socket: Socket<SocketKind>, name: 'IP_TTL' | 'IPV6_UNICAST_HOPS' | 'IP_HDRINCL' | 'IPV6_HDRINCL' | 'SO_RCVBUF', value: number): void {
  const option = findSocketOption(name) as SocketOptionDescription;
  const [level, optionName] = levelAndName(option);
  const bytes = encodeValue(option, value);
  socket.setOption(level, optionName, bytes, bytes.length);
}

export function readIntOption(socket: Socket<SocketKind>, name: string): number | null {
  const option = findSocketOption(name);
  if (!option) return null;
  const reading = readOption(socket, option);
  return typeof reading.value === 'number' ? reading.value : null;
}

/** The SO_RCVBUF the engine asks for on the sockets it opens (Linux doubles it, capped at 2 × net.core.rmem_max). */
export const RECEIVE_BUFFER_BYTES = 4 << 20;

/**
 * Raises the kernel receive buffer so that bursts (a flood, replies to a fast send job)
 * are queued instead of dropped. Best effort: the kernel caps the value at
 * net.core.rmem_max, and any failure leaves the socket as it was. Never lowers it.
 */
export function raiseReceiveBuffer(socket: Socket<SocketKind>, bytes = RECEIVE_BUFFER_BYTES): void {
  try {
    const before = readIntOption(socket, 'SO_RCVBUF');
    if (before !== null && before >= 2 * bytes) return;
    setIntOption(socket, 'SO_RCVBUF', bytes);
    // Where rmem_max is below half the default, asking for more would have given less.
    const after = readIntOption(socket, 'SO_RCVBUF');
    if (before !== null && after !== null && after < before) setIntOption(socket, 'SO_RCVBUF', before >> 1);
  } catch {
    // EPERM, ENOPROTOOPT…: an optimization only.
  }
}
