// The browser host's memory under issue 11's attacks, measured: the real program
// (dist/main/web/serve.js, default limits) in its own process with a full 100 000-packet
// log of 1000-byte packets, attacked over loopback by real WebSocket clients. Its peak RSS
// (VmHWM, reset before each attack) must stay under RSS_BOUND_MIB; each figure is printed
// for the README. Before the limits: 300 pipelined pages +530 MiB, 25-40 exports past
// 4 GiB, one 250 MiB frame 1 GiB.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_PIECE_BYTES } from '../../../common/contract';
import { writePcapng, type PacketToWrite } from '../../../packets/pcapng';
import { ensureCliBuilt, ROOT } from '../../test/fixtures/cli-process';
import { openWireClient, oversizedFrame, pause, type WireClient } from './wire-client';

/** The host's RSS stays under this through every attack (~270 MiB with its full log, before any attack). */
export const RSS_BOUND_MIB = 450;
/** HOST_RSS_FULL=1 reads every export to its end (16 x 100 MiB, ~2 minutes); by default each reads its first 16 MiB, all at once. */
const EXPORT_PIECES = process.env.HOST_RSS_FULL === '1' ? Infinity : 16;
const PACKETS = 100_000;
const PACKET_BYTES = 1000;
const MiB = 1024 * 1024;

let child: ChildProcess;
let port = 0;
let token = '';
let dir: string;
const figures: string[] = [];

function status(field: 'VmRSS' | 'VmHWM'): number {
  const text = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)![1]) / 1024;
}
/** Peak RSS from here on (Linux: clear_refs 5 resets VmHWM). */
function resetPeak(): void {
  writeFileSync(`/proc/${child.pid}/clear_refs`, '5');
}

const clients: WireClient[] = [];
async function client(): Promise<WireClient> {
  const wire = await openWireClient(port, token);
  clients.push(wire);
  return wire;
}
function closeClients(): void {
  for (const wire of clients.splice(0)) wire.close();
}

/** Runs an attack; records and checks the host's peak RSS during it. */
async function measured(name: string, attack: () => Promise<void>): Promise<number> {
  await pause(300);
  const before = status('VmRSS');
  resetPeak();
  await attack();
  closeClients();
  const peak = status('VmHWM');
  figures.push(`${name}: RSS ${before.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB`);
  expect(peak).toBeLessThan(RSS_BOUND_MIB);
  return peak;
}

beforeAll(async () => {
  ensureCliBuilt();
  dir = mkdtempSync(path.join(tmpdir(), 'host-rss-'));
  mkdirSync(path.join(dir, 'dist'));
  writeFileSync(path.join(dir, 'dist', 'index.html'), '<!doctype html><title>Packet Workbench</title>');
  child = spawn(process.execPath, [path.join(ROOT, 'dist', 'main', 'web', 'serve.js'), '--port', '0', '--static', path.join(dir, 'dist')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<URL>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(out);
      if (match) resolve(new URL(match[0]));
    });
    child.once('exit', (code) => reject(new Error(`serve.js exited with ${code}: ${out}`)));
  });
  port = Number(url.port);
  token = url.searchParams.get('token')!;

  // A full log: 100 000 packets of 1000 bytes, imported in pieces.
  const packets: PacketToWrite[] = Array.from({ length: PACKETS }, (_, i) => {
    const data = new Uint8Array(PACKET_BYTES);
    data[0] = 0x45;
    data[4] = i & 0xff;
    return { data, timestampNs: BigInt(1_700_000_000_000 + i) * 1_000_000n, direction: i % 2 ? 'inbound' : 'outbound' };
  });
  const file = writePcapng(packets);
  const loader = await client();
  const { importId } = (await loader.call('openImport')).result as { importId: string };
  for (let at = 0; at < file.length; at += IMPORT_PIECE_BYTES) {
    const end = at + IMPORT_PIECE_BYTES >= file.length;
    const answer = await loader.call('writeImport', { importId, data: Buffer.from(file.subarray(at, at + IMPORT_PIECE_BYTES)).toString('base64'), end });
    if (answer.error) throw new Error(answer.error.message);
  }
  expect(((await loader.call('logStatus')).result as { kept: number }).kept).toBe(PACKETS);
  closeClients();
  figures.push(`full log of ${PACKETS} x ${PACKET_BYTES} B (${(file.length / MiB).toFixed(0)} MiB as pcapng): RSS ${status('VmRSS').toFixed(0)} MiB`);
}, 600_000);

afterAll(() => {
  closeClients();
  child?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
  // The figures for the README (security section).
  process.stdout.write(`\nhost RSS under attack (bound ${RSS_BOUND_MIB} MiB):\n  ${figures.join('\n  ')}\n`);
});

describe(`browser host RSS under attack stays under ${RSS_BOUND_MIB} MiB`, () => {
  it('300 pipelined 5000-row log pages from a client that reads nothing: 2 answered, the rest BUSY; another client served', { timeout: 120_000 }, async () => {
    await measured('300 pipelined 5000-row pages', async () => {
      const bad = await client();
      bad.ws.pause();
      const answers = Array.from({ length: 300 }, () => bad.call('queryLog', { limit: 5000 }));
      await pause(1000);
      const good = await client();
      expect(((await good.call('queryLog', { limit: 100 })).result as { rows: unknown[] }).rows).toHaveLength(100);
      bad.ws.resume();
      const all = await Promise.all(answers);
      // At most 2 run at once; the client's unread answers soon refuse the rest too.
      expect(all.filter((answer) => answer.result).length).toBeLessThanOrEqual(20);
      expect(all.filter((answer) => answer.error?.code === 'BUSY').length).toBeGreaterThanOrEqual(280);
    });
  });

  it('30 concurrent exports of the full log (15 clients x 2): 16 open at once, each read in 1 MiB pieces; exportPcapng TOO_LARGE', { timeout: 300_000 }, async () => {
    await measured(`30 concurrent exports of the full log${EXPORT_PIECES === Infinity ? ' (16 read to the end)' : ` (16 read ${EXPORT_PIECES} MiB each)`}`, async () => {
      const wires = await Promise.all(Array.from({ length: 15 }, () => client()));
      const whole = await Promise.all(wires.map((wire) => wire.call('exportPcapng')));
      expect(whole.every((answer) => answer.error?.code === 'TOO_LARGE')).toBe(true);
      const exportAll = async (wire: WireClient): Promise<number | string> => {
        const opened = await wire.call('openExport');
        if (opened.error) return opened.error.code;
        const { exportId } = opened.result as { exportId: string };
        let pieces = 0;
        for (let busy = 0; busy < 5000; ) {
          const piece = await wire.call('readExport', { exportId });
          // A reader slower than the host (this process reads 30 streams) is told to read first: it waits and asks again.
          if (piece.error?.code === 'BUSY') {
            busy++;
            await pause(20);
            continue;
          }
          if (piece.error) return piece.error.code;
          const { done, count } = piece.result as { done: boolean; count: number };
          if (done) return count;
          if (++pieces >= EXPORT_PIECES) {
            await wire.call('closeTransfer', { transferId: exportId });
            return PACKETS; // read as far as this run reads
          }
        }
        return 'gave up';
      };
      const results = await Promise.all(wires.flatMap((wire) => [exportAll(wire), exportAll(wire)]));
      expect(results.filter((result) => result === PACKETS).length).toBe(16);
      expect(results.filter((result) => result === 'BUSY').length).toBe(14);
    });
  });

  it('8 clients each sending a frame that claims 250 MiB: closed (1009) at its header; an unknown 10 MiB parameter answered in under 4 KiB, a 12 MiB one closed', { timeout: 120_000 }, async () => {
    await measured('8 frames of 250 MiB, unknown 10 and 12 MiB parameters', async () => {
      const codes = await Promise.all(Array.from({ length: 8 }, () => oversizedFrame(port, token, 250 * MiB, 8 * MiB)));
      expect(codes).toEqual(Array(8).fill('1009'));
      const wire = await client();
      const unknown = await wire.call('capabilities', { ['n'.repeat(10 * MiB)]: 1 });
      expect(unknown.error?.code).toBe('INVALID_ARGUMENT');
      expect(unknown.bytes).toBeLessThan(4096);
      const huge = await client();
      huge.sendRaw(JSON.stringify({ id: 1, method: 'capabilities', params: { ['n'.repeat(12 * MiB)]: 1 } }));
      expect((await huge.closed).code).toBe(1009);
    });
  });
});
