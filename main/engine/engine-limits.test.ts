// The engine's bounds on what it holds at once (engine-limits.ts), on real sockets, packet
// sockets and runs on loopback: the call past a bound is refused with LIMIT naming it,
// freeing one place lets the next call in, and every descriptor comes back on closing.
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExperimentRun, ParamsIn } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { dispatchCall } from './dispatch';
import { DEFAULT_ENGINE_LIMITS } from './engine-limits';
import { Workbench, type WorkbenchOptions } from './workbench';

const openFds = (): number => readdirSync('/proc/self/fd').length;
const echoRequest = { hex: '0800f7ff00000000' }; // ICMP echo request, checksum filled in

const engines: Workbench[] = [];
function engine(options: WorkbenchOptions): Workbench {
  const workbench = new Workbench(options);
  engines.push(workbench);
  return workbench;
}
afterEach(async () => {
  for (const workbench of engines.splice(0)) await workbench.close();
});

async function refusal(call: Promise<unknown>): Promise<WorkbenchError> {
  const error = await call.then(
    (result) => new Error(`expected LIMIT, got ${JSON.stringify(result).slice(0, 200)}`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkbenchError);
  return error as WorkbenchError;
}

const icmpSocket = (i: number): ParamsIn<'openSocket'> => (i % 2 === 0 ? { family: 'ipv4', protocol: 1, mode: 'raw' } : { family: 'ipv6', protocol: 58, mode: 'raw' });

describe('engine limits', () => {
  it('refuses the socket or capture past maxOpenSockets (they share it) with LIMIT; closing one lets the next open; the fds return to the baseline', { timeout: 30_000 }, async () => {
    const workbench = engine({ limits: { maxOpenSockets: 12 } });
    // The first socket may set up what the process keeps (the addon's poll loop): not counted.
    await workbench.closeSocket({ socketId: (await workbench.openSocket(icmpSocket(0))).socketId });
    const baseline = openFds();
    const sockets: string[] = [];
    for (let i = 0; i < 9; i++) sockets.push((await workbench.openSocket(icmpSocket(i))).socketId);
    const captures: string[] = [];
    for (let i = 0; i < 3; i++) captures.push((await workbench.startCapture({ interface: 'lo', protocol: 'ip' })).captureId);
    expect(openFds()).toBeGreaterThanOrEqual(baseline + 12);

    const refused = await refusal(workbench.openSocket(icmpSocket(0)));
    expect(refused.code).toBe('LIMIT');
    expect(refused.message).toBe(
      'Limit reached: 12 sockets and captures are open, and the engine allows 12 at once (maxOpenSockets); close some in the Sockets panel (closeSocket, stopCapture)',
    );
    expect((await refusal(workbench.startCapture({ interface: 'lo', protocol: 'ip' }))).code).toBe('LIMIT');
    const held = openFds();

    await workbench.closeSocket({ socketId: sockets.pop()! });
    sockets.push((await workbench.openSocket(icmpSocket(1))).socketId);
    await workbench.stopCapture({ captureId: captures.pop()! });
    captures.push((await workbench.startCapture({ interface: 'lo', protocol: 'ip' })).captureId);
    expect((await refusal(workbench.openSocket(icmpSocket(0)))).code).toBe('LIMIT');
    // Refusals opened nothing.
    expect(openFds()).toBe(held);

    for (const socketId of sockets) await workbench.closeSocket({ socketId });
    for (const captureId of captures) await workbench.stopCapture({ captureId });
    await expect.poll(openFds, { timeout: 5000 }).toBe(baseline);
  });

  it(`holds at ${DEFAULT_ENGINE_LIMITS.maxOpenSockets} sockets by default, also when 300 are asked for at once`, { timeout: 60_000 }, async () => {
    const workbench = engine({});
    const baseline = openFds();
    const asked = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => workbench.openSocket(icmpSocket(i))));
    const opened = asked.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value.socketId] : []));
    const refused = asked.flatMap((answer) => (answer.status === 'rejected' ? [answer.reason as WorkbenchError] : []));
    expect(opened).toHaveLength(DEFAULT_ENGINE_LIMITS.maxOpenSockets);
    expect(refused.map((error) => error.code)).toEqual(Array(300 - DEFAULT_ENGINE_LIMITS.maxOpenSockets).fill('LIMIT'));
    expect(openFds() - baseline).toBeGreaterThanOrEqual(DEFAULT_ENGINE_LIMITS.maxOpenSockets);
    await Promise.all(opened.map((socketId) => workbench.closeSocket({ socketId })));
    await expect.poll(openFds, { timeout: 5000 }).toBeLessThanOrEqual(baseline + 2);
  });

  it('refuses the send job past maxRunningJobs with LIMIT; cancelling one lets the next start', { timeout: 20_000 }, async () => {
    const workbench = engine({ limits: { maxRunningJobs: 3 } });
    const { socketId } = await workbench.openSocket({ family: 'ipv4', protocol: 1, mode: 'raw' });
    const slowJob = { socketId, address: '127.0.0.1', packet: echoRequest, count: 1000, intervalMs: 1000 } as const;
    const jobs = await Promise.all([1, 2, 3].map(() => workbench.send(slowJob)));
    const refused = await refusal(workbench.send(slowJob));
    expect(refused.code).toBe('LIMIT');
    expect(refused.message).toMatch(/^Limit reached: 3 send jobs are running, and the engine allows 3 at once \(maxRunningJobs\); wait for one to end or cancel one/);
    await workbench.cancelSend({ jobId: jobs[0].jobId });
    expect((await workbench.send(slowJob)).state).toBe('running');
  });

  it('refuses the experiment past maxRunningExperiments with LIMIT, also among calls made at once; stopping one lets the next start', { timeout: 20_000 }, async () => {
    const workbench = engine({ limits: { maxRunningExperiments: 2 } });
    const slowPing = { target: '127.0.0.1', count: 1000, intervalMs: 1000 } as const;
    // Through the contract's validation, which fills in the defaults.
    const ping = () => dispatchCall(workbench, 'ping', slowPing) as Promise<ExperimentRun>;
    const asked = await Promise.allSettled([1, 2, 3].map(ping));
    const started = asked.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value] : []));
    expect(started).toHaveLength(2);
    const refused = asked.find((answer) => answer.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: 'LIMIT', message: expect.stringMatching(/2 experiments are running, .* \(maxRunningExperiments\); stop one in the Experiments panel/) });
    await workbench.stopExperiment({ runId: started[0].runId });
    await expect.poll(async () => (await ping().catch((error: WorkbenchError) => error)).state ?? '', { timeout: 5000 }).toBe('running');
    expect((await refusal(dispatchCall(workbench, 'traceroute', { target: '127.0.0.1' }))).code).toBe('LIMIT');
  });

  it('takes limits as whole numbers of at least 1', () => {
    expect(() => new Workbench({ limits: { maxOpenSockets: 0 } })).toThrow(new RangeError('maxOpenSockets must be a whole number of at least 1, not 0'));
  });
});
