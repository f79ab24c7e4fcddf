// raw-socket compatibility: a README-style CommonJS program runs unchanged, echo
// round trips on loopback look like raw-socket's, constants match the docs and
// the Linux headers.
import { mkdtempSync, copyFileSync, mkdirSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as raw from '../lib/index';
import {
  FIXTURES,
  NATIVE_DIR,
  SocketJar,
  echoRequest,
  ipv4Socket,
  ipv6Socket,
  isEchoReply,
  nextMessage,
  parseIcmp,
  pingUntilReply,
  lostReply,
  retry,
  runNode,
  sendCb,
  uniqueId,
} from './helpers';

const jar = new SocketJar();
afterEach(() => jar.closeAll());

function expectReadmeOutput(stdout: string): void {
  const lines = stdout.trim().split('\n');
  expect(lines[0]).toBe('checksum 4352');
  expect(lines).toContain('sent 40 bytes');
  expect(lines).toContain('echo reply from 127.0.0.1');
  expect(lines[lines.length - 1]).toBe('socket closed');
  // 20 bytes of IP header + the 40-byte echo message, reported from the dotted quad.
  expect(lines.some((line) => /^received 60 bytes from 127\.0\.0\.1: 45[0-9a-f]{38}00[0-9a-f]{6}00010a09/.test(line))).toBe(true);
}

describe('drop-in for raw-socket (child processes)', () => {
  it('runs the README program against require(<native dir>)', async () => {
    // Up to 3 runs, again only after a run lost its echo (it waits for it until killed):
    // loopback is shared, and someone else's flood can overflow the program's receive queue.
    const result = await retry('README program', 3, () => runNode([path.join(FIXTURES, 'readme-ping.js'), NATIVE_DIR], { timeout: 10_000 }), lostReply);
    expect(result.stderr).not.toMatch(/Error:|Assertion|Segmentation/);
    expect(result.code).toBe(0);
    expectReadmeOutput(result.stdout);
  });

  it("runs the README program unchanged with require('raw-socket') resolving to native/ through node_modules", async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'raw-socket-compat-'));
    try {
      mkdirSync(path.join(folder, 'node_modules'));
      symlinkSync(NATIVE_DIR, path.join(folder, 'node_modules', 'raw-socket'), 'dir');
      copyFileSync(path.join(FIXTURES, 'readme-ping.js'), path.join(folder, 'program.js'));
      const resolved = await runNode(['-p', "require.resolve('raw-socket')"], { cwd: folder });
      expect(resolved.stdout.trim()).toBe(path.join(NATIVE_DIR, 'dist', 'index.js'));
      // As above: another run only after a lost echo.
      const result = await retry("README program via require('raw-socket')", 3, () => runNode(['program.js'], { cwd: folder, timeout: 10_000 }), lostReply);
      expect(result.code).toBe(0);
      expectReadmeOutput(result.stdout);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('exports every documented name from the CommonJS entry', async () => {
    const script =
      'const raw = require(process.argv[1]);' +
      "const names = ['AddressFamily','Protocol','SocketLevel','SocketOption','createChecksum','writeChecksum','htonl','htons','ntohl','ntohs','createSocket','Socket'];" +
      'console.log(JSON.stringify(names.map((n) => [n, typeof raw[n]])));';
    const result = await runNode(['-e', script, NATIVE_DIR]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      ['AddressFamily', 'object'],
      ['Protocol', 'object'],
      ['SocketLevel', 'object'],
      ['SocketOption', 'object'],
      ['createChecksum', 'function'],
      ['writeChecksum', 'function'],
      ['htonl', 'function'],
      ['htons', 'function'],
      ['ntohl', 'function'],
      ['ntohs', 'function'],
      ['createSocket', 'function'],
      ['Socket', 'function'],
    ]);
  });
});

describe('echo round trips on loopback', () => {
  it('IPv4: 127.0.0.1 answers; the message carries the IP header', async () => {
    const socket = jar.add(ipv4Socket());
    const id = uniqueId();
    const [error, bytes, self] = await sendCb(socket, echoRequest({ id, seq: 6 }), '127.0.0.1');
    expect(error).toBeNull();
    expect(bytes).toBe(24);
    expect(self).toBe(socket);
    // Resent only after a drop the kernel reports (loopback is shared with floods); logs its requests.
    const { buffer, address } = await pingUntilReply(socket, { id, seq: 7 });
    expect(address).toBe('127.0.0.1');
    expect(buffer[0] >> 4).toBe(4); // version
    const ihl = (buffer[0] & 0x0f) * 4;
    expect(ihl).toBeGreaterThanOrEqual(20);
    expect(buffer[9]).toBe(1); // protocol ICMP
    expect(buffer.length).toBe(ihl + 24); // sized to the data
    expect(buffer.readUInt16BE(2)).toBe(buffer.length); // IP total length
    expect(buffer.subarray(12, 16)).toEqual(Buffer.from([127, 0, 0, 1]));
    expect(buffer[ihl]).toBe(0); // echo reply
    expect(buffer.subarray(ihl + 8).toString()).toBe('packet-workbench');
    // The reply's ICMP checksum is valid: summing over it gives 0.
    expect(raw.createChecksum(buffer.subarray(ihl))).toBe(0);
  });

  it('IPv4: the raw socket also sees its own echo request on loopback', async () => {
    const socket = jar.add(ipv4Socket());
    const id = uniqueId();
    const request = nextMessage(socket, (buffer) => parseIcmp(buffer)?.type === 8 && parseIcmp(buffer)?.id === id);
    socket.send(echoRequest({ id, seq: 1 }), 0, 24, '127.0.0.1', () => {});
    const { buffer, address } = await request;
    expect(address).toBe('127.0.0.1');
    expect(parseIcmp(buffer)?.seq).toBe(1);
  });

  it('IPv6: ::1 answers with ICMPv6 129, no IP header', async () => {
    const socket = jar.add(ipv6Socket());
    const id = uniqueId();
    // The kernel computes ICMPv6 checksums on raw ICMPv6 sockets: leave it zero.
    const [error, bytes] = await sendCb(socket, echoRequest({ id, seq: 8, family: 6 }), '::1');
    expect(error).toBeNull();
    expect(bytes).toBe(24);
    // Resent only after a drop the kernel reports (loopback is shared with floods); logs its requests.
    const { buffer, address } = await pingUntilReply(socket, { id, seq: 9, family: 6 });
    expect(address).toBe('::1');
    expect(buffer.length).toBe(24);
    expect(buffer[0]).toBe(129);
    expect(buffer[1]).toBe(0);
    expect(buffer.subarray(8).toString()).toBe('packet-workbench');
  });

  it('a protocol given as a plain number works like the constant', async () => {
    const socket = jar.add(raw.createSocket({ addressFamily: 1, protocol: 1 }));
    expect(socket.protocol).toBe(1);
    expect(socket.addressFamily).toBe(raw.AddressFamily.IPv4);
    expect(socket.mode).toBe('raw');
    // Resent only after a drop the kernel reports (loopback is shared with floods); logs its requests.
    const { address } = await pingUntilReply(socket, { id: uniqueId() });
    expect(address).toBe('127.0.0.1');
  });

  it('createSocket with the default options (Protocol.None) throws a typed Error on Linux, like raw-socket', () => {
    // Linux refuses SOCK_RAW with protocol 0: EPROTONOSUPPORT.
    let caught: unknown;
    try {
      jar.add(raw.createSocket());
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    expect((caught as NodeJS.ErrnoException).code).toBe('EPROTONOSUPPORT');
    expect((caught as NodeJS.ErrnoException).errno).toBe(93);
    expect((caught as NodeJS.ErrnoException).syscall).toBe('socket');
  });
});

describe('constants, as documented and as in the Linux headers', () => {
  it('AddressFamily', () => {
    expect(raw.AddressFamily).toEqual({ IPv4: 1, IPv6: 2 });
  });

  it('Protocol', () => {
    expect(raw.Protocol).toEqual({ None: 0, ICMP: 1, TCP: 6, UDP: 17, ICMPv6: 58 });
  });

  it('SocketLevel', () => {
    expect(raw.SocketLevel).toEqual({ SOL_SOCKET: 1, IPPROTO_IP: 0, IPPROTO_IPV6: 41 });
  });

  // raw-socket defines IPV6_HDRINCL on Windows only; this package adds Linux's (issue 8:
  // IPv6 packets that carry their own header). An addition: no raw-socket program breaks.
  it('SocketOption (Linux x86_64 values, SO_BINDTODEVICE and IPV6_HDRINCL present)', () => {
    expect(raw.SocketOption).toEqual({
      SO_RCVBUF: 8,
      SO_RCVTIMEO: 20,
      SO_SNDBUF: 7,
      SO_SNDTIMEO: 21,
      IP_HDRINCL: 3,
      IP_OPTIONS: 4,
      IP_TOS: 1,
      IP_TTL: 2,
      IPV6_TTL: 16, // raw-socket's synonym of IPV6_UNICAST_HOPS
      IPV6_UNICAST_HOPS: 16,
      IPV6_V6ONLY: 26,
      SO_BINDTODEVICE: 25,
      IPV6_HDRINCL: 36,
    });
  });

  it('constant objects cannot be changed by a program', () => {
    expect(Object.isFrozen(raw.AddressFamily)).toBe(true);
    expect(Object.isFrozen(raw.Protocol)).toBe(true);
    expect(Object.isFrozen(raw.SocketLevel)).toBe(true);
    expect(Object.isFrozen(raw.SocketOption)).toBe(true);
  });
});
