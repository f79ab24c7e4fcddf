// `traceroute --mtr` and `pmtu` through the built CLI on loopback: mtr's report layout,
// tracepath's lines ending with the path MTU, --json records, and usage errors naming the option;
// with --lab-host, both from a lab host.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labSupport } from '../lab';
import { ensureCliBuilt, ROOT, runCli } from './fixtures/cli-process';
import { rawSocketsWhy, skipNote } from './fixtures/privilege';

beforeAll(() => ensureCliBuilt(), 180_000);

const loMtu = Number(readFileSync('/sys/class/net/lo/mtu', 'utf8'));

describe('traceroute --mtr', () => {
  it.runIf(!rawSocketsWhy)(`--report prints mtr's report: one hop, 0% loss, 3 sent${skipNote(rawSocketsWhy)}`, async () => {
    const result = await runCli(['traceroute', '--mtr', '-c', '3', '-i', '0.1', '--report', '127.0.0.1']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^Start: \d{4}-\d\d-\d\dT/);
    expect(lines[1]).toMatch(/^HOST: \S+ +Loss% {3}Snt {3}Last {3}Avg {2}Best {2}Wrst StDev$/);
    expect(lines[2]).toMatch(/^ {2}1\.\|-- 127\.0\.0\.1 +0\.0% +3( +\d+\.\d){5}$/);
    expect(lines[2].indexOf('0.0%') + 4).toBe(lines[1].indexOf('Loss%') + 5);
  });

  it.runIf(!rawSocketsWhy)(`--json: a record per cycle, then the result${skipNote(rawSocketsWhy)}`, async () => {
    const result = await runCli(['traceroute', '--mtr', '-c', '2', '-i', '0.1', '--json', '::1']);
    expect(result.code).toBe(0);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((record) => record.type)).toEqual(['start', 'cycle', 'cycle', 'result']);
    expect(records[1]).toMatchObject({ cycle: 1, hops: [{ ttl: 1, address: '::1', sent: 1, received: 1 }] });
    expect(records[3]).toMatchObject({ state: 'done', reached: true, cycles: 2, exitCode: 0, hops: [{ ttl: 1, sent: 2, received: 2, lossPercent: 0 }] });
  });

  it.each([
    [['traceroute', '--mtr', '-c', '0', '127.0.0.1'], /^packet-workbench traceroute: -c \(cycles\): must be at least 1, got 0\n$/],
    [['traceroute', '--mtr', '-c', '1001', '127.0.0.1'], /-c \(cycles\): must be at most 1000/],
    [['traceroute', '--mtr', '-i', '0.05', '127.0.0.1'], /-i \(interval\): must be at least 0\.1 s, got 0\.05 s/],
    [['traceroute', '--mtr', '-m', '65', '127.0.0.1'], /-m \(max hops\): must be at most 64/],
    [['traceroute', '--mtr', '-q', '2', '127.0.0.1'], /-q \(probes per hop\) does not go with --mtr/],
    [['traceroute', '--mtr', '-f', '2', '127.0.0.1'], /-f \(first hop\) does not go with --mtr/],
    [['traceroute', '-c', '5', '127.0.0.1'], /-c \(cycles\) goes with --mtr/],
    [['traceroute', '--report', '127.0.0.1'], /--report goes with --mtr/],
    [['pmtu', '-m', '0', '127.0.0.1'], /^packet-workbench pmtu: -m \(max hops\): must be at least 1, got 0\n$/],
    [['pmtu', '-w', '31', '::1'], /-w \(wait\): must be at most 30 s, got 31 s/],
    [['pmtu', '-4', '::1'], /<target>: ::1 is an IPv6 address, but -4 asks for IPv4/],
    [['pmtu', '127.0.0.1', 'extra'], /unexpected argument 'extra'/],
  ])('%j: exit 2 naming the option', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });
});

describe.runIf(process.platform === 'linux')('pmtu (no privileges needed; Linux only: the error queue)', () => {
  it("::1: tracepath's lines, ending with the path MTU (lo's)", async () => {
    const result = await runCli(['pmtu', '::1']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^ 1\\?: \\[LOCALHOST\\] +pmtu ${loMtu}$`));
    expect(lines[1]).toMatch(/^ 1: {2}::1 +\d+\.\d{3}ms reached$/);
    expect(lines.at(-1)).toMatch(new RegExp(`Resume: hops 1, pmtu ${loMtu}$`));
  });

  it('127.0.0.1 --json: hop records and the result with pathMtu', async () => {
    const result = await runCli(['pmtu', '--json', '127.0.0.1']);
    expect(result.code).toBe(0);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.at(-1)).toMatchObject({ type: 'result', reached: true, pathMtu: Math.min(loMtu, 65_535), exitCode: 0 });
    expect(records.filter((record) => record.type === 'hop').at(-1)).toMatchObject({ ttl: 1, address: '127.0.0.1', note: 'reached' });
  });
});

/**
 * --lab-host: a lab `lab up` started from a file (small-mtu under a name of its own, so no other test's
 * `lab up small-mtu` meets it); mtr and pmtu act from its client. 198.18.0.0/15 and fd42::/16 only.
 */
describe.skipIf(!labSupport().supported)(`--lab-host on mtr and pmtu${labSupport().supported ? '' : ` (skipped: ${labSupport().reason})`}`, () => {
  const name = `mtrcli${process.pid % 100_000}`;
  let scratch = '';
  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'pw-mtr-lab-'));
    const file = path.join(scratch, `${name}.json`);
    const topology = JSON.parse(readFileSync(path.join(ROOT, 'main', 'lab', 'topologies', 'small-mtu.json'), 'utf8')) as { name: string };
    writeFileSync(file, JSON.stringify({ ...topology, name }));
    const up = await runCli(['lab', 'up', file], 60_000);
    expect(up.code, up.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await runCli(['lab', 'down', name], 30_000);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('traceroute --mtr --report and pmtu from client: r1, r2, target; path MTU 1280 reported by r1', { timeout: 90_000 }, async () => {
    const [report, v4, v6] = await Promise.all([
      runCli(['traceroute', '--mtr', '--lab-host', 'client', '-c', '3', '-i', '0.2', '--report', '198.18.3.2'], 60_000),
      runCli(['pmtu', '--lab-host', 'client', '198.18.3.2'], 60_000),
      runCli(['pmtu', '--lab-host', 'client', '--json', 'fd42:0:0:3::2'], 60_000),
    ]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout.trimEnd().split('\n').slice(2).map((line) => line.replace(/ +\d+\.\d( +\d+\.\d){4}$/, ''))).toEqual(
      ['198.18.1.2', '198.18.2.2', '198.18.3.2'].map((address, i) => `  ${i + 1}.|-- ${address}`.padEnd(33) + '  0.0%     3'),
    );
    expect(v4.code, v4.stderr).toBe(0);
    expect(v4.stdout).toMatch(/^ 2: {2}198\.18\.1\.2 +\d+\.\d{3}ms pmtu 1280$/m);
    expect(v4.stdout.trimEnd().split('\n').at(-1)).toBe('     Resume: hops 3, pmtu 1280');
    expect(v6.code, v6.stderr).toBe(0);
    const result = JSON.parse(v6.stdout.trim().split('\n').at(-1)!) as { pathMtu: number; hops: { ttl: number; address?: string; note?: string }[] };
    expect(result.pathMtu).toBe(1280);
    expect(result.hops.find((hop) => hop.note === 'Packet Too Big')).toMatchObject({ ttl: 2, address: 'fd42:0:0:1::2' });
  });
});
