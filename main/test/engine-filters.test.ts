// Capture filters in the engine, on real sockets: openSocket's filter (validated by
// compiling; a syntax error names its position as a field error), setSocketFilter,
// and the browser host's own WebSocket connection kept out of the log of raw TCP
// sockets (it used to grow by ~90 rows a second: each logged packet made event
// traffic, which was logged again).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { createSocket as createUdpSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectWebSocket, createClient, type WebSocketLike } from '../../common/client';
import type { LogRow } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { Workbench } from '../engine';
import { dispatchCall } from '../engine/dispatch';
import { startBrowserHost } from '../web/host';
import { rootWhy, skipNote } from './fixtures/privilege';

const root = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dir: string;
let staticDir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'engine-filters-'));
  staticDir = path.join(dir, 'dist');
  mkdirSync(staticDir);
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Packet Workbench</title>');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Rows of a TCP log whose info names this port as source or destination. */
function rowsOfPort(rows: LogRow[], port: number): LogRow[] {
  const pattern = new RegExp(`(^|\\s)${port} → |→ ${port} `);
  return rows.filter((row) => row.protocol === 'TCP' && pattern.test(row.info));
}

async function allRows(call: (method: string, params: unknown) => Promise<unknown>): Promise<LogRow[]> {
  const page = (await call('queryLog', { limit: 5000, filter: { protocol: 'TCP' } })) as { rows: LogRow[] };
  return page.rows;
}

/** A TCP connection on loopback that exchanges a few bytes: traffic the socket must log. */
async function otherTcpTraffic(): Promise<number> {
  const server = net.createServer((connection) => connection.end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve, reject) => {
    const client = net.connect(port, '127.0.0.1');
    client.on('data', () => undefined);
    client.on('end', () => resolve());
    client.on('error', reject);
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(!root)(`the browser host keeps its own connection out of the log${skipNote(rootWhy('raw sockets'))}`, () => {
  it('a raw TCP socket opened through the real browser host logs other TCP traffic but not the WebSocket it is driven over', async () => {
    const engine = new Workbench({ eventIntervalMs: 16 });
    const host = await startBrowserHost({ engine, port: 0, host: '127.0.0.1', staticDir });
    cleanups.push(() => engine.close(), () => host.close());
    const transport = await connectWebSocket(`ws://127.0.0.1:${host.port}/api?token=${encodeURIComponent(host.token)}`, (url) => new WebSocket(url) as unknown as WebSocketLike);
    cleanups.push(() => transport.close());
    const client = createClient(transport);
    let batches = 0;
    client.onEvents(() => batches++);

    const socket = await client.openSocket({ family: 'ipv4', protocol: 6, mode: 'raw' });
    const call = (method: string, params: unknown) => dispatchCall(engine, method, params);
    // Requests, responses and event batches go over the WebSocket for a second.
    for (let i = 0; i < 20; i++) {
      await client.listSockets({});
      await sleep(50);
    }
    const otherPort = await otherTcpTraffic();
    await sleep(300);
    const rows = await allRows(call);
    expect(batches).toBeGreaterThan(0);
    expect(rowsOfPort(rows, otherPort).length, 'the socket logs TCP traffic').toBeGreaterThanOrEqual(4);
    expect(rowsOfPort(rows, host.port)).toEqual([]);
    // And the log does not grow by itself.
    const total = ((await call('queryLog', { limit: 1 })) as { total: number }).total;
    await sleep(500);
    expect(rowsOfPort(await allRows(call), host.port)).toEqual([]);
    expect(((await call('queryLog', { limit: 1 })) as { total: number }).total - total).toBeLessThan(20);
    expect(socket.socketId).toMatch(/^socket-/);
  }, 30_000);
});

describe.skipIf(!root)(`capture filters on engine sockets${skipNote(rootWhy('raw sockets'))}`, () => {
  async function engineCall() {
    const engine = new Workbench({ eventIntervalMs: 16 });
    cleanups.push(() => engine.close());
    return { engine, call: (method: string, params: unknown) => dispatchCall(engine, method, params) };
  }

  async function udpTo(ports: number[], marker: string, count: number): Promise<void> {
    const sender = createUdpSocket('udp4');
    try {
      for (let n = 0; n < count; n++) {
        for (const port of ports) await new Promise<void>((resolve, reject) => sender.send(`${marker}:${n}`, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
      }
    } finally {
      sender.close();
    }
  }

  async function udpRows(call: (method: string, params: unknown) => Promise<unknown>, socketId: string): Promise<number[]> {
    const page = (await call('queryLog', { limit: 5000, filter: { protocol: 'UDP' } })) as { rows: LogRow[] };
    return page.rows.filter((row) => row.socketId === socketId && /→ 4000[12] /.test(row.info)).map((row) => Number(/→ (\d+) /.exec(row.info)?.[1]));
  }

  it("openSocket's filter is run by the kernel; setSocketFilter replaces it, and null or '' removes it", async () => {
    const { call } = await engineCall();
    const socket = (await call('openSocket', { family: 'ipv4', protocol: 17, mode: 'raw', filter: '  udp dst port 40001 ' })) as { socketId: string; filter: string | null; excludedTraffic?: string };
    expect(socket.filter).toBe('udp dst port 40001');
    expect(socket.excludedTraffic).toBeUndefined();
    await udpTo([40001, 40002], 'a', 5);
    await sleep(200);
    expect(await udpRows(call, socket.socketId)).toEqual([40001, 40001, 40001, 40001, 40001]);

    expect(await call('setSocketFilter', { socketId: socket.socketId, filter: 'udp dst port 40002' })).toMatchObject({ filter: 'udp dst port 40002' });
    await udpTo([40001, 40002], 'b', 5);
    await sleep(200);
    expect((await udpRows(call, socket.socketId)).slice(5)).toEqual([40002, 40002, 40002, 40002, 40002]);

    for (const none of [null, '', '   ']) {
      expect(await call('setSocketFilter', { socketId: socket.socketId, filter: none })).toMatchObject({ filter: null });
    }
    await udpTo([40001, 40002], 'c', 2);
    await sleep(200);
    expect((await udpRows(call, socket.socketId)).slice(10).sort()).toEqual([40001, 40001, 40002, 40002]);
    expect(await call('listSockets', {})).toEqual([expect.objectContaining({ socketId: socket.socketId, filter: null })]);
  });

  it('a filter libpcap refuses is an error of the field "filter" that names the position; nothing is opened or changed', async () => {
    const { call } = await engineCall();
    const refusal = (promise: Promise<unknown>) => promise.then(() => expect.unreachable('accepted'), (error: WorkbenchError) => error);
    const syntax = await refusal(call('openSocket', { family: 'ipv4', protocol: 6, mode: 'raw', filter: 'tcp port 80 and and host x' }));
    expect(syntax).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'filter', message: 'capture filter: syntax error at position 16 ("and"): tcp port 80 and and host x' });
    const reason = await refusal(call('openSocket', { family: 'ipv4', protocol: 6, mode: 'raw', filter: 'tcp port 99999' }));
    expect(reason).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'filter', message: expect.stringContaining('illegal port number 99999 > 65535') });
    expect(await call('listSockets', {})).toEqual([]);

    // Where the kernel has taken the IP header off, the packet length cannot be filtered: said at the field too.
    const ipv6 = await refusal(call('openSocket', { family: 'ipv6', protocol: 58, mode: 'raw', filter: 'len > 100' }));
    expect(ipv6).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'filter', message: expect.stringContaining('cannot be filtered on an IPv6 raw socket') });

    const socket = (await call('openSocket', { family: 'ipv4', protocol: 1, mode: 'raw', filter: 'icmp' })) as { socketId: string };
    const bad = await refusal(call('setSocketFilter', { socketId: socket.socketId, filter: '(icmp' }));
    expect(bad).toMatchObject({ field: 'filter', message: 'capture filter: syntax error at position 5 (end of expression, which is incomplete): (icmp' });
    expect(await call('listSockets', {})).toEqual([expect.objectContaining({ filter: 'icmp' })]);
    await expect(call('setSocketFilter', { socketId: 'socket-999', filter: 'icmp' })).rejects.toMatchObject({ field: 'socketId' });
    await expect(call('setSocketFilter', { socketId: socket.socketId, filter: 5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'filter' });
    await expect(call('setSocketFilter', { socketId: socket.socketId })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'filter' });
  });

  it("sockets open before the host started get its exclusion, shown as excludedTraffic; includeOwnTraffic keeps it; the host's close removes it", async () => {
    const { engine, call } = await engineCall();
    const early = (await call('openSocket', { family: 'ipv4', protocol: 6, mode: 'raw', filter: 'tcp' })) as { socketId: string };
    const everything = (await call('openSocket', { family: 'ipv4', protocol: 6, mode: 'raw', includeOwnTraffic: true })) as { socketId: string };
    const icmp = (await call('openSocket', { family: 'ipv4', protocol: 1, mode: 'raw' })) as { socketId: string };
    const host = await startBrowserHost({ engine, port: 0, host: '127.0.0.1', staticDir });
    let hostOpen = true;
    cleanups.push(() => (hostOpen ? host.close() : undefined));
    const own = `tcp port ${host.port} and host 127.0.0.1`;
    const infos = async () => new Map(((await call('listSockets', {})) as { socketId: string; filter: string | null; excludedTraffic?: string }[]).map((info) => [info.socketId, info]));
    let sockets = await infos();
    expect(sockets.get(early.socketId)).toMatchObject({ filter: 'tcp', excludedTraffic: own });
    expect(sockets.get(everything.socketId)?.excludedTraffic).toBeUndefined();
    expect(sockets.get(icmp.socketId)?.excludedTraffic).toBeUndefined();

    const transport = await connectWebSocket(`ws://127.0.0.1:${host.port}/api?token=${encodeURIComponent(host.token)}`, (url) => new WebSocket(url) as unknown as WebSocketLike);
    const client = createClient(transport);
    for (let i = 0; i < 5; i++) await client.listSockets({});
    transport.close();
    await sleep(200);
    const rows = rowsOfPort(await allRows(call), host.port);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.socketId === everything.socketId)).toBe(true);

    await host.close();
    hostOpen = false;
    sockets = await infos();
    expect(sockets.get(early.socketId)).toMatchObject({ filter: 'tcp' });
    expect(sockets.get(early.socketId)?.excludedTraffic).toBeUndefined();
  });
});

describe.skipIf(!root)(`capture filters on packet-socket captures${skipNote(rootWhy('packet sockets'))}`, () => {
  it("startCapture's filter, with the browser host's connection filtered out of a capture on lo", async () => {
    const engine = new Workbench({ eventIntervalMs: 16 });
    cleanups.push(() => engine.close());
    const call = (method: string, params: unknown) => dispatchCall(engine, method, params);
    const host = await startBrowserHost({ engine, port: 0, host: '127.0.0.1', staticDir });
    cleanups.push(() => host.close());
    await expect(call('startCapture', { interface: 'lo', filter: 'tcp port eighty' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'filter', message: "capture filter: unknown port 'eighty' (position 9): tcp port eighty" });

    const tcp = (await call('startCapture', { interface: 'lo', filter: 'tcp' })) as { captureId: string; filter: string; excludedTraffic?: string };
    expect(tcp).toMatchObject({ filter: 'tcp', excludedTraffic: `tcp port ${host.port} and host 127.0.0.1` });
    const udp = (await call('startCapture', { interface: 'lo', filter: 'udp dst port 40001', includeOwnTraffic: true })) as { captureId: string; excludedTraffic?: string };
    expect(udp.excludedTraffic).toBeUndefined();

    const transport = await connectWebSocket(`ws://127.0.0.1:${host.port}/api?token=${encodeURIComponent(host.token)}`, (url) => new WebSocket(url) as unknown as WebSocketLike);
    cleanups.push(() => transport.close());
    const client = createClient(transport);
    for (let i = 0; i < 5; i++) await client.listSockets({});
    const otherPort = await otherTcpTraffic();
    const sender = createUdpSocket('udp4');
    for (const port of [40001, 40002, 40001]) await new Promise<void>((resolve, reject) => sender.send('x', port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
    sender.close();
    await sleep(300);
    const page = (await call('queryLog', { limit: 5000 })) as { rows: LogRow[] };
    const of = (id: string) => page.rows.filter((row) => row.socketId === id);
    expect(rowsOfPort(of(tcp.captureId), otherPort).length).toBeGreaterThanOrEqual(4);
    expect(rowsOfPort(of(tcp.captureId), host.port)).toEqual([]);
    expect(of(tcp.captureId).every((row) => row.protocol === 'TCP')).toBe(true);
    expect(of(udp.captureId).map((row) => /→ (\d+) /.exec(row.info)?.[1])).toEqual(['40001', '40001']);
  });
});
