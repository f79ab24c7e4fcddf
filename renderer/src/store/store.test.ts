import { describe, expect, it, vi } from 'vitest';
import type { EventBatch, LogRow, SendJobInfo, SocketInfo } from '../../../common/contract';
import type { WorkbenchClient } from '../api/client';
import { pumpEvents } from '../api/events';
import { decode } from '../../../packets';
import { createWorkbenchStore } from './index';

const socket: SocketInfo = {
  socketId: 'socket-1',
  family: 'ipv4',
  protocol: 1,
  mode: 'raw',
  via: 'raw',
  receivePaused: false,
  closed: false,
  counters: { sent: 0, received: 0, sendErrors: 0, bytesSent: 0, bytesReceived: 0 }, filter: null,
};
const job: SendJobInfo = { jobId: 'job-1', socketId: 'socket-1', address: '127.0.0.1', total: 1, sent: 1, errors: 0, state: 'done', startedAt: 1 };
const row = (id: number): LogRow => ({
  id,
  time: id,
  direction: 'received',
  socketId: 'socket-1',
  family: 'ipv4',
  source: '127.0.0.1',
  destination: '127.0.0.1',
  protocol: 'ICMP',
  length: 44,
  info: `Echo reply id=0x1234 seq=${id}`,
});

function fakeClient(overrides: Partial<WorkbenchClient> = {}) {
  let listener: ((batch: EventBatch) => void) | null = null;
  const client = {
    openSocket: vi.fn(async () => socket),
    send: vi.fn(async () => job),
    onEvents: (l: (batch: EventBatch) => void) => {
      listener = l;
      return () => (listener = null);
    },
    ...overrides,
  } as unknown as WorkbenchClient;
  return { client, emit: (batch: EventBatch) => listener?.(batch) };
}

function makeStore(client: WorkbenchClient) {
  return createWorkbenchStore({ client, storage: null, saveFile: vi.fn(), nextFrame: (callback) => callback() });
}

describe('send slice', () => {
  it('opens a socket for the packet and sends its layer stack to the target', async () => {
    const { client } = fakeClient();
    const store = makeStore(client);
    store.getState().send.setForm({ target: '127.0.0.1' });
    const result = await store.getState().send.start();
    expect(result).toEqual(job);
    expect(client.openSocket).toHaveBeenCalledWith({ family: 'ipv4', protocol: 1, mode: 'auto' });
    const params = (client.send as ReturnType<typeof vi.fn>).mock.calls[0][0];
    expect(params).toMatchObject({ socketId: 'socket-1', address: '127.0.0.1', count: 1 });
    expect(params.packet.layers.map((layer: { kind: string }) => layer.kind)).toEqual(['ipv4', 'icmp', 'payload']);
    expect(store.getState().sockets.list).toEqual([socket]);
    expect(store.getState().send.jobs).toEqual([job]);
  });

  it('refuses a bad address, a bad count and an invalid packet without calling the engine', async () => {
    const { client } = fakeClient();
    const store = makeStore(client);
    store.getState().send.setForm({ target: '1.2.3' });
    expect(await store.getState().send.start()).toBeNull();
    expect(store.getState().send.error).toMatchObject({ where: 'target', message: "'1.2.3' is not an IPv4 or IPv6 address" });
    store.getState().send.setForm({ target: '127.0.0.1', repeat: 'count', count: '0' });
    expect(await store.getState().send.start()).toBeNull();
    expect(store.getState().send.error?.where).toBe('count');
    store.getState().send.setForm({ repeat: 'once' });
    const ip = store.getState().editor.layers[0];
    store.getState().editor.setField(ip.id, 'ttl', '999');
    expect(await store.getState().send.start()).toBeNull();
    expect(store.getState().send.error?.where).toBe('packet');
    expect(client.openSocket).not.toHaveBeenCalled();
    expect(client.send).not.toHaveBeenCalled();
  });

  it('shows EPERM with its remedy where the socket was opened', async () => {
    const refused = Object.assign(new Error('Operation not permitted'), { code: 'EPERM' });
    const { client } = fakeClient({ openSocket: vi.fn(async () => Promise.reject(refused)) as never });
    const store = makeStore(client);
    store.getState().send.setForm({ target: '127.0.0.1' });
    await store.getState().send.start();
    expect(store.getState().send.error).toMatchObject({ where: 'socket', code: 'EPERM', remedy: expect.stringContaining('CAP_NET_RAW') });
  });
});

describe('event pump and log slice', () => {
  it('applies a frame of batches with one log update and honours clears in order', () => {
    const { client, emit } = fakeClient();
    const store = makeStore(client);
    const frames: (() => void)[] = [];
    pumpEvents((listener) => client.onEvents(listener), store, (callback) => frames.push(callback));
    const updates = vi.fn();
    store.subscribe(updates);
    emit([{ type: 'log', rows: [row(1), row(2)] }]);
    emit([{ type: 'log', rows: [row(3)] }, { type: 'sendJob', job }]);
    expect(frames).toHaveLength(1);
    expect(updates).not.toHaveBeenCalled();
    frames[0]();
    expect(store.getState().log.buffer.total).toBe(3);
    expect(store.getState().send.jobs).toEqual([job]);
    emit([{ type: 'log', rows: [row(4)] }, { type: 'logCleared' }, { type: 'log', rows: [row(5)] }]);
    frames[1]();
    expect(store.getState().log.buffer.all.toArray().map((r) => r.id)).toEqual([5]);
  });

  it('holds rows while paused and filters instantly', () => {
    const { client } = fakeClient();
    const store = makeStore(client);
    const log = () => store.getState().log;
    log().append([row(1), row(2)]);
    log().setPaused(true);
    log().append([row(3), row(4)]);
    expect(log().buffer.total).toBe(2);
    expect(log().held).toBe(2);
    log().setPaused(false);
    expect(log().buffer.total).toBe(4);
    log().setFilter({ text: 'seq=3' });
    expect(log().buffer.length).toBe(1);
  });
});

describe('editor slice: typing over a byte', () => {
  const icmp = (store: ReturnType<typeof makeStore>) => store.getState().editor.analysis.layers[1];
  const text = (store: ReturnType<typeof makeStore>, field: string) => icmp(store).fields.find((r) => r.field.name === field)!;

  it('changes the field the byte belongs to and keeps the checksum computed', () => {
    const store = makeStore(fakeClient().client);
    store.getState().editor.loadTemplate('icmp-echo');
    const before = text(store, 'checksum').text;
    const ids = store.getState().editor.layers.map((layer) => layer.id);
    // ICMP identifier 0x1234 is bytes 24–25 behind the 20-byte IPv4 header.
    store.getState().editor.select({ layerId: ids[1], field: 'identifier' });
    store.getState().editor.editByte(24, 0xab);
    expect(text(store, 'identifier').text).toBe('0xab34');
    expect(text(store, 'checksum').auto).toBe(true);
    expect(text(store, 'checksum').text).not.toBe(before);
    expect(decode(store.getState().editor.analysis.bytes!, { first: 'ipv4' })[1]).toMatchObject({ checksum: { status: 'correct' } });
    // Same layers (ids kept), the IPv4 lengths still computed, the payload still text.
    expect(store.getState().editor.layers.map((layer) => layer.id)).toEqual(ids);
    expect(store.getState().editor.analysis.layers[0].fields.find((r) => r.field.name === 'checksum')!.auto).toBe(true);
    expect(store.getState().editor.layers[2]).toMatchObject({ kind: 'payload', mode: 'text', text: 'packet workbench' });
    expect(store.getState().editor.selection).toEqual({ layerId: ids[1], field: 'identifier' });
  });

  it('typing over a checksum byte sets that checksum by hand', () => {
    const store = makeStore(fakeClient().client);
    store.getState().editor.loadTemplate('icmp-echo');
    store.getState().editor.editByte(22, 0x00);
    expect(text(store, 'checksum').auto).toBe(false);
    expect(store.getState().editor.analysis.bytes![22]).toBe(0);
  });
});

describe('settings slice: connection', () => {
  it('reconnect re-reads capabilities, sockets, jobs, runs and the log from the host', async () => {
    const { client } = fakeClient({
      capabilities: vi.fn(async () => ({ raw: true })),
      listSockets: vi.fn(async () => [socket]),
      listSendJobs: vi.fn(async () => [job]),
      listExperiments: vi.fn(async () => []),
      queryLog: vi.fn(async () => ({ total: 1, rows: [row(9)], capacity: 1000 })),
    } as unknown as Partial<WorkbenchClient>);
    let state: 'open' | 'closed' | 'connecting' = 'closed';
    const connection = { get state() { return state; }, reason: null, reconnect: vi.fn(async () => ((state = 'open'), true)) };
    const store = createWorkbenchStore({ client, connection, storage: null, saveFile: vi.fn(), nextFrame: (callback) => callback() });
    expect(store.getState().settings.connection).toBe('closed');
    store.getState().log.append([row(1), row(2)]);
    expect(await store.getState().settings.reconnect()).toBe(true);
    expect(store.getState().settings.connection).toBe('open');
    expect(store.getState().settings.capabilities).toEqual({ raw: true });
    expect(store.getState().sockets.list).toEqual([socket]);
    expect(store.getState().send.jobs).toEqual([job]);
    expect(store.getState().log.buffer.all.toArray().map((r) => r.id)).toEqual([9]);
  });

  it('a failed reconnect stays closed with the reason', async () => {
    const { client } = fakeClient();
    const connection = { state: 'closed' as const, reason: 'Cannot connect to the workbench at ws://h', reconnect: vi.fn(async () => false) };
    const store = createWorkbenchStore({ client, connection, storage: null, saveFile: vi.fn(), nextFrame: (callback) => callback() });
    expect(await store.getState().settings.reconnect()).toBe(false);
    expect(store.getState().settings).toMatchObject({ connection: 'closed', connectionError: 'Cannot connect to the workbench at ws://h' });
  });
});
