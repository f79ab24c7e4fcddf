// Socket lifecycle: Send reuses the socket it opened before (and says so), opens one per send
// when asked, leaves user-opened and user-configured sockets alone, closes its own once idle,
// and "Close all" closes every open socket. The client stands in for the engine's socket table.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SendJobInfo, SocketInfo } from '../../../common/contract';
import type { WorkbenchClient } from '../api/client';
import { createWorkbenchStore } from './index';
import { NEW_SOCKET } from './send';
import { IMPLICIT_IDLE_MS, idleSockets, nextIdleDue, reusableSocket } from './sockets-implicit';

const counters = { sent: 0, received: 0, sendErrors: 0, bytesSent: 0, bytesReceived: 0 };
const info = (socketId: string, change: Partial<SocketInfo> = {}): SocketInfo => ({
  socketId,
  family: 'ipv4',
  protocol: 1,
  mode: 'raw',
  via: 'raw',
  receivePaused: false,
  closed: false,
  counters,
  filter: null,
  ...change,
});

/** An engine's socket table and job list, as far as the store sees them. */
function engine(options: { jobState?: SendJobInfo['state']; openMode?: 'raw' | 'datagram'; closeFails?: boolean } = {}) {
  const sockets = new Map<string, SocketInfo>();
  let jobs = 0;
  const client = {
    openSocket: vi.fn(async (params: { family: 'ipv4' | 'ipv6'; protocol: number }) => {
      const socket = info(`socket-${sockets.size + 1}`, { family: params.family, protocol: params.protocol, mode: options.openMode ?? 'raw' });
      sockets.set(socket.socketId, socket);
      return socket;
    }),
    closeSocket: vi.fn(async ({ socketId }: { socketId: string }) => {
      if (options.closeFails) throw Object.assign(new Error('engine gone'), { code: 'INTERNAL' });
      const socket = { ...(sockets.get(socketId) ?? info(socketId)), closed: true };
      sockets.set(socketId, socket);
      return socket;
    }),
    send: vi.fn(async ({ socketId, address, count }: { socketId: string; address: string; count: number }) => ({
      jobId: `job-${++jobs}`,
      socketId,
      address,
      total: count,
      sent: options.jobState === 'running' ? 0 : count,
      errors: 0,
      state: options.jobState ?? 'done',
      startedAt: Date.now(),
    })),
    setSocketFilter: vi.fn(async ({ socketId, filter }: { socketId: string; filter: string | null }) => ({ ...(sockets.get(socketId) as SocketInfo), filter })),
    readSocketOptions: vi.fn(async () => []),
    onEvents: () => () => undefined,
  };
  const store = createWorkbenchStore({ client: client as unknown as WorkbenchClient, storage: null, saveFile: vi.fn(), nextFrame: (callback) => callback() });
  store.getState().send.setForm({ target: '127.0.0.1' });
  return { client, store };
}

describe('which socket a send reuses', () => {
  const needs = { family: 'ipv4' as const, protocol: 1, echoRequest: true };

  it('only sockets Send opened, open, of the family and protocol, without a filter; the last used', () => {
    const list = [info('socket-1'), info('socket-2'), info('socket-3', { closed: true }), info('socket-4', { protocol: 6 }), info('socket-5', { filter: 'icmp' })];
    const implicit = { 'socket-2': 10, 'socket-3': 30, 'socket-4': 40, 'socket-5': 50 };
    expect(reusableSocket(list, implicit, needs)?.socketId).toBe('socket-2');
    expect(reusableSocket(list, {}, needs)).toBeUndefined();
    expect(reusableSocket([...list, info('socket-6')], { ...implicit, 'socket-6': 5 }, needs)?.socketId).toBe('socket-2');
    expect(reusableSocket([...list, info('socket-6')], { ...implicit, 'socket-6': 15 }, needs)?.socketId).toBe('socket-6');
    expect(reusableSocket(list, implicit, { ...needs, family: 'ipv6' })).toBeUndefined();
  });

  it('a socket of the same lab host, or of this machine when acting from none', () => {
    const list = [info('socket-1'), info('socket-2', { host: 'client' }), info('socket-3', { host: 'r1' })];
    const implicit = { 'socket-1': 1, 'socket-2': 2, 'socket-3': 3 };
    expect(reusableSocket(list, implicit, needs)?.socketId).toBe('socket-1');
    expect(reusableSocket(list, implicit, { ...needs, host: 'client' })?.socketId).toBe('socket-2');
    expect(reusableSocket(list, implicit, { ...needs, host: 'target' })).toBeUndefined();
  });

  it('a ping (datagram) socket for echo requests only', () => {
    const list = [info('socket-1', { mode: 'datagram', via: 'datagram' })];
    expect(reusableSocket(list, { 'socket-1': 1 }, needs)?.socketId).toBe('socket-1');
    expect(reusableSocket(list, { 'socket-1': 1 }, { ...needs, echoRequest: false })).toBeUndefined();
  });

  it('idle: unused for the idle time and no job running on it', () => {
    const running: SendJobInfo = { jobId: 'job-1', socketId: 'socket-1', address: '127.0.0.1', total: 9, sent: 1, errors: 0, state: 'running', startedAt: 0 };
    const implicit = { 'socket-1': 0, 'socket-2': 0, 'socket-3': 5000 };
    expect(idleSockets(implicit, [running], IMPLICIT_IDLE_MS)).toEqual(['socket-2']);
    expect(idleSockets(implicit, [{ ...running, state: 'done' }], IMPLICIT_IDLE_MS)).toEqual(['socket-1', 'socket-2']);
    expect(nextIdleDue(implicit, [running])).toBe(IMPLICIT_IDLE_MS);
    expect(nextIdleDue({ 'socket-1': 0 }, [running])).toBeNull();
  });
});

describe('socket lifecycle in the store', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('three automatic sends open one socket and reuse it, saying which', async () => {
    const { client, store } = engine();
    await store.getState().send.start();
    expect(store.getState().send.last).toMatchObject({ jobId: 'job-1', socketId: 'socket-1', how: 'opened' });
    await store.getState().send.start();
    await store.getState().send.start();
    expect(store.getState().send.last).toMatchObject({ jobId: 'job-3', socketId: 'socket-1', how: 'reused' });
    expect(client.openSocket).toHaveBeenCalledTimes(1);
    expect(client.send.mock.calls.map(([params]) => params.socketId)).toEqual(['socket-1', 'socket-1', 'socket-1']);
  });

  it('"New socket" opens one per send; a socket the user opened is used only when chosen', async () => {
    const { client, store } = engine();
    store.getState().sockets.applySocket(info('socket-9'));
    store.getState().send.setForm({ socketId: NEW_SOCKET });
    await store.getState().send.start();
    await store.getState().send.start();
    expect(client.openSocket).toHaveBeenCalledTimes(2);
    store.getState().send.setForm({ socketId: 'socket-9' });
    await store.getState().send.start();
    expect(store.getState().send.last).toMatchObject({ socketId: 'socket-9', how: 'chosen' });
    expect(Object.keys(store.getState().sockets.implicit)).toEqual(['socket-1', 'socket-2']);
  });

  it('an echo sent through a ping socket is not reused for another ICMP packet', async () => {
    const { client, store } = engine({ openMode: 'datagram' });
    await store.getState().send.start();
    const icmp = store.getState().editor.layers[1];
    store.getState().editor.setField(icmp.id, 'type', '13'); // timestamp request
    await store.getState().send.start();
    expect(client.openSocket).toHaveBeenCalledTimes(2);
  });

  it('closes its own socket 60 s after the last job ended, not while one runs', async () => {
    const { client, store } = engine({ jobState: 'running' });
    await store.getState().send.start();
    await vi.advanceTimersByTimeAsync(IMPLICIT_IDLE_MS * 2);
    expect(client.closeSocket).not.toHaveBeenCalled();
    const job = store.getState().send.jobs[0];
    store.getState().send.applyJob({ ...job, state: 'done', sent: job.total });
    await vi.advanceTimersByTimeAsync(IMPLICIT_IDLE_MS - 1000);
    expect(client.closeSocket).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1000);
    expect(client.closeSocket).toHaveBeenCalledWith({ socketId: 'socket-1' });
    expect(store.getState().sockets.list[0].closed).toBe(true);
    expect(store.getState().sockets.implicit).toEqual({});
  });

  it('a send meanwhile restarts the idle time; a socket given a filter stays open', async () => {
    const { client, store } = engine();
    await store.getState().send.start();
    await vi.advanceTimersByTimeAsync(IMPLICIT_IDLE_MS - 1000);
    await store.getState().send.start();
    await vi.advanceTimersByTimeAsync(IMPLICIT_IDLE_MS - 1000);
    expect(client.closeSocket).not.toHaveBeenCalled();
    store.getState().sockets.editFilter('socket-1', 'icmp');
    expect(await store.getState().sockets.setFilter('socket-1')).toBe(true);
    await vi.advanceTimersByTimeAsync(IMPLICIT_IDLE_MS * 3);
    expect(client.closeSocket).not.toHaveBeenCalled();
    expect(store.getState().sockets.implicit).toEqual({});
  });

  it('a close the engine refuses is reported once, not retried in a loop', async () => {
    const { client, store } = engine({ closeFails: true });
    await store.getState().send.start();
    await vi.advanceTimersByTimeAsync(IMPLICIT_IDLE_MS * 5);
    expect(client.closeSocket).toHaveBeenCalledTimes(1);
    expect(store.getState().sockets.error?.message).toBe('Cannot close socket-1: engine gone');
  });

  it('Close all closes every open socket, implicit or not', async () => {
    const { client, store } = engine();
    store.getState().sockets.applySocket(info('socket-7'));
    store.getState().sockets.applySocket(info('socket-8', { closed: true }));
    await store.getState().send.start();
    await store.getState().sockets.closeAll();
    expect(client.closeSocket.mock.calls.map(([params]) => params.socketId).sort()).toEqual(['socket-1', 'socket-7']);
    expect(store.getState().sockets.list.every((socket) => socket.closed)).toBe(true);
    expect(store.getState().sockets.implicit).toEqual({});
  });
});
