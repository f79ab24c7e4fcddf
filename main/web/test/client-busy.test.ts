// The client asks again when the engine answers BUSY, for reads only (common/client.ts
// RETRIED_ON_BUSY): a real browser host with a limit of one call in flight per client, a real
// WebSocket client whose frames are counted, an engine call held until the test lets it go.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BUSY_RETRY_DELAYS_MS, connectWebSocket, createClient, type WebSocketLike, type WorkbenchClient } from '../../../common/client';
import { WorkbenchError } from '../../../common/validate';
import { startBrowserHost, type BrowserHost } from '../host';
import { createFakeEngine, type FakeEngine } from './fake-engine';

let dir: string;
let host: BrowserHost | undefined;
let closeClient: (() => void) | undefined;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'client-busy-'));
  mkdirSync(path.join(dir, 'dist'));
  writeFileSync(path.join(dir, 'dist', 'index.html'), '<!doctype html><title>Packet Workbench</title>');
});
afterEach(async () => {
  closeClient?.();
  await host?.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A host allowing one call in flight per client, whose engine holds logStatus until release(); the client's frames by method. */
async function busyHost(): Promise<{ client: WorkbenchClient; engine: FakeEngine; sent: Map<string, number>; release(): void }> {
  const engine = createFakeEngine();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const record = engine as unknown as Record<string, unknown>;
  const answer = record.logStatus as () => Promise<unknown>;
  record.logStatus = async () => (await held, answer());
  host = await startBrowserHost({ engine, port: 0, host: '127.0.0.1', staticDir: path.join(dir, 'dist'), limits: { maxInFlight: 1 } });
  const sent = new Map<string, number>();
  const transport = await connectWebSocket(`ws://127.0.0.1:${host.port}/api?token=${host.token}`, (url) => {
    const ws = new WebSocket(url);
    const send = ws.send.bind(ws);
    ws.send = ((data: string) => {
      const method = (JSON.parse(data) as { method: string }).method;
      sent.set(method, (sent.get(method) ?? 0) + 1);
      send(data);
    }) as typeof ws.send;
    return ws as unknown as WebSocketLike;
  });
  closeClient = () => transport.close();
  return { client: createClient(transport), engine, sent, release };
}

describe('client retries on BUSY', () => {
  it('asks a read again after BUSY and gets its answer once the engine has room', { timeout: 20_000 }, async () => {
    const { client, engine, sent, release } = await busyHost();
    const status = client.logStatus({}); // the one call in flight
    const started = Date.now();
    const page = client.queryLog({});
    setTimeout(release, 250);
    expect(await page).toMatchObject({ total: 0, rows: [] });
    // Refused at least twice (at once, after 100 ms) before the engine had room at 250 ms.
    expect(sent.get('queryLog')).toBeGreaterThanOrEqual(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(BUSY_RETRY_DELAYS_MS[0] + BUSY_RETRY_DELAYS_MS[1]);
    // The refusals never reached the engine.
    expect(engine.calls.filter((call) => call.method === 'queryLog')).toHaveLength(1);
    await status;
  });

  it('never repeats a send: its BUSY comes back at once', { timeout: 20_000 }, async () => {
    const { client, engine, sent, release } = await busyHost();
    const status = client.logStatus({});
    const error = await client.send({ socketId: 's1', address: '127.0.0.1', packet: { hex: '0800f7ff00000000' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkbenchError);
    expect(error).toMatchObject({ code: 'BUSY' });
    expect(sent.get('send')).toBe(1);
    expect(engine.calls.some((call) => call.method === 'send')).toBe(false);
    release();
    await status;
  });

  it('gives up after the retries with the engine’s message', { timeout: 20_000 }, async () => {
    const { client, sent, release } = await busyHost();
    const status = client.logStatus({});
    const started = Date.now();
    const error = await client.queryLog({ limit: 5000 }).catch((e: unknown) => e);
    const waited = Date.now() - started;
    expect(error).toMatchObject({ code: 'BUSY', message: 'Busy: 1 calls of this client are in flight (the limit); wait for their answers before sending more' });
    expect(sent.get('queryLog')).toBe(1 + BUSY_RETRY_DELAYS_MS.length);
    expect(waited).toBeGreaterThanOrEqual(BUSY_RETRY_DELAYS_MS.reduce((sum, ms) => sum + ms, 0));
    release();
    await status;
  });
});
