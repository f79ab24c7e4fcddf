// One set of contract specs, run against every way a client reaches the engine:
//   engine     the engine itself, through dispatchCall (validateParams, then the handler)
//   electron   main/electron's IPC handlers and the preload bridge, with ipcMain/ipcRenderer
//              and contextBridge faked at the boundary (main/electron/test/fake-electron.ts)
//   websocket  the browser host on 127.0.0.1 and common/client.ts over the `ws` package
// Bad input must come back as an error naming the field, with the engine still
// serving; real calls must work on loopback (raw ICMP needs root or CAP_NET_RAW).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { connectWebSocket, createClient, type EventListener, type WebSocketLike, type WorkbenchClient } from '../../common/client';
import type { EventBatch, LogRow, MethodName } from '../../common/contract';
import { deserializeError, WorkbenchError, type SerializedError } from '../../common/validate';
import { registerIpc } from '../electron/ipc';
import { rendererUrl } from '../electron/security';
import { FakeBrowserWindow, FakeContextBridge, FakeIpcMain, FakeIpcRenderer } from '../electron/test/fake-electron';
import { dispatchCall, type EngineLike } from '../engine/dispatch';
import { startBrowserHost } from '../web/host';
import { Workbench } from '../engine';
import { rawSocketsWhy, skipNote } from './fixtures/privilege';

async function createTestEngine(): Promise<EngineLike & { close(): unknown }> {
  return new Workbench();
}

interface Connection {
  client: WorkbenchClient;
  /** Calls a method the contract does not have, on the transport's own channel. */
  invokeUnknown(): Promise<unknown>;
  close(): Promise<void> | void;
}

type Target = { name: string; connect(engine: EngineLike): Promise<Connection> };

const targets: Target[] = [
  {
    name: 'engine (validateParams + handlers)',
    async connect(engine) {
      const client = createClient({
        invoke: (method, params) => dispatchCall(engine, method, params),
        onEvents: (listener: EventListener) => engine.subscribe(listener),
      });
      return { client, invokeUnknown: () => dispatchCall(engine, 'selfDestruct', {}), close: () => undefined };
    },
  },
  {
    name: 'Electron IPC (ipcMain.handle + preload bridge, faked at the boundary)',
    async connect(engine) {
      const expectedUrl = rendererUrl('/app/renderer/dist/index.html');
      const ipcMain = new FakeIpcMain();
      const window = new FakeBrowserWindow(expectedUrl);
      registerIpc({ ipcMain, engine, window: window as never, expectedUrl });
      const contextBridge = new FakeContextBridge();
      const ipcRenderer = new FakeIpcRenderer(ipcMain, window.webContents);
      vi.resetModules();
      vi.doMock('electron', () => ({ contextBridge, ipcRenderer }));
      await import('../../preload/preload.js');
      vi.doUnmock('electron');
      const page = contextBridge.mainWorld.workbench as Record<string, (params?: unknown) => Promise<unknown>> & {
        onEvents(listener: EventListener): () => void;
      };
      // What the renderer's api client does with the bridge: rejections arrive as
      // plain { code, message, field } objects and become WorkbenchErrors again.
      const client = createClient({
        invoke: (method, params) => {
          const call = page[method];
          if (typeof call !== 'function') return Promise.reject(new WorkbenchError('UNKNOWN_METHOD', method, 'method'));
          return call(params).catch((reason: SerializedError) => {
            throw deserializeError(reason);
          });
        },
        onEvents: (listener) => page.onEvents(listener),
      });
      return {
        client,
        // The page has no way to name another channel; a compromised preload could try one.
        invokeUnknown: () => ipcRenderer.invoke('workbench:selfDestruct', {}),
        close: () => window.close(),
      };
    },
  },
  {
    name: 'WebSocket (browser host on 127.0.0.1)',
    async connect(engine) {
      const staticDir = mkdtempSync(path.join(tmpdir(), 'contract-static-'));
      const host = await startBrowserHost({ engine, port: 0, host: '127.0.0.1', staticDir });
      const transport = await connectWebSocket(
        `ws://127.0.0.1:${host.port}/api?token=${host.token}`,
        (url) => new WebSocket(url) as unknown as WebSocketLike,
      );
      return {
        client: createClient(transport),
        invokeUnknown: () => transport.invoke('selfDestruct', {}),
        async close() {
          transport.close();
          await host.close();
          rmSync(staticDir, { recursive: true, force: true });
        },
      };
    },
  },
];

/** Calls a method with raw (possibly wrong) parameters, bypassing the client's types. */
function callRaw(client: WorkbenchClient, method: MethodName, params: unknown): Promise<unknown> {
  return (client[method] as (params: unknown) => Promise<unknown>)(params);
}

async function expectFieldError(promise: Promise<unknown>, field: string | RegExp, code?: string): Promise<WorkbenchError> {
  const error = await promise.then(
    (result) => {
      throw new Error(`expected a refusal naming '${field}', got ${JSON.stringify(result)?.slice(0, 200)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkbenchError);
  const { field: named, code: gotCode, message } = error as WorkbenchError;
  if (typeof field === 'string') expect(named, message).toBe(field);
  else expect(named, message).toMatch(field);
  if (code) expect(gotCode, message).toBe(code);
  return error as WorkbenchError;
}

function icmpEchoRequestHex(identifier: number, sequence: number, payload: Buffer): string {
  const bytes = Buffer.alloc(8 + payload.length);
  bytes[0] = 8;
  bytes.writeUInt16BE(identifier, 4);
  bytes.writeUInt16BE(sequence, 6);
  payload.copy(bytes, 8);
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  bytes.writeUInt16BE(~sum & 0xffff, 2);
  return bytes.toString('hex');
}

// Raw ICMP sockets need CAP_NET_RAW, not uid 0.
const canRaw = rawSocketsWhy === '';

describe.each(targets)('contract over $name', (target) => {
  let engine: EngineLike & { close(): unknown };
  let connection: Connection;
  let client: WorkbenchClient;
  const batches: EventBatch[] = [];

  beforeAll(async () => {
    engine = await createTestEngine();
    connection = await target.connect(engine);
    client = connection.client;
    client.onEvents((batch) => batches.push(batch));
  });
  afterAll(async () => {
    await connection?.close();
    await engine?.close();
  });

  describe('bad input: a validation error naming the field, and the engine keeps running', () => {
    it('wrong types', async () => {
      await expectFieldError(callRaw(client, 'openSocket', { family: 'ipv4', protocol: '1' }), 'protocol', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'openSocket', { family: 4, protocol: 1 }), 'family', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'openSocket', { family: 'ipv5', protocol: 1 }), 'family', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'closeSocket', { socketId: 7 }), 'socketId', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'ping', { target: ['127.0.0.1'] }), 'target', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'queryLog', { filter: { direction: 'sideways' } }), 'filter.direction', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'setSocketOption', { socketId: 's', name: 'IP_TTL', value: true }), 'value', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'setSocketOption', { socketId: 's', name: 'IP_BOGUS', value: 1 }), 'name', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'decodeLogEntry', { id: 'x' }), 'id', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'send', { socketId: 's', address: '127.0.0.1', packet: { hex: 12 } }), /^packet/, 'INVALID_ARGUMENT');
    });

    it('parameters that are not an object, or carry unknown keys', async () => {
      for (const params of [null, 42, 'capabilities', [1]]) {
        const error = await callRaw(client, 'openSocket', params).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WorkbenchError);
        expect((error as WorkbenchError).code).toBe('INVALID_ARGUMENT');
      }
      const error = await callRaw(client, 'openSocket', { family: 'ipv4', protocol: 1, sudo: true }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('sudo') });
    });

    it('out-of-range numbers', async () => {
      await expectFieldError(callRaw(client, 'openSocket', { family: 'ipv4', protocol: 256 }), 'protocol', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'openSocket', { family: 'ipv4', protocol: -1 }), 'protocol', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'openSocket', { family: 'ipv4', protocol: 1.5 }), 'protocol', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'ping', { target: '127.0.0.1', ttl: 0 }), 'ttl', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'ping', { target: '127.0.0.1', count: 1e9 }), 'count', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'traceroute', { target: '127.0.0.1', maxHops: 256 }), 'maxHops', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'traceroute', { target: '127.0.0.1', port: 65536 }), 'port', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'queryLog', { limit: 0 }), 'limit', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'queryLog', { start: -1 }), 'start', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'configureLog', { capacity: 99 }), 'capacity', 'INVALID_ARGUMENT');
      await expectFieldError(callRaw(client, 'decodeLogEntry', { id: -1 }), 'id', 'INVALID_ARGUMENT');
      await expectFieldError(
        callRaw(client, 'send', { socketId: 's', address: '127.0.0.1', packet: { hex: '00' }, count: 0 }),
        'count',
        'INVALID_ARGUMENT',
      );
      await expectFieldError(
        callRaw(client, 'send', { socketId: 's', address: '127.0.0.1', packet: { hex: '00' }, intervalMs: 1, rate: 1 }),
        'rate',
        'INVALID_ARGUMENT',
      );
    });

    it("bad addresses: '256.1.1.1', '::g', ''", async () => {
      for (const address of ['256.1.1.1', '::g', '', '1.2.3', 'localhost', '1:2:3:4:5:6:7:8:9']) {
        await expectFieldError(callRaw(client, 'ping', { target: address }), 'target', 'INVALID_ARGUMENT');
        await expectFieldError(callRaw(client, 'traceroute', { target: address }), 'target', 'INVALID_ARGUMENT');
        await expectFieldError(
          callRaw(client, 'send', { socketId: 's1', address, packet: { hex: '0800f7ff00000000' } }),
          'address',
          'INVALID_ARGUMENT',
        );
      }
    });

    it('unknown socket, job, run and log ids', async () => {
      // The real engine on every transport: its code arrives intact (the fake's drifted once).
      for (const method of ['closeSocket', 'pauseReceive', 'resumeReceive', 'readSocketOptions'] as const) {
        await expectFieldError(callRaw(client, method, { socketId: 'no-such-socket' }), 'socketId', 'NOT_FOUND');
      }
      await expectFieldError(callRaw(client, 'setSocketOption', { socketId: 'no-such-socket', name: 'IP_TTL', value: 9 }), 'socketId', 'NOT_FOUND');
      await expectFieldError(
        callRaw(client, 'send', { socketId: 'no-such-socket', address: '127.0.0.1', packet: { hex: '0800f7ff00000000' } }),
        'socketId',
        'NOT_FOUND',
      );
      await expectFieldError(callRaw(client, 'cancelSend', { jobId: 'no-such-job' }), 'jobId', 'NOT_FOUND');
      await expectFieldError(callRaw(client, 'stopExperiment', { runId: 'no-such-run' }), 'runId', 'NOT_FOUND');
      await expectFieldError(callRaw(client, 'decodeLogEntry', { id: 123_456_789 }), 'id', 'NOT_FOUND');
    });

    it.skipIf(!canRaw)(`malformed hex and oversize packets (> 65535 bytes)${skipNote(rawSocketsWhy)}`, async () => {
      const socket = await client.openSocket({ family: 'ipv4', protocol: 1, mode: 'raw' });
      const send = (packet: unknown) => callRaw(client, 'send', { socketId: socket.socketId, address: '127.0.0.1', packet });
      for (const hex of ['zz', '0g', '123', 'hello world']) {
        await expectFieldError(send({ hex }), /^packet/, 'INVALID_ARGUMENT');
      }
      await expectFieldError(send({ hex: '00'.repeat(65536) }), /^packet/, 'INVALID_ARGUMENT');
      await expectFieldError(send({ hex: '00'.repeat(100_000) }), /^packet/, 'INVALID_ARGUMENT');
      await expectFieldError(send({ layers: [{ kind: 'icmp' }, { kind: 'payload', data: '00'.repeat(65536) }] }), /^packet/, 'INVALID_ARGUMENT');
      await expectFieldError(send({ layers: [{ kind: 'payload', data: 'xyz' }] }), /^packet/, 'INVALID_ARGUMENT');
      await expectFieldError(send({ layers: [] }), /^packet/, 'INVALID_ARGUMENT');
      await client.closeSocket({ socketId: socket.socketId });
    });

    it('unknown methods are refused, and the engine still answers afterwards', async () => {
      const error = await connection.invokeUnknown().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(String((error as Error).message)).toMatch(/selfDestruct/);
      await expect(client.capabilities({})).resolves.toMatchObject({ platform: process.platform });
    });
  });

  describe.skipIf(!canRaw)(`real calls on loopback${skipNote(rawSocketsWhy)}`, () => {
    it('capabilities', async () => {
      const capabilities = await client.capabilities({});
      expect(capabilities).toMatchObject({ platform: process.platform, raw: true });
      expect(capabilities.modes).toContain('raw');
    });

    it('opens an ICMP socket, sends an echo to 127.0.0.1, and sees the sent and received rows in log events', async () => {
      const socket = await client.openSocket({ family: 'ipv4', protocol: 1, mode: 'raw' });
      expect(socket).toMatchObject({ family: 'ipv4', protocol: 1, mode: 'raw', closed: false });
      const identifier = Math.floor(Math.random() * 0xffff);
      const payload = Buffer.from('contract test echo');
      const job = await client.send({
        socketId: socket.socketId,
        address: '127.0.0.1',
        packet: { hex: icmpEchoRequestHex(identifier, 1, payload) },
      });
      expect(job).toMatchObject({ socketId: socket.socketId, address: '127.0.0.1', total: 1 });

      const rows = (): LogRow[] =>
        batches.flatMap((batch) => batch.flatMap((event) => (event.type === 'log' ? event.rows : [])));
      await expect
        .poll(() => rows().filter((row) => row.socketId === socket.socketId).map((row) => row.direction), { timeout: 5000 })
        .toEqual(expect.arrayContaining(['sent', 'received']));
      const mine = rows().filter((row) => row.socketId === socket.socketId);
      const sent = mine.find((row) => row.direction === 'sent')!;
      expect(sent).toMatchObject({ protocol: 'ICMP', destination: '127.0.0.1', family: 'ipv4' });
      expect(sent.info).toMatch(/echo request/i);
      await expect
        .poll(() => rows().some((row) => row.socketId === socket.socketId && row.direction === 'received' && /echo reply/i.test(row.info)), {
          timeout: 5000,
        })
        .toBe(true);
      const page = await client.queryLog({ filter: { direction: 'sent' } });
      expect(page.rows.some((row) => row.id === sent.id)).toBe(true);
      await client.closeSocket({ socketId: socket.socketId });
    });

    it('reads socket options, sets IP_TTL and reads it back', async () => {
      const socket = await client.openSocket({ family: 'ipv4', protocol: 1, mode: 'raw' });
      const options = await client.readSocketOptions({ socketId: socket.socketId });
      const names = options.map((option) => option.name);
      expect(names).toEqual(expect.arrayContaining(['IP_TTL', 'SO_RCVBUF', 'IP_HDRINCL']));
      expect(typeof options.find((option) => option.name === 'IP_TTL')!.value).toBe('number');

      const reading = await client.setSocketOption({ socketId: socket.socketId, name: 'IP_TTL', value: 33 });
      expect(reading).toMatchObject({ name: 'IP_TTL', value: 33 });
      const after = await client.readSocketOptions({ socketId: socket.socketId });
      expect(after.find((option) => option.name === 'IP_TTL')).toMatchObject({ value: 33 });

      await expectFieldError(client.setSocketOption({ socketId: socket.socketId, name: 'IP_TTL', value: 300 }), 'value');
      await client.closeSocket({ socketId: socket.socketId });
      await expect(client.listSockets({})).resolves.toEqual(
        expect.not.arrayContaining([expect.objectContaining({ socketId: socket.socketId, closed: false })]),
      );
    });
  });
});

