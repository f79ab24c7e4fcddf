// Every limit of the browser host, each with a bad client that hits it and a good client
// (another connection) that keeps working meanwhile: calls in flight, heavy calls, unread
// answers, frame size, client count, HTTP timeouts, echoed input, and exports and imports
// a client left open closed when it goes. Real host on loopback, real WebSocket clients.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WHOLE_TRANSFER_BYTES, type LogRow } from '../../../common/contract';
import { DEFAULT_HOST_LIMITS, MAX_MESSAGE_BYTES, startBrowserHost, type BrowserHost, type HostLimits } from '../host';
import { createFakeEngine, type FakeEngine } from './fake-engine';
import { openWireClient, oversizedFrame, pause, type WireClient } from './wire-client';

const MiB = 1024 * 1024;
let dir: string;
let staticDir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'host-limits-'));
  staticDir = path.join(dir, 'dist');
  mkdirSync(staticDir, { recursive: true });
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Packet Workbench</title>');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fake engine whose logStatus and queryLog wait until release(); queryLog answers `rows` rows of ~`rowBytes` each. */
function heldEngine(rows = 10, rowBytes = 200) {
  const engine: FakeEngine = createFakeEngine();
  let release!: () => void;
  let held = new Promise<void>((resolve) => (release = resolve));
  let holding = true;
  const row = (id: number): LogRow =>
    ({ id, time: 0, direction: 'received', family: 'ipv4', protocol: 'ICMP', source: '198.18.0.1', destination: '198.18.0.2', length: 64, info: 'x'.repeat(rowBytes), socketId: null }) as unknown as LogRow;
  const wait = () => (holding ? held : Promise.resolve());
  const record = engine as unknown as Record<string, unknown>;
  record.logStatus = async () => {
    await wait();
    return { capacity: 100_000, rows: 0, overflowed: 0, kernelDrops: 0, captures: [] };
  };
  record.queryLog = async ({ limit }: { limit?: number }) => {
    await wait();
    return { total: rows, rows: Array.from({ length: Math.min(rows, limit ?? 500) }, (_, i) => row(i)), capacity: 100_000 };
  };
  return {
    engine,
    release() {
      holding = false;
      release();
    },
    hold() {
      holding = true;
      held = new Promise<void>((resolve) => (release = resolve));
    },
  };
}

const hosts: BrowserHost[] = [];
const clients: WireClient[] = [];
async function hostWith(engine: FakeEngine, limits: Partial<HostLimits> = {}): Promise<BrowserHost> {
  const host = await startBrowserHost({ engine, port: 0, host: '127.0.0.1', staticDir, limits });
  hosts.push(host);
  return host;
}
async function client(host: BrowserHost): Promise<WireClient> {
  const wire = await openWireClient(host.port, host.token);
  clients.push(wire);
  return wire;
}
afterEach(async () => {
  for (const wire of clients.splice(0)) wire.close();
  for (const host of hosts.splice(0)) await host.close();
});

describe('browser host limits', () => {
  it(`answers BUSY beyond ${DEFAULT_HOST_LIMITS.maxInFlight} calls in flight per client, queues nothing; another client is served`, { timeout: 20_000 }, async () => {
    const { engine, release } = heldEngine();
    const host = await hostWith(engine);
    const bad = await client(host);
    const calls = Array.from({ length: 40 }, () => bad.call('logStatus'));
    // The 8 over the limit are answered at once, while the 32 wait for the engine.
    await expect.poll(() => bad.answers.size, { timeout: 5000 }).toBe(8);
    const busy = [...bad.answers.values()];
    expect(busy.every((answer) => answer.error?.code === 'BUSY')).toBe(true);
    expect(busy[0].error?.message).toMatch(/32 calls of this client are in flight \(the limit\)/);
    const good = await client(host);
    expect((await good.call('capabilities')).result).toMatchObject({ platform: 'linux' });
    release();
    const answers = await Promise.all(calls);
    expect(answers.filter((answer) => answer.result !== undefined)).toHaveLength(32);
    // Under the limit again: served.
    expect((await bad.call('logStatus')).result).toMatchObject({ capacity: 100_000 });
  });

  it(`runs at most ${DEFAULT_HOST_LIMITS.maxHeavy} heavy calls (large pages, exports, imports) per client; light calls and other clients go on`, { timeout: 20_000 }, async () => {
    const { engine, release } = heldEngine();
    const host = await hostWith(engine);
    const bad = await client(host);
    const pages = Array.from({ length: 5 }, () => bad.call('queryLog', { limit: 5000 }));
    await expect.poll(() => bad.answers.size, { timeout: 5000 }).toBe(3);
    for (const answer of bad.answers.values()) {
      expect(answer.error).toMatchObject({ code: 'BUSY', message: expect.stringMatching(/'queryLog' is a heavy call .* 2 of this client's are running \(the limit\)/) });
    }
    expect((await bad.call('exportPcapng')).error?.code).toBe('BUSY');
    // A small page is light; so is everything else.
    expect((await bad.call('capabilities')).result).toBeDefined();
    const good = await client(host);
    const goodPage = good.call('queryLog', { limit: 5000 });
    release();
    expect((await goodPage).result).toMatchObject({ total: 10 });
    expect((await Promise.all(pages)).filter((answer) => answer.result)).toHaveLength(2);
  });

  it('refuses heavy calls (BUSY) while a client has more than heavyBacklogBytes unread; one that reads is served', { timeout: 30_000 }, async () => {
    // Pages of 1000 rows (light) of ~1 KiB: ~1 MiB an answer.
    const { engine, release } = heldEngine(1000, 1000);
    release();
    const host = await hostWith(engine, { heavyBacklogBytes: 2 * MiB, maxBufferedBytes: 256 * MiB });
    const bad = await client(host);
    bad.ws.pause(); // reads nothing
    // 24 MiB of answers: more than loopback's socket buffers hold, so the host holds the rest.
    for (let i = 0; i < 24; i++) void bad.call('queryLog', { limit: 1000 });
    await pause(500);
    const refused = bad.call('queryLog', { limit: 5000 });
    const good = await client(host);
    expect(await good.call('queryLog', { limit: 5000 })).toMatchObject({ result: { total: 1000 } });
    bad.ws.resume();
    const answer = await refused;
    expect(answer.error).toMatchObject({ code: 'BUSY', message: expect.stringMatching(/MiB of this client's answers are unread \(the limit is 2 MiB\)/) });
    // Once read, served again. (Node counts a batch of writes as unsent until its callback runs, which on a
    // loaded machine may come a while after the client has the bytes: ask until served.)
    await expect.poll(async () => (await bad.call('queryLog', { limit: 5000 })).result, { timeout: 10_000, interval: 200 }).toMatchObject({ total: 1000 });
  });

  it('disconnects (1008) a client with more than maxBufferedBytes unread, and only that one', { timeout: 30_000 }, async () => {
    const { engine, release } = heldEngine(1000, 1000);
    release();
    const host = await hostWith(engine, { maxBufferedBytes: 8 * MiB });
    const bad = await client(host);
    bad.ws.pause();
    for (let i = 0; i < 40; i++) void bad.call('queryLog', { limit: 1000 });
    bad.ws.resume();
    expect((await bad.closed).code).toBe(1008);
    const good = await client(host);
    expect((await good.call('queryLog', { limit: 1000 })).result).toMatchObject({ total: 1000 });
  });

  it(`closes (1009) a client whose frame is over ${(MAX_MESSAGE_BYTES / MiB).toFixed(1)} MiB; a frame of the largest legitimate call (an 8 MiB file in one importPcapng) passes`, { timeout: 20_000 }, async () => {
    const host = await hostWith(createFakeEngine());
    const good = await client(host);
    const file = Buffer.alloc(WHOLE_TRANSFER_BYTES, 7).toString('base64');
    expect((await good.call('importPcapng', { pcapng: file })).result).toEqual({ imported: 0 });
    const bad = await client(host);
    bad.sendRaw(JSON.stringify({ id: 1, method: 'capabilities', params: { pad: 'x'.repeat(MAX_MESSAGE_BYTES) } }));
    expect((await bad.closed).code).toBe(1009);
    expect((await good.call('capabilities')).result).toBeDefined();
    // A frame claiming 250 MiB is refused at its header, while its bytes still come, with the close frame.
    expect(await Promise.all(Array.from({ length: 8 }, () => oversizedFrame(host.port, host.token, 250 * MiB, 8 * MiB)))).toEqual(Array(8).fill('1009'));
  });

  it('repeats an unknown 10 MiB parameter name clipped to 64 characters (the answer stays under 4 KiB)', async () => {
    const host = await hostWith(createFakeEngine());
    const wire = await client(host);
    const name = 'n'.repeat(10 * MiB);
    const answer = await wire.call('capabilities', { [name]: 1 });
    expect(answer.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: `${'n'.repeat(64)}…` });
    expect(answer.error?.message).toContain(`"${'n'.repeat(64)}…"`);
    expect(answer.bytes).toBeLessThan(4096);
    const method = await wire.call('m'.repeat(10 * MiB));
    expect(method.error?.code).toBe('UNKNOWN_METHOD');
    expect(method.bytes).toBeLessThan(4096);
  });

  it('closes the client over maxClients with 1013 and a reason; a place freed is taken again', { timeout: 20_000 }, async () => {
    const host = await hostWith(createFakeEngine(), { maxClients: 3 });
    const first = await Promise.all([client(host), client(host), client(host)]);
    const refused = await openWireClient(host.port, host.token).then(
      (wire) => wire.closed,
      (error: Error) => ({ code: 0, reason: error.message }),
    );
    expect(refused).toEqual({ code: 1013, reason: 'Too many clients: at most 3 at once; close another workbench tab' });
    expect((await first[0].call('capabilities')).result).toBeDefined();
    first[1].close();
    await expect.poll(() => host.clients, { timeout: 5000 }).toBe(2);
    expect((await (await client(host)).call('capabilities')).result).toBeDefined();
  });

  it('closes an HTTP connection whose headers do not arrive in time, and an idle keep-alive one; pages are still served', { timeout: 20_000 }, async () => {
    const host = await hostWith(createFakeEngine(), { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 500 });
    const slow = net.connect(host.port, '127.0.0.1');
    await new Promise((resolve) => slow.once('connect', resolve));
    const started = Date.now();
    slow.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\n`); // and never the blank line
    let answer = '';
    slow.on('data', (chunk) => (answer += chunk.toString()));
    await new Promise((resolve) => slow.once('close', resolve));
    const slowMs = Date.now() - started;
    expect(answer).toMatch(/^HTTP\/1.1 408/);
    expect(slowMs).toBeGreaterThanOrEqual(900);
    expect(slowMs).toBeLessThan(5000);

    const idle = net.connect(host.port, '127.0.0.1');
    await new Promise((resolve) => idle.once('connect', resolve));
    idle.write(`GET /?token=${host.token} HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\n\r\n`);
    let page = '';
    idle.on('data', (chunk) => (page += chunk.toString()));
    const idleStart = Date.now();
    await new Promise((resolve) => idle.once('close', resolve));
    expect(page).toMatch(/^HTTP\/1.1 200[\s\S]*Packet Workbench/);
    expect(Date.now() - idleStart).toBeLessThan(4000);
  });

  it('closes the exports and imports a client left open when it disconnects', async () => {
    const engine = createFakeEngine();
    const host = await hostWith(engine);
    const wire = await client(host);
    expect((await wire.call('openExport')).result).toMatchObject({ exportId: 'export-1' });
    expect((await wire.call('openImport')).result).toMatchObject({ importId: 'import-1' });
    await wire.call('closeTransfer', { transferId: 'import-1' });
    wire.close();
    await expect.poll(() => engine.calls.filter((call) => call.method === 'closeTransfer').map((call) => call.params)).toEqual([{ transferId: 'import-1' }, { transferId: 'export-1' }]);
  });
});
