// Send jobs on one socket whose packets alternate between "with an IPv4 header" and
// "without one" (IP_HDRINCL switched by the engine, or set by hand), and send jobs
// whose socket goes away under them. Loopback only (127.0.0.1).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MethodName, ParamsIn, SendJobInfo } from '../../common/contract';
import { validateParams, WorkbenchError } from '../../common/validate';
import { build } from '../../packets/build';
import { formatHex } from '../../packets/hex';
import { Workbench } from '../engine';
import { rawSocketsWhy, skipNote } from './fixtures/privilege';

const EXPERIMENTAL = 253;

let workbench: Workbench;

function call<M extends MethodName>(method: M, params: ParamsIn<M>): ReturnType<Workbench[M]> {
  const valid = validateParams(method, params);
  return (workbench[method] as (p: unknown) => ReturnType<Workbench[M]>).call(workbench, valid);
}

function errorOf(promise: Promise<unknown>): Promise<WorkbenchError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: WorkbenchError) => error,
  );
}

async function ended(jobId: string, timeout = 5000): Promise<SendJobInfo> {
  let job: SendJobInfo | undefined;
  await vi.waitFor(
    async () => {
      job = (await call('listSendJobs', {})).find((candidate) => candidate.jobId === jobId);
      expect(job?.state).not.toBe('running');
    },
    { timeout, interval: 5 },
  );
  return job as SendJobInfo;
}

describe.skipIf(rawSocketsWhy !== '')(`send: IP_HDRINCL follows the packet${skipNote(rawSocketsWhy)}`, () => {
  beforeAll(() => {
    workbench = new Workbench();
  });
  afterAll(async () => {
    await workbench.close();
  });

  it('sends ICMP, then IPv4+ICMP, then ICMP (and hex) on one raw ICMP socket, each answered by the kernel', async () => {
    const socket = await call('openSocket', { family: 'ipv4', protocol: 1, mode: 'raw' });
    const id = 0x5000 + (randomBytes(2).readUInt16BE(0) % 0x2fff);
    const payload = formatHex(randomBytes(24));
    const icmp = (sequence: number) => [{ kind: 'icmp' as const, fields: { type: 8, identifier: id, sequence } }, { kind: 'payload' as const, data: payload }];
    const packets: ParamsIn<'send'>['packet'][] = [
      { layers: icmp(1) },
      { layers: [{ kind: 'ipv4', fields: { ttl: 41 } }, ...icmp(2)] },
      { layers: icmp(3) },
      { layers: [{ kind: 'ipv4' }, ...icmp(4)] },
      { hex: formatHex(build([{ kind: 'icmp', fields: { type: 8, identifier: id, sequence: 5 } }, { kind: 'payload', data: payload }])) },
      { layers: icmp(6) },
    ];
    for (const packet of packets) {
      const job = await call('send', { socketId: socket.socketId, address: '127.0.0.1', packet });
      expect(await ended(job.jobId)).toMatchObject({ state: 'done', sent: 1, errors: 0 });
    }
    const hex = `id=0x${id.toString(16)}`;
    await vi.waitFor(
      async () => {
        const rows = (await call('queryLog', { limit: 5000, filter: { text: hex, direction: 'received' } })).rows;
        const replies = new Set(rows.filter((r) => r.info.startsWith('Echo reply')).map((r) => r.info.split('seq=')[1]));
        expect([...replies].sort()).toEqual(['1', '2', '3', '4', '5', '6']);
      },
      { timeout: 5000, interval: 20 },
    );
    // Every sent row reads as an ICMP echo request from and to 127.0.0.1.
    const sent = (await call('queryLog', { limit: 5000, filter: { text: hex, direction: 'sent' } })).rows.filter((r) => r.socketId === socket.socketId);
    expect(sent.map((r) => r.info.split('seq=')[1]).sort()).toEqual(['1', '2', '3', '4', '5', '6']);
    for (const row of sent) expect(row).toMatchObject({ source: '127.0.0.1', destination: '127.0.0.1', protocol: 'ICMP' });
    await call('closeSocket', { socketId: socket.socketId });
  });

  it('respects IP_HDRINCL set by hand: a packet without an IPv4 header is refused naming the option', async () => {
    const socket = await call('openSocket', { family: 'ipv4', protocol: 1, mode: 'raw' });
    await call('setSocketOption', { socketId: socket.socketId, name: 'IP_HDRINCL', value: 1 });
    const send = (packet: ParamsIn<'send'>['packet']) => call('send', { socketId: socket.socketId, address: '127.0.0.1', packet });
    const icmp = [{ kind: 'icmp' as const, fields: { type: 8 } }];
    const refused = await errorOf(send({ layers: icmp }));
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'packet' });
    expect(refused.message).toContain('IP_HDRINCL');
    const refusedHex = await errorOf(send({ hex: formatHex(build(icmp)) }));
    expect(refusedHex).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'packet' });
    expect(refusedHex.message).toContain('IP_HDRINCL');
    // The option stays as the user set it, and packets with a header still go.
    expect((await call('readSocketOptions', { socketId: socket.socketId })).find((o) => o.name === 'IP_HDRINCL')?.value).toBe(1);
    const job = await send({ layers: [{ kind: 'ipv4' }, ...icmp] });
    expect(await ended(job.jobId)).toMatchObject({ state: 'done', sent: 1 });
    // Turned off by hand: header-less packets go again.
    await call('setSocketOption', { socketId: socket.socketId, name: 'IP_HDRINCL', value: 0 });
    const after = await send({ layers: icmp });
    expect(await ended(after.jobId)).toMatchObject({ state: 'done', sent: 1 });
    await call('closeSocket', { socketId: socket.socketId });
  });

  it('refuses a header-less packet on a protocol 255 socket (it always takes the IPv4 header)', async () => {
    const socket = await call('openSocket', { family: 'ipv4', protocol: 255, mode: 'raw' });
    const refused = await errorOf(call('send', { socketId: socket.socketId, address: '127.0.0.1', packet: { layers: [{ kind: 'icmp', fields: { type: 8 } }] } }));
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'packet' });
    await call('closeSocket', { socketId: socket.socketId });
  });

  it('will not switch IP_HDRINCL under a running job of the socket', async () => {
    const socket = await call('openSocket', { family: 'ipv4', protocol: EXPERIMENTAL, mode: 'raw' });
    const running = await call('send', { socketId: socket.socketId, address: '127.0.0.1', packet: { layers: [{ kind: 'ipv4' }, { kind: 'payload', data: '00' }] }, count: 1_000_000, rate: 100 });
    const busy = await errorOf(call('send', { socketId: socket.socketId, address: '127.0.0.1', packet: { hex: '00' } }));
    expect(busy).toMatchObject({ code: 'EBUSY', field: 'packet' });
    expect(busy.message).toContain('IP_HDRINCL');
    await call('cancelSend', { jobId: running.jobId });
    const job = await call('send', { socketId: socket.socketId, address: '127.0.0.1', packet: { hex: '00' } });
    expect(await ended(job.jobId)).toMatchObject({ state: 'done' });
    await call('closeSocket', { socketId: socket.socketId });
  });
});

describe.skipIf(rawSocketsWhy !== '')(`send: the socket goes away${skipNote(rawSocketsWhy)}`, () => {
  beforeAll(() => {
    workbench = new Workbench();
  });
  afterAll(async () => {
    await workbench.close();
  });

  it('a job of 200 000 packets whose socket is closed right after ends at once, with a clear state', async () => {
    const socket = await call('openSocket', { family: 'ipv4', protocol: EXPERIMENTAL, mode: 'raw' });
    const sending = call('send', { socketId: socket.socketId, address: '127.0.0.1', packet: { hex: '00' }, count: 200_000 }).catch((error: unknown) => error);
    await call('closeSocket', { socketId: socket.socketId });
    const outcome = await sending;
    if (outcome instanceof WorkbenchError) {
      expect(outcome.code).toBe('NOT_FOUND');
    } else {
      const job = await ended((outcome as SendJobInfo).jobId, 100);
      expect(['cancelled', 'failed']).toContain(job.state);
      expect(job.errors).toBeLessThan(5000);
    }
  });

  it("ends the socket's jobs when the socket reports an error", async () => {
    const socket = await call('openSocket', { family: 'ipv4', protocol: EXPERIMENTAL, mode: 'raw' });
    const job = await call('send', { socketId: socket.socketId, address: '127.0.0.1', packet: { hex: '00' }, count: 1_000_000, rate: 100 });
    // What the library does on a fatal socket error: 'error', then close.
    const entry = (workbench as unknown as { sockets: Map<string, { socket: { emit(event: string, error: Error): void; close(): void } }> }).sockets.get(socket.socketId)!;
    const failure = Object.assign(new Error('poll failed'), { code: 'EIO' });
    entry.socket.emit('error', failure);
    entry.socket.close();
    const final = await ended(job.jobId, 100);
    expect(final.state).toBe('failed');
    expect(final.error).toMatchObject({ code: 'EIO' });
    expect(final.errors).toBeLessThan(100);
    expect((await call('listSockets', {})).find((s) => s.socketId === socket.socketId)?.closed).toBe(true);
  });
});
