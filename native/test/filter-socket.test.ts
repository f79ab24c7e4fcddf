// Capture filters on real sockets: the kernel delivers only what the expression
// matches, on IPv4 raw sockets (data from the IP header), IPv6 raw and ICMP datagram
// sockets (the program rewritten onto the IP header the kernel took off), packets
// queued before a change are discarded, and null removes the filter.
import { createSocket as createUdpSocket, type Socket as UdpSocket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createNamespace, labSupport, NOBODY, readableCopy, type Namespace, type ReadableCopy } from '../../main/lab';
import * as raw from '../lib/index';
import { SocketJar, echoRequest, ipv4Socket, ipv6Socket, parseIcmp, sendCb, sleep, uniqueId, waitFor } from './helpers';

const jar = new SocketJar();
const udpSockets: UdpSocket[] = [];
afterEach(() => {
  jar.closeAll();
  for (const socket of udpSockets.splice(0)) socket.close();
});

const root = process.getuid?.() === 0;
const support = labSupport();

/** UDP datagrams from node:dgram to 127.0.0.1:port, each payload `${marker}:${port}:${n}`. */
async function sendUdp(ports: number[], marker: string, count: number): Promise<void> {
  const sender = createUdpSocket('udp4');
  udpSockets.push(sender);
  for (let n = 0; n < count; n++) {
    for (const port of ports) {
      await new Promise<void>((resolve, reject) => sender.send(`${marker}:${port}:${n}`, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
    }
  }
}

/** The destination ports of this test's datagrams a raw UDP socket (IPv4: IP header first) delivered. */
function collectUdp(socket: raw.Socket, marker: string): number[] {
  const ports: number[] = [];
  socket.on('message', (buffer: Buffer) => {
    const ihl = (buffer[0] & 0x0f) * 4;
    const payload = buffer.subarray(ihl + 8).toString('latin1');
    if (payload.startsWith(`${marker}:`)) ports.push(buffer.readUInt16BE(ihl + 2));
  });
  return ports;
}

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

describe.skipIf(!root)(`capture filters on raw sockets${root ? '' : ' (skipped: needs root: raw sockets)'}`, () => {
  it("raw ICMP socket with 'icmp[icmptype] == icmp-echoreply' sees only the replies to loopback pings (an unfiltered one sees the requests too)", async () => {
    const filtered = jar.add(ipv4Socket({ filter: 'icmp[icmptype] == icmp-echoreply' }));
    const unfiltered = jar.add(ipv4Socket());
    const sender = jar.add(ipv4Socket({ icmpTypes: [] }));
    expect(filtered.filter).toBe('icmp[icmptype] == icmp-echoreply');
    expect(unfiltered.filter).toBeNull();
    const id = uniqueId();
    const typesSeen = (socket: raw.Socket) => {
      const types: number[] = [];
      socket.on('message', (buffer: Buffer) => {
        const icmp = parseIcmp(buffer);
        if (icmp && icmp.id === id) types.push(icmp.type);
      });
      return types;
    };
    const filteredTypes = typesSeen(filtered);
    const unfilteredTypes = typesSeen(unfiltered);
    for (let seq = 0; seq < 20; seq++) {
      const [error] = await sendCb(sender, echoRequest({ id, seq }), '127.0.0.1');
      expect(error).toBeNull();
    }
    await waitFor(() => filteredTypes.length >= 20 && unfilteredTypes.length >= 40, 5000, 'replies');
    await sleep(50);
    expect(filteredTypes).toEqual(new Array(20).fill(0));
    expect(unfilteredTypes.filter((type) => type === 8)).toHaveLength(20);
  });

  it("raw UDP socket with 'udp port 40001' sees only that port's datagrams; setFilter(null) removes the filter", async () => {
    const socket = jar.add(ipv4Socket({ protocol: raw.Protocol.UDP, mode: 'raw', filter: 'udp port 40001' }));
    const marker = `f${uniqueId()}`;
    const ports = collectUdp(socket, marker);
    await sendUdp([40001, 40002], marker, 10);
    await waitFor(() => ports.length >= 10, 3000, '10 datagrams to 40001');
    await sleep(100);
    expect(ports).toEqual(new Array(10).fill(40001));

    expect(socket.setFilter(null)).toBe(socket);
    expect(socket.filter).toBeNull();
    ports.length = 0;
    await sendUdp([40001, 40002], marker, 10);
    await waitFor(() => ports.length >= 20, 3000, '20 datagrams');
    expect(ports.filter((port) => port === 40002)).toHaveLength(10);
    // null on a socket without a filter is fine too.
    socket.setFilter(null);
  });

  it('setFilter replaces the filter, and packets queued before the change are discarded, not delivered', async () => {
    const socket = jar.add(ipv4Socket({ protocol: raw.Protocol.UDP, mode: 'raw', filter: 'udp port 40002' }));
    const marker = `q${uniqueId()}`;
    const ports = collectUdp(socket, marker);
    socket.pauseRecv();
    await sendUdp([40001, 40002], marker, 5); // five to 40002 wait in the kernel's queue
    await sleep(50);
    socket.setFilter('udp port 40001');
    expect(socket.filter).toBe('udp port 40001');
    socket.resumeRecv();
    await sendUdp([40001, 40002], marker, 5);
    await waitFor(() => ports.length >= 5, 3000, '5 datagrams to 40001');
    await sleep(100);
    expect(ports).toEqual(new Array(5).fill(40001));
  });

  it("IPv6 raw ICMPv6 socket: 'icmp6[icmp6type] == icmp6-echoreply and ip6 src ::1' reads the IPv6 header the socket never delivers", async () => {
    const socket = jar.add(ipv6Socket({ filter: 'icmp6[icmp6type] == icmp6-echoreply and ip6 src ::1' }));
    const control = jar.add(ipv6Socket());
    const id = uniqueId();
    const seen = (target: raw.Socket) => {
      const types: number[] = [];
      target.on('message', (buffer: Buffer) => {
        const icmp = parseIcmp(buffer, 6);
        if (icmp && icmp.id === id) types.push(icmp.type);
      });
      return types;
    };
    const types = seen(socket);
    const controlTypes = seen(control);
    for (let seq = 0; seq < 10; seq++) {
      const [error] = await sendCb(control, echoRequest({ id, seq, family: 6 }), '::1');
      expect(error).toBeNull();
    }
    await waitFor(() => types.length >= 10 && controlTypes.length >= 20, 5000, 'echo replies');
    await sleep(50);
    expect(types).toEqual(new Array(10).fill(129));

    // Another source address matches nothing: the header really is read.
    socket.setFilter('icmp6 and ip6 src ::2');
    types.length = 0;
    for (let seq = 0; seq < 5; seq++) await sendCb(control, echoRequest({ id, seq, family: 6 }), '::1');
    await waitFor(() => controlTypes.length >= 30, 3000, 'control sees the second round');
    await sleep(100);
    expect(types).toEqual([]);
  });

  it('the packet length cannot be filtered where the kernel took the IP header off: refused with the reason, the socket unchanged', () => {
    const socket = jar.add(ipv6Socket({ filter: 'icmp6' }));
    expect(() => socket.setFilter('len > 100')).toThrow(raw.FilterError);
    expect(() => socket.setFilter('greater 100')).toThrow(/cannot be filtered on an IPv6 raw socket: the kernel runs the filter after taking the IP header off.*packet socket/);
    expect(socket.filter).toBe('icmp6');
    // On an IPv4 raw socket the data starts at the IP header: len is the packet's length.
    expect(jar.add(ipv4Socket({ filter: 'len > 100' })).filter).toBe('len > 100');
  });

  it('a bad filter option throws before a socket is opened (no descriptor left behind); bad setFilter leaves the old filter', () => {
    const before = openDescriptors();
    expect(() => raw.createSocket({ protocol: raw.Protocol.ICMP, mode: 'raw', filter: 'icmp and and' })).toThrow(raw.FilterSyntaxError);
    expect(() => raw.createSocket({ protocol: raw.Protocol.ICMP, mode: 'raw', filter: 'host 1.2.3.4.5' })).toThrow(raw.FilterError);
    expect(() => raw.createSocket({ protocol: raw.Protocol.ICMP, mode: 'raw', filter: 7 as unknown as string })).toThrow(TypeError);
    expect(openDescriptors()).toBe(before);
    const socket = jar.add(ipv4Socket({ filter: 'icmp' }));
    expect(() => socket.setFilter('icmp[icmptype] == nope')).toThrow(expect.objectContaining({ code: 'ERR_FILTER_SYNTAX', position: 18 }));
    expect(socket.filter).toBe('icmp');
    socket.close();
    expect(() => socket.setFilter('icmp')).toThrow(raw.SocketClosedError);
  });
});

describe.skipIf(!root || typeof (raw as { createPacketSocket?: unknown }).createPacketSocket !== 'function')(`capture filters on packet sockets${root ? '' : ' (skipped: needs root: packet sockets)'}`, () => {
  it("a packet socket on lo with 'udp dst port P' sees that port's datagrams both ways (the data starts at the IP header, IPv4 and IPv6)", async () => {
    const port = 41000 + Math.floor(Math.random() * 9000);
    const socket = jar.add(raw.createPacketSocket({ interface: 'lo', filter: `udp dst port ${port}` }));
    expect(socket.mode).toBe('packet');
    expect(socket.filter).toBe(`udp dst port ${port}`);
    const seen: string[] = [];
    socket.on('message', (buffer: Buffer, _address: string, info: { direction?: string }) => {
      const version = buffer[0] >> 4;
      const udp = version === 4 ? (buffer[0] & 0x0f) * 4 : 40;
      seen.push(`${version}:${buffer.readUInt16BE(udp + 2)}:${info.direction}`);
    });
    await sendUdp([port, port + 1], 'p', 2);
    const six = createUdpSocket('udp6');
    udpSockets.push(six);
    for (const target of [port, port + 1]) await new Promise<void>((resolve, reject) => six.send('p', target, '::1', (error) => (error ? reject(error) : resolve())));
    // Loopback shows each packet twice: leaving (outbound) and arriving (inbound).
    await waitFor(() => seen.length >= 6, 3000, 'six copies');
    await sleep(100);
    expect(seen.sort()).toEqual([`4:${port}:inbound`, `4:${port}:inbound`, `4:${port}:outbound`, `4:${port}:outbound`, `6:${port}:inbound`, `6:${port}:outbound`]);
    // 'len' is the whole packet's length here: IPv4 header, UDP header, payload.
    socket.setFilter(`udp dst port ${port} and len == ${20 + 8 + Buffer.byteLength(`p:${port}:0`)}`);
    seen.length = 0;
    await sendUdp([port], 'p', 1);
    await waitFor(() => seen.length >= 2, 3000, 'both copies of the one datagram');
    expect(seen).toEqual([`4:${port}:outbound`, `4:${port}:inbound`]);
  });
});

describe.skipIf(!support.supported)(`capture filters without privilege${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  let namespace: Namespace | undefined;
  let copy: ReadableCopy | undefined;
  afterAll(async () => {
    await namespace?.destroy();
    copy?.remove();
  });

  it("nobody's ICMP datagram (ping) socket with 'icmp[6:2] != 2 and src host 127.0.0.1' (the program rewritten onto the IP header the kernel took off): sequence 2's reply is dropped", async () => {
    copy = readableCopy('pw-filter');
    const script = copy.add(path.join(__dirname, 'fixtures', 'filter-ping.js'));
    namespace = await createNamespace({ suffix: 'filter-ping', sysctls: { 'net.ipv4.ping_group_range': '0 2147483647' } });
    const result = await namespace.exec([process.execPath, script, copy.nativeDir], {
      user: NOBODY,
      check: false,
      timeoutMs: 20_000,
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', LANG: 'C' },
    });
    expect(result, `fixture failed: ${result.stderr}`).toMatchObject({ code: 0, timedOut: false });
    const report = JSON.parse(result.stdout) as { mode: string; filter: string; sequences: number[] };
    expect(report.mode).toBe('datagram');
    expect(report.filter).toBe('icmp[6:2] != 2 and src host 127.0.0.1');
    expect(report.sequences.sort()).toEqual([1, 3]);
  });
});
