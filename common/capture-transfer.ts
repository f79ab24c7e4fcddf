// A capture file through the contract in pieces, for clients: openExport/readExport and
// openImport/writeImport, so no call carries more than a piece (1 MiB out, 2 MiB in)
// however large the log or file. An export or import that fails half way is closed.
import { IMPORT_PIECE_BYTES, type WorkbenchApi } from './contract';

export type TransferApi = Pick<WorkbenchApi, 'openExport' | 'readExport' | 'openImport' | 'writeImport' | 'closeTransfer'>;

/** Reads the log (or `ids`) as a capture file; resolves with the file's bytes and the packet count. */
export async function exportCaptureFile(client: TransferApi, params: { ids?: number[]; format?: 'pcapng' | 'pcap' } = {}): Promise<{ bytes: Uint8Array; count: number }> {
  const { exportId } = await client.openExport(params);
  const pieces: Uint8Array[] = [];
  try {
    for (;;) {
      const piece = await client.readExport({ exportId });
      pieces.push(fromBase64(piece.data));
      if (piece.done) return { bytes: concat(pieces), count: piece.count };
    }
  } catch (error) {
    await client.closeTransfer({ transferId: exportId }).catch(() => undefined);
    throw error;
  }
}

/** Appends a capture file's packets to the log, a piece at a time. */
export async function importCaptureFile(client: TransferApi, bytes: Uint8Array): Promise<{ imported: number }> {
  const { importId } = await client.openImport({});
  try {
    for (let at = 0; ; at += IMPORT_PIECE_BYTES) {
      const end = at + IMPORT_PIECE_BYTES >= bytes.length;
      const result = await client.writeImport({ importId, data: toBase64(bytes.subarray(at, at + IMPORT_PIECE_BYTES)), end });
      if (end) return { imported: result.imported };
    }
  } catch (error) {
    // A refused piece closed the import already; anything else (a lost connection) may not have.
    await client.closeTransfer({ transferId: importId }).catch(() => undefined);
    throw error;
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function concat(pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}
