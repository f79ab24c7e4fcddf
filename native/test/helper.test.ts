// The socket helper (native/helper) with real processes: as root, this test makes the
// conditions (a setcap'd copy, a copy without the capability, a sudoers rule for
// nobody, a lab namespace) and runs the workbench's side as nobody through
// fixtures/helper-driver.js, or in this process where the other uid is the point.
// Everything lives in a temp dir other users can read; every wait is bounded, and
// every process, file and sudoers rule is removed in afterEach/afterAll.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  cpSync,
  existsSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, labSupport, NOBODY, runAsPrefix, type Namespace } from '../../main/lab';
import { binding } from '../lib/binding';
import { AddressFamily, HelperError, SocketHelperClient, type HelperHello, type HelperOpenRequest } from '../lib/index';
import { runNode, sleep, uniqueId, waitFor } from './helpers';

const NATIVE_DIR = path.resolve(__dirname, '..');
// npm run test:asan points this at the instrumented helper (native/asan/).
const BUILT_HELPER = process.env.PACKET_WORKBENCH_HELPER || path.join(NATIVE_DIR, 'build', 'Release', 'packet-workbench-helper');
const DRIVER = path.join(__dirname, 'fixtures', 'helper-driver.js');
const NET_RAW = '0000000000002000';
const NET_RAW_SYS_ADMIN = '0000000000202000';
const NONE = '0000000000000000';
const LAB_ONLY = '198.51.100.7';
const ALLOW_LIST = 'allowed: ipv4 icmp|udp|tcp|raw, ipv6 icmpv6|udp|tcp|raw';
const PYTHON = ['/usr/bin/python3', '/usr/local/bin/python3'].find((file) => existsSync(file));

function findTool(name: string): string | null {
  for (const folder of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const file = path.join(folder, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

function unsupported(): string | null {
  if (process.platform !== 'linux') return 'Linux only';
  if (process.getuid?.() !== 0) return 'needs root';
  const lab = labSupport();
  if (!lab.supported) return lab.reason ?? 'no namespace labs';
  for (const tool of ['setcap', 'sudo', 'visudo', 'setpriv']) if (!findTool(tool)) return `needs ${tool}`;
  if (!existsSync(BUILT_HELPER)) return 'the helper is not built (npm run build:native)';
  return null;
}
const reason = unsupported();

// ---- status and processes ---------------------------------------------------------------

function procStatus(pid: number): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1).trim().replace(/\s+/g, ' ');
  }
  return fields;
}

/** Gone: no /proc entry, or a zombie nobody has reaped yet. */
function isGone(pid: number): boolean {
  try {
    return /^Z/.test(procStatus(pid).State ?? '');
  } catch {
    return true;
  }
}

// ---- the driver: a SocketHelperClient in a process of nobody's ------------------------------

interface ErrorReport {
  name?: string;
  code?: string;
  errno?: number;
  message: string;
  exitCode?: number;
  signal?: string;
  stderr?: string;
  isHelperError?: boolean;
  isRawSocketError?: boolean;
}
interface Answer {
  id: number;
  ok: boolean;
  error?: ErrorReport;
  [key: string]: unknown;
}
interface StartAnswer extends Answer {
  hello: HelperHello;
  pid: number;
  ms: number;
}
interface OpenAnswer extends Answer {
  fd: number;
  ms: number;
  isSocket: boolean;
  inode: string | null;
  table: 'raw' | 'raw6' | null;
  protocol: number | null;
}
interface ExitEvent {
  code: number | null;
  signal: string | null;
  reason: string;
}

const drivers = new Set<Driver>();
const helperPids = new Set<number>();

class Driver {
  readonly child: ChildProcess;
  readonly exits: ExitEvent[] = [];
  stderr = '';
  private nextId = 1;
  private readonly waiting = new Map<number, (answer: Answer) => void>();
  private readonly ended: Promise<void>;

  constructor(nativeDir: string, driver: string) {
    this.child = spawn(runAsPrefix(NOBODY)[0], [...runAsPrefix(NOBODY).slice(1), process.execPath, driver, nativeDir], {
      cwd: '/',
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/nonexistent', LANG: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    drivers.add(this);
    this.ended = new Promise((resolve) => this.child.once('close', () => resolve()));
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-8192);
    });
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as Answer & { event?: string; info?: ExitEvent };
      if (message.event === 'exit') {
        this.exits.push(message.info as ExitEvent);
        return;
      }
      this.waiting.get(message.id)?.(message);
      this.waiting.delete(message.id);
    });
  }

  call<T extends Answer = Answer>(op: string, args: Record<string, unknown> = {}, timeoutMs = 20_000): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`driver: no answer to ${op} within ${timeoutMs} ms; stderr: ${this.stderr}`));
      }, timeoutMs);
      this.waiting.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer as T);
      });
      this.child.stdin!.write(JSON.stringify({ id, op, ...args }) + '\n');
    });
  }

  async start(argv: string[], timeoutMs?: number): Promise<StartAnswer> {
    const answer = await this.call<StartAnswer>('start', { argv, timeoutMs });
    if (answer.ok) helperPids.add(answer.hello.pid);
    return answer;
  }

  async open(request: HelperOpenRequest | Record<string, string>, keep = false): Promise<OpenAnswer> {
    return this.call<OpenAnswer>('open', { request, keep });
  }

  async waitForExitEvent(timeoutMs = 5_000): Promise<ExitEvent> {
    return waitFor(() => this.exits[0], timeoutMs, "the client's exit event");
  }

  /** Ends stdin (the driver stops its client and exits), then SIGKILL after a bound. */
  async end(): Promise<void> {
    this.child.stdin?.end();
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.ended;
    clearTimeout(killer);
    drivers.delete(this);
  }
}

function expectOk<T extends Answer>(answer: T): T {
  expect(answer.error, JSON.stringify(answer.error)).toBeUndefined();
  expect(answer.ok).toBe(true);
  return answer;
}

// ---- a raw session: this process's own channel, for lines the client never sends -------------

interface RawReply {
  text: string;
  descriptor: number;
}

interface RawSession {
  /** The next message, whatever asked for it (the first is the hello). */
  next(): Promise<RawReply>;
  send(line: string | Buffer): void;
  request(line: string | Buffer): Promise<RawReply>;
  exited: Promise<{ code: number | null; signal: string | null }>;
  close(): void;
}

function rawSession(argv: string[]): RawSession {
  const [ours, theirs] = binding.socketPair();
  let child: ChildProcess;
  try {
    child = spawn(argv[0], argv.slice(1), { stdio: [theirs, 'ignore', 'ignore'] });
  } finally {
    closeSync(theirs);
  }
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const replies: RawReply[] = [];
  const waiters: Array<(reply: RawReply) => void> = [];
  const channel = new binding.DescriptorChannel(ours, {
    onMessage(text, descriptor) {
      const reply = { text: text.toString('latin1'), descriptor };
      const waiter = waiters.shift();
      if (waiter) waiter(reply);
      else replies.push(reply);
    },
    onClose() {},
  });
  const next = (): Promise<RawReply> =>
    new Promise((resolve, reject) => {
      const ready = replies.shift();
      if (ready) {
        resolve(ready);
        return;
      }
      const timer = setTimeout(() => reject(new Error('no message from the helper within 5 s')), 5_000);
      waiters.push((reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  let closed = false;
  return {
    next,
    exited,
    send(line) {
      channel.send(typeof line === 'string' ? Buffer.from(line, 'latin1') : line);
    },
    request(line) {
      this.send(line);
      return next();
    },
    close() {
      if (!closed) channel.close();
      closed = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

// ---- the suite -------------------------------------------------------------------------------

describe.skipIf(reason !== null)(`socket helper${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let temp = '';
  let helper = ''; // cap_net_raw+ep
  let helperNoCap = ''; // no capability
  let nativeCopy = '';
  let driverCopy = '';
  const timings: Record<string, number[]> = {};
  const note = (what: string, ms: number): void => {
    (timings[what] ??= []).push(ms);
  };

  beforeAll(() => {
    temp = mkdtempSync(path.join(tmpdir(), `pw-helper-${process.pid}-`));
    chmodSync(temp, 0o755);
    helper = path.join(temp, 'packet-workbench-helper');
    copyFileSync(BUILT_HELPER, helper);
    mkdirSync(path.join(temp, 'nocap'), { mode: 0o755 });
    helperNoCap = path.join(temp, 'nocap', 'packet-workbench-helper');
    copyFileSync(BUILT_HELPER, helperNoCap);
    nativeCopy = path.join(temp, 'native');
    mkdirSync(path.join(nativeCopy, 'build', 'Release'), { recursive: true });
    copyFileSync(path.join(NATIVE_DIR, 'package.json'), path.join(nativeCopy, 'package.json'));
    cpSync(path.join(NATIVE_DIR, 'dist'), path.join(nativeCopy, 'dist'), { recursive: true });
    copyFileSync(path.join(NATIVE_DIR, 'build', 'Release', 'raw_socket.node'), path.join(nativeCopy, 'build', 'Release', 'raw_socket.node'));
    driverCopy = path.join(temp, 'helper-driver.js');
    copyFileSync(DRIVER, driverCopy);
    execFileSync('chmod', ['-R', 'a+rX', temp]);
    chmodSync(helper, 0o755);
    chmodSync(helperNoCap, 0o755);
    execFileSync(findTool('setcap') as string, ['cap_net_raw+ep', helper]);
    expect(execFileSync(findTool('getcap') ?? 'getcap', [helper], { encoding: 'utf8' })).toMatch(/cap_net_raw[=+]ep/);
  });

  afterEach(async () => {
    await Promise.all([...drivers].map((driver) => driver.end()));
    // No helper outlives its test.
    for (const pid of helperPids) {
      if (!isGone(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      helperPids.delete(pid);
    }
  });

  afterAll(() => {
    if (temp) rmSync(temp, { recursive: true, force: true });
    const summary = Object.entries(timings).map(([what, list]) => {
      const sorted = [...list].sort((a, b) => a - b);
      return `${what}: median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} ms (n=${sorted.length})`;
    });
    if (summary.length > 0) console.info(`socket helper timings: ${summary.join('; ')}`);
  });

  const ALLOWED: Array<[HelperOpenRequest, 'raw' | 'raw6', number]> = [
    [{ family: 'ipv4', protocol: 'icmp' }, 'raw', 1],
    [{ family: 'ipv6', protocol: 'icmpv6' }, 'raw6', 58],
    [{ family: 'ipv4', protocol: 'udp' }, 'raw', 17],
    [{ family: 'ipv4', protocol: 'tcp' }, 'raw', 6],
    [{ family: 'ipv4', protocol: 'raw' }, 'raw', 255],
    [{ family: 'ipv6', protocol: 'raw' }, 'raw6', 255],
  ];

  it('installed mode: hello as nobody, exactly CAP_NET_RAW, and a raw socket of each allowed protocol', async () => {
    const driver = new Driver(nativeCopy, driverCopy);
    const started = expectOk(await driver.start([helper]));
    note('spawn to hello (installed)', started.ms);
    expect(started.hello).toEqual({ version: 1, pid: started.pid, uid: 65534, gid: 65534, mode: 'capability', capabilities: ['net_raw'] });

    const status = procStatus(started.hello.pid);
    expect(status.Uid).toBe('65534 65534 65534 65534');
    expect(status.CapPrm).toBe(NET_RAW);
    expect(status.CapEff).toBe(NET_RAW);
    expect(status.CapInh).toBe(NONE);
    expect(status.CapAmb).toBe(NONE);
    expect(status.NoNewPrivs).toBe('1');

    for (const [request, table, protocol] of ALLOWED) {
      const opened = expectOk(await driver.open(request));
      note('open request', opened.ms);
      expect(opened, JSON.stringify(request)).toMatchObject({ isSocket: true, table, protocol });
    }
    const pinged = expectOk(await driver.call('ping'));
    note('ping request', pinged.ms as number);

    // Adopted as Sockets (client.openSocket), they reach loopback.
    for (const [request, address, addressFamily] of [
      [{ family: 'ipv4', protocol: 'icmp' }, '127.0.0.1', 1],
      [{ family: 'ipv6', protocol: 'icmpv6' }, '::1', 2],
    ] as const) {
      const echoed = expectOk(await driver.call('echo', { request, address, identifier: uniqueId() }));
      expect(echoed, address).toMatchObject({ reply: true, addressFamily, protocol: addressFamily === 1 ? 1 : 58, mode: 'raw' });
    }
  });

  it('openSocket closes the descriptor when adoption throws', async () => {
    const client = await SocketHelperClient.start([helper], { timeoutMs: 10_000 });
    try {
      const before = readdirSync('/proc/self/fd').length;
      // An IPv4 socket adopted as IPv6: refused by createSocket.
      await expect(client.openSocket({ family: 'ipv4', protocol: 'icmp' }, { addressFamily: AddressFamily.IPv6 })).rejects.toThrow();
      expect(readdirSync('/proc/self/fd').length).toBe(before);
      const socket = await client.openSocket({ family: 'ipv4', protocol: 'udp' });
      expect([socket.addressFamily, socket.protocol, socket.mode]).toEqual([1, 17, 'raw']);
      socket.close();
    } finally {
      await client.stop();
    }
  });

  it('refuses what is not on the allow-list, with a reason, and keeps serving', async () => {
    const driver = new Driver(nativeCopy, driverCopy);
    expectOk(await driver.start([helper]));
    const refused: Array<Record<string, string>> = [
      { family: 'ipv4', protocol: 'icmpv6' },
      { family: 'ipv4', protocol: '47' },
      { family: 'ipv4', protocol: 'packet' },
      { family: 'ipv6', protocol: 'icmp' },
      { family: 'packet', protocol: 'raw' },
    ];
    for (const request of refused) {
      const answer = await driver.open(request);
      expect(answer.ok, JSON.stringify(request)).toBe(false);
      expect(answer.error).toMatchObject({ code: 'EPROTONOSUPPORT', isHelperError: true, isRawSocketError: true });
      expect(answer.error?.message).toContain(`${request.family} ${request.protocol} is not allowed (${ALLOW_LIST})`);
    }
    // A lab namespace needs --elevated --namespaces.
    const namespaced = await driver.open({ family: 'ipv4', protocol: 'icmp', namespace: 'pwlab-x' });
    expect(namespaced.error).toMatchObject({ code: 'EPERM' });
    expectOk(await driver.call('ping'));
    expect(expectOk(await driver.open({ family: 'ipv4', protocol: 'icmp' }))).toMatchObject({ table: 'raw', protocol: 1 });
  });

  it('parses requests strictly: garbage and over-long lines are EINVAL, and it keeps serving', async () => {
    // Lines the client never sends, so through a channel of this process's own (root:
    // installed mode reduces it to CAP_NET_RAW all the same).
    const session = rawSession([helper]);
    try {
      expect((await session.next()).text).toMatch(/^hello 1 pid=\d+ uid=0 gid=0 mode=capability caps=net_raw$/);
      const garbage: Array<string | Buffer> = [
        ' ping',
        'ping ',
        'ping  ping',
        'PING',
        'ping pong',
        'open',
        'open ipv4',
        'open ipv4 icmp extra',
        'open ipv4 icmp netns',
        'open ipv4 icmp namespace pwlab-x',
        'open\tipv4 icmp',
        'ping\n',
        'open ipv4 icmp\r\n',
        Buffer.from([0]),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('open ipv4 \u00e9cmp', 'utf8'),
        'a b c d e f',
        'x'.repeat(256),
        'x'.repeat(257),
        `open ipv4 icmp${' '.repeat(300)}`,
        'y'.repeat(4000),
      ];
      for (const line of garbage) {
        const reply = await session.request(line);
        expect(reply.descriptor, JSON.stringify(String(line))).toBe(-1);
        expect(reply.text, JSON.stringify(String(line))).toMatch(/^error EINVAL \S.{10,}/);
        expect(reply.text.length).toBeLessThanOrEqual(256);
      }
      expect((await session.request('x'.repeat(257))).text).toBe('error EINVAL a request is at most 256 bytes');
      expect((await session.request('ping')).text).toBe('pong');
      const opened = await session.request('open ipv4 icmp');
      expect(opened.text).toBe('ok ipv4 icmp');
      expect(opened.descriptor).toBeGreaterThanOrEqual(0);
      closeSync(opened.descriptor);
      session.send('quit'); // no answer: it exits
      const exited = await Promise.race([session.exited, sleep(3_000).then(() => ({ code: -1 }))]);
      expect(exited.code).toBe(0);
    } finally {
      session.close();
    }
  });

  it('refuses a channel created by another user: EACCES, exit 77', async () => {
    // This process (root) creates the socketpair; the helper runs as nobody.
    const error = await SocketHelperClient.start([...runAsPrefix(NOBODY), helper], { timeoutMs: 10_000 }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(HelperError);
    expect(error).toMatchObject({ code: 'EACCES', exitCode: 77 });
    expect((error as HelperError).message).toMatch(/belongs to uid 0, not to the user served \(uid 65534\)/);
  });

  it('without its file capability: refused ENOCAP, exit 77', async () => {
    const driver = new Driver(nativeCopy, driverCopy);
    const answer = await driver.start([helperNoCap]);
    expect(answer.ok).toBe(false);
    expect(answer.error).toMatchObject({ code: 'ENOCAP', exitCode: 77, isHelperError: true });
    expect(answer.error?.message).toContain('sudo packet-workbench setup-helper');
  });

  it('usage errors exit 64: --namespaces without --elevated, an unknown argument', async () => {
    for (const argv of [[helper, '--namespaces'], [helper, '--bogus'], [helper, '--elevated', '--elevated']]) {
      const error = await SocketHelperClient.start(argv, { timeoutMs: 10_000 }).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error, argv.join(' ')).toMatchObject({ code: 'EINVAL', exitCode: 64 });
    }
  });

  it('stdin that is not a SOCK_SEQPACKET socket: exit 64 with a reason', async () => {
    // 'ignore' is /dev/null; 'pipe' is an AF_UNIX SOCK_STREAM socketpair (libuv).
    for (const stdin of ['ignore', 'pipe'] as const) {
      const child = spawn(helper, [], { stdio: [stdin, 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const [code] = (await new Promise((resolve) => child.once('close', (...args) => resolve(args)))) as [number | null];
      clearTimeout(timer);
      expect(code, stdin).toBe(64);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/stdin must be the workbench's AF_UNIX SOCK_SEQPACKET socket/);
    }
  });

  it('ends with its parent: kill -9 of the workbench leaves no helper behind (within 2 s)', async () => {
    const driver = new Driver(nativeCopy, driverCopy);
    const started = expectOk(await driver.start([helper]));
    const helperPid = started.hello.pid;
    expect(isGone(helperPid)).toBe(false);
    const killedAt = performance.now();
    driver.child.kill('SIGKILL');
    await waitFor(() => isGone(helperPid), 2_000, `helper ${helperPid} to go`);
    note('parent killed to helper gone', performance.now() - killedAt);
  });

  it('closing the channel ends the helper with exit code 0; the exit event comes once', async () => {
    const driver = new Driver(nativeCopy, driverCopy);
    const started = expectOk(await driver.start([helper]));
    const stopped = expectOk(await driver.call('stop'));
    note('stop', stopped.ms as number);
    expect(stopped.running).toBe(false);
    expect(await driver.waitForExitEvent()).toMatchObject({ code: 0, signal: null, reason: 'stopped (exited with code 0)' });
    expect(isGone(started.hello.pid)).toBe(true);
    await sleep(100);
    expect(driver.exits).toHaveLength(1);
  });

  it('a helper that dies: one exit event, and requests reject with EHELPEREXIT', async () => {
    const driver = new Driver(nativeCopy, driverCopy);
    const started = expectOk(await driver.start([helper]));
    process.kill(started.hello.pid, 'SIGKILL');
    expect(await driver.waitForExitEvent()).toMatchObject({ code: null, signal: 'SIGKILL' });
    const answer = await driver.call('ping');
    expect(answer.error).toMatchObject({ code: 'EHELPEREXIT', isHelperError: true });
    await sleep(100);
    expect(driver.exits).toHaveLength(1);
  });

  it('serialises concurrent requests: each answer goes to its own request', async () => {
    // In this process (root): installed mode reduces the helper to CAP_NET_RAW all the same.
    const client = await SocketHelperClient.start([helper], { timeoutMs: 10_000 });
    try {
      const requests: Array<Record<string, string>> = [];
      for (let i = 0; i < 10; i++) {
        requests.push({ family: 'ipv4', protocol: 'icmp' }, { family: 'ipv4', protocol: String(i) }, { family: 'ipv6', protocol: 'raw' });
      }
      const began = performance.now();
      const results = await Promise.allSettled([
        ...requests.map((request) => client.openDescriptor(request as unknown as HelperOpenRequest)),
        client.ping(),
      ]);
      note('30 concurrent requests', performance.now() - began);
      requests.forEach((request, index) => {
        const result = results[index];
        if (/^\d$/.test(request.protocol)) {
          expect(result.status).toBe('rejected');
          expect((result as PromiseRejectedResult).reason.message).toContain(`ipv4 ${request.protocol} is not allowed`);
        } else {
          expect(result.status).toBe('fulfilled');
          const fd = (result as PromiseFulfilledResult<number>).value;
          expect(fstatSync(fd).isSocket()).toBe(true);
          closeSync(fd);
        }
      });
      expect(results[results.length - 1].status).toBe('fulfilled');
    } finally {
      await client.stop();
    }
  });

  describe('elevated through sudo', () => {
    const sudoers = path.join('/etc/sudoers.d', `pw-helper-test-${process.pid}-${randomBytes(4).toString('hex')}`);
    let lab: Namespace | undefined;

    // Even if this process ends without afterAll, the rule goes.
    const removeRule = (): void => {
      rmSync(sudoers, { force: true });
      rmSync(`${sudoers}.tmp`, { force: true });
    };

    beforeAll(async () => {
      process.once('exit', removeRule);
      const rule = `nobody ALL=(root) NOPASSWD: ${helper} --elevated, ${helper} --elevated --namespaces\n`;
      const draft = path.join(temp, 'sudoers-draft');
      writeFileSync(draft, rule, { mode: 0o440 });
      execFileSync(findTool('visudo') as string, ['-cf', draft], { stdio: 'pipe' });
      // Written under another name and renamed: sudo never reads a half-written rule.
      const staging = `${sudoers}.tmp`; // sudo skips names containing '.'
      writeFileSync(staging, rule, { mode: 0o440 });
      chmodSync(staging, 0o440);
      execFileSync('mv', ['-f', staging, sudoers]);
      lab = await createNamespace();
      // An address only the lab has: an echo to it is answered only inside the lab.
      await lab.exec(['ip', 'addr', 'add', `${LAB_ONLY}/32`, 'dev', 'lo']);
    });

    afterAll(async () => {
      removeRule();
      process.off('exit', removeRule);
      await lab?.destroy();
    });

    it('hello mode=elevated uid=65534; /proc shows uid 65534, CAP_NET_RAW only, the bounding set reduced', async () => {
      const driver = new Driver(nativeCopy, driverCopy);
      const started = expectOk(await driver.start(['sudo', '-n', '--', helper, '--elevated'], 20_000));
      note('spawn to hello (sudo)', started.ms);
      expect(started.hello).toMatchObject({ version: 1, uid: 65534, gid: 65534, mode: 'elevated', capabilities: ['net_raw'] });
      expect(started.pid).not.toBe(started.hello.pid); // sudo, then the helper
      const status = procStatus(started.hello.pid);
      expect(status.Uid).toBe('65534 65534 65534 65534');
      expect(status.Gid).toBe('65534 65534 65534 65534');
      expect(status.Groups).toBe('65534');
      expect(status.CapPrm).toBe(NET_RAW);
      expect(status.CapEff).toBe(NET_RAW);
      expect(status.CapBnd).toBe(NET_RAW);
      expect(status.CapInh).toBe(NONE);
      expect(status.CapAmb).toBe(NONE);
      expect(status.NoNewPrivs).toBe('1');
      for (const [request, table, protocol] of ALLOWED) {
        expect(expectOk(await driver.open(request))).toMatchObject({ isSocket: true, table, protocol });
      }
      const stopped = expectOk(await driver.call('stop'));
      expect(stopped.running).toBe(false);
      expect(await driver.waitForExitEvent()).toMatchObject({ code: 0, signal: null });
    });

    it('--namespaces: a socket that lives in the lab namespace, and only pwlab… names', async () => {
      const namespace = (lab as Namespace).name;
      expect(namespace).toMatch(/^pwlab/);
      const driver = new Driver(nativeCopy, driverCopy);
      const started = expectOk(await driver.start(['sudo', '-n', '--', helper, '--elevated', '--namespaces'], 20_000));
      expect(started.hello.capabilities).toEqual(['net_raw', 'sys_admin']);
      const status = procStatus(started.hello.pid);
      expect(status.CapEff).toBe(NET_RAW_SYS_ADMIN);
      expect(status.CapBnd).toBe(NET_RAW_SYS_ADMIN);
      const home = readlinkSync(`/proc/${started.hello.pid}/ns/net`);

      const opened = expectOk(await driver.open({ family: 'ipv4', protocol: 'icmp', namespace }, true));
      // The kernel lists a raw socket in its own namespace's /proc/net/raw only: the
      // driver (host namespace) does not find it, the lab does, with protocol 1.
      expect(opened).toMatchObject({ isSocket: true, table: null });
      const labTable = (await (lab as Namespace).exec(['cat', '/proc/net/raw'])).stdout;
      const row = labTable.split('\n').find((line) => line.trim().split(/\s+/)[9] === opened.inode);
      expect(row, `inode ${opened.inode} in the lab's /proc/net/raw`).toBeDefined();
      expect(parseInt((row as string).trim().split(/\s+/)[1].split(':')[1], 16)).toBe(1);
      expect(readFileSync('/proc/net/raw', 'utf8')).not.toMatch(new RegExp(`\\s${opened.inode}\\s`));
      expectOk(await driver.call('close', { fd: opened.fd }));
      // Adopted: an echo to the lab-only address is answered through the lab's socket,
      // not through one of the host's.
      const inLab = expectOk(await driver.call('echo', { request: { family: 'ipv4', protocol: 'icmp', namespace }, address: LAB_ONLY, identifier: uniqueId() }));
      expect(inLab.reply).toBe(true);
      const onHost = expectOk(await driver.call('echo', { request: { family: 'ipv4', protocol: 'icmp' }, address: LAB_ONLY, identifier: uniqueId(), timeoutMs: 1000 }));
      expect(onHost.reply).toBe(false);
      // The helper went back to its own namespace.
      expect(readlinkSync(`/proc/${started.hello.pid}/ns/net`)).toBe(home);
      expect(expectOk(await driver.open({ family: 'ipv6', protocol: 'icmpv6' }))).toMatchObject({ table: 'raw6', protocol: 58 });

      for (const name of ['other', 'lab', '../pwlab', 'pwlab/../x', 'pwlab/x', '/run/netns/pwlab', `pwlab${'x'.repeat(61)}`]) {
        const answer = await driver.open({ family: 'ipv4', protocol: 'icmp', namespace: name });
        expect(answer.error, name).toMatchObject({ code: 'EINVAL' });
        expect(answer.error?.message).toContain("only the workbench's lab namespaces");
      }
      // A topology lab's host (pwl-LAB-PID-ID-HOST) is one of the workbench's too; look-alikes are not.
      const host = await createNamespace({ prefix: 'pwl-t', suffix: 'client' });
      try {
        expect(host.name).toMatch(/^pwl-t-\d+-[0-9a-f]+-client$/);
        expect(expectOk(await driver.open({ family: 'ipv4', protocol: 'icmp', namespace: host.name }, true))).toMatchObject({ isSocket: true, table: null });
      } finally {
        await host.destroy();
      }
      for (const name of ['pwl-', 'pwl-line', 'pwl-line-1-ab-Client', 'pwl-Line-1-ab-client', 'pwl-line-x-ab-client', 'pwl-line-1-xy-client', 'pwl-line-1-ab-client/../x', 'pwl-line-1-ab-', `pwl-line-1-ab-${'c'.repeat(13)}`]) {
        const answer = await driver.open({ family: 'ipv4', protocol: 'icmp', namespace: name });
        expect(answer.error, name).toMatchObject({ code: 'EINVAL' });
      }
      const missing = await driver.open({ family: 'ipv4', protocol: 'icmp', namespace: 'pwlab-no-such-namespace' });
      expect(missing.error).toMatchObject({ code: 'ENOENT' });
      expect(readlinkSync(`/proc/${started.hello.pid}/ns/net`)).toBe(home);
      expectOk(await driver.call('ping'));
    });

    it('sudo -n without a rule: start rejects with sudo\'s message and exit code, no hang', async () => {
      const driver = new Driver(nativeCopy, driverCopy);
      const begun = performance.now();
      const answer = await driver.start(['sudo', '-n', '--', helperNoCap, '--elevated'], 20_000);
      expect(answer.ok).toBe(false);
      expect(answer.error).toMatchObject({ code: 'EHELPEREXIT', exitCode: 1, isHelperError: true });
      expect(answer.error?.stderr).toMatch(/sudo: .*password/);
      expect(answer.error?.message).toMatch(/exited with code 1 before it was ready: sudo: .*password/);
      expect(performance.now() - begun).toBeLessThan(5_000);
    });
  });
});

// ---- the addon's side of the channel, without the helper ------------------------------------

function openDescriptorCount(): number {
  return readdirSync('/proc/self/fd').length;
}

interface Received {
  text: Buffer;
  descriptor: number;
  problem: number;
}

/** A channel on one end of a fresh pair; the other end is returned as a plain descriptor. */
function channelPair(): { channel: InstanceType<typeof binding.DescriptorChannel>; peer: number; messages: Received[]; closes: number[] } {
  const [ours, peer] = binding.socketPair();
  const messages: Received[] = [];
  const closes: number[] = [];
  const channel = new binding.DescriptorChannel(ours, {
    onMessage(text, descriptor, problem) {
      messages.push({ text, descriptor, problem });
    },
    onClose(errno) {
      closes.push(errno);
    },
  });
  return { channel, peer, messages, closes };
}

/** Runs python3 with the given descriptor as its stdin (a socket it sends on). */
function python(code: string, stdin: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON as string, ['-c', code], { stdio: [stdin, 'ignore', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe.skipIf(process.platform !== 'linux')(`DescriptorChannel and socketPair${process.platform === 'linux' ? '' : ' (skipped: Linux only)'}`, () => {
  it('checks its arguments in C++ and names them', () => {
    const handlers = { onMessage() {}, onClose() {} };
    const Channel = binding.DescriptorChannel as unknown as new (...args: unknown[]) => unknown;
    expect(() => new Channel()).toThrow(TypeError);
    expect(() => new Channel('3', handlers)).toThrow(/"fd" argument must be a number/);
    expect(() => new Channel(-1, handlers)).toThrow(RangeError);
    expect(() => new Channel(1.5, handlers)).toThrow(/"fd" argument must be an integer/);
    const [a, b] = binding.socketPair();
    try {
      expect(() => new Channel(a)).toThrow(/"handlers" argument must be an object/);
      expect(() => new Channel(a, { onMessage() {} })).toThrow(/handlers.onClose must be a function/);
      expect(() => new Channel(a, { onClose() {} })).toThrow(/handlers.onMessage must be a function/);
    } finally {
      closeSync(a);
      closeSync(b);
    }
    // Not a SEQPACKET socket: refused, and the caller still owns the descriptor.
    const file = openSync('/dev/null', 'r');
    try {
      expect(() => new Channel(file, handlers)).toThrow(/"fd" argument must be an AF_UNIX SOCK_SEQPACKET socket/);
      expect(fstatSync(file).isCharacterDevice()).toBe(true);
    } finally {
      closeSync(file);
    }
    expect(() => new Channel(file, handlers)).toThrow(expect.objectContaining({ code: 'EBADF' }));

    const { channel, peer } = channelPair();
    try {
      expect(() => (channel.send as (value: unknown) => number)('text')).toThrow(/"buffer" argument must be a Buffer or Uint8Array/);
      expect(() => channel.send(Buffer.alloc(65537))).toThrow(RangeError);
      channel.close();
      expect(() => channel.send(Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_CLOSED' }));
      channel.close(); // twice is harmless
      channel.ref();
      channel.unref();
    } finally {
      closeSync(peer);
    }
  });

  it('carries messages both ways, an empty one included; the end of the peer is onClose(0), once', async () => {
    const left = channelPair();
    const right = { messages: [] as Received[], closes: [] as number[] };
    const channel = new binding.DescriptorChannel(left.peer, {
      onMessage(text, descriptor, problem) {
        right.messages.push({ text, descriptor, problem });
      },
      onClose(errno) {
        right.closes.push(errno);
      },
    });
    expect(left.channel.send(Buffer.from('hello 1'))).toBe(7);
    left.channel.send(Buffer.alloc(0));
    channel.send(Buffer.from('ok'));
    await waitFor(() => right.messages.length === 2 && left.messages.length === 1, 2_000, 'the messages');
    expect(right.messages.map((m) => [m.text.toString(), m.descriptor, m.problem])).toEqual([
      ['hello 1', -1, 0],
      ['', -1, 0],
    ]);
    expect(left.messages[0].text.toString()).toBe('ok');
    channel.close();
    await waitFor(() => left.closes.length === 1 && right.closes.length === 1, 2_000, 'both closes');
    expect(left.closes).toEqual([0]);
    expect(right.closes).toEqual([0]);
    await sleep(50);
    expect(left.closes).toHaveLength(1);
  });

  it.skipIf(!PYTHON)(`a message with several descriptors keeps the first and closes the rest; a cut message says so${PYTHON ? '' : ' (skipped: needs python3 to send raw SCM_RIGHTS messages)'}`, async () => {
    const { channel, peer, messages } = channelPair();
    const before = openDescriptorCount();
    const exitCode = await python(
      [
        'import array, os, socket',
        's = socket.socket(fileno=0)',
        "fds = lambda n: array.array('i', [os.open('/dev/null', os.O_RDONLY) for _ in range(n)])",
        "s.sendmsg([b'one'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds(1))])",
        "s.sendmsg([b'three'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds(3))])",
        "s.sendmsg([b'twenty'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds(20))])",
        "s.send(b'x' * 5000)",
      ].join('\n'),
      peer,
    );
    expect(exitCode).toBe(0);
    await waitFor(() => messages.length === 4, 2_000, 'four messages');
    expect(messages.map((m) => [m.text.toString().slice(0, 6), m.descriptor >= 0, m.problem])).toEqual([
      ['one', true, 0],
      ['three', true, osConstants.errno.EPROTO],
      ['twenty', true, osConstants.errno.EPROTO],
      ['xxxxxx', false, osConstants.errno.EMSGSIZE],
    ]);
    expect(messages[3].text.length).toBe(4096);
    // Exactly one descriptor per message reached us; the extras were closed.
    expect(openDescriptorCount()).toBe(before + 3);
    for (const message of messages) if (message.descriptor >= 0) closeSync(message.descriptor);
    expect(openDescriptorCount()).toBe(before);
    channel.close();
    closeSync(peer);
  });

  it('unref() lets the process exit; ref() (the default) keeps it alive', async () => {
    const script = (unref: boolean): string =>
      `const { binding } = require(${JSON.stringify(path.join(NATIVE_DIR, 'dist', 'binding.js'))});` +
      'const [a, b] = binding.socketPair();' +
      'const channel = new binding.DescriptorChannel(a, { onMessage() {}, onClose() {} });' +
      (unref ? 'channel.unref();' : '') +
      'globalThis.keep = b;';
    const unrefd = await runNode(['-e', script(true)], { timeout: 5_000 });
    expect(unrefd).toMatchObject({ code: 0, timedOut: false });
    const refd = await runNode(['-e', script(false)], { timeout: 800 });
    expect(refd.timedOut).toBe(true);
  });

  it('survives worker threads terminated with open channels and messages in flight', async () => {
    const result = await runNode([path.join(__dirname, 'fixtures', 'helper-worker.js'), NATIVE_DIR, '10'], { timeout: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.match(/^terminated /gm)).toHaveLength(10);
    expect(result.stdout).toContain('main alive hello');
  });

  it.skipIf(!PYTHON || reason !== null)(`the helper never keeps a descriptor sent to it${reason ? ` (skipped: ${reason})` : PYTHON ? '' : ' (skipped: needs python3)'}`, async () => {
    const [ours, theirs] = binding.socketPair();
    const child = spawn(BUILT_HELPER, [], { stdio: [theirs, 'ignore', 'ignore'] });
    closeSync(theirs);
    const script = [
      'import array, os, socket, sys',
      's = socket.socket(fileno=0)',
      'hello = s.recv(300).decode()',
      'pid = int(hello.split("pid=")[1].split()[0])',
      "fds = array.array('i', [os.open('/dev/null', os.O_RDONLY) for _ in range(2)])",
      "s.sendmsg([b'ping'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])",
      'print(s.recv(300).decode())',
      "s.send(b'ping')",
      'print(s.recv(300).decode())',
      "print(sorted(os.listdir('/proc/%d/fd' % pid)))",
      "s.send(b'quit')",
    ].join('\n');
    const output = await new Promise<string>((resolve) => {
      const runner = spawn(PYTHON as string, ['-c', script], { stdio: [ours, 'pipe', 'inherit'] });
      let text = '';
      runner.stdout!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      const timer = setTimeout(() => runner.kill('SIGKILL'), 10_000);
      runner.once('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
    });
    closeSync(ours);
    expect(output.split('\n')).toEqual(['error EINVAL requests carry no descriptors', 'pong', "['0', '1', '2']", '']);
    const code = await new Promise((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode);
      child.once('exit', resolve);
      setTimeout(() => child.kill('SIGKILL'), 3_000);
    });
    expect(code).toBe(0);
  });
});

describe.skipIf(process.platform !== 'linux')(`SocketHelperClient against a helper that breaks the protocol${process.platform === 'linux' ? '' : ' (skipped: Linux only)'}`, () => {
  const FAKE = path.join(__dirname, 'fixtures', 'helper-fake.js');
  const start = (behaviour: string, options: { timeoutMs?: number; requestTimeoutMs?: number } = {}): Promise<SocketHelperClient> =>
    SocketHelperClient.start([process.execPath, FAKE, behaviour], { timeoutMs: 10_000, ...options });
  const rejection = (promise: Promise<unknown>): Promise<HelperError> =>
    promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: HelperError) => error,
    );

  it('checks its arguments', async () => {
    await expect(SocketHelperClient.start([])).rejects.toThrow(TypeError);
    await expect(SocketHelperClient.start(['x', 3] as unknown as string[])).rejects.toThrow(TypeError);
    await expect(SocketHelperClient.start(['x'], { timeoutMs: 0 })).rejects.toThrow(RangeError);
    await expect(SocketHelperClient.start(['x'], { requestTimeoutMs: 1.5 })).rejects.toThrow(/"requestTimeoutMs"/);
  });

  it('a hello of another version: EPROTO', async () => {
    const error = await rejection(start('bad-hello'));
    expect(error).toBeInstanceOf(HelperError);
    expect(error).toMatchObject({ code: 'EPROTO' });
    expect(error.message).toContain("sent 'hello 2 pid=1' instead of its hello");
  });

  it('exits before its hello: EHELPEREXIT with the exit code and the last stderr lines', async () => {
    const error = await rejection(start('stderr-exit'));
    expect(error).toMatchObject({ code: 'EHELPEREXIT', exitCode: 5 });
    expect(error.stderr).toBe('line one\nline two\nline three\nthe last line');
    expect(error.message).toMatch(/exited with code 5 before it was ready: line one/);
  });

  it('no hello within timeoutMs: ETIMEDOUT, and the process is killed', async () => {
    const began = performance.now();
    const error = await rejection(start('hang', { timeoutMs: 300 }));
    expect(error).toMatchObject({ code: 'ETIMEDOUT' });
    expect(performance.now() - began).toBeLessThan(2_000);
    const pid = Number(/pid (\d+)/.exec(error.stderr ?? '')?.[1]);
    expect(pid).toBeGreaterThan(0);
    await waitFor(() => isGone(pid), 3_000, `the hung helper ${pid} to be killed`);
  });

  it('no answer within requestTimeoutMs: ETIMEDOUT, the helper is stopped, one exit event', async () => {
    const client = await start('silent', { requestTimeoutMs: 300 });
    const exits: Array<{ reason: string }> = [];
    client.on('exit', (info) => exits.push(info));
    const inFlight = rejection(client.openDescriptor({ family: 'ipv4', protocol: 'icmp' }));
    const queued = rejection(client.ping());
    const error = await inFlight;
    expect(error).toMatchObject({ code: 'ETIMEDOUT' });
    expect(error.message).toContain("no answer to 'open ipv4 icmp' within 300 ms");
    expect(await queued).toMatchObject({ code: 'EHELPEREXIT' });
    await waitFor(() => exits.length === 1, 3_000, 'the exit event');
    expect(exits[0].reason).toMatch(/^no answer to 'open ipv4 icmp' within 300 ms/);
    expect(client.running).toBe(false);
    expect(await rejection(client.ping())).toMatchObject({ code: 'EHELPEREXIT' });
    await client.stop(); // already stopped: resolves
  });

  it('a message nobody asked for ends the helper', async () => {
    const client = await start('unsolicited');
    const exits: Array<{ reason: string }> = [];
    client.on('exit', (info) => exits.push(info));
    await waitFor(() => exits.length === 1, 3_000, 'the exit event');
    expect(exits[0].reason).toMatch(/^sent a message nobody asked for/);
    expect(await rejection(client.ping())).toMatchObject({ code: 'EHELPEREXIT' });
  });

  it("'ok' without a descriptor: EPROTO for that request", async () => {
    const client = await start('no-descriptor');
    try {
      const error = await rejection(client.openDescriptor({ family: 'ipv4', protocol: 'icmp' }));
      expect(error).toMatchObject({ code: 'EPROTO' });
      expect(await rejection(client.ping())).toMatchObject({ code: 'EPROTO' });
    } finally {
      await client.stop();
    }
    expect(client.running).toBe(false);
  });
});
