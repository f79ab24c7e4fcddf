// A capture file read as it arrives, in pieces of any size: each piece's complete blocks
// (pcapng) or records (classic pcap) are read at once, a block cut by the piece's end
// waits for the next piece. So an import holds one piece and one block, never the file.
// The blocks are read by packets/pcapng.ts itself, behind the file's header: for pcapng
// the section header and every interface block so far (interface ids stay those of the
// file), for pcap the 24-byte file header.
import { readCapture, type Capture } from '../../packets/pcapng';

const SECTION_HEADER = 0x0a0d0d0a;
const INTERFACE_DESCRIPTION = 0x00000001;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAP_MAGICS = [0xa1b2c3d4, 0xa1b23c4d];
/** The largest block or record accepted: a 256 KiB snapshot (pcap's usual snap length) and room for options. */
export const MAX_CAPTURE_BLOCK_BYTES = 262_144 + 65_536;

export class CaptureStreamReader {
  private format: 'pcapng' | 'pcap' | null = null;
  private littleEndian = true;
  /** The file header the next blocks are read behind (SHB + IDBs, or the pcap header). */
  private header: Uint8Array = new Uint8Array(0);
  /** Bytes of a block not complete yet. */
  private pending: Uint8Array = new Uint8Array(0);
  /** Bytes of the file consumed before `pending`, for messages. */
  private offset = 0;

  /**
   * Reads the complete blocks of what has arrived, handing each section's packets to
   * `deliver`; throws Error naming what is wrong with the file, after delivering the
   * packets before the fault.
   */
  push(piece: Uint8Array, deliver: (capture: Capture) => void): void {
    const bytes = this.pending.length > 0 ? concat(this.pending, piece) : piece;
    let at = this.format === null ? this.readFileHeader(bytes) : 0;
    if (at < 0) {
      this.pending = bytes.slice();
      return;
    }
    let blocks: Uint8Array[] = [];
    const flush = () => {
      if (blocks.length > 0) deliver(readCapture(concat(this.header, ...blocks)));
      blocks = [];
    };
    try {
      while (at < bytes.length) {
        const length = this.blockLength(bytes, at);
        if (length === null || at + length > bytes.length) break;
        const block = bytes.subarray(at, at + length);
        if (this.format === 'pcapng' && this.isSectionHeader(block)) {
          // A new section: the earlier one's interfaces no longer apply.
          flush();
          this.header = block.slice();
        } else if (this.format === 'pcapng' && this.typeOf(block) === INTERFACE_DESCRIPTION) {
          this.header = concat(this.header, block);
        } else {
          blocks.push(block);
        }
        at += length;
      }
    } finally {
      flush();
    }
    this.offset += at;
    this.pending = bytes.slice(at);
  }

  /** What is left when the file ends: nothing, or a message about the cut block. */
  end(): string | null {
    if (this.format === null) return this.pending.length > 0 || this.offset === 0 ? 'Not a capture file: it ends before its file header' : null;
    return this.pending.length > 0 ? `the file ends inside a block at byte ${this.offset} (${this.pending.length} bytes of it)` : null;
  }

  /** Reads the format from the file header; the bytes after it, or -1 while it is incomplete. */
  private readFileHeader(bytes: Uint8Array): number {
    if (bytes.length < 4) return -1;
    const view = viewOf(bytes);
    const magic = view.getUint32(0, false);
    if (magic === SECTION_HEADER) {
      if (bytes.length < 12) return -1;
      this.format = 'pcapng';
      this.littleEndian = view.getUint32(8, true) === BYTE_ORDER_MAGIC;
      // The section header is a block like the others: push() keeps it as the header.
      return 0;
    }
    const swapped = view.getUint32(0, true);
    if (PCAP_MAGICS.includes(magic) || PCAP_MAGICS.includes(swapped)) {
      if (bytes.length < 24) return -1;
      this.format = 'pcap';
      this.littleEndian = PCAP_MAGICS.includes(swapped);
      this.header = bytes.slice(0, 24);
      return 24;
    }
    // readCapture words the refusal.
    readCapture(bytes.subarray(0, 4));
    throw new Error('Not a capture file');
  }

  /** The length of the block or record at `at`, or null when its length field has not arrived. */
  private blockLength(bytes: Uint8Array, at: number): number | null {
    const view = viewOf(bytes);
    let length: number;
    if (this.format === 'pcapng') {
      if (bytes.length - at < 12) return null;
      if (view.getUint32(at, false) === SECTION_HEADER) {
        const magic = view.getUint32(at + 8, true);
        if (magic !== BYTE_ORDER_MAGIC && magic !== swap32(BYTE_ORDER_MAGIC)) {
          throw new Error(`Not a pcapng file: byte-order magic at byte ${this.offset + at + 8} is 0x${magic.toString(16)}, expected 0x1a2b3c4d`);
        }
        this.littleEndian = magic === BYTE_ORDER_MAGIC;
      }
      length = view.getUint32(at + 4, this.littleEndian);
      if (length < 12 || length % 4 !== 0) throw new Error(`block at byte ${this.offset + at} has invalid length ${length}`);
    } else {
      if (bytes.length - at < 16) return null;
      length = 16 + view.getUint32(at + 8, this.littleEndian);
    }
    if (length > MAX_CAPTURE_BLOCK_BYTES) {
      throw new Error(`block at byte ${this.offset + at} claims ${length} bytes; at most ${MAX_CAPTURE_BLOCK_BYTES} are read (a 256 KiB packet and its options)`);
    }
    return length;
  }

  private isSectionHeader(block: Uint8Array): boolean {
    return viewOf(block).getUint32(0, false) === SECTION_HEADER;
  }

  private typeOf(block: Uint8Array): number {
    return viewOf(block).getUint32(0, this.littleEndian);
  }
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function swap32(value: number): number {
  return (((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24)) >>> 0;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
