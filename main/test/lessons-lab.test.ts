// The shipped lessons on real traffic in their labs, both ways: the engine runs inside the
// client's namespace (fixtures/engine-experiments.ts; a namespace belongs to a process),
// captures every packet there, does what a student does (or gets wrong), evaluates the
// lesson live (checkLesson) and exports the capture; then the built CLI grades that file
// offline (`lesson check LESSON --capture FILE --json`): exit 0 when everything passed, 1
// when not, naming the checks that failed. 198.18.0.0/15 and fd42::/16 only.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LessonVerdict } from '../../common/contract';
import type { SerializedError } from '../../common/validate';
import { loadTopology } from '../lab/topologies';
import { createTopologyLab, type TopologyLab } from '../lab/topology-lab';
import { ensureCliBuilt, ROOT, runCli } from './fixtures/cli-process';
import { labWhy, skipNote } from './fixtures/privilege';

const FIXTURES = path.join(__dirname, 'fixtures');
const RUNNER = path.join(FIXTURES, 'engine-runner.cjs');
const SCRIPT = path.join(FIXTURES, 'engine-experiments.ts');
const why = labWhy();

interface Line {
  method?: string;
  result?: unknown;
  error?: SerializedError;
}

type Call = { method: string; params?: unknown };

/** Every id the engine hands out comes from one counter: the capture started first is capture-1. */
const CAPTURE = { method: 'startCapture', params: {} };
/** A pause with no traffic from the target: pings to r1, (count - 1) s (the run ends with the last reply). */
const pause = (count: number): Call => ({ method: 'ping', params: { target: '198.18.1.2', count, intervalMs: 1000 } });

interface Outcome {
  live: LessonVerdict;
  offline: { code: number | null; checks: Array<{ id: string; passed: boolean; reason?: string }>; stderr: string };
}

/** One session after the other: a capture sees every packet in the client's namespace, another session's too. */
async function inTurn<T>(...sessions: Array<() => Promise<T>>): Promise<T[]> {
  const outcomes: T[] = [];
  for (const run of sessions) outcomes.push(await run());
  return outcomes;
}

const failedIds = (verdict: LessonVerdict) => verdict.steps.flatMap((step) => step.checks.filter((check) => !check.passed).map((check) => check.id));

describe.skipIf(why !== '')(`shipped lessons on real traffic, live and offline${skipNote(why)}`, { timeout: 300_000 }, () => {
  let line: TopologyLab;
  let diamond: TopologyLab;
  let smallMtu: TopologyLab;
  let scratch = '';

  beforeAll(async () => {
    ensureCliBuilt();
    // build:main copies the shipped lessons beside the built code; a bare tsc does not.
    cpSync(path.join(ROOT, 'main', 'lessons', 'shipped'), path.join(ROOT, 'dist', 'main', 'lessons', 'shipped'), { recursive: true });
    cpSync(path.join(ROOT, 'main', 'lab', 'topologies'), path.join(ROOT, 'dist', 'main', 'lab', 'topologies'), { recursive: true });
    scratch = mkdtempSync(path.join(tmpdir(), 'pw-lessons-'));
    [line, diamond, smallMtu] = await Promise.all([
      createTopologyLab(loadTopology('line'), { prefix: 'pwl-lessline' }),
      createTopologyLab(loadTopology('diamond'), { prefix: 'pwl-lessdia' }),
      createTopologyLab(loadTopology('small-mtu'), { prefix: 'pwl-lesssmtu' }),
    ]);
    // Building the CLI and three labs on a loaded machine.
  }, 300_000);

  afterAll(async () => {
    await Promise.all([line?.destroy(), diamond?.destroy(), smallMtu?.destroy()]);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** Runs the calls in the client's engine with a capture first, then checkLesson and the export; grades the file with the CLI. */
  async function session(lab: TopologyLab, lesson: string, calls: Call[], label: string): Promise<Outcome> {
    const all = [CAPTURE, ...calls, { method: 'checkLesson', params: { name: lesson } }, { method: 'exportPcapng', params: {} }];
    const result = await lab.exec('client', [process.execPath, RUNNER, SCRIPT, JSON.stringify(all)], { timeoutMs: 150_000, check: false, cwd: '/' });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as Line)
      .filter((l) => l.method);
    for (const l of lines) expect(l.error, `${label}: ${l.method}`).toBeUndefined();
    const live = lines.find((l) => l.method === 'checkLesson')!.result as LessonVerdict;
    const file = path.join(scratch, `${label}.pcapng`);
    writeFileSync(file, Buffer.from((lines.find((l) => l.method === 'exportPcapng')!.result as { pcapng: string }).pcapng, 'base64'));
    const cli = await runCli(['lesson', 'check', lesson, '--capture', file, '--json'], 60_000);
    const records = cli.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((text) => JSON.parse(text) as { type: string; id: string; passed: boolean; reason?: string });
    return { live, offline: { code: cli.code, checks: records.filter((r) => r.type === 'check'), stderr: cli.stderr } };
  }

  /** Everything passed, live and offline. */
  function expectPassed(outcome: Outcome, label: string): void {
    expect(failedIds(outcome.live), `${label} live: ${JSON.stringify(outcome.live)}`).toEqual([]);
    expect(outcome.offline.checks.filter((c) => !c.passed), `${label} offline`).toEqual([]);
    expect(outcome.offline.checks.length).toBe(outcome.live.steps.flatMap((s) => s.checks).length);
    expect(outcome.offline.code, outcome.offline.stderr).toBe(0);
  }

  /** Exactly these checks failed, live and offline (exit 1). */
  function expectFailed(outcome: Outcome, failed: string[], label: string): void {
    expect(failedIds(outcome.live), `${label} live`).toEqual(failed);
    expect(outcome.offline.checks.filter((c) => !c.passed).map((c) => c.id), `${label} offline`).toEqual(failed);
    expect(outcome.offline.code, outcome.offline.stderr).toBe(1);
  }

  it('ping-rtt: passes after pinging the target over both families; fails when nothing answers', async () => {
    const [done, wrong] = await inTurn(
      () => session(line, 'ping-rtt', [
        { method: 'ping', params: { target: '198.18.4.2', count: 4, intervalMs: 200 } },
        { method: 'ping', params: { target: 'fd42:0:0:4::2', count: 3, intervalMs: 200 } },
      ], 'ping-done'),
      // A typo in the address: no host there, no echo reply.
      () => session(line, 'ping-rtt', [{ method: 'ping', params: { target: '198.18.4.9', count: 3, intervalMs: 200, timeoutMs: 1000 } }], 'ping-wrong'),
    );
    expectPassed(done, 'ping-rtt done');
    expectFailed(wrong, ['requests', 'replies', 'request-then-reply', 'rtt-measured', 'ipv6-answered', 'ipv6-reply'], 'ping-rtt wrong');
  });

  it('ttl-traceroute: passes after TTL 1 and ICMP, UDP and TCP traceroutes; fails on plain pings with TTL 64', async () => {
    const target = '198.18.4.2';
    const [done, wrong] = await inTurn(
      () => session(line, 'ttl-traceroute', [
        { method: 'ping', params: { target, count: 1, ttl: 1, timeoutMs: 1000 } },
        { method: 'traceroute', params: { target, probe: 'icmp', maxHops: 8 } },
        { method: 'traceroute', params: { target, probe: 'udp', maxHops: 8 } },
        { method: 'traceroute', params: { target, probe: 'tcp', port: 80, maxHops: 8 } },
      ], 'ttl-done'),
      () => session(line, 'ttl-traceroute', [{ method: 'ping', params: { target, count: 2, intervalMs: 200 } }], 'ttl-wrong'),
    );
    expectPassed(done, 'ttl-traceroute done');
    expectFailed(wrong, ['ttl-1-sent', 'r1-time-exceeded', 'icmp-hop-1', 'icmp-hop-2', 'icmp-hop-3', 'udp-time-exceeded', 'udp-port-unreachable', 'tcp-time-exceeded', 'tcp-answer'], 'ttl-traceroute wrong');
  });

  it('checksums: passes after a wrong checksum (no answer) then a fixed one; fails without one, or when the fixed one goes out before 2 s passed', async () => {
    const icmp = (sequence: number, checksum?: number) => ({ kind: 'icmp', fields: { type: 8, code: 0, identifier: 4660, sequence, ...(checksum === undefined ? {} : { checksum }) } });
    const data = { kind: 'payload', data: '7061636b657420776f726b62656e6368' };
    const open = { method: 'openSocket', params: { family: 'ipv4', protocol: 1 } };
    // capture-1, then socket-2 (one counter for every id).
    const send = (sequence: number, checksum?: number): Call => ({ method: 'send', params: { socketId: 'socket-2', address: '198.18.4.2', packet: { layers: [icmp(sequence, checksum), data] } } });
    const [done, onlyFixed, tooSoon] = await inTurn(
      () => session(line, 'checksums', [open, send(1, 0x1234), pause(4), send(2), pause(1)], 'checksums-done'),
      () => session(line, 'checksums', [open, send(2), pause(1)], 'checksums-only-fixed'),
      // The fixed one right after the wrong one: the target's reply comes within 2 s of the wrong one.
      () => session(line, 'checksums', [open, send(1, 0x1234), send(2), pause(3)], 'checksums-too-soon'),
    );
    expectPassed(done, 'checksums done');
    expectFailed(onlyFixed, ['bad-sent', 'silent-drop', 'bad-then-reply'], 'checksums only fixed');
    expectFailed(tooSoon, ['silent-drop'], 'checksums too soon');
  });

  it('ecmp-diamond: passes after ICMP and UDP traceroutes (UDP flows take both paths); fails with ICMP probes only (one path)', async () => {
    const target = '198.18.6.2';
    const [done, wrong] = await inTurn(
      () => session(diamond, 'ecmp-diamond', [
        { method: 'traceroute', params: { target, probe: 'icmp', maxHops: 8 } },
        { method: 'traceroute', params: { target, probe: 'udp', probesPerHop: 10, maxHops: 8 } },
      ], 'ecmp-done'),
      () => session(diamond, 'ecmp-diamond', [
        { method: 'traceroute', params: { target, probe: 'icmp', probesPerHop: 10, maxHops: 8 } },
      ], 'ecmp-wrong'),
    );
    expectPassed(done, 'ecmp done');
    // ICMP echo probes carry no ports: every one hashes to the same path, so only one of via-r2 / via-r3 could pass (neither does: no UDP).
    expectFailed(wrong, ['via-r2', 'via-r3', 'udp-reached'], 'ecmp wrong');
  });

  it('mtr-lossy: passes after 30 mtr cycles through the lossy link (loss and +40 ms past r1); fails after pinging r1 only', async () => {
    const lossy = await createTopologyLab(loadTopology('lossy'), { prefix: 'pwl-lesslossy' });
    try {
      const how = lossy.map.links[1].impairments.map((impairment) => impairment.how);
      // Without netem and without the built link emulator the link neither loses nor delays: nothing to teach.
      if (how.includes('unsupported')) {
        console.log(`mtr-lossy on real traffic skipped: the lossy link is not impaired here (${lossy.map.links[1].impairments[0].reason})`);
        return;
      }
      const [done, wrong] = await inTurn(
        () => session(lossy, 'mtr-lossy', [{ method: 'mtr', params: { target: '198.18.3.2', cycles: 30, intervalMs: 200, timeoutMs: 1000, maxHops: 8 } }], 'mtr-done'),
        () => session(lossy, 'mtr-lossy', [{ method: 'ping', params: { target: '198.18.1.2', count: 5, intervalMs: 200 } }], 'mtr-wrong'),
      );
      expectPassed(done, `mtr-lossy done (${how.join(', ')})`);
      expectFailed(wrong, ['enough-probes', 'hop-1-fast', 'hop-2-slow', 'target-slow', 'loss-seen'], 'mtr-lossy wrong');
    } finally {
      await lossy.destroy();
    }
  });

  it('pmtu-small-mtu: passes after path-MTU discovery over both families; fails with small pings only', async () => {
    const [done, wrong] = await inTurn(
      () => session(smallMtu, 'pmtu-small-mtu', [
        { method: 'pmtu', params: { target: '198.18.3.2', timeoutMs: 1000, maxHops: 8 } },
        { method: 'pmtu', params: { target: 'fd42:0:0:3::2', timeoutMs: 1000, maxHops: 8 } },
      ], 'pmtu-done'),
      () => session(smallMtu, 'pmtu-small-mtu', [{ method: 'ping', params: { target: '198.18.3.2', count: 2, intervalMs: 200, size: 1000 } }], 'pmtu-wrong'),
    );
    expectPassed(done, 'pmtu done');
    expectFailed(wrong, ['big-df-probe', 'frag-needed', 'probe-then-error', 'fitting-probe-arrives', 'big-ipv6-probe', 'packet-too-big'], 'pmtu wrong');
  });
});
