// The browser host: loopback binding, token, Origin and Host checks, static files
// without traversal, the WebSocket framing of the contract, and per-client event
// delivery (one frame per 16 ms at most, bounded for slow clients).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, connectWebSocket, type WebSocketLike } from '../../common/client';
import type { EventBatch, LogRow } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { startBrowserHost, type BrowserHost } from '../web/host';
import { EventOutbox, FRAME_ROWS, HIGH_WATER_BYTES, MAX_PENDING_LOG_ROWS } from '../web/event-outbox';
import { LIVE_ROWS_BURST } from '../engine/row-budget';
import { createFakeEngine, type FakeEngine } from '../web/test/fake-engine';

let dir: string;
let staticDir: string;
let engine: FakeEngine;
let host: BrowserHost;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'host-'));
  staticDir = path.join(dir, 'dist');
  mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Packet Workbench</title><script type="module" src="/assets/app.js"></script>');
  writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log("app")');
  writeFileSync(path.join(staticDir, 'assets', 'app.css'), 'body{}');
  writeFileSync(path.join(dir, 'secret.txt'), 'TOP-SECRET');
  symlinkSync(path.join(dir, 'secret.txt'), path.join(staticDir, 'assets', 'link.txt'));
  engine = createFakeEngine();
  host = await startBrowserHost({ engine, port: 0, host: '127.0.0.1', staticDir });
});

afterAll(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw HTTP/1.1 request, so paths and headers go out exactly as written. */
function rawRequest(requestPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(host.port, '127.0.0.1');
    const lines = [`GET ${requestPath} HTTP/1.1`, ...Object.entries({ Host: `127.0.0.1:${host.port}`, Connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}`)];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head, body: rest.join('\r\n\r\n') });
    });
  });
}

const wsUrl = (token: string | null = host.token) =>
  `ws://127.0.0.1:${host.port}/api${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;

/** Tries a WebSocket upgrade; resolves 'open' or the HTTP status it was refused with. */
function tryUpgrade(url: string, options: WebSocket.ClientOptions = {}): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options);
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on('error', () => undefined);
  });
}

async function connect() {
  const transport = await connectWebSocket(wsUrl(), (url) => new WebSocket(url) as unknown as WebSocketLike);
  return { transport, client: createClient(transport) };
}

describe('browser host: where it listens', () => {
  it('listens on 127.0.0.1 only and prints a URL with a 32-byte token', () => {
    expect(host.address).toBe('127.0.0.1');
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${host.token}`);
    expect(Buffer.from(host.token, 'base64url')).toHaveLength(32);
  });

  it('is not reachable on another local address', async () => {
    const reached = await new Promise<boolean>((resolve) => {
      const socket = net.connect(host.port, '127.0.0.2');
      socket.on('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    expect(reached).toBe(false);
  });

  it('refuses to bind anywhere but 127.0.0.1', async () => {
    await expect(startBrowserHost({ engine, staticDir, host: '0.0.0.0' as '127.0.0.1' })).rejects.toMatchObject({ field: 'host' });
  });

  it('gives each host its own random token', async () => {
    const other = await startBrowserHost({ engine, staticDir });
    expect(other.token).not.toBe(host.token);
    expect(other.port).not.toBe(host.port);
    await other.close();
  });
});

describe('browser host: the page and its files', () => {
  it('serves the page with the token, with the strict CSP and its ws:// origin', async () => {
    const response = await rawRequest(`/?token=${host.token}`);
    expect(response.status).toBe(200);
    expect(response.headers).toMatch(/content-type: text\/html; charset=utf-8/i);
    const csp = /content-security-policy: (.*)/i.exec(response.headers)![1];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${host.port} ws://localhost:${host.port}`);
    expect(csp).not.toMatch(/unsafe-eval|unsafe-inline/);
    expect(response.headers).toMatch(/referrer-policy: no-referrer/i);
    expect(response.body).toContain('Packet Workbench');
  });

  it('refuses the page without the token or with a wrong one', async () => {
    for (const request of ['/', '/index.html', '/?token=', `/?token=${'A'.repeat(host.token.length)}`, `/?token=${host.token}x`]) {
      const response = await rawRequest(request);
      expect(response.status, request).toBe(401);
      expect(response.body).not.toContain('Packet Workbench');
    }
  });

  it("serves the page's assets without the token, with their content types", async () => {
    const js = await rawRequest('/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers).toMatch(/content-type: text\/javascript/i);
    expect(js.headers).toMatch(/x-content-type-options: nosniff/i);
    const css = await rawRequest('/assets/app.css');
    expect(css.headers).toMatch(/content-type: text\/css/i);
  });

  it('refuses path traversal in every spelling, and links that lead out', async () => {
    for (const request of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/assets/app.js%00.html',
      '/assets/link.txt',
      '/%zz',
    ]) {
      const response = await rawRequest(request);
      expect([400, 401, 403, 404], request).toContain(response.status);
      expect(response.body, request).not.toContain('TOP-SECRET');
      expect(response.body, request).not.toContain('root:');
    }
  });

  it('answers 404 for a missing file and 405 for other methods', async () => {
    expect((await rawRequest('/assets/missing.js')).status).toBe(404);
    const status = await new Promise<number>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: host.port, method: 'POST', path: `/?token=${host.token}` }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.end('x');
    });
    expect(status).toBe(405);
  });

  it('refuses a foreign Host header (DNS rebinding), and accepts localhost', async () => {
    for (const hostHeader of ['evil.example', `evil.example:${host.port}`, `127.0.0.1:${host.port + 1}`, '127.0.0.1', `[::1]:${host.port}`]) {
      const response = await rawRequest(`/assets/app.js`, { Host: hostHeader });
      expect(response.status, hostHeader).toBe(403);
    }
    expect((await rawRequest(`/?token=${host.token}`, { Host: `localhost:${host.port}` })).status).toBe(200);
  });
});

describe('browser host: the WebSocket door', () => {
  it('opens with the token, from no Origin (a CLI) or our own origin', async () => {
    expect(await tryUpgrade(wsUrl())).toBe('open');
    expect(await tryUpgrade(wsUrl(), { origin: `http://127.0.0.1:${host.port}` })).toBe('open');
    expect(await tryUpgrade(wsUrl(), { origin: `http://localhost:${host.port}` })).toBe('open');
  });

  it('refuses a missing or wrong token with 401', async () => {
    expect(await tryUpgrade(wsUrl(null))).toBe(401);
    expect(await tryUpgrade(wsUrl('wrong'))).toBe(401);
    expect(await tryUpgrade(wsUrl(host.token.slice(0, -1) + (host.token.endsWith('A') ? 'B' : 'A')))).toBe(401);
  });

  it('refuses a foreign Origin with 403, even with the token', async () => {
    for (const origin of ['https://evil.example', `http://127.0.0.1:${host.port + 1}`, 'null', 'file://']) {
      expect(await tryUpgrade(wsUrl(), { origin }), origin).toBe(403);
    }
  });

  it('refuses a foreign Host header with 403, even with the token', async () => {
    expect(await tryUpgrade(wsUrl(), { headers: { Host: `rebind.example:${host.port}` } })).toBe(403);
  });

  it('serves the API only at /api', async () => {
    expect(await tryUpgrade(`ws://127.0.0.1:${host.port}/other?token=${host.token}`)).toBe(404);
  });
});

describe('browser host: requests over the WebSocket', () => {
  /** Sends raw text and waits for the next frame that is not an event frame. */
  function rawExchange(ws: WebSocket, data: string | Buffer): Promise<any> {
    return new Promise((resolve) => {
      const onMessage = (message: WebSocket.RawData) => {
        const frame = JSON.parse(message.toString());
        if ('events' in frame) return;
        ws.off('message', onMessage);
        resolve(frame);
      };
      ws.on('message', onMessage);
      ws.send(data);
    });
  }

  it('answers malformed frames with an error frame and keeps serving', async () => {
    const ws = new WebSocket(wsUrl());
    await new Promise((resolve) => ws.on('open', resolve));
    expect(await rawExchange(ws, '{not json')).toEqual({ id: 0, error: expect.objectContaining({ code: 'BAD_REQUEST' }) });
    expect(await rawExchange(ws, '[1,2]')).toEqual({ id: 0, error: expect.objectContaining({ code: 'BAD_REQUEST' }) });
    expect(await rawExchange(ws, '{"method":"capabilities"}')).toEqual({ id: 0, error: expect.objectContaining({ field: 'id' }) });
    expect(await rawExchange(ws, Buffer.from([1, 2, 3]))).toEqual({ id: 0, error: expect.objectContaining({ code: 'BAD_REQUEST' }) });
    expect(await rawExchange(ws, '{"id":5,"method":"selfDestruct","params":{}}')).toEqual({
      id: 5,
      error: expect.objectContaining({ code: 'UNKNOWN_METHOD', field: 'method' }),
    });
    expect(await rawExchange(ws, '{"id":6,"method":"__proto__","params":{}}')).toMatchObject({ id: 6, error: { code: 'UNKNOWN_METHOD' } });
    expect(await rawExchange(ws, '{"id":7,"method":"capabilities"}')).toMatchObject({ id: 7, result: { platform: 'linux' } });
    ws.close();
  });

  it('rejects unknown methods through the client with a WorkbenchError', async () => {
    const { transport } = await connect();
    const error = await transport.invoke('nope', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkbenchError);
    expect(error).toMatchObject({ code: 'UNKNOWN_METHOD', field: 'method' });
    transport.close();
  });
});

describe('browser host: events', () => {
  const rows = (from: number, count: number): LogRow[] =>
    Array.from({ length: count }, (_, i) => ({
      id: from + i, time: 0, direction: 'received', socketId: 's1', family: 'ipv4',
      source: '127.0.0.1', destination: '127.0.0.1', protocol: 'ICMP', length: 84, info: 'Echo reply',
    }));

  it('gives each client its own subscription, dropped when it disconnects', async () => {
    await expect.poll(() => host.clients).toBe(0);
    const before = engine.subscribers;
    const a = await connect();
    const b = await connect();
    await expect.poll(() => engine.subscribers).toBe(before + 2);
    const gotA: EventBatch[] = [];
    const gotB: EventBatch[] = [];
    a.client.onEvents((batch) => gotA.push(batch));
    b.client.onEvents((batch) => gotB.push(batch));
    engine.emit([{ type: 'logCleared' }]);
    await expect.poll(() => gotA.length + gotB.length).toBe(2);
    a.transport.close();
    b.transport.close();
    await expect.poll(() => engine.subscribers).toBe(before);
  });

  it('sends at most one frame per 16 ms per client, and loses nothing from a client that keeps up', async () => {
    const { transport, client } = await connect();
    const arrivals: number[] = [];
    const ids: number[] = [];
    client.onEvents((batch) => {
      arrivals.push(performance.now());
      for (const event of batch) if (event.type === 'log') ids.push(...event.rows.map((row) => row.id));
    });
    const started = performance.now();
    for (let i = 0; i < 200; i++) {
      engine.emit([{ type: 'log', rows: rows(i * 5, 5) }]);
      if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await expect.poll(() => ids.length).toBe(1000);
    expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // N frames sent at least 16 ms apart need (N - 1) * 16 ms, whatever the network jitter.
    const elapsed = arrivals[arrivals.length - 1] - started;
    expect(arrivals.length).toBeLessThanOrEqual(Math.floor(elapsed / 16) + 1);
    expect(arrivals.length).toBeLessThan(200);
    transport.close();
  });
});

describe('event outbox (one client)', () => {
  const rows = (from: number, count: number): LogRow[] =>
    Array.from({ length: count }, (_, i) => ({
      id: from + i, time: 0, direction: 'sent', socketId: 's1', family: 'ipv4',
      source: '127.0.0.1', destination: '127.0.0.1', protocol: 'ICMP', length: 84, info: '',
    }));

  it('holds a slow client to bounded memory: newest rows, latest state per key', async () => {
    let buffered = HIGH_WATER_BYTES + 1;
    const frames: EventBatch[] = [];
    const outbox = new EventOutbox({ bufferedAmount: () => buffered, send: (frame) => frames.push(JSON.parse(frame).events) });
    for (let i = 0; i < 100; i++) {
      outbox.push([
        { type: 'log', rows: rows(i * 1000, 1000) },
        { type: 'sendJob', job: { jobId: 'j1', socketId: 's1', address: '127.0.0.1', total: 100, sent: i, errors: 0, state: 'running', startedAt: 0 } },
      ]);
    }
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(frames).toEqual([]);
    expect(outbox.dropped).toBe(100_000 - MAX_PENDING_LOG_ROWS);
    expect(MAX_PENDING_LOG_ROWS).toBeLessThan(100_000);
    buffered = 0;
    // One flush: the rows not sent named first (the trimmed ones and those beyond the row
    // budget's burst), then the newest rows in frames of FRAME_ROWS, the job's latest state after the last row.
    await expect.poll(() => frames.length, { timeout: 1000 }).toBe(LIVE_ROWS_BURST / FRAME_ROWS);
    expect(frames[0][0]).toEqual({ type: 'logSkipped', fromId: 0, toId: 100_000 - LIVE_ROWS_BURST - 1, count: 100_000 - LIVE_ROWS_BURST });
    const sentRows = frames.flatMap((frame) => frame.flatMap((event) => (event.type === 'log' ? event.rows : [])));
    expect(sentRows).toHaveLength(LIVE_ROWS_BURST);
    expect(sentRows[0].id).toBe(100_000 - LIVE_ROWS_BURST);
    const jobs = frames.flatMap((frame) => frame.filter((event) => event.type === 'sendJob'));
    expect(jobs).toEqual([expect.objectContaining({ job: expect.objectContaining({ sent: 99 }) })]);
    expect(frames.at(-1)!.map((event) => event.type)).toEqual(['log', 'sendJob']);
    outbox.close();
  });

  it('passes on a full engine batch (10 000 rows) to a client that keeps up, in frames of FRAME_ROWS', async () => {
    // A browser takes in each WebSocket message as one task: 10,000 rows in one frame made
    // 200+ ms tasks during a flood (bench:ui); frames of FRAME_ROWS keep each one short.
    const frames: EventBatch[] = [];
    const outbox = new EventOutbox({ bufferedAmount: () => 0, send: (frame) => frames.push(JSON.parse(frame).events) });
    outbox.push([{ type: 'log', rows: rows(0, 10_000) }]);
    await expect.poll(() => frames.length).toBe(10_000 / FRAME_ROWS);
    for (const frame of frames) expect((frame[0] as { rows: LogRow[] }).rows).toHaveLength(FRAME_ROWS);
    const ids = frames.flatMap((frame) => (frame[0] as { rows: LogRow[] }).rows.map((row) => row.id));
    expect(ids).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(outbox.dropped).toBe(0);
    outbox.close();
  });

  it('flushes at least 16 ms apart', async () => {
    const sentAt: number[] = [];
    const outbox = new EventOutbox({ bufferedAmount: () => 0, send: () => sentAt.push(performance.now()) });
    const until = performance.now() + 200;
    while (performance.now() < until) {
      outbox.push([{ type: 'log', rows: rows(sentAt.length, 1) }]);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(sentAt.length).toBeGreaterThan(3);
    for (let i = 1; i < sentAt.length; i++) expect(sentAt[i] - sentAt[i - 1]).toBeGreaterThanOrEqual(15);
    outbox.close();
  });

  it('puts logCleared before the rows that follow it and drops the rows before it', async () => {
    const frames: EventBatch[] = [];
    const outbox = new EventOutbox({ bufferedAmount: () => 0, send: (frame) => frames.push(JSON.parse(frame).events) });
    outbox.push([{ type: 'log', rows: rows(0, 3) }, { type: 'logCleared' }, { type: 'log', rows: rows(3, 2) }]);
    await expect.poll(() => frames.length).toBe(1);
    expect(frames[0].map((event) => event.type)).toEqual(['logCleared', 'log']);
    expect((frames[0][1] as { rows: LogRow[] }).rows.map((row) => row.id)).toEqual([3, 4]);
    outbox.close();
  });
});

describe('browser host: closing', () => {
  it('disconnects its clients and their subscriptions', async () => {
    const own = createFakeEngine();
    const other = await startBrowserHost({ engine: own, staticDir });
    const transport = await connectWebSocket(
      `ws://127.0.0.1:${other.port}/api?token=${other.token}`,
      (url) => new WebSocket(url) as unknown as WebSocketLike,
    );
    await expect.poll(() => own.subscribers).toBe(1);
    await other.close();
    await expect.poll(() => own.subscribers).toBe(0);
    await expect(transport.invoke('capabilities', {})).rejects.toThrow(/closed/);
    expect(await tryUpgradePort(other.port)).toBe('refused');
  });
});

function tryUpgradePort(port: number): Promise<'open' | 'refused'> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.on('error', () => resolve('refused'));
  });
}

// A client that does not read its answers, pipelines, floods or oversizes: main/web/test/host-limits.test.ts.
