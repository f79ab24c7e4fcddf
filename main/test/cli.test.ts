// The built command line (dist/main/cli.js) run as a child process: output in the
// style of ping(8) and traceroute(8), --json, exit codes, privileges (as nobody in
// namespaces the test creates), send counted on a capture, capture read by tshark,
// and traceroute across a namespace lab. Network: 127.0.0.1, ::1 and lab hosts only.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../packets/build';
import { formatHex } from '../../packets/hex';
import { createLab, createNamespace, NOBODY, readableCopy, type Lab, type Namespace, type ReadableCopy } from '../lab';
import { ensureCliBuilt } from './fixtures/cli-process';
import { labWhy, rootWhy, skipNote } from './fixtures/privilege';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'main', 'cli.js');
// The CLI runs as a child process: raw sockets there need root (an effective
// CAP_NET_RAW is not inherited across exec).
const loopbackWhy = rootWhy('raw sockets in the CLI child process');
const labsWhy = labWhy();

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], timeoutMs = 20_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

/** Starts the CLI and resolves once `pattern` appears on `stream` (bounded by timeoutMs). */
function started(args: string[], pattern: RegExp, stream: 'stdout' | 'stderr' = 'stderr', timeoutMs = 10_000): Promise<{ child: ChildProcess; done: Promise<Result> }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const text = { stdout: '', stderr: '' };
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<Result>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, ...text });
    });
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`'${args.join(' ')}' did not print ${pattern} within ${timeoutMs} ms: ${text.stderr}`)), timeoutMs);
    for (const name of ['stdout', 'stderr'] as const) {
      child[name]!.setEncoding('utf8').on('data', (chunk: string) => {
        text[name] += chunk;
        if (name === stream && pattern.test(text[name])) {
          clearTimeout(timer);
          resolve({ child, done });
        }
      });
    }
    child.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`'${args.join(' ')}' ended early: ${text.stderr}`));
    });
  });
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeAll(ensureCliBuilt, 130_000);

const REPLY = /^64 bytes from (127\.0\.0\.1|::1): icmp_seq=(\d+)( ttl=\d+)? time=\d+(\.\d+)? ms$/;

describe('command line: usage and validation', () => {
  it('prints help with every command and exits 0', async () => {
    const result = await cli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['ping', 'traceroute', 'send', 'capture', 'serve', 'lab']) expect(result.stdout).toContain(command);
    expect(result.stdout).toMatch(/77 missing privilege/);
  });

  it('refuses a bad address, a bad number and an unknown option with one line naming the argument, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['ping', '300.1.2.3', '-c', '1'], /^packet-workbench ping: <target>: '300\.1\.2\.3' is not an IPv4 or IPv6 address/],
      [['ping', 'fe80::zz'], /<target>: 'fe80::zz' is not an IPv4 or IPv6 address/],
      [['ping', '127.0.0.1', '-c', 'abc'], /-c \(count\): 'abc' is not a number$/],
      [['ping', '127.0.0.1', '-c', '0'], /-c \(count\): must be at least 1, got 0$/],
      [['ping', '127.0.0.1', '-i', '0.001'], /-i \(interval\): must be at least 0\.01 s, got 0\.001 s$/],
      [['ping', '127.0.0.1', '--mode', 'fast'], /--mode: 'fast' is not one of auto, raw, datagram$/],
      [['ping', '127.0.0.1', '--bogus'], /unknown option '--bogus'/],
      [['traceroute', '127.0.0.1', '-m', '300'], /-m \(max hops\): must be at most 255, got 300$/],
      [['traceroute', '127.0.0.1', '-I', '-T'], /choose one probe method/],
      [['traceroute', '127.0.0.1', '-6'], /127\.0\.0\.1 is an IPv4 address, but -6 asks for IPv6/],
      [['send', '127.0.0.1'], /give the packet: --hex HEX, --layers JSON or --template NAME/],
      [['send', '127.0.0.1', '--hex', '08zz', '--protocol', 'icmp'], /--hex: Invalid hex digit 'z'/],
      [['send', '127.0.0.1', '--hex', '0800'], /--protocol: needed with --hex/],
      [['send', '127.0.0.1', '--layers', '{nope'], /--layers: not valid JSON/],
      [['send', '127.0.0.1', '--template', 'icmp-echo', '-i', '1', '--rate', '5'], /-i \(interval\) and --rate: give one of them/],
      [['send', '::1', '--template', 'icmp-echo'], /--template icmp-echo: needs an IPv4 target/],
      [['capture', '--protocol', 'nope'], /--protocol.*'nope' is not a protocol/],
      [['frob'], /unknown command 'frob'/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((result, i) => {
      const [args, pattern] = cases[i];
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout, args.join(' ')).toBe('');
      const lines = result.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0], args.join(' ')).toMatch(pattern);
    });
  });

  it('reports usage errors as a JSON object with --json', async () => {
    const result = await cli(['ping', '127.0.0.1', '-W', '100', '--json']);
    expect(result.code).toBe(2);
    expect(jsonLines(result.stdout)).toEqual([{ type: 'error', code: 'INVALID_ARGUMENT', message: '-W (timeout): must be at most 60 s, got 100 s', exitCode: 2 }]);
  });
});

describe.skipIf(loopbackWhy !== '')(`command line on loopback${skipNote(loopbackWhy)}`, () => {
  it('ping 127.0.0.1 -c 3 prints what ping(8) prints and exits 0', async () => {
    const result = await cli(['ping', '127.0.0.1', '-c', '3', '-i', '0.2']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.');
    expect(lines.slice(1, 4).map((line) => REPLY.exec(line)?.[2])).toEqual(['1', '2', '3']);
    for (const line of lines.slice(1, 4)) expect(line).toMatch(/ ttl=64 /);
    expect(lines[4]).toBe('');
    expect(lines[5]).toBe('--- 127.0.0.1 ping statistics ---');
    expect(lines[6]).toMatch(/^3 packets transmitted, 3 received, 0% packet loss, time \d+ms$/);
    expect(lines[7]).toMatch(/^rtt min\/avg\/max\/mdev = \d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3} ms$/);
    expect(lines).toHaveLength(8);
  });

  it('ping ::1 over IPv6', async () => {
    const result = await cli(['ping', '::1', '-c', '2', '-i', '0.2']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('PING ::1 (::1) 56 data bytes');
    expect(lines.slice(1, 3).map((line) => REPLY.exec(line)?.[1])).toEqual(['::1', '::1']);
    for (const line of lines.slice(1, 3)) expect(line).toMatch(/ ttl=64 /);
    expect(lines).toContain('--- ::1 ping statistics ---');
    expect(lines).toContainEqual(expect.stringMatching(/^2 packets transmitted, 2 received, 0% packet loss/));
  });

  it('ping --json: one object per line, statistics last', async () => {
    const result = await cli(['ping', '127.0.0.1', '-c', '2', '-i', '0.1', '-s', '100', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const records = jsonLines(result.stdout);
    expect(records.map((record) => record.type)).toEqual(['start', 'reply', 'reply', 'statistics']);
    expect(records[0]).toMatchObject({ address: '127.0.0.1', family: 'ipv4', mode: 'raw', size: 100 });
    expect(records[1]).toMatchObject({ status: 'reply', sequence: 1, from: '127.0.0.1', bytes: 108, ttl: 64 });
    expect(records[3]).toMatchObject({ state: 'done', transmitted: 2, received: 2, loss: 0, exitCode: 0 });
    expect(records[3].min).toBeGreaterThan(0);
  });

  it('Ctrl-C stops ping and prints the statistics, like ping(8)', async () => {
    const { child, done } = await started(['ping', '127.0.0.1', '-i', '0.1'], /icmp_seq=2 /, 'stdout');
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/--- 127\.0\.0\.1 ping statistics ---\n\d+ packets transmitted, \d+ received/);
    expect(result.stdout).toMatch(/rtt min\/avg\/max\/mdev = /);
  });

  it('send --hex of an ICMP echo, -c 5, arrives five times on a capture', { timeout: 40_000 }, async () => {
    const identifier = randomBytes(2).readUInt16BE(0) | 1;
    const sequence = 0x4000 + (randomBytes(2).readUInt16BE(0) & 0x3fff);
    const echo = build([
      { kind: 'icmp', fields: { type: 8, code: 0, identifier, sequence } },
      { kind: 'payload', data: randomBytes(24) },
    ]);
    const { child, done } = await started(['capture', '--protocol', 'icmp', '--timeout', '20', '--json'], /Capturing ICMP/);
    const sent = await cli(['send', '127.0.0.1', '--hex', formatHex(echo), '--protocol', 'icmp', '-c', '5', '-i', '0.02']);
    expect(sent.code, sent.stderr).toBe(0);
    const lines = sent.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    for (const line of lines.slice(0, 5)) {
      expect(line).toMatch(new RegExp(`^ +\\d \\s+\\d+\\.\\d{6} 127\\.0\\.0\\.1 → 127\\.0\\.0\\.1 ICMP 32 Echo request id=0x${identifier.toString(16).padStart(4, '0')} seq=${sequence}$`));
    }
    expect(lines[5]).toMatch(/^5 of 5 packets sent to 127\.0\.0\.1 in \d+\.\d{3} s$/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGINT');
    const captured = await done;
    expect(captured.code, captured.stderr).toBe(0);
    const records = jsonLines(captured.stdout);
    const ours = records.filter((record) => record.type === 'packet' && String(record.info).startsWith(`Echo request id=0x${identifier.toString(16).padStart(4, '0')} seq=${sequence}`));
    expect(ours).toHaveLength(5);
    expect(records[records.length - 1]).toMatchObject({ type: 'summary', stoppedBy: 'interrupt', exitCode: 0 });
  });

  it('capture -c 4 -w FILE writes a pcapng that tshark reads back as the same packets', { timeout: 40_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-capture-'));
    try {
      const file = path.join(dir, 'capture.pcapng');
      // Captures see every packet of the machine (other test files run at the same time):
      // this test's pings are the only ones with a 445-byte IP packet (-s 417).
      const { done } = await started(['capture', '-c', '4', '--timeout', '20', '-w', file, 'icmp and ip[2:2] == 445'], /Capturing/);
      const pinged = await cli(['ping', '127.0.0.1', '-c', '2', '-i', '0.1', '-s', '417']);
      expect(pinged.code, pinged.stderr).toBe(0);
      const captured = await done;
      expect(captured.code, captured.stderr).toBe(0);
      expect(captured.stderr).toMatch(/4 packets written to .*capture\.pcapng/);
      const printed = captured.stdout.trimEnd().split('\n');
      expect(printed).toHaveLength(4);
      const ours = printed.map((line) => /^ +(\d+) +\d+\.\d{6} (\S+) → (\S+) ICMP (\d+) /.exec(line)!.slice(1));
      const tshark = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'ip.src', '-e', 'ip.dst', '-e', '_ws.col.Protocol', '-e', 'frame.len'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 30_000,
      });
      const theirs = tshark.trimEnd().split('\n').map((line) => line.split('\t'));
      expect(theirs.map(([number, src, dst, protocol, length]) => [number, src, dst, protocol, length])).toEqual(ours.map(([n, s, d, l]) => [n, s, d, 'ICMP', l]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('traceroute to 127.0.0.1 reaches it in one hop (exit 0)', async () => {
    const result = await cli(['traceroute', '127.0.0.1', '--icmp', '-q', '2']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      'traceroute to 127.0.0.1 (127.0.0.1), 30 hops max, 60 byte packets',
      expect.stringMatching(/^ 1  127\.0\.0\.1  \d+\.\d{3} ms  \d+\.\d{3} ms$/),
    ]);
  });
});

describe.skipIf(labsWhy !== '')(`command line without privileges (as nobody in a namespace)${skipNote(labsWhy)}`, () => {
  let closed: Namespace;
  let open: Namespace;
  // nobody runs a readable copy of the build: the checkout may be in /root (mode 0700).
  let copy: ReadableCopy;
  const asNobody = (namespace: Namespace, args: string[]) =>
    namespace.exec([process.execPath, copy.cli, ...args], { user: NOBODY, check: false, timeoutMs: 20_000, cwd: '/' });

  beforeAll(async () => {
    copy = readableCopy('pw-cli-nobody');
    // A new namespace starts with ping_group_range '1 0' (nobody may not ping); the other allows every group.
    closed = await createNamespace({ suffix: 'cli-closed' });
    open = await createNamespace({ suffix: 'cli-open', sysctls: { 'net.ipv4.ping_group_range': '0 2147483647' } });
  });
  afterAll(async () => {
    await closed?.destroy();
    await open?.destroy();
    copy?.remove();
  });

  it('ping exits 77 and names the missing capability and the remedies', async () => {
    const result = await asNobody(closed, ['ping', '127.0.0.1', '-c', '1']);
    expect(result.code).toBe(77);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^packet-workbench ping: missing privilege \(CAP_NET_RAW\): /);
    expect(lines[0]).toContain('sudo setcap cap_net_raw+ep');
    expect(lines[0]).toMatch(/ping_group_range \(now '1 0'\)/);
    const json = await asNobody(closed, ['ping', '127.0.0.1', '-c', '1', '--json']);
    expect(json.code).toBe(77);
    expect(jsonLines(json.stdout)).toEqual([expect.objectContaining({ type: 'error', code: 'EPERM', exitCode: 77 })]);
  });

  it('raw-only traceroute and capture exit 77 too (unprivileged traceroute is in privileges.test.ts)', async () => {
    const [trace, capture] = await Promise.all([asNobody(open, ['traceroute', '--mode', 'raw', '127.0.0.1']), asNobody(open, ['capture', '-c', '1', '--timeout', '1'])]);
    expect(trace.code).toBe(77);
    expect(trace.stderr).toMatch(/CAP_NET_RAW.*setcap/);
    expect(capture.code).toBe(77);
    expect(capture.stderr).toMatch(/CAP_NET_RAW.*setcap/);
    expect(capture.stderr).not.toMatch(/datagram/);
  });

  it('with ping_group_range open, ping works as nobody through a datagram socket (IPv4 and IPv6)', async () => {
    const [v4, v6, raw] = await Promise.all([
      asNobody(open, ['ping', '127.0.0.1', '-c', '2', '-i', '0.1', '--json']),
      asNobody(open, ['ping', '::1', '-c', '2', '-i', '0.1']),
      asNobody(open, ['ping', '127.0.0.1', '-c', '1', '--mode', 'raw']),
    ]);
    expect(v4.code, v4.stderr).toBe(0);
    const records = jsonLines(v4.stdout);
    expect(records[0]).toMatchObject({ type: 'start', mode: 'datagram' });
    expect(records[records.length - 1]).toMatchObject({ type: 'statistics', received: 2, exitCode: 0 });
    // Datagram sockets deliver no IP header: the TTL comes from IP_RECVTTL / IPV6_RECVHOPLIMIT.
    expect(records.filter((record) => record.type === 'reply').map((record) => record.ttl)).toEqual([64, 64]);
    expect(v6.code, v6.stderr).toBe(0);
    expect(v6.stdout).toMatch(/^PING ::1 \(::1\) 56 data bytes\n64 bytes from ::1: icmp_seq=1 ttl=64 time=/);
    expect(v6.stdout).toMatch(/\n64 bytes from ::1: icmp_seq=2 ttl=64 time=/);
    expect(raw.code).toBe(77);
    expect(raw.stderr).toMatch(/Without --mode raw, ping falls back to an ICMP datagram socket/);
  });
});

describe.skipIf(labsWhy !== '')(`command line across a namespace lab${skipNote(labsWhy)}`, () => {
  let lab: Lab;
  const inClient = (args: string[]) => lab.exec('client', [process.execPath, CLI, ...args], { check: false, timeoutMs: 60_000 });

  beforeAll(async () => {
    lab = await createLab({
      routers: 2,
      hostSysctls: { target: { 'net.ipv4.icmp_ratelimit': 0, 'net.ipv6.icmp.ratelimit': 0 } },
    });
  }, 60_000);
  afterAll(async () => {
    await lab?.destroy();
  });

  it('traceroute --icmp, --udp, --tcp and -6 print the exact hop list', { timeout: 90_000 }, async () => {
    const cases = [
      { family: 'ipv4', args: ['--icmp'], bytes: 60 },
      { family: 'ipv4', args: ['--udp'], bytes: 60 },
      { family: 'ipv4', args: ['--tcp'], bytes: 40 },
      { family: 'ipv6', args: ['-6', '--icmp'], bytes: 80 },
      { family: 'ipv6', args: ['-6', '--udp'], bytes: 80 },
      { family: 'ipv6', args: ['-6', '--tcp'], bytes: 60 },
    ] as const;
    for (const { family, args, bytes } of cases) {
      const target = lab.target.addresses[family][0];
      const result = await inClient(['traceroute', ...args, '-m', '8', '-w', '1', target]);
      const label = `${family} ${args.join(' ')}`;
      expect(result.code, `${label}: ${result.stderr}`).toBe(0);
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines[0], label).toBe(`traceroute to ${target} (${target}), 8 hops max, ${bytes} byte packets`);
      const hops = lines.slice(1).map((line) => /^ ?(\d+)  (\S+)  \d+\.\d{3} ms  \d+\.\d{3} ms  \d+\.\d{3} ms$/.exec(line)?.slice(1, 3));
      expect(hops, label).toEqual(lab.expectedHops[family].map((address, i) => [String(i + 1), address]));
    }
  });

  it('traceroute prints !H, !N, !X after the time where a router answers Destination Unreachable, and exits 1', { timeout: 90_000 }, async () => {
    const v4 = lab.target.addresses.ipv4[0];
    const v6 = lab.target.addresses.ipv6[0];
    const cases = [
      { route: ['-4', 'route', 'add', 'unreachable', `${v4}/32`], args: ['--udp', v4], mark: '!H' },
      { route: ['-4', 'route', 'add', 'prohibit', `${v4}/32`], args: ['--icmp', v4], mark: '!X' },
      { route: ['-6', 'route', 'add', 'unreachable', `${v6}/128`], args: ['-6', '--udp', v6], mark: '!N' },
      { route: ['-6', 'route', 'add', 'prohibit', `${v6}/128`], args: ['-6', '--tcp', v6], mark: '!X' },
    ];
    for (const { route, args, mark } of cases) {
      const label = `${route.join(' ')}: ${args.join(' ')}`;
      await lab.exec('router2', ['ip', ...route]);
      let result: Awaited<ReturnType<typeof inClient>>;
      try {
        result = await inClient(['traceroute', '-m', '6', '-w', '1', ...args]);
      } finally {
        await lab.exec('router2', ['ip', ...route.map((word) => (word === 'add' ? 'del' : word))]);
      }
      expect(result.code, `${label}: ${result.stderr}`).toBe(1);
      const family = args.includes('-6') ? 'ipv6' : 'ipv4';
      const [, first, ...rest] = result.stdout.trimEnd().split('\n');
      expect(first, label).toMatch(new RegExp(`^ 1  ${lab.expectedHops[family][0].replace(/\./g, '\\.')}( {2}\\d+\\.\\d{3} ms){3}$`));
      // IPv4 routers rate-limit these errors per source (net.ipv4.route.error_cost, global): router2 may stay silent
      // for a hop or two, and a probe may go unanswered (*); every answer carries the mark, and the trace ends there.
      const last = rest.pop();
      for (const line of rest) expect(line, label).toMatch(/^ \d  \* \* \*$/);
      const router2 = lab.expectedHops[family][1].replace(/\./g, '\\.');
      expect(last, label).toMatch(new RegExp(`^ [2-5] ( \\*)* ${router2}( {2}\\d+\\.\\d{3} ms ${mark}| \\*)+$`));
    }
  });

  it('traceroute --json gives the hops; -m 2 stops short of the target with exit 1', { timeout: 60_000 }, async () => {
    const target = lab.target.addresses.ipv4[0];
    const result = await inClient(['traceroute', '--icmp', '-m', '2', '-q', '1', target, '--json']);
    expect(result.code).toBe(1);
    const records = jsonLines(result.stdout);
    expect(records.map((record) => record.type)).toEqual(['start', 'hop', 'hop', 'result']);
    expect(records[3]).toMatchObject({ reached: false, exitCode: 1 });
    const hops = records[3].hops as { probes: { responder: string }[] }[];
    expect(hops.map((hop) => hop.probes[0].responder)).toEqual(lab.expectedHops.ipv4.slice(0, 2));
  });

  it('ping with -t 1 prints Time to live exceeded from the first router and exits 1', { timeout: 60_000 }, async () => {
    const target = lab.target.addresses.ipv4[0];
    const result = await inClient(['ping', '-c', '2', '-i', '0.1', '-t', '1', target]);
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.slice(1, 3)).toEqual([`From ${lab.expectedHops.ipv4[0]} icmp_seq=1 Time to live exceeded`, `From ${lab.expectedHops.ipv4[0]} icmp_seq=2 Time to live exceeded`]);
    expect(lines).toContainEqual(expect.stringMatching(/^2 packets transmitted, 0 received, \+2 errors, 100% packet loss, time \d+ms$/));
    const reached = await inClient(['ping', '-c', '1', target]);
    expect(reached.code).toBe(0);
    expect(reached.stdout).toMatch(new RegExp(`64 bytes from ${target.replace(/\./g, '\\.')}: icmp_seq=1 ttl=62 time=`));
  });
});
