// Ping and traceroute through a namespace lab: client — router1 — router2 — target
// (198.18.0.0/15, fd42::/16). The engine runs inside the client namespace in a
// child node process (main/test/fixtures/engine-experiments.ts, loaded through
// engine-runner.cjs, which transpiles TypeScript on require), because a namespace
// belongs to a process, not to a socket.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentRun, Hop } from '../../common/contract';
import type { SerializedError } from '../../common/validate';
import { createLab, NOBODY, readableCopy, type Lab, type NamespaceExecOptions, type ReadableCopy } from '../lab';
import { labWhy, skipNote } from './fixtures/privilege';

const FIXTURES = path.join(__dirname, 'fixtures');
const RUNNER = path.join(FIXTURES, 'engine-runner.cjs');
const SCRIPT = path.join(FIXTURES, 'engine-experiments.ts');
const labsWhy = labWhy();

interface Line {
  method?: string;
  ms?: number;
  result?: unknown;
  error?: SerializedError;
  events?: Record<string, number>;
}

let lab: Lab;

let copy: ReadableCopy | undefined;

/**
 * As another user, the fixture runs from a readable copy of the build (the checkout may be in /root,
 * mode 0700): transpiled into the copy's dist/main/test/fixtures, its imports reach the built engine.
 */
function scriptFor(options: NamespaceExecOptions): string[] {
  if (!options.user) return [RUNNER, SCRIPT];
  copy ??= readableCopy('pw-engine-lab');
  const target = path.join(copy.root, 'dist', 'main', 'test', 'fixtures', 'engine-experiments.js');
  mkdirSync(path.dirname(target), { recursive: true });
  const { outputText } = ts.transpileModule(readFileSync(SCRIPT, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  writeFileSync(target, outputText, { mode: 0o644 });
  for (let dir = path.dirname(target); dir.startsWith(copy.root); dir = path.dirname(dir)) chmodSync(dir, 0o755);
  // The script reads its calls from argv[3], as under the runner.
  return [target, '-'];
}

async function inClient(calls: { method: string; params?: unknown }[], options: NamespaceExecOptions = {}): Promise<Line[]> {
  const result = await lab.exec('client', [process.execPath, ...scriptFor(options), JSON.stringify(calls)], { timeoutMs: 90_000, check: false, cwd: '/', ...options });
  if (result.code !== 0) throw new Error(`engine child exited with ${result.code}: ${result.stderr}`);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Line);
}

function responders(hops: Hop[]): string[][] {
  return hops.map((hop) => hop.probes.map((probe) => probe.responder ?? '*'));
}

describe.skipIf(labsWhy !== '')(`engine in a namespace lab${skipNote(labsWhy)}`, () => {
  beforeAll(async () => {
    lab = await createLab({
      routers: 2,
      // The target answers every probe (port unreachable and RST replies are rate limited by default),
      // and the client may open ICMP datagram sockets as any user.
      hostSysctls: {
        target: { 'net.ipv4.icmp_ratelimit': 0, 'net.ipv6.icmp.ratelimit': 0 },
        client: { 'net.ipv4.ping_group_range': '0 2147483647' },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
    copy?.remove();
  });

  it('traces the exact hop list with ICMP, UDP and TCP probes over IPv4 and IPv6', { timeout: 120_000 }, async () => {
    const families = ['ipv4', 'ipv6'] as const;
    const probes = ['icmp', 'udp', 'tcp'] as const;
    const calls = families.flatMap((family) =>
      probes.map((probe) => ({
        method: 'traceroute',
        params: { target: lab.target.addresses[family][0], probe, maxHops: 8, probesPerHop: 3, timeoutMs: 1000 },
      })),
    );
    const lines = await inClient(calls);
    const final = { icmp: 'echo-reply', udp: 'port-unreachable', tcp: 'tcp-rst' };
    let index = 0;
    for (const family of families) {
      const expected = lab.expectedHops[family];
      for (const probe of probes) {
        const line = lines[index++];
        expect(line.error, `${family} ${probe}`).toBeUndefined();
        const run = line.result as ExperimentRun;
        expect(run, `${family} ${probe}`).toMatchObject({ kind: 'traceroute', state: 'done', family, mode: 'raw', traceroute: { reached: true } });
        const hops = run.traceroute!.hops;
        expect(hops.map((hop) => hop.ttl)).toEqual([1, 2, 3]);
        expect(responders(hops), `${family} ${probe}`).toEqual(expected.map((address) => [address, address, address]));
        expect(hops.slice(0, -1).flatMap((hop) => hop.probes.map((p) => p.kind))).toEqual(new Array(6).fill('time-exceeded'));
        expect(hops[2].probes.map((p) => p.kind)).toEqual([final[probe], final[probe], final[probe]]);
        for (const hop of hops) for (const p of hop.probes) expect(p.rtt).toBeGreaterThan(0);
      }
    }
    expect(lines[index].events?.tracerouteHop).toBeGreaterThanOrEqual(1);
  });

  it('names the Destination Unreachable a router answers with and stops there', { timeout: 120_000 }, async () => {
    const v4 = lab.target.addresses.ipv4[0];
    const v6 = lab.target.addresses.ipv6[0];
    const trace = (target: string, probe: string, timeoutMs = 1000) => ({ method: 'traceroute', params: { target, probe, maxHops: 6, probesPerHop: 3, timeoutMs } });
    // What router2 does with the target, and the kind (traceroute(8)'s mark) the kernel answers with.
    const cases = [
      { route: ['-6', 'route', 'add', 'unreachable', `${v6}/128`], target: v6, kind: 'unreachable-net' }, // ICMPv6 code 0, !N
      { route: ['-6', 'route', 'add', 'prohibit', `${v6}/128`], target: v6, kind: 'unreachable-prohibited' }, // code 1, !X
      { route: ['-4', 'route', 'add', 'unreachable', `${v4}/32`], target: v4, kind: 'unreachable-host' }, // EHOSTUNREACH: code 1, !H
      { route: ['-4', 'rule', 'add', 'to', `${v4}/32`, 'unreachable'], target: v4, kind: 'unreachable-net' }, // ENETUNREACH: code 0, !N
      { route: ['-4', 'route', 'add', 'prohibit', `${v4}/32`], target: v4, kind: 'unreachable-prohibited' }, // code 13, !X
    ];
    for (const [index, { route, target, kind }] of cases.entries()) {
      const probe = index % 2 === 0 ? 'udp' : 'icmp';
      const label = `${route.join(' ')} (${probe})`;
      await lab.exec('router2', ['ip', ...route]);
      let line: Line;
      try {
        [line] = await inClient([trace(target, probe)]);
      } finally {
        await lab.exec('router2', ['ip', ...route.map((word) => (word === 'add' ? 'del' : word))]);
      }
      expect(line.error, label).toBeUndefined();
      const run = line.result as ExperimentRun;
      expect(run, label).toMatchObject({ state: 'done', traceroute: { reached: false } });
      const family = target === v4 ? 'ipv4' : 'ipv6';
      const hops = run.traceroute!.hops;
      expect(hops[0].probes.map((p) => [p.responder, p.kind]), label).toEqual(new Array(3).fill([lab.expectedHops[family][0], 'time-exceeded']));
      // IPv4 routers rate-limit these errors per source (net.ipv4.route.error_cost: one a second once the burst is
      // spent, global, not per namespace), so router2 may stay silent for a hop or two (* * *) before it answers.
      for (const hop of hops.slice(1, -1)) expect(hop.probes.map((p) => p.status), label).toEqual(['timeout', 'timeout', 'timeout']);
      const last = hops[hops.length - 1];
      expect(last.ttl, label).toBeLessThan(6);
      const answered = last.probes.filter((p) => p.status === 'reply');
      expect(answered.length, label).toBeGreaterThanOrEqual(1);
      expect(answered.map((p) => [p.responder, p.kind]), label).toEqual(new Array(answered.length).fill([lab.expectedHops[family][1], kind]));
    }
    // No neighbour answers for the address on router2's link to the target: address (host) unreachable after ~3 s of ND / ARP.
    const missing = { ipv4: v4.replace(/\.2$/, '.99'), ipv6: v6.replace(/::2$/, '::99') };
    const lines = await inClient([trace(missing.ipv6, 'udp', 6000), trace(missing.ipv4, 'icmp', 6000)]);
    for (const [i, family] of (['ipv6', 'ipv4'] as const).entries()) {
      const run = lines[i].result as ExperimentRun;
      expect(run, family).toMatchObject({ state: 'done', traceroute: { reached: false } });
      const hops = run.traceroute!.hops;
      expect(hops.map((hop) => hop.probes.map((p) => p.kind)), family).toEqual([
        ['time-exceeded', 'time-exceeded', 'time-exceeded'],
        ['time-exceeded', 'time-exceeded', 'time-exceeded'],
        ['unreachable-host', 'unreachable-host', 'unreachable-host'],
      ]);
      expect(hops[2].probes[0].responder, family).toBe(lab.expectedHops[family][1]);
    }
  });

  it('starts at firstHop and stops at maxHops', { timeout: 60_000 }, async () => {
    const target = lab.target.addresses.ipv4[0];
    const [from2, upTo2] = await inClient([
      { method: 'traceroute', params: { target, firstHop: 2, probesPerHop: 1, timeoutMs: 1000 } },
      { method: 'traceroute', params: { target, maxHops: 2, probesPerHop: 2, timeoutMs: 1000 } },
    ]);
    const a = from2.result as ExperimentRun;
    expect(a.traceroute?.hops.map((hop) => [hop.ttl, hop.probes[0].responder])).toEqual([
      [2, lab.expectedHops.ipv4[1]],
      [3, lab.expectedHops.ipv4[2]],
    ]);
    const b = upTo2.result as ExperimentRun;
    expect(b.traceroute).toMatchObject({ reached: false });
    expect(responders(b.traceroute!.hops)).toEqual(lab.expectedHops.ipv4.slice(0, 2).map((address) => [address, address]));
  });

  it('pings across the routers and reports Time Exceeded as error replies', { timeout: 60_000 }, async () => {
    const v4 = lab.target.addresses.ipv4[0];
    const v6 = lab.target.addresses.ipv6[0];
    const lines = await inClient([
      { method: 'ping', params: { target: v4, count: 2, intervalMs: 20 } },
      { method: 'ping', params: { target: v6, count: 2, intervalMs: 20 } },
      { method: 'ping', params: { target: v4, count: 2, intervalMs: 20, ttl: 1 } },
      { method: 'ping', params: { target: v6, count: 2, intervalMs: 20, ttl: 2 } },
    ]);
    const [okV4, okV6, ttl1, ttl2] = lines.map((line) => line.result as ExperimentRun);
    expect(okV4.ping?.statistics).toMatchObject({ transmitted: 2, received: 2, loss: 0 });
    // Three hops away: 64 - 2 routers.
    expect(okV4.ping?.replies.map((r) => [r.from, r.ttl])).toEqual([
      [v4, 62],
      [v4, 62],
    ]);
    expect(okV6.ping?.statistics).toMatchObject({ transmitted: 2, received: 2, loss: 0 });
    expect(okV6.ping?.replies.map((r) => [r.from, r.ttl])).toEqual([
      [v6, 62],
      [v6, 62],
    ]);
    expect(ttl1.ping?.replies.map((r) => [r.status, r.from, r.error])).toEqual([
      ['error', lab.expectedHops.ipv4[0], 'Time to live exceeded'],
      ['error', lab.expectedHops.ipv4[0], 'Time to live exceeded'],
    ]);
    expect(ttl1.ping?.statistics).toMatchObject({ transmitted: 2, received: 0, errors: 2, loss: 100 });
    expect(ttl2.ping?.replies.map((r) => [r.status, r.from, r.error])).toEqual([
      ['error', lab.expectedHops.ipv6[1], 'Time exceeded: Hop limit'],
      ['error', lab.expectedHops.ipv6[1], 'Time exceeded: Hop limit'],
    ]);
  });

  it('without privileges: ping falls back to a datagram socket, raw sockets and raw-only traceroute say EPERM and what to do (unprivileged traceroute: privileges.test.ts)', { timeout: 60_000 }, async () => {
    const v4 = lab.target.addresses.ipv4[0];
    const v6 = lab.target.addresses.ipv6[0];
    const lines = await inClient(
      [
        { method: 'capabilities' },
        { method: 'ping', params: { target: v4, count: 2, intervalMs: 20 } },
        { method: 'ping', params: { target: v6, count: 2, intervalMs: 20 } },
        { method: 'openSocket', params: { family: 'ipv4', protocol: 17, mode: 'raw' } },
        { method: 'traceroute', params: { target: v4, probe: 'udp', mode: 'raw' } },
        { method: 'ping', params: { target: v4, count: 1, mode: 'raw' } },
      ],
      { user: NOBODY },
    );
    const [capabilities, ping4, ping6, open, trace, rawPing] = lines;
    expect(capabilities.result).toMatchObject({ uid: 65534, raw: false, datagram: { ipv4: true, ipv6: true }, modes: ['datagram'], pingGroupRange: [0, 2147483647] });
    expect((capabilities.result as { remedy: string }).remedy).toMatch(/CAP_NET_RAW/);
    for (const [line, target] of [
      [ping4, v4],
      [ping6, v6],
    ] as const) {
      const run = line.result as ExperimentRun;
      expect(run).toMatchObject({ mode: 'datagram', state: 'done' });
      // Three hops away (64 - 2 routers), read from IP_RECVTTL / IPV6_RECVHOPLIMIT: datagram sockets deliver no IP header.
      expect(run.ping?.replies.map((r) => [r.status, r.from, r.ttl])).toEqual([
        ['reply', target, 62],
        ['reply', target, 62],
      ]);
    }
    expect(open.error).toMatchObject({ code: 'EPERM' });
    expect(open.error?.message).toMatch(/setcap cap_net_raw/);
    expect(trace.error).toMatchObject({ code: 'EPERM' });
    expect(trace.error?.message).toMatch(/setup-helper/);
    expect(rawPing.error).toMatchObject({ code: 'EPERM' });
  });
});
