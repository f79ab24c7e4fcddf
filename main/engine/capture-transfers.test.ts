// Export and import in pieces through a real Workbench: files split anywhere (inside
// blocks, inside headers) import the same as whole; an export read in pieces is the
// file exportPcapng gives, each piece bounded; the limits answer with typed errors.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateParams, WorkbenchError } from '../../common/validate';
import { readCapture, writePcap, writePcapng, type PacketToWrite } from '../../packets/pcapng';
import { Workbench } from './workbench';
import { EXPORT_PIECE_BYTES, MAX_OPEN_TRANSFERS, WHOLE_TRANSFER_BYTES } from './capture-transfers';

let workbench: Workbench;
beforeEach(() => {
  workbench = new Workbench({ logCapacity: 20_000 });
});
afterEach(() => workbench.close());

const call = async <T>(method: string, params: unknown = {}): Promise<T> =>
  (workbench as unknown as Record<string, (p: unknown) => Promise<T>>)[method].call(workbench, validateParams(method as never, params));

/** IPv4-looking packets of `size` bytes, each with its index in bytes 4-7. */
function packets(count: number, size: number, interfaces = 2): PacketToWrite[] {
  return Array.from({ length: count }, (_, i) => {
    const data = new Uint8Array(size);
    data[0] = 0x45;
    new DataView(data.buffer).setUint32(4, i);
    return { data, timestampNs: BigInt(1_700_000_000 + i) * 1_000_000_000n, interfaceId: i % interfaces, direction: i % 3 === 0 ? 'inbound' : 'outbound' };
  });
}

const twoInterfaces = [{ name: 'eth0' }, { name: 'eth1' }];

/** Writes `file` through writeImport in pieces of the given sizes (repeating the last). */
async function importInPieces(file: Uint8Array, sizes: number[]): Promise<{ imported: number; done: boolean }> {
  const { importId } = await call<{ importId: string }>('openImport');
  let at = 0;
  let i = 0;
  for (;;) {
    const size = sizes[Math.min(i++, sizes.length - 1)];
    const end = at + size >= file.length;
    const result = await call<{ imported: number; done: boolean }>('writeImport', { importId, data: Buffer.from(file.subarray(at, at + size)).toString('base64'), end });
    at += size;
    if (end) return result;
  }
}

async function exportInPieces(params: object = {}): Promise<{ file: Buffer; pieces: number[]; count: number }> {
  const { exportId } = await call<{ exportId: string }>('openExport', params);
  const parts: Buffer[] = [];
  for (let i = 0; i < 10_000; i++) {
    const piece = await call<{ data: string; done: boolean; count: number }>('readExport', { exportId });
    parts.push(Buffer.from(piece.data, 'base64'));
    if (piece.done) return { file: Buffer.concat(parts), pieces: parts.map((part) => part.length), count: piece.count };
  }
  throw new Error('the export did not end');
}

describe('capture transfers in pieces', () => {
  it('imports a file split anywhere the same as whole, and exports it in bounded pieces that make the exportPcapng file', async () => {
    const file = writePcapng(packets(3000, 700), { interfaces: twoInterfaces });
    // Pieces of 1, 3, 7 bytes cut the section header and the first blocks; then odd sizes cut blocks.
    expect(await importInPieces(file, [1, 3, 7, 13, 4099, 65_537])).toEqual({ imported: 3000, done: true });
    const whole = await call<{ pcapng: string; count: number }>('exportPcapng', {});
    const pieces = await exportInPieces();
    expect(pieces.count).toBe(3000);
    expect(pieces.file.equals(Buffer.from(whole.pcapng, 'base64'))).toBe(true);
    expect(pieces.pieces.length).toBeGreaterThan(1);
    expect(Math.max(...pieces.pieces)).toBeLessThanOrEqual(EXPORT_PIECE_BYTES + 1024);
    const read = readCapture(pieces.file);
    expect(read.packets.map((p) => new DataView(p.data.buffer, p.data.byteOffset).getUint32(4))).toEqual([...Array(3000).keys()]);
    expect(read.packets.map((p) => p.direction)).toEqual(packets(3000, 8).map((p) => p.direction));
  });

  it('imports classic pcap in pieces, and files of several sections', async () => {
    const pcap = writePcap(packets(500, 300, 1));
    expect(await importInPieces(pcap, [5, 20, 999])).toEqual({ imported: 500, done: true });
    const sections = Buffer.concat([writePcapng(packets(10, 100), { interfaces: twoInterfaces }), writePcapng(packets(7, 100, 1))]);
    expect(await importInPieces(sections, [1000])).toEqual({ imported: 17, done: true });
    expect((await exportInPieces({ format: 'pcap' })).count).toBe(517);
  });

  it('refuses exportPcapng of a file over 8 MiB (TOO_LARGE, naming openExport); the pieces carry it', async () => {
    const file = writePcapng(packets(9000, 1000), { interfaces: twoInterfaces });
    expect(file.length).toBeGreaterThan(WHOLE_TRANSFER_BYTES);
    expect((await importInPieces(file, [2 * 1024 * 1024])).imported).toBe(9000);
    const refused = await call('exportPcapng', {}).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WorkbenchError);
    expect(refused).toMatchObject({ code: 'TOO_LARGE', message: expect.stringMatching(/8 MiB.*openExport/) });
    const pieces = await exportInPieces();
    expect(pieces.count).toBe(9000);
    expect(pieces.pieces.length).toBeGreaterThanOrEqual(9);
  });

  it('refuses a damaged file naming the byte, keeps the packets before it, and closes the import', async () => {
    const file = writePcapng(packets(20, 100, 1));
    const { importId } = await call<{ importId: string }>('openImport');
    // The third packet block claims 2^31 bytes.
    const damaged = file.slice();
    const view = new DataView(damaged.buffer);
    let third = 0;
    for (let block = 0; block < 4; block++) third += view.getUint32(third + 4, true); // section, interface, 2 packets
    view.setUint32(third + 4, 0x8000_0000, true);
    const error = await call('writeImport', { importId, data: Buffer.from(damaged).toString('base64') }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'data', message: expect.stringMatching(/claims 2147483648 bytes.*2 packets before it were imported/) });
    expect(await call('writeImport', { importId, data: '' }).catch((e: unknown) => e)).toMatchObject({ code: 'NOT_FOUND', field: 'importId' });
    // A file cut inside a block: said at the end.
    const cut = await importInPieces(file.subarray(0, file.length - 50), [100_000]).catch((e: unknown) => e);
    expect(cut).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/ends inside a block/) });
    const notCapture = await importInPieces(Buffer.from('hello, not a capture'), [100]).catch((e: unknown) => e);
    expect(notCapture).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/Not a capture file/) });
  });

  it(`holds at most ${MAX_OPEN_TRANSFERS} open transfers (BUSY beyond), closed by closeTransfer or at their end`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < MAX_OPEN_TRANSFERS; i++) ids.push((await call<{ exportId: string }>('openExport', {})).exportId);
    expect(await call('openImport').catch((e: unknown) => e)).toMatchObject({ code: 'BUSY', message: expect.stringContaining(`${MAX_OPEN_TRANSFERS} exports and imports are open`) });
    await call('closeTransfer', { transferId: ids[0] });
    expect(await call('closeTransfer', { transferId: ids[0] }).catch((e: unknown) => e)).toMatchObject({ code: 'NOT_FOUND', field: 'transferId' });
    // An empty log: the first read is the last and closes the export.
    expect(await call('readExport', { exportId: ids[1] })).toMatchObject({ done: true, count: 0 });
    expect(await call('readExport', { exportId: ids[1] }).catch((e: unknown) => e)).toMatchObject({ code: 'NOT_FOUND', field: 'exportId' });
    await call('openImport');
    await call('openImport');
    expect(await call('openImport').catch((e: unknown) => e)).toMatchObject({ code: 'BUSY' });
  });
});
