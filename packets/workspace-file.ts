// A workspace file is a pcapng file: section header, then one Custom Block holding the
// session as JSON, then the log's interface and packet blocks as the log export writes
// them. So Wireshark and tshark open a workspace's log as they open any capture (they
// skip the custom block), and the workbench reads both halves back. Reading is strict:
// every block's length is checked before anything is believed, so a truncated or
// damaged file is refused with where it broke instead of loaded in part.
import { PcapngEncoder, readPcapng, type Capture, type CaptureEncoder, type CaptureInterface, type PacketToWrite } from './pcapng';

/** pcapng Custom Block, copyable (a tool that rewrites the file keeps it). */
export const CUSTOM_BLOCK_COPYABLE = 0x00000bad;
const CUSTOM_BLOCK_NOT_COPYABLE = 0x40000bad;
/** IANA's Private Enterprise Number for documentation and examples (RFC 5612): ours has none. */
export const WORKSPACE_ENTERPRISE_NUMBER = 32473;
const SECTION_HEADER = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** A workspace file refused: the message says what is wrong and where. */
export class WorkspaceFileError extends Error {
  override readonly name = 'WorkspaceFileError';
}

/** The custom block carrying `json` (UTF-8, padded with spaces, which JSON ignores). */
export function workspaceBlock(json: string): Uint8Array {
  const text = new TextEncoder().encode(json);
  const padded = (text.length + 3) & ~3;
  const length = 12 + 4 + padded;
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, CUSTOM_BLOCK_COPYABLE, true);
  view.setUint32(4, length, true);
  view.setUint32(8, WORKSPACE_ENTERPRISE_NUMBER, true);
  bytes.set(text, 12);
  bytes.fill(0x20, 12 + text.length, 12 + padded);
  view.setUint32(length - 4, length, true);
  return bytes;
}

/** A pcapng encoder whose first take() puts the workspace block right after the section header. */
export class WorkspaceEncoder implements CaptureEncoder {
  readonly format = 'pcapng';
  private readonly inner = new PcapngEncoder({ application: 'Packet Workbench' });
  private block: Uint8Array | null;

  constructor(json: string) {
    this.block = workspaceBlock(json);
  }

  get pendingBytes(): number {
    return this.inner.pendingBytes + (this.block?.length ?? 0);
  }

  addInterface(iface: CaptureInterface): number {
    return this.inner.addInterface(iface);
  }

  addPacket(packet: PacketToWrite): void {
    this.inner.addPacket(packet);
  }

  take(): Uint8Array {
    const taken = this.inner.take();
    const block = this.block;
    if (!block) return taken;
    this.block = null;
    const sectionLength = new DataView(taken.buffer, taken.byteOffset).getUint32(4, true);
    const out = new Uint8Array(taken.length + block.length);
    out.set(taken.subarray(0, sectionLength));
    out.set(block, sectionLength);
    out.set(taken.subarray(sectionLength), sectionLength + block.length);
    return out;
  }
}

/** Splits a workspace file into its JSON text and its capture, refusing any damage. */
export function readWorkspaceFile(bytes: Uint8Array): { json: string; capture: Capture } {
  if (bytes.length === 0) throw new WorkspaceFileError('The file is empty: a workspace is a pcapng file that starts with a section header (0a 0d 0d 0a)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || view.getUint32(0, false) !== SECTION_HEADER) {
    const start = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new WorkspaceFileError(`Not a workspace: it must start with a pcapng section header (0a 0d 0d 0a); this file starts with ${start}`);
  }
  if (bytes.length < 12) throw new WorkspaceFileError(`Truncated: the file ends inside the section header (${bytes.length} bytes)`);
  const magic = view.getUint32(8, true);
  const littleEndian = magic === BYTE_ORDER_MAGIC;
  if (!littleEndian && magic !== 0x4d3c2b1a) throw new WorkspaceFileError(`Not a workspace: the byte-order magic is 0x${magic.toString(16)}, expected 0x1a2b3c4d`);
  let json: string | null = null;
  let index = 0;
  for (let offset = 0; offset < bytes.length; index++) {
    if (bytes.length - offset < 12) throw new WorkspaceFileError(`Truncated: the file ends inside a block header at byte ${offset}`);
    const type = view.getUint32(offset, littleEndian);
    const length = view.getUint32(offset + 4, littleEndian);
    if (length < 12 || length % 4 !== 0) throw new WorkspaceFileError(`Damaged: the block at byte ${offset} has length ${length} (a block is at least 12 bytes and a multiple of 4)`);
    if (offset + length > bytes.length) throw new WorkspaceFileError(`Truncated: the block at byte ${offset} claims ${length} bytes, only ${bytes.length - offset} are left`);
    const trailer = view.getUint32(offset + length - 4, littleEndian);
    if (trailer !== length) throw new WorkspaceFileError(`Damaged: the block at byte ${offset} starts with length ${length} and ends with ${trailer}`);
    if (index > 0 && view.getUint32(offset, false) === SECTION_HEADER) throw new WorkspaceFileError(`Not a workspace: a second section starts at byte ${offset} (a workspace has one)`);
    if (index === 1) {
      const custom = type === CUSTOM_BLOCK_COPYABLE || type === CUSTOM_BLOCK_NOT_COPYABLE;
      if (!custom || length < 16 || view.getUint32(offset + 8, littleEndian) !== WORKSPACE_ENTERPRISE_NUMBER) {
        throw new WorkspaceFileError('Not a workspace: this pcapng file has no workspace block after its section header (a plain capture: import it into the log instead)');
      }
      json = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(offset + 12, offset + length - 4));
    }
    offset += length;
  }
  if (json === null) throw new WorkspaceFileError('Not a workspace: this pcapng file has no workspace block after its section header (a plain capture: import it into the log instead)');
  const capture = readPcapng(bytes);
  if (capture.problems.length > 0) throw new WorkspaceFileError(`Damaged: ${capture.problems[0]}`);
  return { json, capture };
}
