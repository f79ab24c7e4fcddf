// createSocket({ descriptor }): adopting a socket someone else opened (the socket
// helper opens raw sockets as a privileged process and passes their descriptors).
// Real descriptors: this process (root) opens raw sockets and hands them to a child
// running as nobody, which adopts and uses them; bad descriptors are refused and left open.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createServer, connect, type Server } from 'node:net';
import { createSocket as createUdpSocket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NOBODY, runAsPrefix } from '../../main/lab';
import * as raw from '../lib/index';
import { readableNativeCopy, nobodyEnv, type NativeCopy } from './fixtures/native-copy';
import { SocketJar, closedPort as closedUdpPort, ipv4Socket, ipv6Socket, pingUntilReply, uniqueId } from './helpers';

const jar = new SocketJar();
afterEach(() => jar.closeAll());

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

describe('socket.descriptor', () => {
  it('is the open descriptor, and -1 once closed', () => {
    const socket = ipv4Socket();
    const fd = socket.descriptor;
    expect(Number.isInteger(fd) && fd > 2).toBe(true);
    expect(isOpen(fd)).toBe(true);
    socket.close();
    expect(socket.descriptor).toBe(-1);
  });
});

describe('refused descriptors are not closed (they stay the caller\'s)', () => {
  it('-1, 1.5, "3", 2^31 → RangeError / TypeError before anything is touched', () => {
    expect(thrown(() => raw.createSocket({ descriptor: -1 }))).toBeInstanceOf(RangeError);
    expect(thrown(() => raw.createSocket({ descriptor: 1.5 }))).toBeInstanceOf(RangeError);
    expect(thrown(() => raw.createSocket({ descriptor: 2 ** 31 }))).toBeInstanceOf(RangeError);
    expect(thrown(() => raw.createSocket({ descriptor: '3' as unknown as number }))).toBeInstanceOf(TypeError);
  });

  it('a file → ENOTSOCK, still open', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      const error = thrown(() => raw.createSocket({ descriptor: fd }));
      expect(error).toBeInstanceOf(raw.RawSocketError);
      expect(error).toMatchObject({ code: 'ENOTSOCK', syscall: 'getsockopt' });
      expect(error.message).toMatch(new RegExp(`Cannot adopt descriptor ${fd}: it is not a socket.*it was not closed`));
      expect(isOpen(fd)).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  it('a pipe (a FIFO) → ENOTSOCK, still open and working', () => {
    const dir = mkdtempSync(path.join(tmpdir(), `pw-adopt-${process.pid}-`));
    try {
      const fifo = path.join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
      try {
        expect(thrown(() => raw.createSocket({ descriptor: fd }))).toMatchObject({ code: 'ENOTSOCK' });
        writeSync(fd, 'pipe works');
        const buffer = Buffer.alloc(32);
        expect(buffer.toString('utf8', 0, readSync(fd, buffer))).toBe('pipe works');
      } finally {
        closeSync(fd);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a Unix socket (Node's child-process pipes are socket pairs) → RangeError: not IPv4 or IPv6, still working", async () => {
    const child = spawn(process.execPath, ['-e', "process.stdout.write('pipe works'); setTimeout(() => {}, 200)"], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const fd = (child.stdout as unknown as { _handle: { fd: number } })._handle.fd;
      const error = thrown(() => raw.createSocket({ descriptor: fd }));
      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toMatch(new RegExp(`descriptor ${fd} is not an IPv4 or IPv6 socket`));
      let text = '';
      child.stdout.on('data', (chunk) => (text += chunk));
      await new Promise((resolve) => child.once('close', resolve));
      expect(text).toBe('pipe works');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a closed descriptor → EBADF', () => {
    const fd = openSync('/dev/null', 'r');
    closeSync(fd);
    const error = thrown(() => raw.createSocket({ descriptor: fd }));
    expect(error).toMatchObject({ code: 'EBADF' });
    expect(error.message).toMatch(/not an open descriptor/);
  });

  it('a TCP socket → RangeError naming SOCK_STREAM, still listening', async () => {
    const server: Server = createServer((c) => c.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
      const error = thrown(() => raw.createSocket({ descriptor: fd }));
      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toMatch(/SOCK_STREAM/);
      const port = (server.address() as { port: number }).port;
      await new Promise<void>((resolve, reject) => {
        const client = connect(port, '127.0.0.1', () => {
          client.destroy();
          resolve();
        });
        client.once('error', reject);
      });
    } finally {
      server.close();
    }
  });

  it('a Node UDP socket already watched by its event loop → EEXIST, and it still works', async () => {
    const udp = createUdpSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    try {
      const fd = (udp as unknown as { _handle: { fd: number } })._handle.fd;
      expect(thrown(() => raw.createSocket({ descriptor: fd }))).toMatchObject({ code: 'EEXIST', syscall: 'uv_poll_init' });
      const got = new Promise<string>((resolve) => udp.once('message', (m) => resolve(String(m))));
      udp.send('still mine', udp.address().port, '127.0.0.1');
      expect(await got).toBe('still mine');
    } finally {
      udp.close();
    }
  });

  it('family, protocol or mode that do not match the descriptor → RangeError naming both; the owner keeps working', async () => {
    const owner = jar.add(ipv4Socket());
    const fd = owner.descriptor;
    const family = thrown(() => raw.createSocket({ descriptor: fd, addressFamily: raw.AddressFamily.IPv6 }));
    expect(family).toBeInstanceOf(RangeError);
    expect(family.message).toMatch(new RegExp(`"addressFamily" option \\(2\\).*descriptor ${fd}, an IPv4 \\(1\\)`));
    const protocol = thrown(() => raw.createSocket({ descriptor: fd, protocol: raw.Protocol.UDP }));
    expect(protocol.message).toMatch(new RegExp(`"protocol" option \\(17\\).*descriptor ${fd}'s protocol \\(1\\)`));
    const mode = thrown(() => raw.createSocket({ descriptor: fd, mode: 'datagram' }));
    expect(mode.message).toMatch(/"mode" option \('datagram'\).*SOCK_RAW/);
    // Matching ones get as far as the event loop, which already watches it (the owner's).
    expect(thrown(() => raw.createSocket({ descriptor: fd, addressFamily: raw.AddressFamily.IPv4, protocol: raw.Protocol.ICMP, mode: 'raw' }))).toMatchObject({ code: 'EEXIST' });
    // Resent only after a drop the kernel reports (loopback is shared with floods); logs its requests.
    const reply = await pingUntilReply(owner, { id: uniqueId() });
    expect(reply.address).toBe('127.0.0.1');
  });
});

// Two launchers: this Node process hands over its own (non-blocking) sockets; a Python
// parent hands over plain blocking ones. Adoption sets O_NONBLOCK and FD_CLOEXEC, but
// these are checked as states, not as its doing: libuv's uv_poll_init makes a watched
// descriptor non-blocking too, and a Node process marks every descriptor it inherited
// close-on-exec at startup (uv_disable_stdio_inheritance).
const PYTHON_LAUNCHER = [
  'import os, socket, sys',
  'a = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)',
  'b = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)',
  'c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)',
  // Out of the way first (a socket may itself sit at 3, 4 or 5), then into place.
  'high = [os.dup2(s.fileno(), 100 + i) for i, s in enumerate((a, b, c))]',
  'for s in (a, b, c): s.close()',
  'for i, fd in enumerate(high):',
  '    os.dup2(fd, 3 + i, inheritable=True)',
  '    os.close(fd)',
  'os.execvp(sys.argv[1], sys.argv[1:])',
].join('\n');
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

const hasPython = spawnSync('python3', ['-c', 'import socket'], { env: nobodyEnv(), timeout: 10_000 }).status === 0;
const LAUNCHERS = hasPython ? (['node', 'python'] as const) : (['node'] as const);

describe.each(LAUNCHERS)('a child running as nobody adopts raw sockets its parent (%s) opened', (launcher) => {  let copy: NativeCopy | undefined;
  interface RawReport {
    adopted: boolean;
    mode?: string;
    addressFamily?: number;
    protocol?: number;
    descriptor?: number;
    sent?: number;
    reply?: { from: string; type: number } | null;
    error?: { code: string; message: string };
  }
  interface Report {
    uid: number;
    ipv4: RawReport;
    ipv6: RawReport;
    udp: { adopted: boolean; mode?: string; protocol?: number; addressFamily?: number; sent?: number; icmpError?: { code: string; origin: string; offender: string; port: number; data: string } | null; error?: unknown };
    inheritedByGrandchild: string[];
    closedAfterClose: number[];
    flagsBefore: string[];
    flagsAfter: string[];
  }
  let report: Report;
  let closedPort = 0;

  beforeAll(async () => {
    copy = readableNativeCopy(['adopt-child.js']);
    const v4 = ipv4Socket({ mode: 'raw' });
    const v6 = ipv6Socket({ mode: 'raw' });
    const udp = raw.createSocket({ protocol: raw.Protocol.UDP, mode: 'datagram' });
    closedPort = await closedUdpPort('udp4', '127.0.0.1');
    const config = { id: uniqueId(), closedPort };
    const [setpriv, ...privArgs] = runAsPrefix(NOBODY);
    const childArgs = [setpriv, ...privArgs, process.execPath, copy.fixture('adopt-child.js'), copy.nativeDir, JSON.stringify(config)];
    // The child gets them at 3, 4 and 5; this process keeps its own and closes them now.
    const child =
      launcher === 'node'
        ? spawn(childArgs[0], childArgs.slice(1), { stdio: ['ignore', 'pipe', 'pipe', v4.descriptor, v6.descriptor, udp.descriptor], cwd: '/', env: nobodyEnv() })
        : spawn('python3', ['-c', PYTHON_LAUNCHER, ...childArgs], { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/', env: nobodyEnv() });
    v4.close();
    v6.close();
    udp.close();
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => (stdout += chunk));
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(killer);
    expect(code, `adopt-child failed: ${stderr}`).toBe(0);
    report = JSON.parse(stdout) as Report;
  }, 30_000);

  afterAll(() => copy?.remove());

  it('runs as nobody', () => {
    expect(report.uid).toBe(NOBODY.uid);
  });

  it('adopts a raw ICMP socket: family, protocol and mode read from it, and pings 127.0.0.1', () => {
    expect(report.ipv4).toMatchObject({ adopted: true, mode: 'raw', addressFamily: 1, protocol: 1, descriptor: 3, sent: 16 });
    expect(report.ipv4.reply).toEqual({ from: '127.0.0.1', type: 0 });
  });

  it('adopts a raw ICMPv6 socket with matching family and protocol given, and pings ::1', () => {
    expect(report.ipv6).toMatchObject({ adopted: true, mode: 'raw', addressFamily: 2, protocol: 58, descriptor: 4, sent: 16 });
    expect(report.ipv6.reply).toEqual({ from: '::1', type: 129 });
  });

  it('adopts a UDP datagram socket with receiveErrors and gets the port unreachable', () => {
    expect(report.udp).toMatchObject({ adopted: true, mode: 'datagram', addressFamily: 1, protocol: 17, sent: 11 });
    expect(report.udp.icmpError).toEqual({ code: 'ECONNREFUSED', origin: 'icmp', offender: '127.0.0.1', port: closedPort, data: 'adopted udp' });
  });

  it('made them close-on-exec: a program the child starts inherits none', () => {
    expect(report.inheritedByGrandchild).toEqual([]);
  });

  it('owns them: close() closes each descriptor', () => {
    expect(report.closedAfterClose).toEqual([3, 4, 5]);
  });

  it(`made them non-blocking${launcher === 'python' ? ' (they came blocking)' : ''} and close-on-exec`, () => {
    const before = report.flagsBefore.map((f) => parseInt(f, 8));
    const after = report.flagsAfter.map((f) => parseInt(f, 8));
    if (launcher === 'python') for (const f of before) expect(f & O_NONBLOCK).toBe(0);
    for (const f of after) {
      expect(f & O_NONBLOCK).toBe(O_NONBLOCK);
      expect(f & O_CLOEXEC).toBe(O_CLOEXEC);
    }
  });
});
