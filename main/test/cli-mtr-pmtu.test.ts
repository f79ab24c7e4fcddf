// `traceroute --mtr` and `pmtu` through the built CLI on loopback: mtr's report layout,
// tracepath's lines ending with the path MTU, --json records, and usage errors naming the option.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, runCli } from './fixtures/cli-process';
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

describe.runIf(process.platform === 'linux')('pmtu (no privileges needed)', () => {
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
