// receiveErrors: the ICMP errors about a socket's own packets, from the kernel's error
// queue (IP_RECVERR / IPV6_RECVERR), as 'icmpError' events. On loopback (as root, in
// this process) and through a namespace lab as user nobody: unprivileged traceroute.
import { createSocket as createUdpSocket, type Socket as UdpSocket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labSupport, NOBODY, type Lab } from '../../main/lab';
import * as raw from '../lib/index';
import { readableNativeCopy, nobodyEnv, type NativeCopy } from './fixtures/native-copy';
import { closedPort, retryOnIcmpRateLimit, SocketJar, sleep, waitFor } from './helpers';

const jar = new SocketJar();
afterEach(() => jar.closeAll());

const FAMILIES = [
  { name: 'IPv4', family: raw.AddressFamily.IPv4, loopback: '127.0.0.1', udp: 'udp4', origin: 'icmp', unreachable: [3, 3] },
  { name: 'IPv6', family: raw.AddressFamily.IPv6, loopback: '::1', udp: 'udp6', origin: 'icmp6', unreachable: [1, 4] },
] as const;

function udpSocket(family: number, options: raw.SocketOptions = {}): raw.Socket {
  return jar.add(raw.createSocket({ addressFamily: family, protocol: raw.Protocol.UDP, mode: 'datagram', receiveErrors: true, ...options }));
}

function collect(socket: raw.Socket): raw.IcmpError[] {
  const errors: raw.IcmpError[] = [];
  socket.on('icmpError', (error: raw.IcmpError) => errors.push(error));
  return errors;
}

function sendTo(socket: raw.Socket, payload: Buffer, destination: raw.Destination | string): Promise<[Error | null, number]> {
  return new Promise((resolve) => socket.send(payload, 0, payload.length, destination, (error, bytes) => resolve([error, bytes])));
}

/** it(), retried only when the kernel's global ICMP budget dropped errors meanwhile. */
function itIcmp(name: string, body: () => Promise<void>): void {
  it(name, () => retryOnIcmpRateLimit(body));
}

describe.each(FAMILIES)('UDP datagram socket with receiveErrors on $loopback', ({ family, loopback, udp, origin, unreachable }) => {
  itIcmp('is an ordinary UDP socket: mode datagram, a port required, info.port on messages', async () => {
    const socket = udpSocket(family);
    expect(socket.mode).toBe('datagram');
    expect(socket.protocol).toBe(raw.Protocol.UDP);
    const peer = createUdpSocket(udp);
    try {
      await new Promise<void>((resolve) => peer.bind(0, loopback, resolve));
      const received = new Promise<[Buffer, { port: number }]>((resolve) => peer.once('message', (m, r) => resolve([m, r])));
      expect(await socket.send(Buffer.from('ping'), 0, 4, { address: loopback, port: peer.address().port })).toBe(4);
      const [message, source] = await received;
      expect(message.toString()).toBe('ping');
      const reply = new Promise<[Buffer, string, raw.MessageInfo]>((resolve) => socket.once('message', (b: Buffer, a: string, i: raw.MessageInfo) => resolve([b, a, i])));
      peer.send('pong', source.port, loopback);
      const [buffer, address, info] = await reply;
      expect(buffer.toString()).toBe('pong');
      expect(address).toBe(loopback);
      expect(info.port).toBe(peer.address().port);
    } finally {
      peer.close();
    }
    // No port, port 0, port 65536: RangeError through the afterCallback.
    for (const destination of [loopback, { address: loopback }, { address: loopback, port: 0 }, { address: loopback, port: 65536 }, { address: loopback, port: 1.5 }]) {
      const [error] = await sendTo(socket, Buffer.from('x'), destination);
      expect(error, JSON.stringify(destination)).toBeInstanceOf(RangeError);
      expect(error).toMatchObject({ code: 'ERR_SOCKET_BAD_PORT' });
      expect(error?.message).toMatch(/port/);
    }
  });

  itIcmp('a port unreachable arrives as an icmpError with the offender, the original destination and the payload', async () => {
    const socket = udpSocket(family, { timestamps: true });
    const errors = collect(socket);
    const port = await closedPort(udp, loopback);
    const payload = Buffer.from('pw-error-queue');
    expect(await socket.send(payload, 0, payload.length, { address: loopback, port })).toBe(payload.length);
    await waitFor(() => errors.length >= 1, 2000, 'the icmpError');
    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error).toMatchObject({
      code: 'ECONNREFUSED',
      errno: 111,
      origin,
      icmpType: unreachable[0],
      icmpCode: unreachable[1],
      info: 0,
      offender: loopback,
      address: loopback,
      port,
    });
    expect(error.data.equals(payload)).toBe(true);
    expect(typeof error.timestamp).toBe('bigint');
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    expect(error.timestamp as bigint).toBeLessThanOrEqual(nowNs + 1_000_000_000n);
    expect(error.timestamp as bigint).toBeGreaterThan(nowNs - 10_000_000_000n);
    expect(socket.isClosed).toBe(false);
  });

  itIcmp('sk_err (a): a send right after an error is not failed by it, and both errors arrive', async () => {
    const socket = udpSocket(family);
    const errors = collect(socket);
    const port = await closedPort(udp, loopback);
    // On loopback the port unreachable is queued before the first send returns; the
    // second send (its own flush) must not fail with the first one's ECONNREFUSED.
    expect(await sendTo(socket, Buffer.from('one'), { address: loopback, port })).toEqual([null, 3]);
    expect(errors).toEqual([]); // no turn of the loop yet: nothing has read the error queue
    expect(await sendTo(socket, Buffer.from('two'), { address: loopback, port: port })).toEqual([null, 3]);
    // Still no turn of the loop (no poll): the second send's flush read the queue first,
    // and delivered the error on the next tick, not from inside the send.
    expect(errors.map((e) => e.data.toString())).toEqual(['one']);
    await waitFor(() => errors.length >= 2, 2000, 'two icmpErrors');
    expect(errors.map((e) => [e.origin, e.icmpType, e.icmpCode, e.offender, e.address, e.port, e.data.toString()])).toEqual([
      [origin, unreachable[0], unreachable[1], loopback, loopback, port, 'one'],
      [origin, unreachable[0], unreachable[1], loopback, loopback, port, 'two'],
    ]);
  });

  itIcmp('sk_err (b): an error drawn by the last message of one sendmmsg does not fail the first of the next (retried once)', async () => {
    const socket = udpSocket(family);
    const errors = collect(socket);
    const peer = createUdpSocket(udp);
    let delivered = 0;
    peer.on('message', () => delivered++);
    try {
      await new Promise<void>((resolve) => peer.bind(0, loopback, resolve));
      const open = peer.address().port;
      const closed = await closedPort(udp, loopback);
      // One turn of the loop: one batch, sent in chunks of 64 messages per sendmmsg. The
      // 64th goes to a closed port: its port unreachable (queued before sendmmsg returns
      // on loopback) leaves ECONNREFUSED pending for the 65th, the first of the next chunk.
      const sends: Array<Promise<[Error | null, number]>> = [];
      for (let i = 0; i < 70; i++) sends.push(sendTo(socket, Buffer.from(`m${i}`), { address: loopback, port: i === 63 ? closed : open }));
      const results = await Promise.all(sends);
      const failed = results.map(([error], i) => (error ? `${i}: ${error.message}` : null)).filter((f) => f !== null);
      expect(failed).toEqual([]);
      await waitFor(() => delivered >= 69 && errors.length >= 1, 2000, '69 datagrams and the icmpError');
      expect(errors.map((e) => [e.port, e.data.toString()])).toEqual([[closed, 'm63']]);
    } finally {
      peer.close();
    }
  });

  itIcmp('sends in one batch after an error all go out, and every error arrives in order', async () => {
    const socket = udpSocket(family);
    const errors = collect(socket);
    const ports = [await closedPort(udp, loopback), await closedPort(udp, loopback)];
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) => sendTo(socket, Buffer.from(`batch-${i}`), { address: loopback, port: ports[i % 2] })),
    );
    expect(results).toEqual([[null, 7], [null, 7], [null, 7], [null, 7]]);
    await waitFor(() => errors.length >= 4, 2000, 'four icmpErrors');
    expect(errors.map((e) => e.data.toString())).toEqual(['batch-0', 'batch-1', 'batch-2', 'batch-3']);
    expect(errors.map((e) => e.port)).toEqual([ports[0], ports[1], ports[0], ports[1]]);
  });

  itIcmp("sk_err (c): a receive that fails with a queued error's errno is not a socket error", async () => {
    const socket = udpSocket(family);
    const errors = collect(socket);
    const events: string[] = [];
    socket.on('message', (buffer: Buffer) => events.push(`message ${buffer}`));
    socket.on('icmpError', (error: raw.IcmpError) => events.push(`icmpError ${error.code}`));
    socket.on('error', (error: Error) => events.push(`error ${error.message}`));
    const peer = createUdpSocket(udp);
    try {
      await new Promise<void>((resolve) => peer.bind(0, loopback, resolve));
      const seen = new Promise<{ port: number }>((resolve) => peer.once('message', (_m, r) => resolve(r)));
      await socket.send(Buffer.from('hello'), 0, 5, { address: loopback, port: peer.address().port });
      const ourPort = (await seen).port;
      await sleep(20);
      events.length = 0;
      // Paused: nothing is read. The error leaves its errno pending in the socket, then a
      // datagram arrives behind it; on resume the receive meets the errno first.
      socket.pauseRecv();
      await socket.send(Buffer.from('lost'), 0, 4, { address: loopback, port: await closedPort(udp, loopback) });
      peer.send('after the error', ourPort, loopback);
      await sleep(50);
      expect(events).toEqual([]);
      socket.resumeRecv();
      await waitFor(() => events.length >= 2, 2000, 'the message and the icmpError');
      await sleep(20);
      expect(events).toEqual(['message after the error', 'icmpError ECONNREFUSED']);
      expect(socket.isClosed).toBe(false);
      expect(errors).toHaveLength(1);
    } finally {
      peer.close();
    }
  });

  itIcmp('a paused socket keeps its errors, in order, until resumeRecv', async () => {
    const socket = udpSocket(family);
    const errors = collect(socket);
    const port = await closedPort(udp, loopback);
    socket.pauseRecv();
    // The second and third sends read the error queue first (their flushes): what they
    // read waits with the rest.
    for (const text of ['p1', 'p2', 'p3']) expect(await sendTo(socket, Buffer.from(text), { address: loopback, port })).toEqual([null, 2]);
    await sleep(100);
    expect(errors).toEqual([]);
    socket.resumeRecv();
    await waitFor(() => errors.length >= 3, 2000, 'three icmpErrors after resume');
    expect(errors.map((e) => e.data.toString())).toEqual(['p1', 'p2', 'p3']);
    // A listener that pauses stops delivery in the middle of a batch; resume goes on.
    errors.length = 0;
    socket.removeAllListeners('icmpError');
    const seen: string[] = [];
    socket.on('icmpError', (error: raw.IcmpError) => {
      seen.push(error.data.toString());
      if (seen.length === 1) socket.pauseRecv();
    });
    await Promise.all(['q1', 'q2', 'q3'].map((text) => sendTo(socket, Buffer.from(text), { address: loopback, port })));
    await waitFor(() => seen.length >= 1, 2000, 'the first icmpError');
    await sleep(100);
    expect(seen).toEqual(['q1']);
    socket.resumeRecv();
    await waitFor(() => seen.length >= 3, 2000, 'the rest after resume');
    expect(seen).toEqual(['q1', 'q2', 'q3']);
  });

  itIcmp('an error queued with SO_SELECT_ERR_QUEUE turned off (POLLERR without POLLPRI) does not close the socket', async () => {
    const socket = udpSocket(family);
    const errors = collect(socket);
    const closed: Error[] = [];
    socket.on('error', (error: Error) => closed.push(error));
    socket.setOption(raw.SocketLevel.SOL_SOCKET, 45 /* SO_SELECT_ERR_QUEUE */, 0);
    const port = await closedPort(udp, loopback);
    await sendTo(socket, Buffer.from('a'), { address: loopback, port });
    await waitFor(() => errors.length >= 1, 2000, 'the icmpError');
    await sendTo(socket, Buffer.from('b'), { address: loopback, port });
    await waitFor(() => errors.length >= 2, 2000, 'the second icmpError');
    expect(closed).toEqual([]);
    expect(socket.isClosed).toBe(false);
  });

  itIcmp('a local error (datagram too long for IP): origin local, no offender, the send fails with EMSGSIZE', async () => {
    const socket = udpSocket(family);
    const errors = collect(socket);
    const port = await closedPort(udp, loopback);
    const big = Buffer.alloc(family === raw.AddressFamily.IPv4 ? 65_508 : 65_528);
    const [error] = await sendTo(socket, big, { address: loopback, port });
    expect(error).toMatchObject({ code: 'EMSGSIZE' });
    await waitFor(() => errors.length >= 1, 2000, 'the local error');
    // Linux names the destination port in an IPv6 local error, but only a connected
    // socket's port (none here) in an IPv4 one.
    const reported = family === raw.AddressFamily.IPv4 ? 0 : port;
    expect(errors[0]).toMatchObject({ code: 'EMSGSIZE', origin: 'local', icmpType: 0, icmpCode: 0, offender: null, address: loopback, port: reported });
    expect(errors[0].info).toBeGreaterThan(0); // the MTU it ran into
    expect(socket.isClosed).toBe(false);
  });

  itIcmp('close() with errors waiting delivers none and emits close', async () => {
    const socket = udpSocket(family);
    const errors = collect(socket);
    socket.pauseRecv();
    const port = await closedPort(udp, loopback);
    await sendTo(socket, Buffer.from('x'), { address: loopback, port });
    await sendTo(socket, Buffer.from('y'), { address: loopback, port });
    await socket.closeAsync();
    await sleep(50);
    expect(errors).toEqual([]);
  });
});

describe('raw sockets with receiveErrors on loopback', () => {
  itIcmp('a raw UDP socket gets the port unreachable about the datagram it built', async () => {
    const socket = jar.add(raw.createSocket({ protocol: raw.Protocol.UDP, receiveErrors: true }));
    expect(socket.mode).toBe('raw');
    const errors = collect(socket);
    const port = await closedPort('udp4', '127.0.0.1');
    const datagram = Buffer.alloc(8 + 4);
    datagram.writeUInt16BE(40000, 0);
    datagram.writeUInt16BE(port, 2);
    datagram.writeUInt16BE(datagram.length, 4); // checksum 0: none (IPv4)
    datagram.write('raw!', 8);
    // A raw socket's destination has no port.
    const [portError] = await sendTo(socket, datagram, { address: '127.0.0.1', port });
    expect(portError).toMatchObject({ code: 'ERR_SOCKET_BAD_PORT' });
    expect(await sendTo(socket, datagram, { address: '127.0.0.1' })).toEqual([null, 12]);
    await waitFor(() => errors.length >= 1, 2000, 'the icmpError');
    expect(errors[0]).toMatchObject({ code: 'ECONNREFUSED', origin: 'icmp', icmpType: 3, icmpCode: 3, offender: '127.0.0.1', address: '127.0.0.1', port: 0 });
    // The sent packet's payload: the UDP header we wrote, and its data.
    expect(errors[0].data.equals(datagram)).toBe(true);
  });

  itIcmp('without receiveErrors nothing changes: no icmpError, and the next send fails with nothing pending', async () => {
    const socket = jar.add(raw.createSocket({ protocol: raw.Protocol.UDP, mode: 'datagram' }));
    expect(socket.receiveErrors).toBe(false);
    const errors = collect(socket);
    const port = await closedPort('udp4', '127.0.0.1');
    expect(await sendTo(socket, Buffer.from('a'), { address: '127.0.0.1', port })).toEqual([null, 1]);
    expect(await sendTo(socket, Buffer.from('b'), { address: '127.0.0.1', port })).toEqual([null, 1]);
    await sleep(50);
    expect(errors).toEqual([]);
  });
});

// ---- through the lab, as nobody -------------------------------------------------------

const support = labSupport();

interface Answer {
  ttl: number;
  sendError?: string;
  timeout: boolean;
  code?: string;
  origin?: string;
  icmpType?: number;
  icmpCode?: number;
  offender?: string | null;
  address?: string;
  port?: number;
  hasTimestamp?: boolean;
  dataMatches?: boolean;
  timestampAfterSend?: boolean;
  kind?: 'error' | 'reply';
  from?: string;
  quotedType?: number;
  identifier?: number;
  payloadMatches?: boolean;
}
interface FamilyReport {
  udp: { mode: string; protocol: number; answers: Answer[]; socketError?: string };
  udpBurst: { sends: Array<string | null>; answers: Array<{ port: number; offender: string; icmpType: number }>; socketError?: string };
  ping: { opened: boolean; error?: string; mode?: string; answers: Answer[]; socketError?: string };
}
interface LabReport {
  uid: number;
  gid: number;
  results: Record<'ipv4' | 'ipv6', FamilyReport>;
}

describe.skipIf(!support.supported)(`unprivileged traceroute through the error queue, as nobody${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  let lab: Lab | undefined;
  let copy: NativeCopy | undefined;
  let report: LabReport;
  const BASE_PORT = 33434;

  beforeAll(async () => {
    copy = readableNativeCopy(['error-queue-lab.js']);
    lab = await createLab({ hostSysctls: { client: { 'net.ipv4.ping_group_range': '0 2147483647' } } });
    const config = { ipv4: lab.target.addresses.ipv4[0], ipv6: lab.target.addresses.ipv6[0], hops: lab.expectedHops.ipv4.length, timeoutMs: 2000, basePort: BASE_PORT };
    const result = await lab.exec('client', [process.execPath, copy.fixture('error-queue-lab.js'), copy.nativeDir, JSON.stringify(config)], {
      user: NOBODY,
      check: false,
      timeoutMs: 60_000,
      cwd: '/',
      env: nobodyEnv(),
    });
    expect(result, `fixture failed: ${result.stderr}`).toMatchObject({ code: 0, timedOut: false });
    report = JSON.parse(result.stdout) as LabReport;
  }, 90_000);

  afterAll(async () => {
    await lab?.destroy();
    copy?.remove();
  });

  it('ran as nobody', () => {
    expect(report.uid).toBe(NOBODY.uid);
    expect(report.gid).toBe(NOBODY.gid);
  });

  for (const name of ['ipv4', 'ipv6'] as const) {
    const timeExceeded = name === 'ipv4' ? [11, 0] : [3, 0];
    const portUnreachable = name === 'ipv4' ? [3, 3] : [1, 4];
    const origin = name === 'ipv4' ? 'icmp' : 'icmp6';

    it(`${name} UDP: TTL 1, 2, 3 → Time Exceeded from router1, router2, then port unreachable from the target`, () => {
      const l = lab as Lab;
      const target = l.target.addresses[name][0];
      const hops = l.expectedHops[name];
      const udp = report.results[name].udp;
      expect(udp.socketError).toBeUndefined();
      expect(udp).toMatchObject({ mode: 'datagram', protocol: 17 });
      expect(udp.answers.map((a) => a.offender)).toEqual(hops);
      udp.answers.forEach((answer, i) => {
        const last = i === hops.length - 1;
        expect(answer).toMatchObject({
          ttl: i + 1,
          timeout: false,
          origin,
          icmpType: last ? portUnreachable[0] : timeExceeded[0],
          icmpCode: last ? portUnreachable[1] : timeExceeded[1],
          code: last ? 'ECONNREFUSED' : 'EHOSTUNREACH',
          address: target,
          port: BASE_PORT + i + 1,
          hasTimestamp: true,
          dataMatches: true,
          timestampAfterSend: true,
        });
        expect(answer.sendError).toBeUndefined();
      });
    });

    it(`${name} UDP: every probe of a burst is sent and answered (pending errors never fail a send)`, () => {
      const burst = report.results[name].udpBurst;
      const hops = (lab as Lab).expectedHops[name];
      expect(burst.socketError).toBeUndefined();
      expect(burst.sends).toEqual(Array(hops.length * 2).fill(null));
      expect(burst.answers.map((a) => a.offender)).toEqual([...hops, ...hops]);
    });

    it(`${name} ping socket: TTL 1, 2 → Time Exceeded quoting the echo request, TTL 3 → the echo reply`, () => {
      const l = lab as Lab;
      const target = l.target.addresses[name][0];
      const hops = l.expectedHops[name];
      const ping = report.results[name].ping;
      expect(ping.error).toBeUndefined();
      expect(ping.socketError).toBeUndefined();
      expect(ping).toMatchObject({ opened: true, mode: 'datagram' });
      const answers = ping.answers;
      expect(answers).toHaveLength(hops.length);
      answers.slice(0, -1).forEach((answer, i) => {
        expect(answer).toMatchObject({
          ttl: i + 1,
          kind: 'error',
          origin,
          icmpType: timeExceeded[0],
          icmpCode: timeExceeded[1],
          offender: hops[i],
          address: target,
          port: 0,
          quotedType: name === 'ipv4' ? 8 : 128,
          payloadMatches: true,
          hasTimestamp: true,
        });
      });
      const reply = answers[answers.length - 1];
      expect(reply).toMatchObject({ ttl: hops.length, kind: 'reply', from: target, icmpType: name === 'ipv4' ? 0 : 129 });
      // The errors quote the kernel's identifier: the one the echo reply carries.
      for (const answer of answers.slice(0, -1)) expect(answer.identifier).toBe(reply.identifier);
    });
  }
});
