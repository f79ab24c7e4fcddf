// The Promise API beside the callbacks: receive(), async iteration, events.once,
// closeAsync() and the promise form of send().
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import * as raw from '../lib/index';
import { SocketJar, echoRequest, ipv4Socket, ipv6Socket, isEchoReply, parseIcmp, uniqueId, waitFor } from './helpers';

const jar = new SocketJar();
afterEach(() => jar.closeAll());

describe('receive()', () => {
  it('resolves the next message as {buffer, address, info}', async () => {
    const socket = jar.add(ipv4Socket({ icmpTypes: [0] }));
    const sender = jar.add(ipv4Socket({ icmpTypes: [] }));
    const id = uniqueId();
    await sender.send(echoRequest({ id, seq: 1 }), 0, 24, '127.0.0.1');
    // Other tests share loopback: take messages until ours (bounded).
    for (let i = 0; i < 1000; i++) {
      const message = await socket.receive({ timeout: 2000 });
      expect(Buffer.isBuffer(message.buffer)).toBe(true);
      expect(typeof message.address).toBe('string');
      expect(message.info).toHaveProperty('truncated');
      if (isEchoReply(message.buffer, id)) {
        expect(message.address).toBe('127.0.0.1');
        return;
      }
    }
    throw new Error('our reply never came');
  });

  it('rejects on timeout with code ETIMEDOUT, and leaves no listener behind', async () => {
    const socket = jar.add(ipv4Socket({ icmpTypes: [] })); // the kernel delivers nothing
    const started = Date.now();
    await expect(socket.receive({ timeout: 100 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(socket.listenerCount('message')).toBe(0);
    expect(socket.listenerCount('close')).toBe(0);
  });

  it('rejects when the socket closes while waiting', async () => {
    const socket = ipv4Socket({ icmpTypes: [] });
    const waiting = socket.receive();
    socket.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_SOCKET_CLOSED' });
  });

  it('rejects when the AbortSignal aborts, with its reason', async () => {
    const socket = jar.add(ipv4Socket({ icmpTypes: [] }));
    const controller = new AbortController();
    const waiting = socket.receive({ signal: controller.signal });
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(socket.receive({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it('a timeout too large for a timer is not turned into 1 ms', async () => {
    // Node clamps setTimeout delays above 2^31-1 ms to 1 ms: a receive({timeout: Infinity})
    // or {timeout: 2 ** 31} must either wait or be refused, never time out at once.
    for (const timeout of [Infinity, 2 ** 31]) {
      const socket = jar.add(ipv4Socket({ icmpTypes: [] }));
      let outcome = 'pending';
      socket.receive({ timeout }).then(
        () => (outcome = 'message'),
        (error: raw.RawSocketError) => (outcome = error instanceof RangeError ? 'refused' : `rejected ${error.code}`),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(['pending', 'refused'], `timeout ${timeout}`).toContain(outcome);
      socket.close();
    }
  });
});

describe('async iteration', () => {
  it('for await yields messages and ends when the socket closes', async () => {
    const socket = ipv4Socket({ icmpTypes: [0] });
    const sender = jar.add(ipv4Socket({ icmpTypes: [] }));
    const id = uniqueId();
    const seqs: number[] = [];
    const loop = (async () => {
      let rounds = 0;
      for await (const { buffer, address } of socket) {
        if (++rounds > 10_000) break;
        if (!isEchoReply(buffer, id)) continue;
        expect(address).toBe('127.0.0.1');
        seqs.push(parseIcmp(buffer)!.seq);
        if (seqs.length === 3) socket.close();
      }
      return 'ended';
    })();
    for (let seq = 0; seq < 3; seq++) await sender.send(echoRequest({ id, seq }), 0, 24, '127.0.0.1');
    const timeout = new Promise((resolve) => setTimeout(() => resolve('still running'), 3000));
    expect(await Promise.race([loop, timeout])).toBe('ended');
    expect(seqs).toEqual([0, 1, 2]);
  });

  it('an iterator on a closed socket ends at once; break removes its listeners', async () => {
    const closed = ipv4Socket();
    closed.close();
    const items: unknown[] = [];
    for await (const message of closed) items.push(message);
    expect(items).toEqual([]);

    const socket = jar.add(ipv4Socket());
    const id = uniqueId();
    const iterate = (async () => {
      for await (const { buffer } of socket) if (isEchoReply(buffer, id)) break;
    })();
    await socket.send(echoRequest({ id, seq: 1 }), 0, 24, '127.0.0.1');
    await iterate;
    expect(socket.listenerCount('message')).toBe(0);
  });
});

describe('events.once, closeAsync, send promise', () => {
  it("events.once(socket, 'message') resolves with [buffer, address, info]", async () => {
    const socket = jar.add(ipv6Socket({ icmpTypes: [129] }));
    const id = uniqueId();
    const got = once(socket, 'message');
    await socket.send(echoRequest({ id, seq: 1, family: 6 }), 0, 24, '::1');
    const [buffer, address, info] = (await got) as [Buffer, string, raw.MessageInfo];
    expect(buffer[0]).toBe(129);
    expect(address).toBe('::1');
    expect(info.truncated).toBe(false);
  });

  it("'close' and closeAsync() come after the afterCallbacks of a batch still on the thread pool", async () => {
    const socket = jar.add(ipv4Socket());
    const id = uniqueId();
    const order: string[] = [];
    for (let seq = 0; seq < 200; seq++) {
      socket.send(echoRequest({ id, seq }), 0, 24, '127.0.0.1', (error) => order.push(error ? 'failed' : 'sent'));
    }
    socket.on('close', () => order.push('close'));
    // The flush runs on the next tick and hands the 200 requests to the thread pool.
    await new Promise<void>((resolve) => process.nextTick(resolve));
    await socket.closeAsync();
    order.push('closeAsync');
    expect(order.length).toBe(202);
    expect(order.slice(-2)).toEqual(['close', 'closeAsync']);
    expect(order.slice(0, 200).every((entry) => entry === 'sent' || entry === 'failed')).toBe(true);
  });

  it("closeAsync() resolves after 'close' has been emitted; again, it resolves at once", async () => {
    const socket = ipv4Socket();
    let closeEmitted = false;
    socket.on('close', () => (closeEmitted = true));
    await socket.closeAsync();
    expect(closeEmitted).toBe(true);
    await socket.closeAsync();
  });

  it("closeAsync() after close() but before 'close' still waits for it", async () => {
    const socket = ipv4Socket();
    let closeEmitted = false;
    socket.on('close', () => (closeEmitted = true));
    socket.close();
    const pending = socket.closeAsync();
    expect(closeEmitted).toBe(false);
    await pending;
    expect(closeEmitted).toBe(true);
  });

  it('send() without callbacks resolves to the bytes sent, and many can be awaited together', async () => {
    const socket = jar.add(ipv4Socket({ icmpTypes: [] }));
    const id = uniqueId();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, seq) => socket.send(echoRequest({ id, seq, payload: Buffer.alloc(seq) }), 0, 8 + seq, '127.0.0.1')),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, seq) => 8 + seq));
    await waitFor(() => socket.sendPaused, 1000);
  });
});
