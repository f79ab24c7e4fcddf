// Receiving: batched delivery under load, buffer ownership, kernel timestamps,
// kernel ICMP type filters, truncation.
import { afterEach, describe, expect, it } from 'vitest';
import * as raw from '../lib/index';
import { SocketJar, echoRequest, ipv4Socket, ipv6Socket, isEchoReply, nextMessage, parseIcmp, sleep, uniqueId, waitFor } from './helpers';

const jar = new SocketJar();
afterEach(() => jar.closeAll());

describe('batched receive', () => {
  it('5,000 echo requests sent quickly: a separate receiver with a big SO_RCVBUF gets all 5,000 replies', async () => {
    const receiver = jar.add(ipv4Socket({ icmpTypes: [0] }));
    receiver.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_RCVBUF, 16 << 20);
    const sender = jar.add(ipv4Socket({ icmpTypes: [] })); // sees nothing, reads nothing
    const id = uniqueId();
    const total = 5000;
    const seen = new Uint8Array(total);
    let unique = 0;
    const buffers: Buffer[] = [];
    receiver.on('message', (buffer: Buffer) => {
      if (!isEchoReply(buffer, id)) return;
      const seq = parseIcmp(buffer)!.seq;
      if (seq < total && seen[seq] === 0) {
        seen[seq] = 1;
        unique++;
        if (buffers.length < 64) buffers.push(buffer);
      }
    });
    let sent = 0;
    let failed = 0;
    for (let seq = 0; seq < total; seq++) {
      sender.send(echoRequest({ id, seq }), 0, 24, '127.0.0.1', (error) => (error ? failed++ : sent++));
    }
    await waitFor(() => sent + failed === total, 10_000, 'all afterCallbacks');
    expect(failed).toBe(0);
    await waitFor(() => unique === total, 10_000, `${total} replies (have ${unique})`).catch(() => undefined);
    expect(unique).toBe(total);

    // Each message buffer is its own: writing to one changes no other.
    const before = buffers.map((b) => Buffer.from(b));
    buffers[0].fill(0);
    for (let i = 1; i < buffers.length; i++) expect(buffers[i]).toEqual(before[i]);
    expect(new Set(buffers.map((b) => b.buffer)).size === buffers.length || buffers.every((b, i) => i === 0 || b.buffer !== buffers[0].buffer)).toBe(true);
  }, 30_000);

  it('a listener keeping a message while more arrive sees its bytes unchanged', async () => {
    const receiver = jar.add(ipv4Socket({ icmpTypes: [0] }));
    const sender = jar.add(ipv4Socket({ icmpTypes: [] }));
    const id = uniqueId();
    const kept: Array<[Buffer, string]> = [];
    receiver.on('message', (buffer: Buffer) => {
      if (isEchoReply(buffer, id)) kept.push([buffer, buffer.toString('hex')]);
    });
    for (let seq = 0; seq < 200; seq++) sender.send(echoRequest({ id, seq, payload: Buffer.alloc(seq % 50, seq) }), 0, 8 + (seq % 50), '127.0.0.1', () => {});
    await waitFor(() => kept.length >= 200, 3000);
    for (const [buffer, hex] of kept) expect(buffer.toString('hex')).toBe(hex);
    expect(new Set(kept.map(([b]) => parseIcmp(b)!.seq)).size).toBe(200);
  });

  it('bufferSize: longer datagrams are cut to bufferSize and marked truncated', async () => {
    const receiver = jar.add(ipv4Socket({ bufferSize: 40, icmpTypes: [0] }));
    const sender = jar.add(ipv4Socket({ icmpTypes: [] }));
    const id = uniqueId();
    const infos: Array<[number, raw.MessageInfo]> = [];
    receiver.on('message', (buffer: Buffer, _address: string, info: raw.MessageInfo) => {
      // The ICMP id sits at bytes 24-25 of the (cut) datagram.
      if (buffer.length >= 26 && buffer.readUInt16BE(24) === id) infos.push([buffer.length, info]);
    });
    sender.send(echoRequest({ id, seq: 1, payload: Buffer.alloc(100) }), 0, 108, '127.0.0.1', () => {});
    sender.send(echoRequest({ id, seq: 2, payload: Buffer.alloc(4) }), 0, 12, '127.0.0.1', () => {});
    await waitFor(() => infos.length >= 2, 2000);
    expect(infos[0][0]).toBe(40);
    expect(infos[0][1].truncated).toBe(true);
    expect(infos[1][0]).toBe(32);
    expect(infos[1][1].truncated).toBe(false);
  });
});

describe('kernel timestamps', () => {
  it('timestamps: true gives info.timestamp as a bigint (ns since the epoch) close to Date.now()', async () => {
    const socket = jar.add(ipv4Socket({ timestamps: true }));
    const id = uniqueId();
    const got = new Promise<[Buffer, raw.MessageInfo, number]>((resolve) =>
      socket.on('message', (buffer: Buffer, _a: string, info: raw.MessageInfo) => {
        if (isEchoReply(buffer, id)) resolve([buffer, info, Date.now()]);
      }),
    );
    const before = BigInt(Date.now()) * 1_000_000n;
    socket.send(echoRequest({ id, seq: 1 }), 0, 24, '127.0.0.1', () => {});
    const [, info, after] = await got;
    expect(typeof info.timestamp).toBe('bigint');
    expect(info.timestamp!).toBeGreaterThanOrEqual(before - 5_000_000n);
    expect(info.timestamp!).toBeLessThanOrEqual(BigInt(after) * 1_000_000n + 5_000_000n);
    expect(info.truncated).toBe(false);
  });

  it('without timestamps, info.timestamp is undefined', async () => {
    const socket = jar.add(ipv4Socket());
    const id = uniqueId();
    const got = new Promise<raw.MessageInfo>((resolve) =>
      socket.on('message', (buffer: Buffer, _a: string, info: raw.MessageInfo) => {
        if (isEchoReply(buffer, id)) resolve(info);
      }),
    );
    socket.send(echoRequest({ id, seq: 1 }), 0, 24, '127.0.0.1', () => {});
    expect((await got).timestamp).toBeUndefined();
  });

  it('IPv6 timestamps too', async () => {
    const socket = jar.add(ipv6Socket({ timestamps: true }));
    const id = uniqueId();
    const got = new Promise<[raw.MessageInfo, number]>((resolve) =>
      socket.on('message', (buffer: Buffer, _a: string, info: raw.MessageInfo) => {
        if (isEchoReply(buffer, id, 6)) resolve([info, Date.now()]);
      }),
    );
    const before = BigInt(Date.now()) * 1_000_000n;
    socket.send(echoRequest({ id, seq: 1, family: 6 }), 0, 24, '::1', () => {});
    const [info, after] = await got;
    // Between the send and the delivery (Date.now() has ms steps: 5 ms of slack each side).
    expect(typeof info.timestamp).toBe('bigint');
    expect(info.timestamp!).toBeGreaterThanOrEqual(before - 5_000_000n);
    expect(info.timestamp!).toBeLessThanOrEqual(BigInt(after) * 1_000_000n + 5_000_000n);
  });
});

describe('arrival TTL and hop limit', () => {
  it('receiveTtl: true gives info.ttl on IPv4 (the request copy carries the TTL the sender set)', async () => {
    const socket = jar.add(ipv4Socket({ receiveTtl: true }));
    socket.setOption(raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_TTL, 33);
    const id = uniqueId();
    const request = nextMessage(socket, (buffer) => parseIcmp(buffer)?.type === 8 && parseIcmp(buffer)?.id === id);
    const reply = nextMessage(socket, (buffer) => isEchoReply(buffer, id));
    socket.send(echoRequest({ id, seq: 1 }), 0, 24, '127.0.0.1', () => {});
    const [sent, answered] = await Promise.all([request, reply]);
    expect(sent.info.ttl).toBe(33);
    expect(sent.buffer[8]).toBe(33); // the IP header agrees
    expect(answered.info.ttl).toBe(answered.buffer[8]);
  });

  it('receiveTtl: true gives the hop limit on IPv6, where no IP header arrives', async () => {
    const socket = jar.add(ipv6Socket({ receiveTtl: true }));
    socket.setOption(raw.SocketLevel.IPPROTO_IPV6, raw.SocketOption.IPV6_UNICAST_HOPS, 17);
    const id = uniqueId();
    const request = nextMessage(socket, (buffer) => buffer[0] === 128 && buffer.readUInt16BE(4) === id);
    socket.send(echoRequest({ id, seq: 1, family: 6 }), 0, 24, '::1', () => {});
    expect((await request).info.ttl).toBe(17);
  });

  it('without receiveTtl, info.ttl is undefined; a non-boolean is a TypeError', async () => {
    expect(() => ipv4Socket({ receiveTtl: 'yes' as unknown as boolean })).toThrow(TypeError);
    const socket = jar.add(ipv4Socket());
    const id = uniqueId();
    const reply = nextMessage(socket, (buffer) => isEchoReply(buffer, id));
    socket.send(echoRequest({ id, seq: 1 }), 0, 24, '127.0.0.1', () => {});
    expect((await reply).info.ttl).toBeUndefined();
  });
});

describe('kernel ICMP type filters', () => {
  it('icmpTypes: [0] on IPv4 delivers echo replies only, never the requests', async () => {
    const filtered = jar.add(ipv4Socket({ icmpTypes: [0] }));
    const open = jar.add(ipv4Socket());
    const id = uniqueId();
    const filteredTypes: number[] = [];
    const openTypes: number[] = [];
    filtered.on('message', (b: Buffer) => parseIcmp(b)?.id === id && filteredTypes.push(parseIcmp(b)!.type));
    open.on('message', (b: Buffer) => parseIcmp(b)?.id === id && openTypes.push(parseIcmp(b)!.type));
    for (let seq = 0; seq < 5; seq++) open.send(echoRequest({ id, seq }), 0, 24, '127.0.0.1', () => {});
    await waitFor(() => filteredTypes.length >= 5 && openTypes.length >= 10, 2000);
    await sleep(50);
    expect(filteredTypes).toEqual([0, 0, 0, 0, 0]);
    expect(openTypes.filter((t) => t === 8).length).toBe(5); // the unfiltered socket sees requests too
  });

  it('icmpTypes: [129] on IPv6 delivers echo replies only', async () => {
    const filtered = jar.add(ipv6Socket({ icmpTypes: [129] }));
    const open = jar.add(ipv6Socket());
    const id = uniqueId();
    const filteredTypes: number[] = [];
    const openTypes: number[] = [];
    filtered.on('message', (b: Buffer) => parseIcmp(b, 6)?.id === id && filteredTypes.push(b[0]));
    open.on('message', (b: Buffer) => parseIcmp(b, 6)?.id === id && openTypes.push(b[0]));
    for (let seq = 0; seq < 5; seq++) open.send(echoRequest({ id, seq, family: 6 }), 0, 24, '::1', () => {});
    await waitFor(() => filteredTypes.length >= 5 && openTypes.length >= 10, 2000);
    await sleep(50);
    expect(filteredTypes).toEqual([129, 129, 129, 129, 129]);
    expect(openTypes.filter((t) => t === 128).length).toBe(5);
  });

  it('setIcmpFilter changes the filter later; null lets everything through again', async () => {
    const socket = jar.add(ipv4Socket());
    const id = uniqueId();
    const types: number[] = [];
    socket.on('message', (b: Buffer) => parseIcmp(b)?.id === id && types.push(parseIcmp(b)!.type));
    expect(socket.setIcmpFilter([8])).toBe(socket);
    socket.send(echoRequest({ id, seq: 1 }), 0, 24, '127.0.0.1', () => {});
    await waitFor(() => types.length >= 1, 2000);
    await sleep(50);
    expect(types).toEqual([8]);
    socket.setIcmpFilter(null);
    socket.send(echoRequest({ id, seq: 2 }), 0, 24, '127.0.0.1', () => {});
    await waitFor(() => types.length >= 3, 2000);
    expect(types.slice(1).sort()).toEqual([0, 8]);
  });

  it('filters are only for ICMP sockets, and IPv4 raw types are 0-31', () => {
    const udp = jar.add(raw.createSocket({ protocol: raw.Protocol.UDP }));
    expect(() => udp.setIcmpFilter([0])).toThrow(RangeError);
    const socket = jar.add(ipv4Socket());
    expect(() => socket.setIcmpFilter([32])).toThrow(RangeError);
    expect(() => socket.setIcmpFilter([-1])).toThrow(RangeError);
    expect(() => raw.createSocket({ protocol: raw.Protocol.ICMP, icmpTypes: [99] })).toThrow(/99/);
    const v6 = jar.add(ipv6Socket());
    expect(() => v6.setIcmpFilter([255])).not.toThrow();
    expect(() => v6.setIcmpFilter([256])).toThrow(RangeError);
  });
});
