import { describe, expect, it } from 'vitest';
import { build } from '../../packets/build';
import type { PacketStack } from '../../packets/layer';
import { EXPIRY_MS, RequestMatcher } from './matching';
import { DIRECTION_IMPORTED, DIRECTION_RECEIVED, DIRECTION_SENT, PacketRing, type DirectionCode, type PacketFacts } from './ring';

const payload = { kind: 'payload', data: '4041424344454647' } as const;

function facts(direction: DirectionCode, time: number, over: Partial<PacketFacts> = {}): PacketFacts {
  return { time, direction, socket: -1, family: 4, withIpHeader: true, protocol: 0, peer: null, local: null, ...over };
}

/** A matcher over ids 0, 1, 2… (every row still logged). */
function matcher(capacity = 1000): { observe(bytes: Uint8Array, facts: PacketFacts): number; matcher: RequestMatcher } {
  const matcher = new RequestMatcher(capacity, () => true);
  let next = 0;
  return {
    matcher,
    observe(bytes, packetFacts) {
      const id = next++;
      matcher.observe(id, bytes, packetFacts);
      return id;
    },
  };
}

const ipv4 = (src: string, dst: string, ttl = 64) => ({ kind: 'ipv4', fields: { src, dst, ttl } }) as const;
const echo = (type: number, identifier: number, sequence: number, kind: 'icmp' | 'icmpv6' = 'icmp') => ({ kind, fields: { type, identifier, sequence } }) as const;
const bytesOf = (stack: PacketStack, options: { source?: string; destination?: string } = {}) => build(stack, options);

describe('RequestMatcher', () => {
  it('links an echo request sent without its IP header to the reply received with one, with the RTT', () => {
    const { observe, matcher: m } = matcher();
    const request = observe(bytesOf([echo(8, 0x1234, 1), payload]), facts(DIRECTION_SENT, 1000, { withIpHeader: false, protocol: 1, peer: '198.18.3.2' }));
    const reply = observe(bytesOf([ipv4('198.18.3.2', '198.18.0.1'), echo(0, 0x1234, 1), payload]), facts(DIRECTION_RECEIVED, 1000.25));
    expect(m.linkOf(request)).toEqual({ replyId: reply });
    expect(m.linkOf(reply)).toEqual({ requestId: request, rttMs: 0.25 });
  });

  it('an ICMP datagram socket: the kernel rewrote the identifier, so its echoes pair by socket and sequence', () => {
    const { observe, matcher: m } = matcher();
    m.kernelChoosesEchoIds(3);
    const datagram = (direction: DirectionCode, time: number) => facts(direction, time, { withIpHeader: false, protocol: 1, peer: '198.18.3.2', socket: 3 });
    // Sent with identifier 0x1234 as logged; the kernel put its own (0xbeef) on the wire and the reply.
    const request = observe(bytesOf([echo(8, 0x1234, 1), payload]), datagram(DIRECTION_SENT, 100));
    const other = observe(bytesOf([echo(8, 0x1234, 2), payload]), datagram(DIRECTION_SENT, 100.1));
    const reply = observe(bytesOf([echo(0, 0xbeef, 1), payload]), datagram(DIRECTION_RECEIVED, 100.5));
    expect(m.linkOf(request)).toEqual({ replyId: reply });
    expect(m.linkOf(reply)).toEqual({ requestId: request, rttMs: 0.5 });
    expect(m.linkOf(other)).toBeUndefined();
    // Another socket (a raw one) with that identifier and sequence does not take a datagram socket's reply.
    const raw = observe(bytesOf([echo(8, 0xbeef, 5), payload]), facts(DIRECTION_SENT, 101, { withIpHeader: false, protocol: 1, peer: '198.18.3.2', socket: 4 }));
    const datagramReply = observe(bytesOf([echo(0, 0xbeef, 5), payload]), datagram(DIRECTION_RECEIVED, 101.5));
    expect(m.linkOf(raw)).toBeUndefined();
    expect(m.linkOf(datagramReply)).toBeUndefined();
  });

  it('on loopback the copy of the request a raw socket receives does not take the reply', () => {
    const { observe, matcher: m } = matcher();
    const sent = observe(bytesOf([echo(8, 7, 1), payload]), facts(DIRECTION_SENT, 10, { withIpHeader: false, protocol: 1, peer: '127.0.0.1' }));
    const copy = observe(bytesOf([ipv4('127.0.0.1', '127.0.0.1'), echo(8, 7, 1), payload]), facts(DIRECTION_RECEIVED, 10.01));
    const reply = observe(bytesOf([ipv4('127.0.0.1', '127.0.0.1'), echo(0, 7, 1), payload]), facts(DIRECTION_RECEIVED, 10.02));
    expect(m.linkOf(reply)?.requestId).toBe(sent);
    expect(m.linkOf(copy)).toBeUndefined();
  });

  it('a capture pairs its own rows: its reply takes the request it captured, not a raw socket copy', () => {
    // The GUI bug: with a capture on lo, the captured reply linked to a raw socket's received copy
    // of the request (the sent request was taken by the socket's reply already).
    const { observe, matcher: m } = matcher();
    m.matchWithin(9);
    const header = ipv4('127.0.0.1', '127.0.0.1');
    const sent = observe(bytesOf([echo(8, 7, 1), payload]), facts(DIRECTION_SENT, 10, { withIpHeader: false, protocol: 1, peer: '127.0.0.1', socket: 1 }));
    const copy = observe(bytesOf([header, echo(8, 7, 1), payload]), facts(DIRECTION_RECEIVED, 10.01, { socket: 1 }));
    const capturedRequest = observe(bytesOf([header, echo(8, 7, 1), payload]), facts(DIRECTION_RECEIVED, 10.01, { socket: 9 }));
    const reply = observe(bytesOf([header, echo(0, 7, 1), payload]), facts(DIRECTION_RECEIVED, 10.02, { socket: 1 }));
    const capturedReply = observe(bytesOf([header, echo(0, 7, 1), payload]), facts(DIRECTION_RECEIVED, 10.02, { socket: 9 }));
    expect(m.linkOf(reply)?.requestId).toBe(sent);
    expect(m.linkOf(capturedReply)?.requestId).toBe(capturedRequest);
    expect(m.linkOf(copy)).toBeUndefined();
  });

  it('identical requests (a send job repeating one packet) take their replies in order', () => {
    const { observe, matcher: m } = matcher();
    const request = bytesOf([echo(128, 9, 3, 'icmpv6'), payload], { source: '::1', destination: '::1' });
    const reply = bytesOf([echo(129, 9, 3, 'icmpv6'), payload], { source: '::1', destination: '::1' });
    const headerless = (direction: DirectionCode, time: number) => facts(direction, time, { family: 6, withIpHeader: false, protocol: 58, peer: '::1' });
    const ids = [observe(request, headerless(DIRECTION_SENT, 1)), observe(request, headerless(DIRECTION_SENT, 2))];
    const replies = [observe(reply, headerless(DIRECTION_RECEIVED, 3)), observe(reply, headerless(DIRECTION_RECEIVED, 4)), observe(reply, headerless(DIRECTION_RECEIVED, 5))];
    expect(replies.map((id) => m.linkOf(id)?.requestId)).toEqual([ids[0], ids[1], undefined]);
    expect(m.linkOf(replies[1])?.rttMs).toBe(2);
  });

  it('links a traceroute probe to the Time Exceeded that quotes it (UDP, ICMP echo, TCP)', () => {
    const { observe, matcher: m } = matcher();
    const local = { source: '198.18.0.1', destination: '198.18.3.2' };
    const probeFacts = (protocol: number, time: number) => facts(DIRECTION_SENT, time, { withIpHeader: false, protocol, peer: '198.18.3.2' });
    const udp = observe(bytesOf([{ kind: 'udp', fields: { srcPort: 40001, dstPort: 33435 } }, payload], local), probeFacts(17, 1));
    const icmp = observe(bytesOf([echo(8, 0x4242, 2), payload]), probeFacts(1, 2));
    const tcp = observe(bytesOf([{ kind: 'tcp', fields: { srcPort: 40002, dstPort: 80, seq: 0xfffffff0, flags: 0x02 } }], local), probeFacts(6, 3));
    // The router quotes the probe as it arrived: TTL 1, its own header checksum.
    const quoting = (inner: PacketStack, time: number) =>
      observe(bytesOf([ipv4('198.18.1.1', '198.18.0.1'), { kind: 'icmp', fields: { type: 11, code: 0 } }, ipv4('198.18.0.1', '198.18.3.2', 1), ...inner]), facts(DIRECTION_RECEIVED, time));
    const udpError = quoting([{ kind: 'udp', fields: { srcPort: 40001, dstPort: 33435 } }, payload], 11);
    const icmpError = quoting([echo(8, 0x4242, 2)], 12.5);
    const tcpError = quoting([{ kind: 'tcp', fields: { srcPort: 40002, dstPort: 80, seq: 0xfffffff0, flags: 0x02 } }], 13);
    // A probe to another port, and an error quoting a probe nobody sent, stay unmatched.
    const other = quoting([{ kind: 'udp', fields: { srcPort: 40001, dstPort: 33436 } }], 14);
    expect(m.linkOf(udpError)).toEqual({ requestId: udp, rttMs: 10 });
    expect(m.linkOf(icmpError)).toEqual({ requestId: icmp, rttMs: 10.5 });
    expect(m.linkOf(tcpError)).toEqual({ requestId: tcp, rttMs: 10 });
    expect(m.linkOf(udp)).toEqual({ replyId: udpError });
    expect(m.linkOf(other)).toBeUndefined();
  });

  it('links an IPv6 probe to the ICMPv6 error a raw socket delivers without its IPv6 header', () => {
    const { observe, matcher: m } = matcher();
    const addresses = { source: 'fd42::1', destination: 'fd42::3:2' };
    const probe = observe(bytesOf([{ kind: 'udp', fields: { srcPort: 40003, dstPort: 33434 } }, payload], addresses), facts(DIRECTION_SENT, 5, { family: 6, withIpHeader: false, protocol: 17, peer: 'fd42::3:2' }));
    const error = observe(
      bytesOf([{ kind: 'icmpv6', fields: { type: 3, code: 0 } }, { kind: 'ipv6', fields: { src: 'fd42::1', dst: 'fd42::3:2', hopLimit: 1 } }, { kind: 'udp', fields: { srcPort: 40003, dstPort: 33434 } }], { source: 'fd42::1:1', destination: 'fd42::1' }),
      facts(DIRECTION_RECEIVED, 6, { family: 6, withIpHeader: false, protocol: 58, peer: 'fd42::1:1' }),
    );
    expect(m.linkOf(error)).toEqual({ requestId: probe, rttMs: 1 });
  });

  it('links a TCP SYN to the SYN-ACK or RST that acknowledges it, not to other segments', () => {
    const { observe, matcher: m } = matcher();
    const syn = (srcPort: number, seq: number, time: number) =>
      observe(bytesOf([ipv4('198.18.0.1', '198.18.3.2'), { kind: 'tcp', fields: { srcPort, dstPort: 80, seq, flags: 0x02 } }]), facts(DIRECTION_SENT, time));
    const answer = (dstPort: number, ack: number, flags: number, time: number) =>
      observe(bytesOf([ipv4('198.18.3.2', '198.18.0.1'), { kind: 'tcp', fields: { srcPort: 80, dstPort, ack, flags } }]), facts(DIRECTION_RECEIVED, time));
    const open = syn(40000, 100, 1);
    const closed = syn(40001, 0xffffffff, 2);
    const wrongAck = answer(40000, 100, 0x12, 3);
    const synAck = answer(40000, 101, 0x12, 4);
    const rst = answer(40001, 0, 0x14, 5);
    expect(m.linkOf(synAck)).toEqual({ requestId: open, rttMs: 3 });
    expect(m.linkOf(rst)).toEqual({ requestId: closed, rttMs: 3 });
    expect(m.linkOf(wrongAck)).toBeUndefined();
  });

  it('a packet socket on lo sees request and reply both as sent: they still pair', () => {
    const { observe, matcher: m } = matcher();
    const request = observe(bytesOf([ipv4('127.0.0.1', '127.0.0.1'), echo(8, 3, 1)]), facts(DIRECTION_SENT, 0));
    const reply = observe(bytesOf([ipv4('127.0.0.1', '127.0.0.1'), echo(0, 3, 1)]), facts(DIRECTION_SENT, 0.01));
    expect(m.linkOf(reply)).toEqual({ requestId: request, rttMs: 0.01 });
  });

  it('a reply must be later, within the expiry, and match identifier, sequence and address', () => {
    const { observe, matcher: m } = matcher();
    const request = bytesOf([ipv4('198.18.0.1', '198.18.3.2'), echo(8, 1, 1)]);
    observe(request, facts(DIRECTION_SENT, 0));
    expect(m.linkOf(observe(bytesOf([ipv4('198.18.3.3', '198.18.0.1'), echo(0, 1, 1)]), facts(DIRECTION_RECEIVED, 1)))).toBeUndefined();
    expect(m.linkOf(observe(bytesOf([ipv4('198.18.3.2', '198.18.0.1'), echo(0, 2, 1)]), facts(DIRECTION_RECEIVED, 1)))).toBeUndefined();
    expect(m.linkOf(observe(bytesOf([ipv4('198.18.3.2', '198.18.0.1'), echo(0, 1, 2)]), facts(DIRECTION_RECEIVED, 1)))).toBeUndefined();
    expect(m.linkOf(observe(bytesOf([ipv4('198.18.3.2', '198.18.0.1'), echo(0, 1, 1)]), facts(DIRECTION_RECEIVED, EXPIRY_MS + 1)))).toBeUndefined();
    // Imported packets pair with imported ones.
    const imported = observe(request, facts(DIRECTION_IMPORTED, 0));
    expect(m.linkOf(observe(bytesOf([ipv4('198.18.3.2', '198.18.0.1'), echo(0, 1, 1)]), facts(DIRECTION_IMPORTED, 2)))?.requestId).toBe(imported);
  });

  it('stays bounded: a million unanswered requests evict the oldest, a fresh one still matches', () => {
    const { observe, matcher: m } = matcher(100_000);
    const bytes = bytesOf([ipv4('198.18.0.1', '198.18.3.2'), echo(8, 0, 0)]);
    for (let i = 0; i < 1_000_000; i++) {
      bytes[24] = i >> 8;
      bytes[25] = i & 0xff;
      bytes[26] = i >> 16;
      observe(bytes, facts(DIRECTION_SENT, i / 1000));
    }
    const last = observe(bytesOf([ipv4('198.18.0.1', '198.18.3.2'), echo(8, 0xbeef, 7)]), facts(DIRECTION_SENT, 1000));
    const reply = observe(bytesOf([ipv4('198.18.3.2', '198.18.0.1'), echo(0, 0xbeef, 7)]), facts(DIRECTION_RECEIVED, 1000.5));
    expect(m.linkOf(reply)?.requestId).toBe(last);
  });

  it('forgets a row whose log slot was reused, and keeps links through a resize', () => {
    const ring = new PacketRing({ capacity: 4 });
    const m = new RequestMatcher(4, (id) => ring.has(id));
    const log = (bytes: Uint8Array, packetFacts: PacketFacts) => {
      const id = ring.append(bytes, 0, bytes.length, packetFacts);
      m.observeLogged(ring, id);
      return id;
    };
    const request = log(bytesOf([echo(8, 5, 5)]), facts(DIRECTION_SENT, 1, { withIpHeader: false, protocol: 1, peer: '127.0.0.1' }));
    const reply = log(bytesOf([ipv4('127.0.0.1', '127.0.0.1'), echo(0, 5, 5)]), facts(DIRECTION_RECEIVED, 1.5));
    expect(m.linkOf(reply)).toEqual({ requestId: request, rttMs: 0.5 });
    ring.resize(8);
    m.resize(8, ring.oldestId, ring.nextId);
    expect(m.linkOf(request)).toEqual({ replyId: reply });
    for (let i = 0; i < 8; i++) log(bytesOf([ipv4('127.0.0.1', '127.0.0.1'), echo(0, 6, i)]), facts(DIRECTION_RECEIVED, 2));
    expect(m.linkOf(request)).toBeUndefined();
    expect(m.linkOf(request + 8)).toBeUndefined();
  });

  it('costs well under a microsecond per packet (micro-benchmark)', () => {
    const { observe } = matcher(100_000);
    const request = bytesOf([ipv4('127.0.0.1', '127.0.0.1'), echo(8, 0x77, 0), payload]);
    const reply = bytesOf([ipv4('127.0.0.1', '127.0.0.1'), echo(0, 0x77, 0), payload]);
    const sent = facts(DIRECTION_SENT, 0);
    const received = facts(DIRECTION_RECEIVED, 0);
    const round = (pairs: number) => {
      const started = performance.now();
      for (let i = 0; i < pairs; i++) {
        request[26] = reply[26] = i >> 8;
        request[27] = reply[27] = i & 0xff;
        sent.time = received.time = i / 100;
        observe(request, sent);
        observe(reply, received);
      }
      return ((performance.now() - started) * 1e6) / (2 * pairs);
    };
    round(50_000); // warm-up
    const nsPerPacket = Math.min(round(200_000), round(200_000));
    console.log(`RequestMatcher: ${nsPerPacket.toFixed(0)} ns per packet (echo request/reply pairs with IPv4 headers)`);
    expect(nsPerPacket).toBeLessThan(1000);
  });
});
