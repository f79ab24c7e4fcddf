// closeSocket while send() is still looking up the route to its destination: the
// lookup is held open here (a mocked sourceAddressFor), so the close lands exactly
// in that await. No job may start on the closed socket. Loopback only.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MethodName, ParamsIn } from '../../common/contract';
import { validateParams } from '../../common/validate';
import { rawSocketsWhy, skipNote } from './fixtures/privilege';

const gate = vi.hoisted(() => ({ hold: null as Promise<void> | null, waiting: 0 }));

vi.mock('../engine/route', async (importOriginal) => {
  const real = await importOriginal<typeof import('../engine/route')>();
  return {
    sourceAddressFor: async (destination: string): Promise<string> => {
      if (gate.hold) {
        gate.waiting++;
        await gate.hold;
      }
      return real.sourceAddressFor(destination);
    },
  };
});

const { Workbench } = await import('../engine');

let workbench: InstanceType<typeof Workbench>;

function call<M extends MethodName>(method: M, params: ParamsIn<M>): Promise<unknown> {
  const valid = validateParams(method, params);
  return (workbench[method] as (p: unknown) => Promise<unknown>).call(workbench, valid);
}

describe.skipIf(rawSocketsWhy !== '')(`send racing closeSocket${skipNote(rawSocketsWhy)}`, () => {
  beforeAll(() => {
    workbench = new Workbench();
  });
  afterAll(async () => {
    gate.hold = null;
    await workbench.close();
  });

  it('refuses the send when the socket was closed during its route lookup; no job keeps failing packet by packet', async () => {
    const socket = (await call('openSocket', { family: 'ipv4', protocol: 253, mode: 'raw' })) as { socketId: string };
    let release!: () => void;
    gate.hold = new Promise<void>((resolve) => (release = resolve));
    gate.waiting = 0;
    const sending = call('send', { socketId: socket.socketId, address: '127.0.0.1', packet: { hex: '00' }, count: 200_000 });
    await vi.waitFor(() => expect(gate.waiting).toBe(1), { timeout: 2000, interval: 1 });
    await call('closeSocket', { socketId: socket.socketId });
    gate.hold = null;
    release();
    const outcome = await sending.then(
      (job) => ({ job }),
      (error: unknown) => ({ error }),
    );
    expect(outcome).toMatchObject({ error: { code: 'NOT_FOUND', field: 'socketId' } });
    const jobs = (await call('listSendJobs', {})) as { state: string }[];
    expect(jobs.filter((job) => job.state === 'running')).toEqual([]);
  });
});
