// send(): ordering, beforeCallback/afterCallback, the five-argument and Promise
// forms, errors, the send watcher, and automatic checksum generation.
import { afterEach, describe, expect, it } from 'vitest';
import * as raw from '../lib/index';
import {
  SocketJar,
  echoRequest,
  ipv4Socket,
  ipv6Socket,
  isEchoReply,
  nextMessage,
  parseIcmp,
  sendCb,
  sleep,
  uniqueId,
  waitFor,
} from './helpers';

const jar = new SocketJar();
afterEach(() => jar.closeAll());

const IP = raw.SocketLevel.IPPROTO_IP;
const TTL = raw.SocketOption.IP_TTL;

function readTtl(socket: raw.Socket): number {
  const buffer = Buffer.alloc(4);
  expect(socket.getOption(IP, TTL, buffer, 4)).toBe(4);
  return buffer.readInt32LE(0);
}

describe('send: callbacks and order', () => {
  it('runs afterCallbacks in request order, with this === socket and the byte count', async () => {
    const socket = jar.add(ipv4Socket());
    const id = uniqueId();
    const calls: Array<[number, Error | null, number, boolean]> = [];
    for (let seq = 0; seq < 50; seq++) {
      const request = echoRequest({ id, seq, payload: Buffer.alloc(seq) });
      socket.send(request, 0, request.length, '127.0.0.1', function (this: unknown, error, bytes) {
        calls.push([seq, error, bytes, this === socket]);
      });
    }
    expect(calls).toEqual([]); // never synchronous
    await waitFor(() => calls.length === 50, 2000, '50 afterCallbacks');
    expect(calls.map((c) => c[0])).toEqual([...Array(50).keys()]);
    for (const [seq, error, bytes, self] of calls) {
      expect(error).toBeNull();
      expect(bytes).toBe(8 + seq);
      expect(self).toBe(true);
    }
  });

  it('puts requests on the wire in order (seen by a second raw socket)', async () => {
    const socket = jar.add(ipv4Socket());
    const watcher = jar.add(ipv4Socket({ icmpTypes: [8] }));
    const id = uniqueId();
    const seen: number[] = [];
    watcher.on('message', (buffer: Buffer) => {
      const view = parseIcmp(buffer);
      if (view?.type === 8 && view.id === id) seen.push(view.seq);
    });
    for (let seq = 0; seq < 100; seq++) socket.send(echoRequest({ id, seq }), 0, 24, '127.0.0.1', () => {});
    await waitFor(() => seen.length === 100, 3000, '100 requests seen');
    expect(seen).toEqual([...Array(100).keys()]);
  });

  it('calls beforeCallback right before its send: IP_TTL set there shows in the packet and in getOption', async () => {
    const socket = jar.add(ipv4Socket());
    const watcher = jar.add(ipv4Socket({ icmpTypes: [8] }));
    const id = uniqueId();
    const order: string[] = [];
    const ttls: number[] = [];
    const seen = nextMessage(watcher, (buffer) => parseIcmp(buffer)?.id === id && parseIcmp(buffer)?.seq === 1);
    socket.send(echoRequest({ id, seq: 0 }), 0, 24, '127.0.0.1', () => order.push('after 0'));
    socket.send(
      echoRequest({ id, seq: 1 }),
      0,
      24,
      '127.0.0.1',
      () => {
        order.push('before 1');
        socket.setOption(IP, TTL, 7);
        ttls.push(readTtl(socket));
      },
      function (this: unknown, error) {
        order.push('after 1');
        expect(this).toBe(socket);
        expect(error).toBeNull();
        ttls.push(readTtl(socket));
        socket.setOption(IP, TTL, 64);
      },
    );
    socket.send(echoRequest({ id, seq: 2 }), 0, 24, '127.0.0.1', () => order.push('after 2'));
    expect(order).toEqual([]); // beforeCallback is not called inside send()
    await waitFor(() => order.length === 4, 2000, 'callbacks');
    // raw-socket: the request before it has completed when beforeCallback runs.
    expect(order).toEqual(['after 0', 'before 1', 'after 1', 'after 2']);
    expect(ttls).toEqual([7, 7]);
    expect(readTtl(socket)).toBe(64);
    const { buffer } = await seen;
    expect(buffer[8]).toBe(7); // the IP header's TTL field
  });

  it('accepts the five-argument form (afterCallback only)', async () => {
    const socket = jar.add(ipv4Socket());
    const [error, bytes, self] = await sendCb(socket, echoRequest({ id: uniqueId(), seq: 1 }), '127.0.0.1');
    expect(error).toBeNull();
    expect(bytes).toBe(24);
    expect(self).toBe(socket);
  });

  it('accepts a null beforeCallback', async () => {
    const socket = jar.add(ipv4Socket());
    const bytes = await new Promise<number>((resolve, reject) =>
      socket.send(echoRequest({ id: uniqueId(), seq: 1 }), 0, 24, '127.0.0.1', null, (error, n) => (error ? reject(error) : resolve(n))),
    );
    expect(bytes).toBe(24);
  });

  it('returns the socket from the callback forms and a Promise of the bytes without callbacks', async () => {
    const socket = jar.add(ipv4Socket());
    const request = echoRequest({ id: uniqueId(), seq: 1 });
    expect(socket.send(request, 0, 24, '127.0.0.1', () => {})).toBe(socket);
    const promise = socket.send(request, 4, 20, '127.0.0.1');
    expect(promise).toBeInstanceOf(Promise);
    await expect(promise).resolves.toBe(20);
  });

  it('sends only [offset, offset + length) of the buffer', async () => {
    const socket = jar.add(ipv4Socket());
    const watcher = jar.add(ipv4Socket({ icmpTypes: [8] }));
    const id = uniqueId();
    const request = echoRequest({ id, seq: 3 });
    const framed = Buffer.concat([Buffer.from('HEAD'), request, Buffer.from('TAIL')]);
    const seen = nextMessage(watcher, (buffer) => parseIcmp(buffer)?.id === id);
    await expect(socket.send(framed, 4, request.length, '127.0.0.1')).resolves.toBe(24);
    const { buffer } = await seen;
    expect(buffer.subarray((buffer[0] & 15) * 4)).toEqual(request);
  });

  it('IPv6: send to ::1 resolves and the reply comes back', async () => {
    const socket = jar.add(ipv6Socket());
    const id = uniqueId();
    const reply = nextMessage(socket, (buffer) => isEchoReply(buffer, id, 6));
    await expect(socket.send(echoRequest({ id, seq: 1, family: 6 }), 0, 24, '::1')).resolves.toBe(24);
    expect((await reply).address).toBe('::1');
  });
});

describe('send: errors', () => {
  const badIPv4 = ['256.1.1.1', '::g', '', '::1', '127.0.0.1.', '1.2.3', 'localhost', '127.0.0.1 '];
  for (const address of badIPv4) {
    it(`IPv4 socket, address ${JSON.stringify(address)}: Error to afterCallback, Promise rejects`, async () => {
      const socket = jar.add(ipv4Socket());
      const [error, bytes] = await sendCb(socket, echoRequest({ id: uniqueId(), seq: 1 }), address);
      expect(error).toBeInstanceOf(Error);
      expect((error as NodeJS.ErrnoException).code).toBe('ERR_INVALID_IP_ADDRESS');
      expect(error?.message).toContain(`'${address}'`);
      expect(bytes).toBe(0);
      await expect(socket.send(echoRequest({ id: 1, seq: 1 }), 0, 24, address)).rejects.toThrow(/Invalid IPv4 address/);
    });
  }

  it('a bad address right after a good one is still refused, and the good one still works (the last valid address is remembered)', async () => {
    const socket = jar.add(ipv4Socket());
    const packet = echoRequest({ id: uniqueId(), seq: 1 });
    for (const [address, code] of [['127.0.0.1', null], ['127.0.0.1 ', 'ERR_INVALID_IP_ADDRESS'], ['127.0.0.1', null], ['127.0.0.256', 'ERR_INVALID_IP_ADDRESS'], ['127.0.0.1', null]] as const) {
      const [error, bytes] = await sendCb(socket, packet, address);
      if (code === null) expect([error, bytes], address).toEqual([null, packet.length]);
      else expect((error as NodeJS.ErrnoException).code, address).toBe(code);
    }
  });

  for (const address of ['127.0.0.1', '::g', '', '1::2::3', 'fe80::1%']) {
    it(`IPv6 socket, address ${JSON.stringify(address)}: Error`, async () => {
      const socket = jar.add(ipv6Socket());
      const [error] = await sendCb(socket, echoRequest({ id: 1, seq: 1, family: 6 }), address);
      expect(error).toBeInstanceOf(Error);
      expect(error?.message).toMatch(/Invalid IPv6 address/);
    });
  }

  it('offset + length past the end of the buffer: RangeError to afterCallback, Promise rejects', async () => {
    const socket = jar.add(ipv4Socket());
    const buffer = echoRequest({ id: 1, seq: 1 });
    for (const [offset, length] of [
      [0, 25],
      [1, 24],
      [24, 1],
      [25, 0],
    ]) {
      const [error, bytes] = await sendCb(socket, buffer, '127.0.0.1', offset, length);
      expect(error, `offset ${offset} length ${length}`).toBeInstanceOf(RangeError);
      expect(error?.message).toMatch(/not large enough/);
      expect(bytes).toBe(0);
      await expect(socket.send(buffer, offset, length, '127.0.0.1')).rejects.toBeInstanceOf(RangeError);
    }
    // The edge itself passes the range check; the kernel then refuses an ICMP
    // message shorter than its 2-byte type and code with EFAULT, as a typed error.
    const edge = await sendCb(socket, buffer, '127.0.0.1', 24, 0);
    expect(edge[0]).not.toBeInstanceOf(RangeError);
    expect((edge[0] as NodeJS.ErrnoException).code).toBe('EFAULT');
    expect((edge[0] as NodeJS.ErrnoException).errno).toBe(14);
    await expect(socket.send(buffer, 22, 2, '127.0.0.1')).resolves.toBe(2);
  });

  it('a bad request does not stop the good ones queued around it, and order holds', async () => {
    const socket = jar.add(ipv4Socket());
    const id = uniqueId();
    const results: string[] = [];
    // The socket sees its own requests come in on loopback: the order they left in.
    const onWire: number[] = [];
    socket.on('message', (buffer: Buffer) => {
      const icmp = parseIcmp(buffer);
      if (icmp?.type === 8 && icmp.id === id) onWire.push(icmp.seq);
    });
    const queued = [
      ['a', 1, '127.0.0.1'],
      ['b', 2, '256.1.1.1'],
      ['c', 3, '127.0.0.1'],
      ['d', 4, '1.2.3'],
      ['e', 5, '127.0.0.1'],
    ] as const;
    for (const [name, seq, address] of queued) {
      socket.send(echoRequest({ id, seq }), 0, 24, address, (e) => results.push(`${name} ${e ? 'error' : 'ok'}`));
    }
    await waitFor(() => results.length === 5 && onWire.length === 3, 2000, 'five callbacks and three requests on the wire');
    expect(results).toEqual(['a ok', 'b error', 'c ok', 'd error', 'e ok']);
    expect(onWire).toEqual([1, 3, 5]);
  });

  it('wrong types throw TypeError synchronously', () => {
    const socket = jar.add(ipv4Socket());
    const buffer = echoRequest({ id: 1, seq: 1 });
    const cb = (): void => {};
    const send = socket.send.bind(socket) as (...args: unknown[]) => unknown;
    expect(() => send('not a buffer', 0, 10, '127.0.0.1', cb)).toThrow(TypeError);
    expect(() => send([8, 0, 0, 0], 0, 4, '127.0.0.1', cb)).toThrow(/buffer/);
    expect(() => send(buffer, '0', 24, '127.0.0.1', cb)).toThrow(TypeError);
    expect(() => send(buffer, '0', 24, '127.0.0.1', cb)).toThrow(/offset/);
    expect(() => send(buffer, 0, '24', '127.0.0.1', cb)).toThrow(/length/);
    expect(() => send(buffer, 0, 24, undefined, cb)).toThrow(TypeError);
    expect(() => send(buffer, 0, 24, undefined, cb)).toThrow(/address/);
    expect(() => send(buffer, 0, 24, 0x7f000001, cb)).toThrow(/address/);
    expect(() => send(buffer, 0, 24, '127.0.0.1', 'callback')).toThrow(TypeError);
    expect(() => send(buffer, 0, 24, '127.0.0.1', 42, cb)).toThrow(/beforeCallback/);
    expect(() => send(buffer, 0, 24, '127.0.0.1', cb, {})).toThrow(/afterCallback/);
    // The Promise form throws too, it does not reject.
    expect(() => send(buffer, 0, 24)).toThrow(TypeError);
  });

  it('a throwing beforeCallback fails only its own request, with that error', async () => {
    const socket = jar.add(ipv4Socket());
    const boom = new Error('before failed');
    const request = echoRequest({ id: uniqueId(), seq: 1 });
    const first = new Promise<[Error | null, number]>((resolve) =>
      socket.send(
        request,
        0,
        24,
        '127.0.0.1',
        () => {
          throw boom;
        },
        (error, bytes) => resolve([error, bytes]),
      ),
    );
    const second = socket.send(request, 0, 24, '127.0.0.1');
    expect(await first).toEqual([boom, 0]);
    await expect(second).resolves.toBe(24);
  });
});

describe('send watcher', () => {
  it('starts paused; send resumes it (sendPaused false right after send); it pauses itself once drained', async () => {
    const socket = jar.add(ipv4Socket());
    expect(socket.sendPaused).toBe(true);
    let sawResumed = false;
    socket.send(echoRequest({ id: uniqueId(), seq: 1 }), 0, 24, '127.0.0.1', () => {
      sawResumed = !socket.sendPaused;
    });
    expect(socket.sendPaused).toBe(false);
    await waitFor(() => socket.sendPaused, 2000, 'send watcher to pause itself');
    expect(sawResumed).toBe(true);
  });

  it('send on an explicitly paused watcher resumes it and the request goes out', async () => {
    const socket = jar.add(ipv4Socket());
    socket.resumeSend();
    expect(socket.sendPaused).toBe(false);
    socket.pauseSend();
    expect(socket.sendPaused).toBe(true);
    const sent = socket.send(echoRequest({ id: uniqueId(), seq: 1 }), 0, 24, '127.0.0.1');
    expect(socket.sendPaused).toBe(false);
    await expect(sent).resolves.toBe(24);
    await waitFor(() => socket.sendPaused, 2000);
  });

  it('pauseSend() right after send holds the queue until resumeSend()', async () => {
    const socket = jar.add(ipv4Socket());
    let done = 0;
    for (let i = 0; i < 5; i++) socket.send(echoRequest({ id: uniqueId(), seq: i }), 0, 24, '127.0.0.1', () => done++);
    socket.pauseSend();
    await sleep(100);
    expect(done).toBe(0);
    socket.resumeSend();
    await waitFor(() => done === 5, 2000);
    expect(socket.sendPaused).toBe(true);
  });

  it('resumeRecv is not called by send (raw-socket documents this)', async () => {
    const socket = jar.add(ipv4Socket());
    socket.pauseRecv();
    await socket.send(echoRequest({ id: uniqueId(), seq: 1 }), 0, 24, '127.0.0.1');
    expect(socket.recvPaused).toBe(true);
  });
});

describe('automatic checksums', () => {
  it('generateChecksums option: a zero-checksum echo request goes out with a valid checksum and is answered', async () => {
    const socket = jar.add(ipv4Socket({ generateChecksums: true, checksumOffset: 2 }));
    const watcher = jar.add(ipv4Socket());
    const id = uniqueId();
    const request = echoRequest({ id, seq: 5, checksum: false });
    expect(request.readUInt16BE(2)).toBe(0);
    const expected = raw.createChecksum(request);
    const seenRequest = nextMessage(watcher, (b) => parseIcmp(b)?.type === 8 && parseIcmp(b)?.id === id);
    const seenReply = nextMessage(watcher, (b) => isEchoReply(b, id, 4, 5));
    await expect(socket.send(request, 0, request.length, '127.0.0.1')).resolves.toBe(24);
    const { buffer } = await seenRequest;
    const icmp = buffer.subarray((buffer[0] & 15) * 4);
    expect(icmp.readUInt16BE(2)).toBe(expected);
    expect(expected).not.toBe(0);
    expect(raw.createChecksum(icmp)).toBe(0);
    await seenReply;
  });

  it('socket.generateChecksums(true, 2) turns it on later; (false) turns it off again', async () => {
    const socket = jar.add(ipv4Socket());
    const watcher = jar.add(ipv4Socket({ icmpTypes: [8] }));
    const id = uniqueId();
    expect(socket.generateChecksums(true, 2)).toBe(socket);
    const on = echoRequest({ id, seq: 1, checksum: false });
    const seenOn = nextMessage(watcher, (b) => parseIcmp(b)?.id === id && parseIcmp(b)?.seq === 1);
    await socket.send(on, 0, on.length, '127.0.0.1');
    const first = (await seenOn).buffer;
    expect(raw.createChecksum(first.subarray((first[0] & 15) * 4))).toBe(0);

    socket.generateChecksums(false);
    const off = echoRequest({ id, seq: 2, checksum: false });
    const seenOff = nextMessage(watcher, (b) => parseIcmp(b)?.id === id && parseIcmp(b)?.seq === 2);
    await socket.send(off, 0, off.length, '127.0.0.1');
    const second = (await seenOff).buffer;
    expect(second.readUInt16BE((second[0] & 15) * 4 + 2)).toBe(0); // left as it was
  });

  it('the checksum covers only [offset, offset + length) and lands at checksumOffset inside it', async () => {
    const socket = jar.add(ipv4Socket({ generateChecksums: true, checksumOffset: 2 }));
    const watcher = jar.add(ipv4Socket({ icmpTypes: [8] }));
    const id = uniqueId();
    const request = echoRequest({ id, seq: 9, checksum: false });
    const framed = Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), request, Buffer.from([0xee])]);
    const seen = nextMessage(watcher, (b) => parseIcmp(b)?.id === id);
    await socket.send(framed, 3, request.length, '127.0.0.1');
    const { buffer } = await seen;
    const icmp = buffer.subarray((buffer[0] & 15) * 4);
    expect(raw.createChecksum(icmp)).toBe(0);
    expect(framed.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xff, 0xff])); // untouched outside the range
  });
});
