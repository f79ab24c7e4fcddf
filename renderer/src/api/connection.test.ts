import { describe, expect, it } from 'vitest';
import type { WebSocketLike } from '../../../common/client';
import { connectReconnecting, type ConnectionState } from './connection';

/** A WebSocket the test drives: open(), fail(), serverClose(), reply to what was sent. */
class FakeSocket implements WebSocketLike {
  readyState = 0;
  sent: string[] = [];
  private listeners = new Map<string, ((event: unknown) => void)[]>();
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (event: never) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener as (event: unknown) => void]);
  }
  private emit(type: string, event: unknown = {}) {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.serverClose();
  }
  open() {
    this.readyState = 1;
    this.emit('open');
  }
  fail() {
    this.emit('error');
    this.serverClose();
  }
  serverClose() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close');
  }
  message(frame: unknown) {
    this.emit('message', { data: JSON.stringify(frame) });
  }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

async function connected() {
  const sockets: FakeSocket[] = [];
  const create = (url: string) => {
    const socket = new FakeSocket(url);
    sockets.push(socket);
    queueMicrotask(() => socket.open());
    return socket;
  };
  const connection = await connectReconnecting('ws://h/api?token=t', create);
  const states: ConnectionState[] = [];
  connection.onStateChange((state) => states.push(state));
  return { connection, sockets, states };
}

describe('connectReconnecting', () => {
  it('notices the host closing the socket: state closed, listeners told, calls refused', async () => {
    const { connection, sockets, states } = await connected();
    expect(connection.state).toBe('open');
    const pending = connection.invoke('capabilities', {});
    sockets[0].serverClose();
    expect(connection.state).toBe('closed');
    expect(states).toEqual(['closed']);
    expect(connection.reason).toMatch(/closed/);
    await expect(pending).rejects.toThrow(/closed/);
    await expect(connection.invoke('capabilities', {})).rejects.toThrow(/Disconnected from the workbench/);
  });

  it('reconnects to the same URL, and events and calls go through the new socket', async () => {
    const { connection, sockets, states } = await connected();
    const batches: unknown[] = [];
    connection.onEvents((batch) => batches.push(batch));
    sockets[0].serverClose();
    const reconnected = connection.reconnect();
    expect(connection.state).toBe('connecting');
    expect(await reconnected).toBe(true);
    expect(sockets).toHaveLength(2);
    expect(sockets[1].url).toBe('ws://h/api?token=t');
    expect(states).toEqual(['closed', 'connecting', 'open']);
    // Events from the new socket reach listeners registered before the drop; the old one is gone.
    sockets[1].message({ events: [{ type: 'logCleared' }] });
    expect(batches).toEqual([[{ type: 'logCleared' }]]);
    const call = connection.invoke('capabilities', {});
    expect(JSON.parse(sockets[1].sent[0])).toMatchObject({ method: 'capabilities' });
    sockets[1].message({ id: JSON.parse(sockets[1].sent[0]).id, result: { raw: true } });
    await expect(call).resolves.toEqual({ raw: true });
  });

  it('stays closed with the reason when the host is still gone, and can try again', async () => {
    const sockets: FakeSocket[] = [];
    let up = true;
    const connection = await connectReconnecting('ws://h/api?token=t', (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      queueMicrotask(() => (up ? socket.open() : socket.fail()));
      return socket;
    });
    sockets[0].serverClose();
    up = false;
    expect(await connection.reconnect()).toBe(false);
    expect(connection.state).toBe('closed');
    expect(connection.reason).toMatch(/Cannot connect to the workbench at ws:\/\/h\/api\?token=…/);
    up = true;
    expect(await connection.reconnect()).toBe(true);
    expect(connection.state).toBe('open');
    await flush();
  });

  it('a socket that closes before opening fails the attempt (no hang without an error event)', async () => {
    let first = true;
    const connection = await connectReconnecting('ws://h/api?token=t', (url) => {
      const socket = new FakeSocket(url);
      const open = first;
      first = false;
      queueMicrotask(() => (open ? socket.open() : socket.serverClose()));
      return socket;
    });
    connection.close();
    expect(connection.state).toBe('closed');
    expect(await connection.reconnect()).toBe(false);
    expect(connection.state).toBe('closed');
  });
});
