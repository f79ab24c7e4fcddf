// mtr and path-MTU discovery in the shipped topologies (main/lab/topologies): the engine
// runs inside the client's namespace in a child process (fixtures/engine-experiments.ts
// through engine-runner.cjs; a namespace belongs to a process). `line`: mtr sees r1, r2,
// r3 and the target, every count exact; `small-mtu`: path MTU 1280, reported by r1 (its
// next link is the small one), after the client's own 1500-byte link. 198.18.0.0/15 and fd42::/16 only.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentRun, ParamsIn } from '../../common/contract';
import { validateParams } from '../../common/validate';
import { Workbench } from '../engine';
import type { SerializedError } from '../../common/validate';
import { loadTopology } from '../lab/topologies';
import { createTopologyLab, type TopologyLab } from '../lab/topology-lab';
import { CLI, ensureCliBuilt } from './fixtures/cli-process';
import { labWhy, skipNote } from './fixtures/privilege';

const FIXTURES = path.join(__dirname, 'fixtures');
const RUNNER = path.join(FIXTURES, 'engine-runner.cjs');
const SCRIPT = path.join(FIXTURES, 'engine-experiments.ts');
const why = labWhy();

interface Line {
  method?: string;
  result?: ExperimentRun;
  error?: SerializedError;
}

async function inClient(lab: TopologyLab, calls: { method: string; params: unknown }[]): Promise<Line[]> {
  const result = await lab.exec('client', [process.execPath, RUNNER, SCRIPT, JSON.stringify(calls)], { timeoutMs: 90_000, check: false, cwd: '/' });
  if (result.code !== 0) throw new Error(`engine child exited with ${result.code}: ${result.stderr}`);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Line)
    .filter((line) => line.method);
}

/** The address of each link's far end (the next hop from the client), per family. */
function hopAddresses(lab: TopologyLab): { ipv4: string[]; ipv6: string[] } {
  const far = lab.map.links.map((link) => link.ends[1].addresses.map((address) => address.replace(/\/\d+$/, '')));
  return { ipv4: far.map((addresses) => addresses.find((a) => a.includes('.'))!), ipv6: far.map((addresses) => addresses.find((a) => a.includes(':'))!) };
}

describe.skipIf(why !== '')(`mtr and pmtu in the shipped topologies${skipNote(why)}`, { timeout: 120_000 }, () => {
  let line: TopologyLab;
  let smallMtu: TopologyLab;
  beforeAll(async () => {
    ensureCliBuilt();
    [line, smallMtu] = await Promise.all([
      createTopologyLab(loadTopology('line'), { prefix: 'pwl-mtrline' }),
      createTopologyLab(loadTopology('small-mtu'), { prefix: 'pwl-pmtusm' }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([line?.destroy(), smallMtu?.destroy()]);
  });

  it('line: mtr -c 5 shows r1, r2, r3, target, 5 sent and 5 received at every hop, over IPv4 and IPv6', async () => {
    const hops = hopAddresses(line);
    const calls = (['ipv4', 'ipv6'] as const).map((family) => ({
      method: 'mtr',
      params: { target: hops[family][3], cycles: 5, intervalMs: 200, timeoutMs: 1000, maxHops: 10 },
    }));
    const results = await inClient(line, calls);
    for (const [index, family] of (['ipv4', 'ipv6'] as const).entries()) {
      const { result: run, error } = results[index];
      expect(error, family).toBeUndefined();
      expect(run, family).toMatchObject({ kind: 'mtr', state: 'done', family, mtr: { cycles: 5, reached: true } });
      expect(run!.mtr!.hops.map((hop) => [hop.ttl, hop.address, hop.sent, hop.received, hop.lossPercent])).toEqual(
        hops[family].map((address, i) => [i + 1, address, 5, 5, 0]),
      );
      for (const hop of run!.mtr!.hops) {
        expect(hop.addresses).toEqual([hop.address]);
        expect(hop.bestMs!).toBeGreaterThan(0);
        expect(hop.bestMs!).toBeLessThanOrEqual(hop.avgMs!);
        expect(hop.avgMs!).toBeLessThanOrEqual(hop.worstMs!);
        expect(hop.stdevMs!).toBeGreaterThanOrEqual(0);
      }
      console.log(`line ${family}: ${run!.mtr!.hops.map((hop) => `${hop.ttl} ${hop.address} loss ${hop.lossPercent}% avg ${hop.avgMs!.toFixed(3)} ms`).join('; ')}`);
    }
  });

  it('small-mtu: path MTU 1280 over IPv4 and IPv6, Fragmentation Needed / Packet Too Big from r1 at hop 2', async () => {
    const hops = hopAddresses(smallMtu);
    const calls = (['ipv4', 'ipv6'] as const).map((family) => ({ method: 'pmtu', params: { target: hops[family][2], timeoutMs: 1000, maxHops: 8 } }));
    const results = await inClient(smallMtu, calls);
    for (const [index, family] of (['ipv4', 'ipv6'] as const).entries()) {
      const { result: run, error } = results[index];
      expect(error, family).toBeUndefined();
      expect(run, family).toMatchObject({ kind: 'pmtu', state: 'done', pmtu: { pathMtu: 1280, reached: true } });
      const [r1, r2, target] = hops[family];
      const lines = run!.pmtu!.hops.map(({ rttMs: _rtt, ...rest }) => rest);
      expect(lines, family).toEqual([
        // The largest packet is refused by the client's own 1500-byte link first.
        { ttl: 1, mtu: 1500, note: 'local interface MTU' },
        { ttl: 1, address: r1, mtu: 1500 },
        { ttl: 2, address: r1, mtu: 1280, note: family === 'ipv4' ? 'Fragmentation Needed' : 'Packet Too Big' },
        { ttl: 2, address: r2, mtu: 1280 },
        { ttl: 3, address: target, mtu: 1280, note: 'reached' },
      ]);
    }
  });

  it('line: the CLI prints the report (traceroute --mtr -c 5 --report) and small-mtu: pmtu ends with pmtu 1280', async () => {
    const cli = (lab: TopologyLab, args: string[]) => lab.exec('client', [process.execPath, CLI, ...args], { timeoutMs: 60_000, check: false, cwd: '/' });
    const [report, v4, v6] = await Promise.all([
      cli(line, ['traceroute', '--mtr', '-c', '5', '-i', '0.2', '--report', hopAddresses(line).ipv4[3]]),
      cli(smallMtu, ['pmtu', hopAddresses(smallMtu).ipv4[2]]),
      cli(smallMtu, ['pmtu', hopAddresses(smallMtu).ipv6[2]]),
    ]);
    expect(report.code, report.stderr).toBe(0);
    const rows = report.stdout.trimEnd().split('\n').slice(2);
    expect(rows.map((row) => row.replace(/( +\d+\.\d){5}$/, ' …'))).toEqual(hopAddresses(line).ipv4.map((address, i) => `  ${i + 1}.|-- ${address}`.padEnd(33) + '  0.0%     5 …'));
    for (const [result, family] of [[v4, 'ipv4'], [v6, 'ipv6']] as const) {
      expect(result.code, result.stderr).toBe(0);
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines.at(-1)).toBe('     Resume: hops 3, pmtu 1280');
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ 2:  ${hopAddresses(smallMtu)[family][0].replace(/\./g, '\\.')} +\\d+\\.\\d{3}ms pmtu 1280$`)));
    }
  });
});

/** The engine's own lab (startLab) and runs acting from its client host: sockets in the client's namespace, this process. */
describe.skipIf(why !== '')(`mtr and pmtu from a lab host (host: 'client')${skipNote(why)}`, { timeout: 120_000 }, () => {
  const workbenches: Workbench[] = [];
  afterAll(async () => {
    await Promise.all(workbenches.map((workbench) => workbench.close()));
  });

  async function finished(workbench: Workbench, runId: string): Promise<ExperimentRun> {
    for (let waited = 0; waited < 60_000; waited += 50) {
      const run = (await workbench.listExperiments()).find((candidate) => candidate.runId === runId)!;
      if (run.state !== 'running') return run;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${runId} still running after 60 s`);
  }

  async function labWith(topology: string): Promise<Workbench> {
    const workbench = new Workbench({ logCapacity: 1000 });
    workbenches.push(workbench);
    await workbench.startLab({ topology });
    return workbench;
  }

  it('line: mtr -c 3 from client sees r1, r2, r3, target; small-mtu: pmtu from client gives 1280', async () => {
    const [line, small] = await Promise.all([labWith('line'), labWith('small-mtu')]);
    const mtr = await line.mtr(validateParams('mtr', { target: '198.18.4.2', cycles: 3, intervalMs: 200, host: 'client' } satisfies ParamsIn<'mtr'>));
    const pmtu = await small.pmtu(validateParams('pmtu', { target: 'fd42:0:0:3::2', host: 'client' } satisfies ParamsIn<'pmtu'>));
    const [mtrRun, pmtuRun] = await Promise.all([finished(line, mtr.runId), finished(small, pmtu.runId)]);
    expect(mtrRun).toMatchObject({ state: 'done', host: 'client', mtr: { cycles: 3, reached: true } });
    expect(mtrRun.mtr!.hops.map((hop) => [hop.address, hop.sent, hop.received])).toEqual(['198.18.1.2', '198.18.2.2', '198.18.3.2', '198.18.4.2'].map((address) => [address, 3, 3]));
    expect(pmtuRun).toMatchObject({ state: 'done', host: 'client', pmtu: { pathMtu: 1280, reached: true } });
    expect(pmtuRun.pmtu!.hops.find((hop) => hop.note === 'Packet Too Big')).toMatchObject({ ttl: 2, address: 'fd42:0:0:1::2', mtu: 1280 });
    // The run's packets are logged as seen on the client.
    const page = await line.queryLog({ start: 0, limit: 50 });
    expect(page.rows.length).toBeGreaterThan(0);
    expect(page.rows.every((row) => row.host === 'client')).toBe(true);
  });

  it('lossy: mtr -c 100 every 100 ms shows the r1→r2 link: ~20 % loss and +40 ms from r2 on, and keeps its interval despite the loss', async () => {
    const lossy = await labWith('lossy');
    const started = await lossy.mtr(validateParams('mtr', { target: '198.18.3.2', cycles: 100, intervalMs: 100, timeoutMs: 1000, host: 'client' } satisfies ParamsIn<'mtr'>));
    const run = await finished(lossy, started.runId);
    expect(run).toMatchObject({ state: 'done', mtr: { cycles: 100, reached: true } });
    const [r1, r2, target] = run.mtr!.hops;
    expect([r1.address, r2.address, target.address]).toEqual(['198.18.1.2', '198.18.2.2', '198.18.3.2']);
    for (const hop of [r1, r2, target]) expect(hop.sent).toBe(100);
    expect(r1.lossPercent).toBe(0);
    expect(r1.avgMs!).toBeLessThan(20);
    // 20 % loss over 100 probes: binomial, σ = 4 %; 3.5 σ either way.
    for (const hop of [r2, target]) {
      expect(hop.lossPercent).toBeGreaterThanOrEqual(6);
      expect(hop.lossPercent).toBeLessThanOrEqual(34);
      expect(hop.bestMs!).toBeGreaterThanOrEqual(40);
    }
    // Cycles overlap: a lost probe's 1 s wait does not hold the next cycle back (100 × 100 ms, then the last wait).
    expect(run.finishedAt! - run.startedAt).toBeLessThan(20_000);
    console.log(`lossy: ${run.mtr!.hops.map((hop) => `${hop.address} loss ${hop.lossPercent}% avg ${hop.avgMs!.toFixed(1)} ms`).join('; ')}; ${Math.round(run.finishedAt! - run.startedAt)} ms`);
  });
});
