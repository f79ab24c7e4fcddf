// IPv6 header fields set in a layer stack reach the wire: a raw IPv6 socket sends the
// header as built (IPV6_HDRINCL, switched by the engine like IP_HDRINCL), and the packet
// leaves lo with the hop limit, traffic class and flow label the editor shows. Seen by a
// packet socket on lo (the kernel's own view), ::1 only.
import { randomBytes } from 'node:crypto';
import * as raw from '@packet-workbench/raw-socket';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MethodName, ParamsIn, SendJobInfo } from '../../common/contract';
import { validateParams } from '../../common/validate';
import { Workbench } from '../engine';
import { rootWhy, skipNote } from './fixtures/privilege';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let workbench: Workbench;

function call<M extends MethodName>(method: M, params: ParamsIn<M>): ReturnType<Workbench[M]> {
  const valid = validateParams(method, params);
  return (workbench[method] as (p: unknown) => ReturnType<Workbench[M]>).call(workbench, valid);
}

async function ended(jobId: string): Promise<SendJobInfo> {
  let job: SendJobInfo | undefined;
  await vi.waitFor(
    async () => {
      job = (await call('listSendJobs', {})).find((candidate) => candidate.jobId === jobId);
      expect(job?.state).not.toBe('running');
    },
    { timeout: 5000, interval: 5 },
  );
  return job as SendJobInfo;
}

interface Seen {
  trafficClass: number;
  flowLabel: number;
  hopLimit: number;
  sequence: number;
}

describe.runIf(isRoot)(`send: IPv6 header fields on the wire${skipNote(rootWhy('raw sockets'))}`, () => {
  let capture: raw.Socket<'packet'>;
  const seen: Seen[] = [];
  const identifier = 0x6000 + (randomBytes(2).readUInt16BE(0) % 0x1fff);

  beforeAll(() => {
    workbench = new Workbench();
    // Echo requests with this run's identifier leaving lo (outbound copies only).
    capture = raw.createPacketSocket({ interface: 'lo', protocol: 'ipv6', filter: `icmp6 and ip6[40] == 128 and ip6[44:2] == ${identifier}` });
    capture.on('message', (buffer: Buffer, _address: string, info: raw.MessageInfo) => {
      if (info.direction !== 'outbound') return;
      seen.push({
        trafficClass: ((buffer[0] & 0x0f) << 4) | (buffer[1] >> 4),
        flowLabel: ((buffer[1] & 0x0f) << 16) | (buffer[2] << 8) | buffer[3],
        hopLimit: buffer[7],
        sequence: buffer.readUInt16BE(46),
      });
    });
  });
  afterAll(async () => {
    capture.close();
    await workbench.close();
  });

  it('a raw ICMPv6 socket sends hop limit 7, class 0x20, flow 0x12345 as set; the next packet without a header goes out with the kernel’s', async () => {
    const socket = await call('openSocket', { family: 'ipv6', protocol: 58, mode: 'raw' });
    const echo = (sequence: number) => [{ kind: 'icmpv6' as const, fields: { type: 128, identifier, sequence } }, { kind: 'payload' as const, data: '6869' }];
    const packets: ParamsIn<'send'>['packet'][] = [
      { layers: [{ kind: 'ipv6', fields: { hopLimit: 7, trafficClass: 0x20, flowLabel: 0x12345 } }, ...echo(1)] },
      { layers: echo(2) },
    ];
    for (const packet of packets) {
      const job = await call('send', { socketId: socket.socketId, address: '::1', packet });
      expect(await ended(job.jobId)).toMatchObject({ state: 'done', sent: 1, errors: 0 });
    }
    await vi.waitFor(() => expect(seen.map((packet) => packet.sequence).sort()).toEqual([1, 2]), { timeout: 3000, interval: 10 });
    const bySequence = new Map(seen.map((packet) => [packet.sequence, packet]));
    expect(bySequence.get(1)).toEqual({ trafficClass: 0x20, flowLabel: 0x12345, hopLimit: 7, sequence: 1 });
    // IPV6_HDRINCL switched off again: the kernel's header (hop limit 64 on lo, class 0).
    expect(bySequence.get(2)).toMatchObject({ trafficClass: 0, hopLimit: 64 });
    const reading = (await call('readSocketOptions', { socketId: socket.socketId })).find((option) => option.name === 'IPV6_HDRINCL');
    expect(reading).toEqual({ name: 'IPV6_HDRINCL', value: 0 });
    // The kernel answered the first one too: its reply is in the log.
    await vi.waitFor(
      async () => {
        const page = await call('queryLog', { filter: { direction: 'received', display: `icmpv6.type == 129 && icmpv6.identifier == ${identifier} && icmpv6.sequence == 1` } });
        expect(page.rows.map((row) => row.socketId)).toContain(socket.socketId);
      },
      { timeout: 3000, interval: 20 },
    );
  });
});
