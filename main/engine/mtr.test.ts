// mtr on real sockets over loopback (127.0.0.1, ::1): one hop, no loss, counts exact,
// live 'experiment' events while it runs, and a stop that leaves no waiting probe counted.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventBatch, ExperimentRun, ParamsIn } from '../../common/contract';
import { validateParams, WorkbenchError } from '../../common/validate';
import { rawSocketsWhy, skipNote } from '../test/fixtures/privilege';
import { Workbench } from './workbench';

/** '' where this process's group may open ICMP datagram ("ping") sockets, else why not. */
function pingSocketsWhy(): string {
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().split(/\s+/).map(Number);
  const gid = process.getgid?.() ?? -1;
  return gid >= low && gid <= high ? '' : `ping sockets are not allowed for group ${gid} (net.ipv4.ping_group_range '${low} ${high}')`;
}

let workbench: Workbench;
const events: EventBatch = [];

beforeAll(() => {
  workbench = new Workbench({ logCapacity: 1000 });
  workbench.subscribe((batch) => events.push(...batch));
});
afterAll(() => workbench.close());

function mtr(params: ParamsIn<'mtr'>): Promise<ExperimentRun> {
  return workbench.mtr(validateParams('mtr', params));
}

async function finished(runId: string, timeout = 20_000): Promise<ExperimentRun> {
  let run: ExperimentRun | undefined;
  await vi.waitFor(
    async () => {
      run = (await workbench.listExperiments()).find((candidate) => candidate.runId === runId);
      expect(run?.state).not.toBe('running');
    },
    { timeout, interval: 20 },
  );
  return run!;
}

describe('mtr parameters', () => {
  it('names the bad field', () => {
    expect(() => validateParams('mtr', { target: '127.0.0.1', cycles: 0 })).toThrow(/cycles/);
    expect(() => validateParams('mtr', { target: '127.0.0.1', intervalMs: 50 })).toThrow(/intervalMs/);
    expect(() => validateParams('mtr', { target: '127.0.0.1', maxHops: 65 })).toThrow(/maxHops/);
    expect(() => validateParams('mtr', { target: 'nowhere' })).toThrow(/target/);
    expect(() => validateParams('mtr', { target: '127.0.0.1', host: 'Client!' })).toThrow(/host/);
  });

  it('a lab host without a lab: LAB_NOT_UP naming host, for mtr and pmtu', async () => {
    const error = await mtr({ target: '127.0.0.1', host: 'client' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WorkbenchError);
    expect(error).toMatchObject({ code: 'LAB_NOT_UP', field: 'host' });
    await expect(workbench.pmtu(validateParams('pmtu', { target: '127.0.0.1', host: 'client' }))).rejects.toMatchObject({ code: 'LAB_NOT_UP', field: 'host' });
  });
});

describe.each([
  ['raw', 'icmp'],
  ['error-queue', 'icmp'],
  ['error-queue', 'udp'],
] as const)('mtr on loopback, %s mode, %s probes', (mode, probe) => {
  const why = mode === 'raw' ? rawSocketsWhy : probe === 'icmp' ? pingSocketsWhy() : '';
  it.runIf(!why).each(['127.0.0.1', '::1'])(`%s: one hop, every probe answered${skipNote(why)}`, async (target) => {
    const started = await mtr({ target, probe, mode, cycles: 4, intervalMs: 100, timeoutMs: 1000 });
    expect(started).toMatchObject({ kind: 'mtr', state: 'running', via: mode });
    const run = await finished(started.runId);
    expect(run.error).toBeUndefined();
    expect(run.state).toBe('done');
    expect(run.mtr!.cycles).toBe(4);
    expect(run.mtr!.reached).toBe(true);
    expect(run.mtr!.hops).toHaveLength(1);
    const [hop] = run.mtr!.hops;
    expect(hop).toMatchObject({ ttl: 1, address: target, addresses: [target], sent: 4, received: 4, lossPercent: 0 });
    expect(hop.bestMs!).toBeGreaterThan(0);
    expect(hop.bestMs!).toBeLessThanOrEqual(hop.avgMs!);
    expect(hop.avgMs!).toBeLessThanOrEqual(hop.worstMs!);
    expect(hop.stdevMs!).toBeGreaterThanOrEqual(0);
    // Loopback answers in well under the 1 s wait: the four cycles take about 3 intervals.
    expect(run.finishedAt! - run.startedAt).toBeLessThan(3000);
  });
});

describe(`mtr live updates and stop${skipNote(rawSocketsWhy)}`, () => {
  it.runIf(!rawSocketsWhy)('sends experiment events as cycles complete, and a stop keeps the counts judged', async () => {
    events.length = 0;
    const started = await mtr({ target: '127.0.0.1', cycles: 1000, intervalMs: 100 });
    // Cycles 1, 2, 3… arrive as events while the run goes on.
    await vi.waitFor(
      () => {
        const seen = events.flatMap((event) => (event.type === 'experiment' && event.run.runId === started.runId ? [event.run.mtr!.cycles] : []));
        expect(Math.max(0, ...seen)).toBeGreaterThanOrEqual(3);
      },
      { timeout: 10_000, interval: 20 },
    );
    await workbench.stopExperiment({ runId: started.runId });
    const run = await finished(started.runId);
    expect(run.state).toBe('stopped');
    const [hop] = run.mtr!.hops;
    // Sent counts only judged probes: every one was answered, so sent == received, whatever the moment of the stop.
    expect(hop.sent).toBe(hop.received);
    expect(hop.sent).toBeGreaterThanOrEqual(run.mtr!.cycles);
    expect(hop.lossPercent).toBe(0);
  });
});
