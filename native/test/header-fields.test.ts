// Per-packet header fields on send (the destination's hopLimit and trafficClass, as
// IPV6_HOPLIMIT / IPV6_TCLASS or IP_TTL / IP_TOS ancillary data), checked on the wire by a
// packet socket and a second raw socket; and what receiving sockets learn about each
// datagram (packetInfo: localAddress, interfaceIndex, hopLimit, trafficClass).
import { createSocket as createUdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { binding } from '../lib/binding';
import * as raw from '../lib/index';
import { SocketJar, closedPort, echoRequest, ipv4Socket, ipv6Socket, nextMessage, sendCb, uniqueId } from './helpers';

const jar = new SocketJar();
afterEach(() => jar.closeAll());

const LO_INDEX = Number(readFileSync('/sys/class/net/lo/ifindex', 'utf8'));

/** An ICMP(v6) echo request of this id: in a whole IP packet (packet sockets, IPv4 raw) or bare (ICMPv6 raw). */
function isRequest(buffer: Buffer, id: number, layout: 'ipv4' | 'ipv6' | 'icmpv6'): boolean {
  const at = layout === 'ipv4' ? (buffer[0] & 0x0f) * 4 : layout === 'ipv6' ? 40 : 0;
  if (layout === 'ipv4' && (buffer[0] >> 4 !== 4 || buffer[9] !== 1)) return false;
  if (layout === 'ipv6' && (buffer[0] >> 4 !== 6 || buffer[6] !== 58)) return false;
  return buffer.length >= at + 8 && buffer[at] === (layout === 'ipv4' ? 8 : 128) && buffer.readUInt16BE(at + 4) === id;
}

/** A packet socket on lo with room for bursts: loopback is shared with other tests' floods. */
function loopbackCapture(): raw.Socket {
  const capture = jar.add(raw.createPacketSocket({ interface: 'lo', protocol: 'ipv6' }));
  capture.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_RCVBUF, 8 << 20);
  return capture;
}

/**
 * Sends (again, up to 5 times, 400 ms apart) until `socket` sees a matching message: under
 * someone else's flood a receive buffer may overflow and lose it.
 */
async function sendUntilSeen(socket: raw.Socket, match: (buffer: Buffer) => boolean, send: () => Promise<unknown>): Promise<{ buffer: Buffer; info: raw.MessageInfo }> {
  for (let attempt = 1; ; attempt++) {
    const seen = nextMessage(socket, match, 400);
    await send();
    try {
      return await seen;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}

/** The traffic class in an IPv6 header: the 8 bits after the version. */
const trafficClassOf = (header: Buffer): number => ((header[0] & 0x0f) << 4) | (header[1] >> 4);

describe('hopLimit and trafficClass on send', () => {
  it('IPv6: hop limit 7 and class 0x20 to ::1 arrive as sent (packet socket and a second raw socket)', async () => {
    const capture = loopbackCapture();
    const listener = jar.add(ipv6Socket());
    const sender = jar.add(ipv6Socket());
    sender.pauseRecv();
    const id = uniqueId();
    const received = nextMessage(listener, (buffer) => isRequest(buffer, id, 'icmpv6'), 4000);
    const request = echoRequest({ id, seq: 1, family: 6 });
    const wire = await sendUntilSeen(
      capture,
      (buffer) => isRequest(buffer, id, 'ipv6') && buffer[0] >> 4 === 6,
      async () => expect(await sender.send(request, 0, request.length, { address: '::1', hopLimit: 7, trafficClass: 0x20 })).toBe(request.length),
    );
    expect(wire.info.direction).toBe('outbound');
    expect([wire.buffer[7], trafficClassOf(wire.buffer)]).toEqual([7, 0x20]);
    const { info } = await received;
    expect(info).toMatchObject({ hopLimit: 7, trafficClass: 0x20, localAddress: '::1', interfaceIndex: LO_INDEX });

    // Only that packet: the next one goes out with the socket's own values.
    const second = echoRequest({ id, seq: 2, family: 6 });
    const plain = (
      await sendUntilSeen(
        capture,
        (buffer) => isRequest(buffer, id, 'ipv6') && buffer.readUInt16BE(46) === 2,
        () => sender.send(second, 0, second.length, '::1'),
      )
    ).buffer;
    expect([plain[7], trafficClassOf(plain)]).toEqual([64, 0]);
  });

  it('IPv4: TTL 9 and TOS 0x20 to 127.0.0.1 arrive as sent', async () => {
    const listener = jar.add(ipv4Socket({ packetInfo: true }));
    listener.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_RCVBUF, 4 << 20);
    const sender = jar.add(ipv4Socket());
    sender.pauseRecv();
    const id = uniqueId();
    const request = echoRequest({ id, seq: 1 });
    const { buffer, info } = await sendUntilSeen(
      listener,
      (received) => isRequest(received, id, 'ipv4'),
      () => sender.send(request, 0, request.length, { address: '127.0.0.1', hopLimit: 9, trafficClass: 0x20 }),
    );
    expect([buffer[8], buffer[1]]).toEqual([9, 0x20]); // the header's TTL and TOS
    expect(info).toMatchObject({ hopLimit: 9, trafficClass: 0x20, localAddress: '127.0.0.1', interfaceIndex: LO_INDEX });
  });

  it('IPv6 hop limit 0 is allowed (the packet goes out; loopback delivers it)', async () => {
    const capture = loopbackCapture();
    const sender = jar.add(ipv6Socket());
    sender.pauseRecv();
    const id = uniqueId();
    const request = echoRequest({ id, seq: 1, family: 6 });
    const wire = await sendUntilSeen(
      capture,
      (buffer) => isRequest(buffer, id, 'ipv6'),
      () => sender.send(request, 0, request.length, { address: '::1', hopLimit: 0 }),
    );
    expect(wire.buffer[7]).toBe(0);
  });

  it('a UDP datagram socket sends with them too', async () => {
    const capture = loopbackCapture();
    const udp = jar.add(raw.createSocket({ addressFamily: raw.AddressFamily.IPv6, protocol: raw.Protocol.UDP, mode: 'datagram' }));
    const port = await closedPort('udp6', '::1');
    const payload = Buffer.from(`header-fields-${uniqueId()}`);
    const { buffer } = await sendUntilSeen(
      capture,
      (packet) => packet[6] === 17 && packet.readUInt16BE(42) === port && packet.subarray(48).equals(payload),
      () => udp.send(payload, 0, payload.length, { address: '::1', port, hopLimit: 3, trafficClass: 0xb8 }),
    );
    expect([buffer[7], trafficClassOf(buffer)]).toEqual([3, 0xb8]);
  });

  it('out of range or of the wrong type: RangeError (to the callback) or TypeError (thrown), naming the field', async () => {
    const v4 = jar.add(ipv4Socket());
    const v6 = jar.add(ipv6Socket());
    const packet = echoRequest({ id: uniqueId(), seq: 1 });
    const refusals: [raw.Socket, Partial<raw.Destination>, RegExp][] = [
      [v4, { hopLimit: 0 }, /"address.hopLimit" property must be an integer from 1 to 255 \(an IPv4 TTL\), got 0/],
      [v4, { hopLimit: 256 }, /hopLimit.*got 256/],
      [v6, { hopLimit: -1 }, /from 0 to 255 \(an IPv6 hop limit\), got -1/],
      [v6, { hopLimit: 1.5 }, /got 1.5/],
      [v6, { trafficClass: 256 }, /"address.trafficClass" property must be an integer from 0 to 255 \(an IPv6 traffic class\)/],
      [v4, { trafficClass: NaN }, /an IPv4 TOS byte\), got NaN/],
    ];
    for (const [socket, fields, message] of refusals) {
      const address = socket === v4 ? '127.0.0.1' : '::1';
      const [error] = await sendCb(socket, packet, { address, ...fields } as unknown as string);
      expect(error).toBeInstanceOf(RangeError);
      expect(error).toMatchObject({ code: 'ERR_OUT_OF_RANGE', message: expect.stringMatching(message) });
    }
    expect(() => v4.send(packet, 0, 8, { address: '127.0.0.1', hopLimit: '7' as unknown as number }, () => undefined)).toThrow(
      /"address.hopLimit" property must be a number, got string/,
    );
    expect(() => v6.send(packet, 0, 8, { address: '::1', trafficClass: null as unknown as number }, () => undefined)).toThrow(TypeError);
  });

  it('a socket whose packets carry their own IP header refuses them (ERR_HEADER_INCLUDED), never ignores them', async () => {
    const hdrincl = jar.add(raw.createSocket({ protocol: 255 }));
    const [error] = await sendCb(hdrincl, Buffer.alloc(28), { address: '127.0.0.1', hopLimit: 5 } as unknown as string);
    expect(error).toMatchObject({ code: 'ERR_HEADER_INCLUDED', message: expect.stringMatching(/IP_HDRINCL/) });
    const icmp = jar.add(ipv4Socket());
    icmp.setOption(raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_HDRINCL, 1);
    const [again] = await sendCb(icmp, Buffer.alloc(28), { address: '127.0.0.1', trafficClass: 4 } as unknown as string);
    expect(again).toMatchObject({ code: 'ERR_HEADER_INCLUDED' });
  });

  it('IPV6_HDRINCL (Linux): the packet carries its own IPv6 header, sent as built; header fields are refused there', async () => {
    const capture = loopbackCapture();
    const sender = jar.add(ipv6Socket());
    sender.pauseRecv();
    sender.setOption(raw.SocketLevel.IPPROTO_IPV6, raw.SocketOption.IPV6_HDRINCL as number, 1);
    const id = uniqueId();
    const icmp = echoRequest({ id, seq: 1, family: 6 });
    const loopback = Buffer.alloc(16);
    loopback[15] = 1;
    // The checksum over the pseudo header (the kernel leaves a packet with its own header alone).
    const pseudo = Buffer.concat([loopback, loopback, Buffer.from([0, 0, 0, icmp.length, 0, 0, 0, 58])]);
    raw.writeChecksum(icmp, 2, raw.createChecksum(pseudo, icmp));
    const header = Buffer.alloc(40);
    header.writeUInt32BE((6 << 28) | (0x48 << 20)); // version 6, traffic class 0x48, flow 0
    header.writeUInt16BE(icmp.length, 4);
    header[6] = 58;
    header[7] = 5;
    loopback.copy(header, 8);
    loopback.copy(header, 24);
    const packet = Buffer.concat([header, icmp]);
    const { buffer } = await sendUntilSeen(
      capture,
      (received) => isRequest(received, id, 'ipv6'),
      () => sender.send(packet, 0, packet.length, '::1'),
    );
    expect([buffer[7], trafficClassOf(buffer)]).toEqual([5, 0x48]);
    const [error] = await sendCb(sender, packet, { address: '::1', hopLimit: 9 } as unknown as string);
    expect(error).toMatchObject({ code: 'ERR_HEADER_INCLUDED', message: expect.stringMatching(/IPV6_HDRINCL/) });
  });

  it('the addon checks them again: out of range fails that request alone; without the flag they are not read', () => {
    const handlers = { onMessages() {}, onWritable() {}, onError() {}, onClose() {}, onIcmpErrors() {} };
    const options = { bufferSize: 256, mode: 1 as const, timestamps: false, receiveTtl: false, receiveErrors: false, descriptor: undefined };
    const socket = new binding.RawSocket(2, 58, options, handlers);
    try {
      const request = (hopLimit: unknown, trafficClass: unknown) => ({
        buffer: echoRequest({ id: uniqueId(), seq: 9, family: 6 }),
        offset: 0,
        length: 16,
        address: '::1',
        port: 0,
        hopLimit: hopLimit as number,
        trafficClass: trafficClass as number,
      });
      const requests = [request(300, -1), request(-1, 'x'), request(1.5, -1), request(7, 0x20), request(-1, -1)];
      const results = new Int32Array(5);
      expect(socket.sendBatch(requests, 0, 5, results, undefined, true)).toBe(5);
      expect([...results]).toEqual([-0x7fffffff, -0x7ffffffe, -0x7fffffff, 16, 16]);
      results.fill(0);
      expect(socket.sendBatch(requests, 0, 3, results, undefined, false)).toBe(3);
      expect([...results.subarray(0, 3)]).toEqual([16, 16, 16]);
    } finally {
      socket.close();
    }
  });
});

describe('packetInfo on receive', () => {
  it('is on by default where no IP header comes (IPv6), off on IPv4 raw sockets; packetInfo: false leaves the fields out', async () => {
    const id = uniqueId();
    const plain = jar.add(ipv6Socket({ packetInfo: false }));
    const full = jar.add(ipv6Socket());
    const sender = jar.add(ipv6Socket());
    sender.pauseRecv();
    const without = nextMessage(plain, (buffer) => isRequest(buffer, id, 'icmpv6'), 4000);
    const request = echoRequest({ id, seq: 1, family: 6 });
    const withInfo = sendUntilSeen(full, (buffer) => isRequest(buffer, id, 'icmpv6'), () => sender.send(request, 0, request.length, '::1'));
    expect((await without).info).toEqual({ timestamp: undefined, truncated: false, drops: 0 });
    expect((await withInfo).info).toMatchObject({ localAddress: '::1', interfaceIndex: LO_INDEX, hopLimit: 64, trafficClass: 0 });

    const v4 = jar.add(ipv4Socket());
    v4.setOption(raw.SocketLevel.SOL_SOCKET, raw.SocketOption.SO_RCVBUF, 4 << 20);
    const sender4 = jar.add(ipv4Socket());
    sender4.pauseRecv();
    const v4request = echoRequest({ id, seq: 2 });
    const { info } = await sendUntilSeen(v4, (buffer) => isRequest(buffer, id, 'ipv4'), () => sender4.send(v4request, 0, v4request.length, '127.0.0.1'));
    expect(info).toEqual({ timestamp: undefined, truncated: false, drops: 0 });
  });

  it('a UDP datagram socket (no IP header) has it by default: local address, interface, arrival TTL and TOS', async () => {
    const receiver = jar.add(raw.createSocket({ protocol: raw.Protocol.UDP, mode: 'datagram' }));
    const peer = createUdpSocket('udp4');
    try {
      await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', () => resolve()));
      // The receiver gets its port by sending first; the peer learns it and answers with TTL 33.
      const learned = new Promise<number>((resolve) => peer.once('message', (_data, rinfo) => resolve(rinfo.port)));
      await receiver.send(Buffer.from('hello'), 0, 5, { address: '127.0.0.1', port: peer.address().port });
      const port = await learned;
      peer.setTTL(33);
      const answer = Buffer.from(`packet-info-${uniqueId()}`);
      const { info } = await sendUntilSeen(
        receiver,
        (buffer) => buffer.equals(answer),
        () => new Promise<void>((resolve) => peer.send(answer, port, '127.0.0.1', () => resolve())),
      );
      expect(info).toMatchObject({ localAddress: '127.0.0.1', interfaceIndex: LO_INDEX, hopLimit: 33, trafficClass: 0, port: peer.address().port });
    } finally {
      peer.close();
    }
  });

  it("packetInfo must be a boolean", () => {
    expect(() => raw.createSocket({ protocol: raw.Protocol.ICMP, packetInfo: 1 as unknown as boolean })).toThrow(/"packetInfo" option must be a boolean/);
  });
});
