// pcapng / pcap export and import in pieces. A full 100 000-packet log is some 200 MB of
// file and 270 MB of base64: built as one string per call, 25-40 concurrent exports took
// the host past V8's heap limit (issue 11). Here an export is read with readExport, at
// most EXPORT_PIECE_BYTES of file a call, and an import written with writeImport, at most
// IMPORT_PIECE_BYTES a call; the engine holds one piece per open transfer and at most
// MAX_OPEN_TRANSFERS of them. exportPcapng / importPcapng (one call, one string) remain
// for what fits WHOLE_TRANSFER_BYTES.
import { randomBytes } from 'node:crypto';
import { IMPORT_PIECE_BYTES, WHOLE_TRANSFER_BYTES, type Params } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { PcapEncoder, PcapngEncoder, readCapture, type Capture, type CaptureEncoder } from '../../packets/pcapng';
import type { LogCaptureWriter } from './capture-export';
import { CaptureStreamReader } from './capture-stream';

/** File bytes one readExport answers at most (plus one packet): 1 MiB, 1.4 MB of base64. */
export const EXPORT_PIECE_BYTES = 1024 * 1024;
export { IMPORT_PIECE_BYTES, WHOLE_TRANSFER_BYTES };
/** Exports and imports open at once in one engine. */
export const MAX_OPEN_TRANSFERS = 16;
/** An open transfer nobody read or wrote for this long is closed. */
export const TRANSFER_IDLE_MS = 60_000;

/** The ids an export covers: the log's range at the time, or the ids asked for. */
export type ExportSelection = { from: number; to: number } | readonly number[];

/** What transfers need from the log (PacketLog). */
export interface TransferLog {
  captureWriter(encoder: CaptureEncoder): LogCaptureWriter;
  /** The ids to export: `ids`, or every row shown now. */
  exportSelection(ids: readonly number[] | undefined): ExportSelection;
  /** The row is shown (a clear did not hide it since). */
  isShown(id: number): boolean;
  /** Appends a file's packets; returns how many were logged. */
  appendCapture(capture: Capture): number;
}

interface OpenExport {
  kind: 'export';
  selection: ExportSelection;
  next: number;
  encoder: CaptureEncoder;
  writer: LogCaptureWriter;
  timer: NodeJS.Timeout;
}

interface OpenImport {
  kind: 'import';
  reader: CaptureStreamReader;
  imported: number;
  timer: NodeJS.Timeout;
}

export class CaptureTransfers {
  private readonly open = new Map<string, OpenExport | OpenImport>();

  constructor(private readonly log: TransferLog) {}

  async openExport(params: Params<'openExport'>): Promise<{ exportId: string; packets: number }> {
    const selection = this.log.exportSelection(params.ids);
    const encoder = params.format === 'pcap' ? new PcapEncoder() : new PcapngEncoder({ application: 'Packet Workbench' });
    const exportId = this.newId('export');
    this.open.set(exportId, { kind: 'export', selection, next: 0, encoder, writer: this.log.captureWriter(encoder), timer: this.idleTimer(exportId) });
    return { exportId, packets: lengthOf(selection) };
  }

  /** An export of every row shown now through `encoder` (saveWorkspace: a workspace file), read with readExport. */
  openExportWith(encoder: CaptureEncoder): { exportId: string; packets: number } {
    const selection = this.log.exportSelection(undefined);
    const exportId = this.newId('export');
    this.open.set(exportId, { kind: 'export', selection, next: 0, encoder, writer: this.log.captureWriter(encoder), timer: this.idleTimer(exportId) });
    return { exportId, packets: lengthOf(selection) };
  }

  /** The next piece of the file; done on the last one, which closes the export. */
  async readExport(params: Params<'readExport'>): Promise<{ data: string; done: boolean; count: number }> {
    const session = this.session(params.exportId, 'export', 'exportId');
    const piece = this.nextPiece(session, EXPORT_PIECE_BYTES);
    const done = session.next >= lengthOf(session.selection);
    if (done) this.close(params.exportId);
    return { data: Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength).toString('base64'), done, count: session.writer.count };
  }

  async openImport(): Promise<{ importId: string }> {
    const importId = this.newId('import');
    this.open.set(importId, { kind: 'import', reader: new CaptureStreamReader(), imported: 0, timer: this.idleTimer(importId) });
    return { importId };
  }

  /** Appends the packets of the piece's complete blocks; `end` closes the import. */
  async writeImport(params: Params<'writeImport'>): Promise<{ imported: number; done: boolean }> {
    const session = this.session(params.importId, 'import', 'importId');
    try {
      session.reader.push(base64Bytes(params.data), (capture) => (session.imported += this.log.appendCapture(capture)));
      if (params.end) {
        const problem = session.reader.end();
        if (problem) throw new Error(problem);
      }
    } catch (error) {
      this.close(params.importId);
      const kept = session.imported > 0 ? ` (the ${session.imported} packets before it were imported)` : '';
      throw new WorkbenchError('INVALID_ARGUMENT', `pcapng: ${(error as Error).message}${kept}`, 'data');
    }
    if (params.end) this.close(params.importId);
    return { imported: session.imported, done: params.end };
  }

  async closeTransfer(params: Params<'closeTransfer'>): Promise<null> {
    if (!this.open.has(params.transferId)) throw new WorkbenchError('NOT_FOUND', `No open export or import ${params.transferId} (finished, closed, or idle for ${TRANSFER_IDLE_MS / 1000} s)`, 'transferId');
    this.close(params.transferId);
    return null;
  }

  /** exportPcapng: the file in one string, for files up to WHOLE_TRANSFER_BYTES. */
  async exportWhole(params: Params<'exportPcapng'>): Promise<{ pcapng: string; count: number }> {
    const selection = this.log.exportSelection(params.ids);
    const encoder = params.format === 'pcap' ? new PcapEncoder() : new PcapngEncoder({ application: 'Packet Workbench' });
    const writer = this.log.captureWriter(encoder);
    const session = { selection, next: 0, encoder, writer };
    const piece = this.nextPiece(session, WHOLE_TRANSFER_BYTES + 1);
    if (piece.length > WHOLE_TRANSFER_BYTES) {
      throw new WorkbenchError(
        'TOO_LARGE',
        `The export is larger than ${WHOLE_TRANSFER_BYTES / 1024 / 1024} MiB (${lengthOf(selection)} packets); read it in pieces: openExport, then readExport until done`,
        'ids',
      );
    }
    return { pcapng: Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength).toString('base64'), count: writer.count };
  }

  /** importPcapng: a whole file in one string. */
  async importWhole(params: Params<'importPcapng'>): Promise<{ imported: number }> {
    const bytes = base64Bytes(params.pcapng);
    let capture: Capture;
    try {
      capture = readCapture(bytes);
    } catch (error) {
      throw new WorkbenchError('INVALID_ARGUMENT', `pcapng: ${(error as Error).message}`, 'pcapng');
    }
    return { imported: this.log.appendCapture(capture) };
  }

  get openTransfers(): number {
    return this.open.size;
  }

  closeAll(): void {
    for (const id of [...this.open.keys()]) this.close(id);
  }

  /** Encodes packets until the piece holds `bytes` (or the selection ends). */
  private nextPiece(session: Pick<OpenExport, 'selection' | 'next' | 'encoder' | 'writer'>, bytes: number): Uint8Array {
    const { selection, encoder, writer } = session;
    const length = lengthOf(selection);
    while (session.next < length && encoder.pendingBytes < bytes) {
      const id = idAt(selection, session.next++);
      if (this.log.isShown(id)) writer.add(id);
    }
    return encoder.take();
  }

  private session<K extends 'export' | 'import'>(id: string, kind: K, field: string): Extract<OpenExport | OpenImport, { kind: K }> {
    const session = this.open.get(id);
    if (!session || session.kind !== kind) {
      throw new WorkbenchError('NOT_FOUND', `No open ${kind} ${id.slice(0, 64)} (finished, closed, or idle for ${TRANSFER_IDLE_MS / 1000} s)`, field);
    }
    session.timer.refresh();
    return session as Extract<OpenExport | OpenImport, { kind: K }>;
  }

  private newId(kind: 'export' | 'import'): string {
    if (this.open.size >= MAX_OPEN_TRANSFERS) {
      throw new WorkbenchError('BUSY', `Busy: ${MAX_OPEN_TRANSFERS} exports and imports are open (the limit); finish or close one (closeTransfer)`);
    }
    return `${kind}-${randomBytes(9).toString('base64url')}`;
  }

  private idleTimer(id: string): NodeJS.Timeout {
    const timer = setTimeout(() => this.close(id), TRANSFER_IDLE_MS);
    timer.unref();
    return timer;
  }

  private close(id: string): void {
    const session = this.open.get(id);
    if (!session) return;
    clearTimeout(session.timer);
    this.open.delete(id);
  }
}

function lengthOf(selection: ExportSelection): number {
  return 'from' in selection ? Math.max(0, selection.to - selection.from) : selection.length;
}

function idAt(selection: ExportSelection, index: number): number {
  return 'from' in selection ? selection.from + index : selection[index];
}

function base64Bytes(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
