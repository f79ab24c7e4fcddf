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
}

export interface Capture {
  readonly format: 'pcapng' | 'pcap';
  readonly packets: CapturedPacket[];
  /** Set when the file ends inside a block or record: the packets before it are still returned. */
  readonly problems: string[];
}

export interface PacketToWrite {
  readonly data: Uint8Array;
  readonly timestampNs: bigint;
  readonly comment?: string;
}

export interface PcapngWriteOptions {
  /** Default LINKTYPE_RAW. */
  readonly linkType?: number;
  readonly interfaceName?: string;
  readonly application?: string;
}

const SECTION_HEADER = 0x0a0d0d0a;
const INTERFACE_DESCRIPTION = 0x00000001;
const ENHANCED_PACKET = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
const NANOSECONDS = 9;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Writes one section with one interface (nanosecond timestamps), little-endian. */
export function writePcapng(packets: readonly PacketToWrite[], options: PcapngWriteOptions = {}): Uint8Array {
  const blocks: Uint8Array[] = [];
  const sectionOptions = options.application ? [option(SHB_USERAPPL, utf8.encode(options.application))] : [];
  const section = new Uint8Array(16);
  const sectionView = new DataView(section.buffer);
  sectionView.setUint32(0, BYTE_ORDER_MAGIC, true);
  sectionView.setUint16(4, 1, true);
  sectionView.setUint16(6, 0, true);
  sectionView.setBigInt64(8, -1n, true); // section length not given
  blocks.push(block(SECTION_HEADER, section, sectionOptions));

  const iface = new Uint8Array(8);
  const ifaceView = new DataView(iface.buffer);
  ifaceView.setUint16(0, options.linkType ?? LINKTYPE_RAW, true);
  ifaceView.setUint32(4, 0, true); // no snap length limit
  const ifaceOptions = [option(IF_TSRESOL, Uint8Array.of(NANOSECONDS))];
  if (options.interfaceName) ifaceOptions.push(option(IF_NAME, utf8.encode(options.interfaceName)));
  blocks.push(block(INTERFACE_DESCRIPTION, iface, ifaceOptions));

  for (const packet of packets) {
    const body = new Uint8Array(20 + pad4(packet.data.length));
    const view = new DataView(body.buffer);
    view.setUint32(0, 0, true);
    view.setUint32(4, Number(packet.timestampNs >> 32n) >>> 0, true);
    view.setUint32(8, Number(packet.timestampNs & 0xffffffffn), true);
    view.setUint32(12, packet.data.length, true);
    view.setUint32(16, packet.data.length, true);
    body.set(packet.data, 20);
    blocks.push(block(ENHANCED_PACKET, body, packet.comment ? [option(OPT_COMMENT, utf8.encode(packet.comment))] : []));
  }
  return concatAll(blocks);
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

interface Interface {
  readonly linkType: number;
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
      for (const { code, value } of readOptions(view, body + 8, bodyEnd, littleEndian)) {
        if (code === IF_TSRESOL && value.length >= 1) unitsPerSecond = resolution(value[0]);
        if (code === IF_TSOFFSET && value.length >= 8) {
          offsetSeconds = new DataView(value.buffer, value.byteOffset, 8).getBigInt64(0, littleEndian);
        }
      }
      interfaces.push({ linkType: view.getUint16(body, littleEndian), unitsPerSecond, offsetSeconds });
    } else if (type === ENHANCED_PACKET && bodyEnd - body >= 20) {
      const interfaceId = view.getUint32(body, littleEndian);
      const iface = interfaces[interfaceId];
      const capturedLength = view.getUint32(body + 12, littleEndian);
      const dataEnd = body + 20 + capturedLength;
      if (!iface) problems.push(`packet at byte ${offset} names interface ${interfaceId}, which is not described; skipped`);
      else if (dataEnd > bodyEnd) problems.push(`packet at byte ${offset} claims ${capturedLength} bytes, more than its block holds; skipped`);
      else {
        const ticks = (BigInt(view.getUint32(body + 4, littleEndian)) << 32n) | BigInt(view.getUint32(body + 8, littleEndian));
        const comment = readOptions(view, body + 20 + pad4(capturedLength), bodyEnd, littleEndian).find((o) => o.code === OPT_COMMENT);
        packets.push({
          data: bytes.slice(body + 20, dataEnd),
          timestampNs: (ticks * 1_000_000_000n) / iface.unitsPerSecond + iface.offsetSeconds * 1_000_000_000n,
          linkType: iface.linkType,
          originalLength: view.getUint32(body + 16, littleEndian),
          interfaceId,
          ...(comment ? { comment: utf8Decoder.decode(comment.value) } : {}),
        });
      }
    }
    // Other blocks (name resolution, statistics, custom...) are skipped.
    offset += length;
  }
  return { format: 'pcapng', packets, problems };
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
  return { format: 'pcap', packets, problems };
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
