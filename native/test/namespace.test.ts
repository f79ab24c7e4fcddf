// The `namespace` option: a socket opened inside a lab's network namespace (setns around
// socket() on the calling thread) lives there: it reaches and hears what only the lab has,
// a packet socket finds and names the lab's interfaces, and the thread is back home after.
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, labSupport, type Namespace } from '../../main/lab';
import { binding } from '../lib/binding';
import { AddressFamily, createPacketSocket, createSocket, Protocol, type Socket } from '../lib/index';
import { readableNativeCopy } from './fixtures/native-copy';

const support = labSupport();
// Only the lab has this address (on its loopback): an echo to it is answered only from inside.
const LAB_ONLY = '198.18.99.7';
// An interface only the lab has (a veth pair inside it).
const DUMMY = 'pwnsveth0';

function echoRequest(identifier: number, sequence: number): Buffer {
  const packet = Buffer.from([8, 0, 0, 0, identifier >> 8, identifier & 0xff, sequence >> 8, sequence & 0xff, 0x6e, 0x73]);
  let sum = 0;
  for (let i = 0; i < packet.length; i += 2) sum += (packet[i] << 8) | (packet[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  packet.writeUInt16BE(~sum & 0xffff, 2);
  return packet;
}

/** Sends one echo request to LAB_ONLY and waits (bounded) for its reply on `socket`. */
function echoAnswered(socket: Socket, identifier: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const onMessage = (buffer: Buffer): void => {
      const icmp = buffer.subarray((buffer[0] & 0x0f) * 4);
      if (icmp[0] === 0 && icmp.readUInt16BE(4) === identifier) done(true);
    };
    const done = (answered: boolean): void => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(answered);
    };
    socket.on('message', onMessage);
    socket.send(echoRequest(identifier, 1), 0, 10, LAB_ONLY, null, (error) => error && done(false));
  });
}

const threadNamespace = (): string => readlinkSync('/proc/thread-self/ns/net');

describe('namespace option: bad input', () => {
  it('refuses bad names in TS with a TypeError or RangeError naming the option, before any socket', () => {
    for (const name of ['', '.', '..', '../x', 'a/b', '/run/netns/x', 'x'.repeat(65), 'sp ace', 'nul\0', '.hidden']) {
      expect(() => createSocket({ protocol: Protocol.ICMP, namespace: name }), JSON.stringify(name)).toThrow(RangeError);
      expect(() => createPacketSocket({ namespace: name }), JSON.stringify(name)).toThrow(/"namespace" option/);
    }
    expect(() => createSocket({ protocol: Protocol.ICMP, namespace: 7 as unknown as string })).toThrow(TypeError);
    expect(() => createSocket({ protocol: Protocol.ICMP, namespace: 'lab', descriptor: 0 })).toThrow(/exclude each other/);
  });

  it('the addon checks them again: TypeError or RangeError, never a crash', () => {
    const handlers = { onMessages() {}, onWritable() {}, onError() {}, onClose() {}, onIcmpErrors() {} };
    const base = { bufferSize: 4096, mode: 1 as const, timestamps: false, receiveTtl: false, receiveErrors: false, descriptor: undefined };
    for (const name of ['', '..', '../x', 'a/b', 'x'.repeat(65), 'nul\0x', '.x']) {
      expect(() => new binding.RawSocket(1, 1, { ...base, namespace: name }, handlers), JSON.stringify(name)).toThrow(RangeError);
    }
    expect(() => new binding.RawSocket(1, 1, { ...base, namespace: 12 as unknown as string }, handlers)).toThrow(TypeError);
    expect(() => new binding.RawSocket(0, -1, { ...base, descriptor: 0, namespace: 'lab' }, handlers)).toThrow(RangeError);
  });

  it('a namespace that does not exist: ENOENT naming it, and the thread stays home', () => {
    const home = threadNamespace();
    expect(() => createSocket({ protocol: Protocol.ICMP, namespace: 'pw-no-such-namespace' })).toThrow(
      expect.objectContaining({ code: 'ENOENT', syscall: 'open', message: expect.stringContaining("'pw-no-such-namespace'") }),
    );
    expect(threadNamespace()).toBe(home);
  });
});

describe.skipIf(!support.supported)(`namespace option in a lab${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  let lab: Namespace | undefined;
  const open: Socket[] = [];

  beforeAll(async () => {
    lab = await createNamespace();
    await lab.exec(['ip', 'addr', 'add', `${LAB_ONLY}/32`, 'dev', 'lo']);
    await lab.exec(['ip', 'link', 'add', DUMMY, 'type', 'veth', 'peer', 'name', `${DUMMY}p`]);
    // Up: a packet socket bound to a down interface gets ENETDOWN as a socket error.
    await lab.exec(['ip', 'link', 'set', DUMMY, 'up']);
  });

  afterAll(async () => {
    for (const socket of open) socket.close();
    await lab?.destroy();
  });

  it("a raw socket opened in the lab reaches the lab's address; one at home does not; the thread is back home", async () => {
    const home = threadNamespace();
    const inLab = createSocket({ protocol: Protocol.ICMP, mode: 'raw', namespace: (lab as Namespace).name });
    open.push(inLab);
    expect(threadNamespace()).toBe(home);
    const atHome = createSocket({ protocol: Protocol.ICMP, mode: 'raw' });
    open.push(atHome);
    expect(await echoAnswered(inLab, 0x4e01, 3000)).toBe(true);
    expect(await echoAnswered(atHome, 0x4e02, 500)).toBe(false);
    // The kernel lists the socket in the lab's /proc/net/raw only.
    const inode = readlinkSync(`/proc/self/fd/${inLab.descriptor}`).match(/socket:\[(\d+)\]/)?.[1];
    expect(inode).toBeDefined();
    expect((await (lab as Namespace).exec(['cat', '/proc/net/raw'])).stdout).toMatch(new RegExp(`\\s${inode}\\s`));
  });

  it('IPv6 and a UDP datagram socket open there too', () => {
    const name = (lab as Namespace).name;
    const v6 = createSocket({ addressFamily: AddressFamily.IPv6, protocol: Protocol.ICMPv6, namespace: name });
    const udp = createSocket({ protocol: Protocol.UDP, mode: 'datagram', namespace: name });
    open.push(v6, udp);
    expect([v6.mode, udp.mode]).toEqual(['raw', 'datagram']);
  });

  it("a packet socket finds the lab's interface by name, sees the lab's traffic and names the lab's interfaces", async () => {
    const name = (lab as Namespace).name;
    expect(() => createPacketSocket({ interface: DUMMY })).toThrow(expect.objectContaining({ code: 'ENODEV' }));
    open.push(createPacketSocket({ interface: DUMMY, namespace: name }));
    const capture = createPacketSocket({ namespace: name, protocol: 'ipv4' });
    open.push(capture);
    const seen: { source: string; interface: string }[] = [];
    capture.on('message', (buffer: Buffer, _address: string, info: { interface?: string }) => {
      seen.push({ source: `${buffer[12]}.${buffer[13]}.${buffer[14]}.${buffer[15]}`, interface: info.interface ?? '' });
    });
    const sender = createSocket({ protocol: Protocol.ICMP, mode: 'raw', namespace: name });
    open.push(sender);
    expect(await echoAnswered(sender, 0x4e03, 3000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const packet of seen) expect(packet).toEqual({ source: LAB_ONLY, interface: 'lo' });
  });

  it("a packet socket bound to an interface that is down reports the kernel's ENETDOWN, not a poll error", async () => {
    const lab2 = lab as Namespace;
    await lab2.exec(['ip', 'link', 'add', 'pwnsdown0', 'type', 'veth', 'peer', 'name', 'pwnsdown1']);
    const socket = createPacketSocket({ interface: 'pwnsdown0', namespace: lab2.name });
    open.push(socket);
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 3000);
      socket.once('error', (reported: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(reported);
      });
    });
    expect(error, 'an error event within 3 s').not.toBeNull();
    expect(error?.code).toBe('ENETDOWN');
    expect(error?.message).not.toMatch(/bad file descriptor/i);
  });

  it('as user nobody (no CAP_SYS_ADMIN): EPERM with the remedy, and the thread is back home', () => {
    const copy = readableNativeCopy([]);
    try {
      const script = `
        const { createSocket } = require(${JSON.stringify(copy.nativeDir)});
        const fs = require('fs');
        const home = fs.readlinkSync('/proc/thread-self/ns/net');
        try { createSocket({ protocol: 17, mode: 'datagram', namespace: ${JSON.stringify((lab as Namespace).name)} }); console.log(JSON.stringify({ opened: true })); }
        catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, message: e.message, home: fs.readlinkSync('/proc/thread-self/ns/net') === home })); }`;
      const output = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', process.execPath, '-e', script], { encoding: 'utf8', timeout: 20_000 });
      const result = JSON.parse(output) as { code: string; syscall: string; message: string; home: boolean };
      expect(result).toMatchObject({ code: 'EPERM', syscall: 'setns', home: true });
      expect(result.message).toMatch(/CAP_SYS_ADMIN.*--namespaces/s);
    } finally {
      copy.remove();
    }
  });
});
