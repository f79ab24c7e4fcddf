// The built CLI refuses what it cannot do before doing anything: no command (exit 2 with
// the usage on stderr), an unknown command or option, a missing or unfit path, a bad
// value; each in one line naming the argument, the value and what was expected.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readableCopy, type ReadableCopy } from '../lab';
import { ensureCliBuilt, isRoot, runCli } from './fixtures/cli-process';
import { rootWhy, skipNote } from './fixtures/privilege';

let scratch: string;

beforeAll(() => {
  ensureCliBuilt();
  scratch = mkdtempSync(path.join(tmpdir(), 'pw-cli-usage-'));
}, 130_000);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** One line on stderr matching `pattern`, nothing on stdout, exit 2. */
function expectUsageError(result: Awaited<ReturnType<typeof runCli>>, pattern: RegExp, what: string): void {
  expect(result.code, `${what}: ${result.stderr}`).toBe(2);
  expect(result.stdout, what).toBe('');
  const lines = result.stderr.trim().split('\n');
  expect(lines, what).toHaveLength(1);
  expect(lines[0], what).toMatch(pattern);
}

describe('no command, unknown commands and options', () => {
  it('`packet-workbench` and `packet-workbench lab` alone print their usage on stderr and exit 2', async () => {
    for (const args of [[], ['lab']]) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout, args.join(' ')).toBe('');
      expect(result.stderr).toMatch(/^Usage: packet-workbench/);
      expect(result.stderr).toMatch(args.length ? /\bup\b[\s\S]*\bstatus\b[\s\S]*\bdown\b/ : /\bping\b[\s\S]*\btraceroute\b[\s\S]*\bserve\b/);
    }
  });

  it('asked for, help goes to stdout with exit 0', async () => {
    for (const args of [['--help'], ['help'], ['lab', '--help'], ['help', 'lab']]) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toMatch(/^Usage: packet-workbench/);
    }
  });

  it('an unknown command or option is named, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['frob'], /^packet-workbench: unknown command 'frob'/],
      [['lab', 'frob'], /^packet-workbench lab: unknown command 'frob'/],
      [['ping', '127.0.0.1', '--bogus'], /^packet-workbench ping: unknown option '--bogus'/],
      [['lab', 'status', '--bogus'], /^packet-workbench lab status: unknown option '--bogus'/],
      [['capabilities', 'extra'], /^packet-workbench capabilities: too many arguments.*\bextra\b|unknown command 'extra'|'extra'/],
    ];
    for (const [args, pattern] of cases) expectUsageError(await runCli(args), pattern, args.join(' '));
  });
});

describe('paths are checked before any work starts', () => {
  it('serve --static: a missing folder, a file, a folder without index.html; at once, naming the path', async () => {
    const file = path.join(scratch, 'a-file');
    writeFileSync(file, 'x');
    const empty = path.join(scratch, 'empty');
    mkdirSync(empty);
    const cases: [string, RegExp][] = [
      ['/missing/renderer', /^packet-workbench serve: --static \/missing\/renderer: no such folder$/],
      [file, new RegExp(`^packet-workbench serve: --static ${file}: not a folder`)],
      [empty, new RegExp(`^packet-workbench serve: --static ${empty}: no index\\.html in it`)],
    ];
    for (const [dir, pattern] of cases) {
      const result = await runCli(['serve', '--port', '0', '--static', dir], 10_000);
      expectUsageError(result, pattern, dir);
      expect(result.ms, dir).toBeLessThan(5000);
    }
  });

  it('serve --static with a good folder still serves', async () => {
    const good = path.join(scratch, 'good');
    mkdirSync(good);
    writeFileSync(path.join(good, 'index.html'), '<!doctype html><title>x</title>');
    // --json prints the URL record; the pipe test covers stopping it. Here: it started (killed after 3 s).
    const result = await runCli(['serve', '--port', '0', '--static', good, '--json'], 3000);
    expect(result.signal).toBe('SIGKILL');
    expect(result.stdout).toMatch(/"type":"serving"/);
  });

  it.runIf(isRoot)(`setup-helper --source and --dest: missing, not a file, not a folder; nothing is run${skipNote(rootWhy('setup-helper'))}`, async () => {
    const file = path.join(scratch, 'dest-file');
    writeFileSync(file, 'x');
    const cases: [string[], RegExp][] = [
      [['setup-helper', '--source', '/missing/helper', '--dest', path.join(scratch, 'never')], /^packet-workbench setup-helper: --source \/missing\/helper: no such file$/],
      [['setup-helper', '--source', scratch, '--dest', path.join(scratch, 'never')], new RegExp(`^packet-workbench setup-helper: --source ${scratch}: not a file`)],
      [['setup-helper', '--source', file, '--dest', file], new RegExp(`^packet-workbench setup-helper: --dest ${file}: not a folder`)],
    ];
    for (const [args, pattern] of cases) {
      const result = await runCli(args);
      // Usage errors come before the setcap check (a machine without setcap says so only for good arguments).
      expectUsageError(result, pattern, args.join(' '));
    }
    expect(() => execFileSync('ls', [path.join(scratch, 'never')], { stdio: 'ignore' })).toThrow();
  });

  describe.runIf(isRoot)(`as nobody${skipNote(rootWhy('to become nobody'))}`, () => {
    let copy: ReadableCopy;
    beforeAll(() => {
      copy = readableCopy('pw-cli-usage');
    }, 120_000);
    afterAll(() => copy?.remove());

    it('serve --static on a folder nobody may not read: not readable, exit 2', async () => {
      const closed = path.join(scratch, 'closed');
      mkdirSync(closed);
      writeFileSync(path.join(closed, 'index.html'), 'x');
      chmodSync(closed, 0o700);
      chmodSync(scratch, 0o755);
      let stderr = '';
      let code = 0;
      try {
        execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, copy.cli, 'serve', '--static', closed], { cwd: '/', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        code = (error as { status: number }).status;
        stderr = String((error as { stderr: Buffer }).stderr);
      }
      expect(code, stderr).toBe(2);
      expect(stderr.trim()).toBe(`packet-workbench serve: --static ${closed}: not readable (permission denied)`);
    });
  });
});

describe('values: each message names the option, the value and what was expected', () => {
  it('numbers and choices refused by the command line itself', async () => {
    const cases: [string[], RegExp][] = [
      [['ping', '127.0.0.1', '-c', '1.5'], /^packet-workbench ping: -c \(count\): '1\.5' is not a whole number$/],
      [['ping', '127.0.0.1', '-i', 'soon'], /^packet-workbench ping: -i \(interval\): 'soon' is not a number$/],
      [['ping', '127.0.0.1', '-c', '1e400'], /^packet-workbench ping: -c \(count\): '1e400' is not a finite number$/],
      [['send', '127.0.0.1', '--template', 'icmp-echo', '--rate', 'fast'], /^packet-workbench send: --rate: 'fast' is not a number$/],
      [['ping', '127.0.0.1', '--mode', 'fast'], /^packet-workbench ping: --mode: 'fast' is not one of auto, raw, datagram$/],
      [['capture', '--protocol', 'nope'], /^packet-workbench capture: --protocol: 'nope' is not a protocol/],
      [['send', '127.0.0.1', '--template', 'udp', '-p', '70000'], /^packet-workbench send: -p \(port\): must be a whole number from 0 to 65535, got 70000$/],
    ];
    for (const [args, pattern] of cases) expectUsageError(await runCli(args), pattern, args.join(' '));
  });

  it('numbers refused by the contract: the bound and the value, in the flag\'s unit', async () => {
    const cases: [string[], RegExp][] = [
      [['ping', '127.0.0.1', '-c', '0'], /^packet-workbench ping: -c \(count\): must be at least 1, got 0$/],
      [['ping', '127.0.0.1', '-t', '300'], /^packet-workbench ping: -t \(ttl\): must be at most 255, got 300$/],
      [['ping', '127.0.0.1', '-i', '0.001'], /^packet-workbench ping: -i \(interval\): must be at least 0\.01 s, got 0\.001 s$/],
      [['traceroute', '127.0.0.1', '-w', '100'], /^packet-workbench traceroute: -w \(wait\): must be at most \d+ s, got 100 s$/],
    ];
    for (const [args, pattern] of cases) expectUsageError(await runCli(args), pattern, args.join(' '));
  });

  it.runIf(isRoot)(`send --layers: the layer, the key and what it takes${skipNote(rootWhy('raw sockets'))}`, async () => {
    const cases: [string, RegExp][] = [
      ['[{"kind":"bogus"}]', /^packet-workbench send: --layers\[0\]\.kind: unknown kind "bogus" \(expected one of ipv4, ipv6, icmp, icmpv6, udp, tcp, payload\)$/],
      ['[{"kind":"icmp"},{"kind":"payload","data":7}]', /^packet-workbench send: --layers\[1\]\.data: expected a string, got 7$/],
      ['[{"kind":"icmp","colour":1}]', /^packet-workbench send: --layers\[0\]: unknown key "colour" \(expected kind, fields, data\)$/],
      ['[{"kind":"icmp","fields":{"type":300}}]', /^packet-workbench send: --layers: layer 1 \(ICMP\) field 'type' .*must be an integer from 0 to 255, got 300$/],
      ['[]', /^packet-workbench send: --layers: give a JSON array of layers/],
    ];
    for (const [layers, pattern] of cases) {
      expectUsageError(await runCli(['send', '127.0.0.1', '--protocol', 'icmp', '--layers', layers]), pattern, layers);
    }
  });
});
