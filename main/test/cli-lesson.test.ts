// `packet-workbench lesson list|check` through the built CLI: the list, a graded capture
// (exit 0 all passed, 1 some failed, per-check lines and --json records), and usage errors
// (exit 2): an unknown lesson, a broken lesson file named by field and line, a missing,
// empty or broken capture. No privileges: grading reads a file.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, writePcapng, type PacketStack } from '../../packets';
import { ensureCliBuilt, ROOT, runCli } from './fixtures/cli-process';

const T0 = 1_700_000_000_000_000_000n;
const echo = (src: string, dst: string, type: number, sequence: number) =>
  build([{ kind: 'ipv4', fields: { src, dst } }, { kind: 'icmp', fields: { type, identifier: 9, sequence } }, { kind: 'payload', data: '6869' }] as PacketStack);

let scratch = '';

beforeAll(() => {
  ensureCliBuilt();
  cpSync(path.join(ROOT, 'main', 'lessons', 'shipped'), path.join(ROOT, 'dist', 'main', 'lessons', 'shipped'), { recursive: true });
  cpSync(path.join(ROOT, 'main', 'lab', 'topologies'), path.join(ROOT, 'dist', 'main', 'lab', 'topologies'), { recursive: true });
  scratch = mkdtempSync(path.join(tmpdir(), 'pw-cli-lesson-'));
}, 180_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A ping of the line topology's target: `answered` of `sent` requests got their reply. */
function pingCapture(name: string, sent: number, answered: number): string {
  const packets = [];
  for (let sequence = 1; sequence <= sent; sequence++) {
    const at = T0 + BigInt(sequence) * 1_000_000_000n;
    packets.push({ data: echo('198.18.1.1', '198.18.4.2', 8, sequence), timestampNs: at, direction: 'outbound' as const });
    if (sequence <= answered) packets.push({ data: echo('198.18.4.2', '198.18.1.1', 0, sequence), timestampNs: at + 3_000_000n, direction: 'inbound' as const });
  }
  const file = path.join(scratch, name);
  writeFileSync(file, writePcapng(packets));
  return file;
}

describe('packet-workbench lesson', () => {
  it('list names the six shipped lessons', async () => {
    const text = await runCli(['lesson', 'list']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^NAME +TOPOLOGY +STEPS +CHECKS +TITLE$/);
    expect(text.stdout).toMatch(/^ping-rtt +line +2 +6 +Ping and round-trip time$/m);
    const json = await runCli(['lesson', 'list', '--json']);
    const lessons = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { name: string; topology: string });
    expect(lessons.map((l) => `${l.name}:${l.topology}`)).toEqual(['checksums:line', 'ecmp-diamond:diamond', 'mtr-lossy:lossy', 'ping-rtt:line', 'pmtu-small-mtu:small-mtu', 'ttl-traceroute:line']);
  });

  it('check: a verdict line per check and exit 1 when some failed, --json records, exit 0 when all passed', async () => {
    // IPv4 only, one reply in three: the IPv4 step fails on replies and rtt, the IPv6 step on everything.
    const partial = await runCli(['lesson', 'check', 'ping-rtt', '--capture', pingCapture('partial.pcapng', 3, 1)]);
    expect(partial.code, partial.stderr).toBe(1);
    const lines = partial.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^lesson ping-rtt: Ping and round-trip time \(topology line\), 4 packets from .*partial\.pcapng$/);
    expect(lines).toContain('step 1: Ping the target');
    expect(lines).toContain(`  pass  ${'requests'.padEnd(18)}  At least 3 echo requests went from the client to the target [#0 #2 #3]`);
    expect(partial.stdout).toMatch(/^ {2}FAIL {2}replies +At least 3 echo replies came back from the target: 1 packet matches, at least 3 needed \[#1\]$/m);
    expect(lines.at(-1)).toBe('2 of 6 checks passed');

    const json = await runCli(['lesson', 'check', 'ping-rtt', '--capture', path.join(scratch, 'partial.pcapng'), '--json']);
    expect(json.code).toBe(1);
    const records = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.filter((r) => r.type === 'check').map((r) => [r.id, r.passed])).toEqual([
      ['requests', true],
      ['replies', false],
      ['request-then-reply', true],
      ['rtt-measured', false],
      ['ipv6-answered', false],
      ['ipv6-reply', false],
    ]);
    expect(records.at(-1)).toMatchObject({ type: 'verdict', lesson: 'ping-rtt', packets: 4, passed: 2, failed: 4 });

    // A lesson file of one's own: the IPv4 step alone, on three answered pings.
    const own = path.join(scratch, 'ipv4-only.json');
    writeFileSync(own, JSON.stringify({ name: 'ipv4-only', title: 'IPv4 ping', topology: 'line', steps: [{ title: 'Ping', text: 'Ping.', checks: [{ id: 'replies', kind: 'count', text: 'Replies', match: { icmpType: 'echo-reply', from: 'target' }, atLeast: 3 }] }] }));
    const done = await runCli(['lesson', 'check', own, '--capture', pingCapture('done.pcapng', 3, 3)]);
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.stdout.trim().split('\n').at(-1)).toBe('1 of 1 checks passed');
  });

  it('check reads a capture over 8 MiB (imported in pieces)', { timeout: 60_000 }, async () => {
    const big = (src: string, dst: string, type: number, sequence: number) =>
      build([{ kind: 'ipv4', fields: { src, dst } }, { kind: 'icmp', fields: { type, identifier: 9, sequence } }, { kind: 'payload', data: '68'.repeat(1400) }] as PacketStack);
    const packets = [];
    for (let sequence = 1; sequence <= 3500; sequence++) {
      const at = T0 + BigInt(sequence) * 1_000_000_000n;
      packets.push({ data: big('198.18.1.1', '198.18.4.2', 8, sequence), timestampNs: at, direction: 'outbound' as const });
      packets.push({ data: big('198.18.4.2', '198.18.1.1', 0, sequence), timestampNs: at + 3_000_000n, direction: 'inbound' as const });
    }
    const file = path.join(scratch, 'big.pcapng');
    const bytes = writePcapng(packets);
    expect(bytes.length).toBeGreaterThan(8 * 1024 * 1024);
    writeFileSync(file, bytes);
    const own = path.join(scratch, 'ipv4-replies.json');
    writeFileSync(own, JSON.stringify({ name: 'ipv4-replies', title: 'IPv4 ping', topology: 'line', steps: [{ title: 'Ping', text: 'Ping.', checks: [{ id: 'replies', kind: 'count', text: 'Replies', match: { icmpType: 'echo-reply', from: 'target' }, atLeast: 3500 }] }] }));
    const result = await runCli(['lesson', 'check', own, '--capture', file], 50_000);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/, 7000 packets from .*big\.pcapng$/);
  });

  it('usage errors exit 2 with one line naming what is wrong', async () => {
    const capture = pingCapture('any.pcapng', 1, 1);
    const unknown = await runCli(['lesson', 'check', 'ping-rttt', '--capture', capture]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^packet-workbench lesson check: ping-rttt: no shipped lesson of that name \(shipped: checksums, /);
    const bad = path.join(scratch, 'bad.json');
    writeFileSync(bad, '{\n  "name": "bad",\n  "title": "Bad",\n  "topology": "line",\n  "steps": [{ "title": "S", "text": "T", "checks": [{ "id": "x", "kind": "count", "text": "X", "match": { "filter": "icmp.tpye == 8" } }] }]\n}\n');
    const broken = await runCli(['lesson', 'check', bad, '--capture', capture]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/bad\.json: steps\[0\]\.checks\[0\]\.match\.filter: display filter: .*icmp\.tpye.* \(line 5, column \d+\)/);
    const missing = await runCli(['lesson', 'check', 'ping-rtt']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('give what the student handed in: --capture FILE or --workspace FILE (one of them)');
    const absent = await runCli(['lesson', 'check', 'ping-rtt', '--capture', path.join(scratch, 'nope.pcapng')]);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toMatch(/--capture .*nope\.pcapng: cannot read it \(ENOENT\)/);
    const garbage = path.join(scratch, 'garbage.pcapng');
    writeFileSync(garbage, 'not a capture at all');
    const notCapture = await runCli(['lesson', 'check', 'ping-rtt', '--capture', garbage]);
    expect(notCapture.code).toBe(2);
    expect(notCapture.stderr).toMatch(/^packet-workbench lesson check: .*pcapng/);
  });
});
