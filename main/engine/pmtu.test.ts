// Path-MTU discovery on real sockets over loopback: one hop, reached, and the path MTU
// the kernel allows there: lo's MTU, capped for IPv4 by the largest IPv4 packet (65 535).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ExperimentRun, ParamsIn } from '../../common/contract';
import { validateParams } from '../../common/validate';
import { Workbench } from './workbench';

let workbench: Workbench;
beforeAll(() => {
  workbench = new Workbench({ logCapacity: 100 });
});
afterAll(() => workbench.close());

async function pmtu(params: ParamsIn<'pmtu'>): Promise<ExperimentRun> {
  const started = await workbench.pmtu(validateParams('pmtu', params));
  let run: ExperimentRun | undefined;
  await vi.waitFor(
    async () => {
      run = (await workbench.listExperiments()).find((candidate) => candidate.runId === started.runId);
      expect(run?.state).not.toBe('running');
    },
    { timeout: 15_000, interval: 20 },
  );
  return run!;
}

const loMtu = Number(readFileSync('/sys/class/net/lo/mtu', 'utf8'));

describe('pmtu parameters', () => {
  it('names the bad field', () => {
    expect(() => validateParams('pmtu', { target: '127.0.0.1', maxHops: 0 })).toThrow(/maxHops/);
    expect(() => validateParams('pmtu', { target: '127.0.0.1', timeoutMs: 5 })).toThrow(/timeoutMs/);
    expect(() => validateParams('pmtu', { target: '127.0.0.1', probe: 'icmp' })).toThrow(/probe/);
  });
});

describe.runIf(process.platform === 'linux')('pmtu on loopback (no privileges needed: a UDP socket and its error queue; Linux only)', () => {
  it('127.0.0.1: reached at hop 1, path MTU min(lo MTU, 65535)', async () => {
    const run = await pmtu({ target: '127.0.0.1' });
    expect(run.error).toBeUndefined();
    expect(run).toMatchObject({ kind: 'pmtu', state: 'done', via: 'error-queue' });
    const expected = Math.min(loMtu, 65_535);
    expect(run.pmtu!.pathMtu).toBe(expected);
    expect(run.pmtu!.reached).toBe(true);
    const last = run.pmtu!.hops.at(-1)!;
    expect(last).toMatchObject({ ttl: 1, address: '127.0.0.1', mtu: expected, note: 'reached' });
    expect(last.rttMs).toBeGreaterThan(0);
  });

  it("::1: reached at hop 1, path MTU lo's MTU, learnt from the kernel's local EMSGSIZE", async () => {
    const run = await pmtu({ target: '::1' });
    expect(run.error).toBeUndefined();
    expect(run.pmtu!.pathMtu).toBe(loMtu);
    // The first probe is the largest IPv6 packet (65 575 bytes): bigger than lo, so the kernel says lo's MTU first.
    expect(run.pmtu!.hops[0]).toEqual({ ttl: 1, mtu: loMtu, note: 'local interface MTU' });
    expect(run.pmtu!.hops.at(-1)).toMatchObject({ ttl: 1, address: '::1', mtu: loMtu, note: 'reached' });
  });
});
