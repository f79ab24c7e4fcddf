// Capture files: pcapng read and write, classic pcap read. Timestamps are bigint nanoseconds since the epoch.

export const LINKTYPE_ETHERNET = 1;
/** Raw IP: each packet starts with an IPv4 or IPv6 header. */
export const LINKTYPE_RAW = 101;

export interface CapturedPacket {
  readonly data: Uint8Array;
  readonly timestampNs: bigint;
  readonly linkType: number;
  /** Length on the wire; larger than data.length when the capture was cut at the snap length. */
  readonly originalLength: number;
  readonly interfaceId: number;
  readonly comment?: string;
  /** From the pcapng EPB flags, when they give it. */
  readonly direction?: PacketDirection;
}

export interface CapturedInterface {
  readonly linkType: number;
  readonly name?: string;
  readonly description?: string;
}

export interface Capture {
  readonly format: 'pcapng' | 'pcap';
  readonly packets: CapturedPacket[];
  /** Every interface of the file (of its last section, for pcapng), by interfaceId. */
  readonly interfaces: CapturedInterface[];
  /** Set when the file ends inside a block or record: the packets before it are still returned. */
  readonly problems: string[];
}

export interface PacketToWrite {
  readonly data: Uint8Array;
  readonly timestampNs: bigint;
  readonly comment?: string;
  /** Index of the packet's interface among those described (default 0). */
  readonly interfaceId?: number;
  /** pcapng EPB flags bits 0-1: inbound 1, outbound 2. Classic pcap has no place for it. */
  readonly direction?: PacketDirection;
  /** Length on the wire when data was cut (default data.length). */
  readonly originalLength?: number;
}

export type PacketDirection = 'inbound' | 'outbound';

/** An interface block (IDB): the link type and, in pcapng, a name and a description. */
export interface CaptureInterface {
  /** Default LINKTYPE_RAW. */
  readonly linkType?: number;
  readonly name?: string;
  readonly description?: string;
}

export interface PcapngWriteOptions {
  /** Default LINKTYPE_RAW. */
  readonly linkType?: number;
  readonly interfaceName?: string;
  readonly application?: string;
  /** One IDB each, instead of the one linkType/interfaceName describe; packets name theirs by interfaceId. */
  readonly interfaces?: readonly CaptureInterface[];
}

const SECTION_HEADER = 0x0a0d0d0a;
const INTERFACE_DESCRIPTION = 0x00000001;
const ENHANCED_PACKET = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
const EPB_FLAGS = 2;
const NANOSECONDS = 9;
const EPB_INBOUND = 1;
const EPB_OUTBOUND = 2;
/** Classic pcap with nanosecond timestamps. */
const PCAP_NANOSECOND_MAGIC = 0xa1b23c4d;
const PCAP_SNAP_LENGTH = 262144;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * Encodes a capture file block by block, for files written while packets arrive:
 * take() returns the whole blocks encoded since the last call, so a writer that
 * appends them never leaves half a block behind.
 */
export interface CaptureEncoder {
  readonly format: 'pcapng' | 'pcap';
  /** Describes an interface; returns the interfaceId its packets name. */
  addInterface(iface: CaptureInterface): number;
  addPacket(packet: PacketToWrite): void;
  /** Bytes encoded and not yet taken. */
  readonly pendingBytes: number;
  take(): Uint8Array;
}

/** A growing byte buffer that hands out what it holds and starts again. */
class BlockBuffer {
  private bytes = new Uint8Array(64 * 1024);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  /** Room for n more bytes; returns the view and the offset to write at. */
  reserve(n: number): { view: DataView; bytes: Uint8Array; at: number } {
    if (this.length + n > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < this.length + n) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.length;
    this.length += n;
    // Blocks are zero-padded; a reused buffer may hold old bytes.
    this.bytes.fill(0, at, at + n);
    return { view: this.view, bytes: this.bytes, at };
  }

  take(): Uint8Array {
    const out = this.bytes.slice(0, this.length);
    this.length = 0;
    return out;
  }
}

/** pcapng, little-endian, one section, nanosecond timestamps on every interface. */
export class PcapngEncoder implements CaptureEncoder {
  readonly format = 'pcapng';
  private readonly buffer = new BlockBuffer();
  private interfaces = 0;

  constructor(options: { application?: string } = {}) {
    const sectionOptions = options.application ? [option(SHB_USERAPPL, utf8.encode(options.application))] : [];
    const section = new Uint8Array(16);
    const sectionView = new DataView(section.buffer);
    sectionView.setUint32(0, BYTE_ORDER_MAGIC, true);
    sectionView.setUint16(4, 1, true);
    sectionView.setUint16(6, 0, true);
    sectionView.setBigInt64(8, -1n, true); // section length not given
    this.appendBlock(block(SECTION_HEADER, section, sectionOptions));
  }

  get pendingBytes(): number {
    return this.buffer.length;
  }

  addInterface(iface: CaptureInterface): number {
    const body = new Uint8Array(8);
    const view = new DataView(body.buffer);
    view.setUint16(0, iface.linkType ?? LINKTYPE_RAW, true);
    view.setUint32(4, 0, true); // no snap length limit
    const options = [option(IF_TSRESOL, Uint8Array.of(NANOSECONDS))];
    if (iface.name) options.push(option(IF_NAME, utf8.encode(iface.name)));
    if (iface.description) options.push(option(IF_DESCRIPTION, utf8.encode(iface.description)));
    this.appendBlock(block(INTERFACE_DESCRIPTION, body, options));
    return this.interfaces++;
  }

  addPacket(packet: PacketToWrite): void {
    const interfaceId = packet.interfaceId ?? 0;
    if (!Number.isInteger(interfaceId) || interfaceId < 0 || interfaceId >= this.interfaces) {
      throw new RangeError(`Packet names interface ${interfaceId}; ${this.interfaces} interface(s) are described`);
    }
    const data = packet.data;
    const flags = packet.direction === 'inbound' ? EPB_INBOUND : packet.direction === 'outbound' ? EPB_OUTBOUND : 0;
    const comment = packet.comment ? utf8.encode(packet.comment) : null;
    if (comment && comment.length > 0xffff) throw new RangeError(`A packet comment is ${comment.length} bytes; pcapng options hold at most 65535`);
    const optionBytes = (flags ? 8 : 0) + (comment ? 4 + pad4(comment.length) : 0);
    const length = 32 + pad4(data.length) + (optionBytes > 0 ? optionBytes + 4 : 0);
    const { view, bytes, at } = this.buffer.reserve(length);
    view.setUint32(at, ENHANCED_PACKET, true);
    view.setUint32(at + 4, length, true);
    view.setUint32(at + 8, interfaceId, true);
    view.setUint32(at + 12, Number(packet.timestampNs >> 32n) >>> 0, true);
    view.setUint32(at + 16, Number(packet.timestampNs & 0xffffffffn), true);
    view.setUint32(at + 20, data.length, true);
    view.setUint32(at + 24, packet.originalLength ?? data.length, true);
    bytes.set(data, at + 28);
    let o = at + 28 + pad4(data.length);
    if (flags) {
      view.setUint16(o, EPB_FLAGS, true);
      view.setUint16(o + 2, 4, true);
      view.setUint32(o + 4, flags, true);
      o += 8;
    }
    if (comment) {
      view.setUint16(o, OPT_COMMENT, true);
      view.setUint16(o + 2, comment.length, true);
      bytes.set(comment, o + 4);
      o += 4 + pad4(comment.length);
    }
    // opt_endofopt is the zeroed 4 bytes reserve() left, when there are options.
    view.setUint32(at + length - 4, length, true);
  }

  take(): Uint8Array {
    return this.buffer.take();
  }

  private appendBlock(block: Uint8Array): void {
    const { bytes, at } = this.buffer.reserve(block.length);
    bytes.set(block, at);
  }
}

/**
 * Classic pcap (nanosecond magic a1b23c4d, little-endian): one link type for the whole
 * file and nothing per packet but time and length, so interfaces, direction and
 * comments are not kept. Every interface must have the file's link type.
 */
export class PcapEncoder implements CaptureEncoder {
  readonly format = 'pcap';
  private readonly buffer = new BlockBuffer();

  constructor(readonly linkType: number = LINKTYPE_RAW) {
    const { view, at } = this.buffer.reserve(24);
    view.setUint32(at, PCAP_NANOSECOND_MAGIC, true);
    view.setUint16(at + 4, 2, true);
    view.setUint16(at + 6, 4, true);
    view.setUint32(at + 16, PCAP_SNAP_LENGTH, true);
    view.setUint32(at + 20, linkType, true);
  }

  get pendingBytes(): number {
    return this.buffer.length;
  }

  addInterface(iface: CaptureInterface): number {
    const linkType = iface.linkType ?? LINKTYPE_RAW;
    if (linkType !== this.linkType) throw new RangeError(`Classic pcap holds one link type (${this.linkType}); interface ${iface.name ?? ''} has ${linkType}: write pcapng`);
    return 0;
  }

  addPacket(packet: PacketToWrite): void {
    const data = packet.data;
    const { view, bytes, at } = this.buffer.reserve(16 + data.length);
    view.setUint32(at, Number(packet.timestampNs / 1_000_000_000n), true);
    view.setUint32(at + 4, Number(packet.timestampNs % 1_000_000_000n), true);
    view.setUint32(at + 8, data.length, true);
    view.setUint32(at + 12, packet.originalLength ?? data.length, true);
    bytes.set(data, at + 16);
  }

  take(): Uint8Array {
    return this.buffer.take();
  }
}

/** Writes one section, nanosecond timestamps, little-endian: one interface, or the ones options.interfaces describe. */
export function writePcapng(packets: readonly PacketToWrite[], options: PcapngWriteOptions = {}): Uint8Array {
  const encoder = new PcapngEncoder({ application: options.application });
  return encodeAll(encoder, packets, options.interfaces ?? [{ linkType: options.linkType, name: options.interfaceName }]);
}

/** Classic pcap (nanoseconds): the packets' bytes and times only. */
export function writePcap(packets: readonly PacketToWrite[], linkType: number = LINKTYPE_RAW): Uint8Array {
  return encodeAll(new PcapEncoder(linkType), packets, [{ linkType }]);
}

function encodeAll(encoder: CaptureEncoder, packets: readonly PacketToWrite[], interfaces: readonly CaptureInterface[]): Uint8Array {
  for (const iface of interfaces) encoder.addInterface(iface);
  for (const packet of packets) encoder.addPacket(packet);
  return encoder.take();
}

/** Reads pcapng or classic pcap, chosen by the file's magic number. */
export function readCapture(bytes: Uint8Array): Capture {
  if (bytes.length >= 4) {
    const magic = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
    if (magic === SECTION_HEADER) return readPcapng(bytes);
    if (PCAP_MAGICS.some(([value]) => value === magic || swap32(value) === magic)) return readPcap(bytes);
  }
  throw new Error('Not a capture file: expected pcapng (starts 0a 0d 0d 0a) or pcap (starts a1 b2 c3 d4 or a1 b2 3c 4d, either byte order)');
}

interface Interface extends CapturedInterface {
  /** Timestamp units per second. */
  readonly unitsPerSecond: bigint;
  readonly offsetSeconds: bigint;
}

export function readPcapng(bytes: Uint8Array): Capture {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || view.getUint32(0, false) !== SECTION_HEADER) {
    throw new Error('Not a pcapng file: it must start with a section header block (0a 0d 0d 0a)');
  }
  const packets: CapturedPacket[] = [];
  const problems: string[] = [];
  let littleEndian = true;
  let interfaces: Interface[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 12) {
      problems.push(`file ends inside a block header at byte ${offset}`);
      break;
    }
    const type = view.getUint32(offset, littleEndian);
    if (view.getUint32(offset, false) === SECTION_HEADER) {
      const magic = view.getUint32(offset + 8, true);
      if (magic === BYTE_ORDER_MAGIC) littleEndian = true;
      else if (magic === swap32(BYTE_ORDER_MAGIC)) littleEndian = false;
      else throw new Error(`Not a pcapng file: byte-order magic at byte ${offset + 8} is 0x${magic.toString(16)}, expected 0x1a2b3c4d`);
      interfaces = [];
    }
    const length = view.getUint32(offset + 4, littleEndian);
    if (length < 12 || length % 4 !== 0) {
      if (offset === 0) throw new Error(`Not a pcapng file: first block length ${length} is invalid`);
      problems.push(`block at byte ${offset} has invalid length ${length}; stopped reading`);
      break;
    }
    if (offset + length > bytes.length) {
      problems.push(`block at byte ${offset} claims ${length} bytes, only ${bytes.length - offset} left; stopped reading`);
      break;
    }
    const body = offset + 8;
    const bodyEnd = offset + length - 4;
    if (type === INTERFACE_DESCRIPTION && bodyEnd - body >= 8) {
      let unitsPerSecond = 1_000_000n;
      let offsetSeconds = 0n;
      let name: string | undefined;
      let description: string | undefined;
      for (const { code, value } of readOptions(view, body + 8, bodyEnd, littleEndian)) {
        if (code === IF_TSRESOL && value.length >= 1) unitsPerSecond = resolution(value[0]);
        if (code === IF_TSOFFSET && value.length >= 8) {
          offsetSeconds = new DataView(value.buffer, value.byteOffset, 8).getBigInt64(0, littleEndian);
        }
        if (code === IF_NAME) name = utf8Decoder.decode(value);
        if (code === IF_DESCRIPTION) description = utf8Decoder.decode(value);
      }
      interfaces.push({
        linkType: view.getUint16(body, littleEndian),
        unitsPerSecond,
        offsetSeconds,
        ...(name !== undefined ? { name } : {}),
        ...(description !== undefined ? { description } : {}),
      });
    } else if (type === ENHANCED_PACKET && bodyEnd - body >= 20) {
      const interfaceId = view.getUint32(body, littleEndian);
      const iface = interfaces[interfaceId];
      const capturedLength = view.getUint32(body + 12, littleEndian);
      const dataEnd = body + 20 + capturedLength;
      if (!iface) problems.push(`packet at byte ${offset} names interface ${interfaceId}, which is not described; skipped`);
      else if (dataEnd > bodyEnd) problems.push(`packet at byte ${offset} claims ${capturedLength} bytes, more than its block holds; skipped`);
      else {
        const ticks = (BigInt(view.getUint32(body + 4, littleEndian)) << 32n) | BigInt(view.getUint32(body + 8, littleEndian));
        const options = readOptions(view, body + 20 + pad4(capturedLength), bodyEnd, littleEndian);
        const comment = options.find((o) => o.code === OPT_COMMENT);
        const flags = options.find((o) => o.code === EPB_FLAGS && o.value.length === 4);
        const directionBits = flags ? new DataView(flags.value.buffer, flags.value.byteOffset, 4).getUint32(0, littleEndian) & 3 : 0;
        packets.push({
          data: bytes.slice(body + 20, dataEnd),
          timestampNs: (ticks * 1_000_000_000n) / iface.unitsPerSecond + iface.offsetSeconds * 1_000_000_000n,
          linkType: iface.linkType,
          originalLength: view.getUint32(body + 16, littleEndian),
          interfaceId,
          ...(comment ? { comment: utf8Decoder.decode(comment.value) } : {}),
          ...(directionBits === EPB_INBOUND ? { direction: 'inbound' as const } : directionBits === EPB_OUTBOUND ? { direction: 'outbound' as const } : {}),
        });
      }
    }
    // Other blocks (name resolution, statistics, custom...) are skipped.
    offset += length;
  }
  return { format: 'pcapng', packets, interfaces: interfaces.map(({ linkType, name, description }) => ({ linkType, ...(name !== undefined ? { name } : {}), ...(description !== undefined ? { description } : {}) })), problems };
}

const PCAP_MAGICS: readonly (readonly [number, bigint])[] = [
  [0xa1b2c3d4, 1_000n], // microseconds
  [0xa1b23c4d, 1n], // nanoseconds
];

export function readPcap(bytes: Uint8Array): Capture {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 24) throw new Error(`Not a pcap file: ${bytes.length} bytes is shorter than the 24-byte file header`);
  const magic = view.getUint32(0, false);
  let littleEndian = false;
  let nsPerUnit = 0n;
  for (const [value, scale] of PCAP_MAGICS) {
    if (magic === value) nsPerUnit = scale;
    else if (magic === swap32(value)) {
      nsPerUnit = scale;
      littleEndian = true;
    }
  }
  if (nsPerUnit === 0n) throw new Error(`Not a pcap file: magic 0x${magic.toString(16)} is not a1b2c3d4 or a1b23c4d`);
  const linkType = view.getUint32(20, littleEndian) & 0x0fffffff;
  const packets: CapturedPacket[] = [];
  const problems: string[] = [];
  let offset = 24;
  while (offset < bytes.length) {
    if (bytes.length - offset < 16) {
      problems.push(`file ends inside a record header at byte ${offset}`);
      break;
    }
    const seconds = BigInt(view.getUint32(offset, littleEndian));
    const fraction = BigInt(view.getUint32(offset + 4, littleEndian));
    const capturedLength = view.getUint32(offset + 8, littleEndian);
    if (offset + 16 + capturedLength > bytes.length) {
      problems.push(`record at byte ${offset} claims ${capturedLength} bytes, only ${bytes.length - offset - 16} left`);
      break;
    }
    packets.push({
      data: bytes.slice(offset + 16, offset + 16 + capturedLength),
      timestampNs: seconds * 1_000_000_000n + fraction * nsPerUnit,
      linkType,
      originalLength: view.getUint32(offset + 12, littleEndian),
      interfaceId: 0,
    });
    offset += 16 + capturedLength;
  }
  return { format: 'pcap', packets, interfaces: [{ linkType }], problems };
}

/** Where the IP header starts for common link types, so imported captures can be decoded. */
export function ipHeaderOffset(data: Uint8Array, linkType: number): number | undefined {
  const ipVersionAt = (offset: number) => (data.length > offset && [4, 6].includes(data[offset] >> 4) ? offset : undefined);
  switch (linkType) {
    case LINKTYPE_RAW:
    case 228: // IPv4
    case 229: // IPv6
      return ipVersionAt(0);
    case 0: // BSD loopback: 4-byte address family
      return ipVersionAt(4);
    case LINKTYPE_ETHERNET: {
      let offset = 12;
      while (data.length >= offset + 2 && [0x8100, 0x88a8].includes(data[offset] * 256 + data[offset + 1])) offset += 4;
      const etherType = data[offset] * 256 + data[offset + 1];
      return etherType === 0x0800 || etherType === 0x86dd ? ipVersionAt(offset + 2) : undefined;
    }
    case 113: // Linux cooked capture v1
      return ipVersionAt(16);
    case 276: // Linux cooked capture v2
      return ipVersionAt(20);
    default:
      return undefined;
  }
}

function resolution(tsresol: number): bigint {
  // High bit set: a negative power of 2; otherwise a negative power of 10.
  const exponent = BigInt(tsresol & 0x7f);
  return tsresol & 0x80 ? 1n << exponent : 10n ** exponent;
}

function readOptions(view: DataView, start: number, end: number, littleEndian: boolean): { code: number; value: Uint8Array }[] {
  const options: { code: number; value: Uint8Array }[] = [];
  let offset = start;
  while (offset + 4 <= end) {
    const code = view.getUint16(offset, littleEndian);
    const length = view.getUint16(offset + 2, littleEndian);
    if (code === OPT_END || offset + 4 + length > end) break;
    options.push({ code, value: new Uint8Array(view.buffer, view.byteOffset + offset + 4, length).slice() });
    offset += 4 + pad4(length);
  }
  return options;
}

function option(code: number, value: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(4 + pad4(value.length));
  const view = new DataView(bytes.buffer);
  view.setUint16(0, code, true);
  view.setUint16(2, value.length, true);
  bytes.set(value, 4);
  return bytes;
}

function block(type: number, body: Uint8Array, options: readonly Uint8Array[]): Uint8Array {
  const optionBytes = options.length > 0 ? concatAll([...options, new Uint8Array(4)]) : new Uint8Array(0);
  const length = 12 + body.length + optionBytes.length;
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, length, true);
  bytes.set(body, 8);
  bytes.set(optionBytes, 8 + body.length);
  view.setUint32(length - 4, length, true);
  return bytes;
}

function pad4(length: number): number {
  return (length + 3) & ~3;
}

function swap32(value: number): number {
  return (((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24)) >>> 0;
}

function concatAll(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
