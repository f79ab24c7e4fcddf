// Kernel software transmit timestamps (txTimestamps: SO_TIMESTAMPING from the error
// queue): 'sent' { sequence, timestamp } per successful send, in send order, never before
// that send's afterCallback, never mistaken for an ICMP error, and no receiveErrors needed.
import { afterEach, describe, expect, it } from 'vitest';
import * as raw from '../lib/index';
import { SocketJar, closedPort, echoRequest, isEchoReply, nextMessage, sendCb, uniqueId, waitFor } from './helpers';

const jar = new SocketJar();
afterEach(() => jar.closeAll());

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const SECOND = 1_000_000_000n;

function sentEvents(socket: raw.Socket): raw.SentTimestamp[] {
  const events: raw.SentTimestamp[] = [];
  socket.on('sent', (stamp: raw.SentTimestamp) => events.push(stamp));
  return events;
}

describe('transmit timestamps', () => {
  for (const family of [4, 6] as const) {
    it(`IPv${family}: the sent timestamp is at most the echo reply's receive timestamp, both close to now`, async () => {
      const socket = jar.add(
        raw.createSocket(
          family === 4
            ? { protocol: raw.Protocol.ICMP, txTimestamps: true, timestamps: true }
            : { addressFamily: raw.AddressFamily.IPv6, protocol: raw.Protocol.ICMPv6, txTimestamps: true, timestamps: true },
        ),
      );
      socket.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_RCVBUF, 4 << 20);
      expect(socket.txTimestamps).toBe(true);
      const events = sentEvents(socket);
      const id = uniqueId();
      const before = nowNs();
      const reply = nextMessage(socket, (buffer) => isEchoReply(buffer, id, family), 3000);
      const [error, , sequence] = await new Promise<[Error | null, number, number | undefined]>((resolve) => {
        expect(socket.nextSendSequence).toBe(0);
        socket.send(echoRequest({ id, seq: 1, family }), 0, 24, family === 4 ? '127.0.0.1' : '::1', (e, bytes, _sentAt, seq) => resolve([e, bytes, seq]));
      });
      expect(error).toBeNull();
      expect(sequence).toBe(0);
      expect(socket.nextSendSequence).toBe(1);
      const { info } = await reply;
      await waitFor(() => events.length > 0, 2000, "the 'sent' event");
      const [stamp] = events;
      expect(stamp.sequence).toBe(0);
      expect(typeof stamp.timestamp).toBe('bigint');
      expect(stamp.timestamp).toBeLessThanOrEqual(info.timestamp as bigint);
      const after = nowNs();
      for (const t of [stamp.timestamp, info.timestamp as bigint]) {
        expect(t).toBeGreaterThan(before - SECOND);
        expect(t).toBeLessThan(after + SECOND);
      }
      // Kernel to kernel: on loopback well under a millisecond apart.
      expect((info.timestamp as bigint) - stamp.timestamp).toBeLessThan(50_000_000n);
    });
  }

  it('numbers sends 0, 1, 2, … in order; each afterCallback comes before its own sent event', async () => {
    const socket = jar.add(raw.createSocket({ protocol: raw.Protocol.ICMP, txTimestamps: true, icmpTypes: [] }));
    const order: string[] = [];
    const events: raw.SentTimestamp[] = [];
    socket.on('sent', (stamp: raw.SentTimestamp) => {
      order.push(`sent ${stamp.sequence}`);
      events.push(stamp);
    });
    const id = uniqueId();
    const sequences: (number | undefined)[] = [];
    for (let seq = 0; seq < 5; seq++) {
      socket.send(echoRequest({ id, seq, family: 4 }), 0, 24, '127.0.0.1', (error, _bytes, _sentAt, sequence) => {
        expect(error).toBeNull();
        sequences.push(sequence);
        order.push(`after ${sequence}`);
      });
    }
    // A failed send gets no number: the kernel does not count it either.
    socket.send(Buffer.alloc(8), 0, 8, 'not an address', (error, _bytes, _sentAt, sequence) => {
      expect(error).not.toBeNull();
      expect(sequence).toBeUndefined();
    });
    await waitFor(() => events.length === 5, 2000, "five 'sent' events");
    expect(sequences).toEqual([0, 1, 2, 3, 4]);
    expect(events.map((e) => e.sequence)).toEqual([0, 1, 2, 3, 4]);
    for (let i = 1; i < events.length; i++) expect(events[i].timestamp).toBeGreaterThanOrEqual(events[i - 1].timestamp);
    for (let i = 0; i < 5; i++) expect(order.indexOf(`after ${i}`)).toBeLessThan(order.indexOf(`sent ${i}`));
    expect(socket.nextSendSequence).toBe(5);
    // Read inside a beforeCallback, it is exact: that request goes out alone, next.
    let seen: number | undefined;
    const [error, , sequence] = await new Promise<[Error | null, number, number | undefined]>((resolve) => {
      socket.send(echoRequest({ id, seq: 9, family: 4 }), 0, 24, '127.0.0.1', () => (seen = socket.nextSendSequence), (e, b, _s, q) => resolve([e, b, q]));
    });
    expect(error).toBeNull();
    expect([seen, sequence]).toEqual([5, 5]);
  });

  it('like ICMP errors, sent events wait while receiving is paused, and come on resume', async () => {
    const socket = jar.add(raw.createSocket({ protocol: raw.Protocol.ICMP, txTimestamps: true, icmpTypes: [] }));
    const events = sentEvents(socket);
    socket.pauseRecv();
    const [error] = await sendCb(socket, echoRequest({ id: uniqueId(), seq: 1 }), '127.0.0.1');
    expect(error).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events).toEqual([]);
    socket.resumeRecv();
    await waitFor(() => events.length === 1, 2000, "the 'sent' event after resume");
    expect(events[0].sequence).toBe(0);
  });

  it('with receiveErrors too: ICMP errors come as icmpError, timestamps only as sent', async () => {
    const udp = jar.add(raw.createSocket({ protocol: raw.Protocol.UDP, mode: 'datagram', receiveErrors: true, txTimestamps: true }));
    const errors: raw.IcmpError[] = [];
    udp.on('icmpError', (error: raw.IcmpError) => errors.push(error));
    const events = sentEvents(udp);
    const port = await closedPort('udp4', '127.0.0.1');
    const [error] = await sendCb(udp, Buffer.from('tx-timestamps'), { address: '127.0.0.1', port } as unknown as string);
    expect(error).toBeNull();
    await waitFor(() => errors.length > 0 && events.length > 0, 3000, 'the port unreachable and the timestamp');
    expect(errors.map((e) => [e.code, e.origin])).toEqual([['ECONNREFUSED', 'icmp']]);
    expect(events.map((e) => e.sequence)).toEqual([0]);
  });

  it('without receiveErrors: no icmpError at all, and the port unreachable does not disturb the timestamps', async () => {
    const udp = jar.add(raw.createSocket({ protocol: raw.Protocol.UDP, mode: 'datagram', txTimestamps: true }));
    expect(udp.receiveErrors).toBe(false);
    const errors: unknown[] = [];
    udp.on('icmpError', (error) => errors.push(error));
    udp.on('error', (error) => errors.push(error));
    const events = sentEvents(udp);
    const port = await closedPort('udp4', '127.0.0.1');
    for (let i = 0; i < 3; i++) {
      const [error] = await sendCb(udp, Buffer.from(`tx-${i}`), { address: '127.0.0.1', port } as unknown as string);
      expect(error).toBeNull();
    }
    await waitFor(() => events.length === 3, 3000, "three 'sent' events");
    expect(events.map((e) => e.sequence)).toEqual([0, 1, 2]);
    expect(errors).toEqual([]);
  });

  it('a socket without txTimestamps emits no sent event and passes no sequence', async () => {
    const socket = jar.add(raw.createSocket({ protocol: raw.Protocol.ICMP }));
    const events = sentEvents(socket);
    let sequence: number | undefined = -1;
    await new Promise<void>((resolve) =>
      socket.send(echoRequest({ id: uniqueId(), seq: 1 }), 0, 24, '127.0.0.1', (_e, _b, _s, q) => {
        sequence = q;
        resolve();
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sequence).toBeUndefined();
    expect(events).toEqual([]);
    expect(socket.txTimestamps).toBe(false);
  });

  it('txTimestamps must be a boolean; the addon needs an onSent handler for it', () => {
    expect(() => raw.createSocket({ protocol: raw.Protocol.ICMP, txTimestamps: 'yes' as unknown as boolean })).toThrow(/"txTimestamps" option must be a boolean/);
  });
});
