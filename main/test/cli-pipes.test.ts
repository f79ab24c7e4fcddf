// Every command ends quietly when the reader of its output goes away (`ping … | head -1`):
// no stack trace, no EPIPE text, exit status 141 (128 + SIGPIPE, what a shell reports for
// ping(8) or tcpdump ended by the signal), and the work stops: a ping without -c, a server
// or a lab waiting for Ctrl-C end within seconds, as they do on Ctrl-C. The reader is a
// shell pipe into `head -1`, a pipe whose reader closed before the command started, and a
// socket (Node's child stdio) closed the same way. Network: 127.0.0.1 and ::1 only.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLabSupported } from '../lab';
import { CLI, ensureCliBuilt, isRoot } from './fixtures/cli-process';
import { labWhy, rootWhy, skipNote } from './fixtures/privilege';

const BROKEN_PIPE = 141;
const labsSupported = isRoot && isLabSupported();
let scratch: string;

beforeAll(() => {
  ensureCliBuilt();
  scratch = mkdtempSync(path.join(tmpdir(), 'pw-cli-pipes-'));
}, 130_000);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Waits for the child to end; after timeoutMs SIGKILLs its process group (the test then
 * fails on the signal). Children are spawned detached: a group of their own.
 */
function ended(child: ReturnType<typeof spawn>, timeoutMs: number, start: number): Promise<Ended> {
  const text = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (text.stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (text.stderr += chunk));
  const kill = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, ...text, ms: performance.now() - start });
    });
  });
}

/** `packet-workbench ARGS | head -1` through bash; the CLI's own exit status. */
function intoHead(args: string[], timeoutMs = 20_000): Promise<Ended> {
  const start = performance.now();
  const script = '"$@" | head -1; exit "${PIPESTATUS[0]}"';
  return ended(spawn('bash', ['-c', script, 'bash', process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true }), timeoutMs, start);
}

/** Stdout a pipe (a FIFO) whose only reader closed before the command started. */
function intoClosedPipe(args: string[], timeoutMs = 20_000): Promise<Ended> {
  const fifo = path.join(scratch, `fifo-${Math.random().toString(16).slice(2)}`);
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  closeSync(reader);
  const start = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', writer, 'pipe'], detached: true });
  closeSync(writer);
  rmSync(fifo);
  return ended(child, timeoutMs, start);
}

/** Stdout a socket (Node's child stdio) whose reading end is closed at once. */
function intoClosedSocket(args: string[], timeoutMs = 20_000): Promise<Ended> {
  const start = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout!.destroy();
  return ended(child, timeoutMs, start);
}

function expectQuiet(result: Ended, what: string, codes: number[] = [BROKEN_PIPE]): void {
  expect(result.signal, `${what}: killed after ${Math.round(result.ms)} ms; stderr: ${result.stderr}`).toBeNull();
  expect(codes, `${what}: exit ${result.code}; stderr: ${result.stderr}`).toContain(result.code);
  expect(result.stderr, what).not.toMatch(/EPIPE|ERR_STREAM|Error:|^\s+at /m);
}

/** Commands that print a little and end by themselves; each must still end quietly. */
const SHORT: string[][] = [['--help'], ['--version'], ['help', 'ping'], ['lab', 'status'], ['capabilities']];

/** Below the 5 s fallback exit: every command must stop through its own stop path. */
const STOPPED_WITHIN_MS = 4000;

/** Commands that run until stopped (or long enough that they must be stopped). */
const LONG: string[][] = [
  ['ping', '127.0.0.1', '-i', '0.2'],
  ['ping', '::1', '-i', '0.2', '--json'],
  ['serve', '--port', '0'],
];

const LONG_ROOT: string[][] = [
  ['traceroute', '127.0.0.1', '-q', '1'],
  ['send', '127.0.0.1', '--template', 'icmp-echo', '-c', '100000', '-i', '0.01'],
  ['capture', '-c', '100000', '--timeout', '60'],
];

describe('a closed output ends every command quietly with 141', () => {
  for (const args of [...SHORT, ...LONG]) {
    it(`${args.join(' ')}: into a pipe whose reader is gone, and into a closed socket`, async () => {
      for (const run of [intoClosedPipe, intoClosedSocket]) {
        const result = await run(args);
        expectQuiet(result, `${run.name} ${args.join(' ')}`);
        expect(result.ms, `${run.name} ${args.join(' ')}`).toBeLessThan(STOPPED_WITHIN_MS);
      }
    });
  }

  for (const args of LONG_ROOT) {
    it.runIf(isRoot)(`${args.join(' ')}: into a pipe whose reader is gone, and into a closed socket${skipNote(rootWhy('raw sockets'))}`, async () => {
      for (const run of [intoClosedPipe, intoClosedSocket]) {
        const result = await run(args);
        expectQuiet(result, `${run.name} ${args.join(' ')}`);
        expect(result.ms, `${run.name} ${args.join(' ')}`).toBeLessThan(STOPPED_WITHIN_MS);
      }
    });
  }

  it.runIf(isRoot)(`setup-helper --remove into a closed pipe${skipNote(rootWhy('setcap'))}`, async () => {
    expectQuiet(await intoClosedPipe(['setup-helper', '--remove', '--dest', path.join(scratch, 'no-helper-here')]), 'setup-helper');
  });

  it('a usage error keeps its exit status 2 and its message on stderr', async () => {
    const result = await intoClosedPipe(['frob']);
    expectQuiet(result, 'frob', [2]);
    expect(result.stderr).toMatch(/^packet-workbench: unknown command 'frob'/);
  });
});

describe('| head -1: the first line, then a quiet end', () => {
  for (const args of LONG) {
    it(args.join(' '), async () => {
      const result = await intoHead(args);
      expectQuiet(result, args.join(' '));
      expect(result.stdout.split('\n').filter(Boolean), args.join(' ')).toHaveLength(1);
      expect(result.ms, args.join(' ')).toBeLessThan(STOPPED_WITHIN_MS);
    });
  }

  for (const args of LONG_ROOT.filter(([command]) => command !== 'capture')) {
    it.runIf(isRoot)(`${args.join(' ')}${skipNote(rootWhy('raw sockets'))}`, async () => {
      const result = await intoHead(args);
      // traceroute to 127.0.0.1 may finish before head is gone: then it exits 0 as usual.
      expectQuiet(result, args.join(' '), args[0] === 'traceroute' ? [0, BROKEN_PIPE] : [BROKEN_PIPE]);
      expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(1);
      expect(result.ms, args.join(' ')).toBeLessThan(STOPPED_WITHIN_MS);
    });
  }

  it.runIf(isRoot)(`capture while 127.0.0.1 is pinged${skipNote(rootWhy('packet sockets'))}`, async () => {
    const pinging = spawn(process.execPath, [CLI, 'ping', '127.0.0.1', '-c', '40', '-i', '0.1'], { stdio: 'ignore' });
    try {
      const result = await intoHead(['capture', '--timeout', '30']);
      expectQuiet(result, 'capture');
      expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(1);
      expect(result.ms).toBeLessThan(STOPPED_WITHIN_MS);
    } finally {
      pinging.kill('SIGKILL');
    }
  });

  for (const args of SHORT) {
    it(args.join(' '), async () => {
      // Short output may all be in the pipe before head leaves: 0 or 141, never a trace.
      expectQuiet(await intoHead(args), args.join(' '), [0, BROKEN_PIPE]);
    });
  }
});

describe.runIf(labsSupported)(`lab up${skipNote(labWhy())}`, () => {
  const labNamespaces = (pid: number) => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((line) => line.startsWith(`pwcli-${pid}-`));

  it('| head -1 takes the lab down and exits 141', { timeout: 60_000 }, async () => {
    const start = performance.now();
    const child = spawn('bash', ['-c', '"$@" | head -1; exit "${PIPESTATUS[0]}"', 'bash', process.execPath, CLI, 'lab', 'up', '--routers', '0'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const result = await ended(child, 40_000, start);
    expectQuiet(result, 'lab up');
    expect(result.stdout).toMatch(/^Lab pwcli-\d+-\w+ is up/);
    const pid = Number(/pwcli-(\d+)-/.exec(result.stdout)![1]);
    expect(labNamespaces(pid)).toEqual([]);
  });

  it('into a closed socket: the same', { timeout: 60_000 }, async () => {
    const start = performance.now();
    const child = spawn(process.execPath, [CLI, 'lab', 'up', '--routers', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout!.destroy();
    const result = await ended(child, 40_000, start);
    expectQuiet(result, 'lab up');
    expect(labNamespaces(child.pid!)).toEqual([]);
  });
});
