// Request/response matching and display filters in the engine, on loopback only (127.0.0.1, ::1):
// real pings through raw sockets, every request linked to its reply with a kernel-to-kernel RTT,
// a TCP SYN to a closed port linked to the kernel's RST, and filterLog / queryLog's display filter.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ExperimentRun, LogRow, MethodName, ParamsIn } from '../../common/contract';
import { validateParams, WorkbenchError } from '../../common/validate';
import { Workbench } from '../engine';
import { rootWhy, skipNote } from './fixtures/privilege';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let workbench: Workbench;

function call<M extends MethodName>(method: M, params: ParamsIn<M>): ReturnType<Workbench[M]> {
  const valid = validateParams(method, params);
  return (workbench[method] as (p: unknown) => ReturnType<Workbench[M]>).call(workbench, valid);
}

async function finished(runId: string): Promise<ExperimentRun> {
  let run: ExperimentRun | undefined;
  await vi.waitFor(
    async () => {
      run = (await workbench.listExperiments()).find((candidate) => candidate.runId === runId);
      expect(run?.state).not.toBe('running');
    },
    { timeout: 15_000, interval: 10 },
  );
  return run as ExperimentRun;
}

async function allRows(): Promise<LogRow[]> {
  return (await call('queryLog', { limit: 5000 })).rows;
}

/** A TCP port nothing listens on (bound and closed again; the kernel answers a SYN to it with RST). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.runIf(isRoot)(`request/response matching and display filters on loopback${skipNote(rootWhy('raw and packet sockets'))}`, () => {
  beforeAll(() => {
    workbench = new Workbench();
  });
  afterAll(async () => {
    await workbench.close();
  });

  for (const target of ['127.0.0.1', '::1']) {
    it(`ping ${target}: every echo request links to its reply with an RTT above 0 and below 1000 ms`, async () => {
      await call('clearLog', {});
      const run = await call('ping', { target, count: 20, intervalMs: 10, mode: 'raw' });
      expect((await finished(run.runId)).state).toBe('done');
      const rows = (await allRows()).filter((row) => row.socketId === null);
      const requests = rows.filter((row) => row.direction === 'sent' && /Echo request/.test(row.info));
      const replies = rows.filter((row) => row.direction === 'received' && /Echo reply/.test(row.info));
      expect(requests).toHaveLength(20);
      expect(replies).toHaveLength(20);
      const byId = new Map(rows.map((row) => [row.id, row]));
      for (const request of requests) {
        const replyId = request.match?.replyId;
        expect(replyId, `request #${request.id}`).toBeTypeOf('number');
        const reply = byId.get(replyId as number) as LogRow;
        expect(reply.match?.requestId).toBe(request.id);
        // Same identifier and sequence: the info column shows both.
        expect(reply.info.replace('Echo reply', '')).toBe(request.info.replace('Echo request', ''));
        expect(reply.match?.rttMs).toBeGreaterThan(0);
        expect(reply.match?.rttMs).toBeLessThan(1000);
        expect(reply.match?.rttMs).toBeCloseTo(reply.time - request.time, 3);
      }
      // The display filter sees the links and the fields.
      const echoReply = target === '::1' ? 'icmpv6.type == 129' : 'icmp.type == 0';
      const page = await call('filterLog', { expression: `${echoReply} && match.rtt > 0`, fromId: 0 });
      expect(page.ids).toEqual(replies.map((row) => row.id));
    });
  }

  it('a TCP SYN to a closed port links to the RST that answers it', async () => {
    await call('clearLog', {});
    const port = await closedPort();
    const socket = await call('openSocket', { family: 'ipv4', protocol: 6, mode: 'raw' });
    try {
      await call('send', {
        socketId: socket.socketId,
        address: '127.0.0.1',
        packet: { layers: [{ kind: 'tcp', fields: { srcPort: 45678, dstPort: port, seq: 1000, flags: 0x02 } }] },
      });
      let rst: LogRow | undefined;
      await vi.waitFor(
        async () => {
          rst = (await allRows()).find((row) => row.direction === 'received' && /RST/.test(row.info) && row.match?.requestId !== undefined);
          expect(rst).toBeDefined();
        },
        { timeout: 5000, interval: 20 },
      );
      const syn = (await allRows()).find((row) => row.id === rst!.match!.requestId) as LogRow;
      expect(syn.direction).toBe('sent');
      expect(syn.info).toMatch(/SYN/);
      expect(syn.match?.replyId).toBe(rst!.id);
      // The raw TCP socket also receives its own SYN on loopback: that copy is a row of its own, unlinked.
      const syns = await call('queryLog', { filter: { display: `tcp.flags.syn && !tcp.flags.ack && tcp.dstport == ${port}` } });
      expect(syns.rows.map((row) => row.direction)).toEqual(['sent', 'received']);
      expect(syns.rows[1].match).toBeUndefined();
      const sent = await call('queryLog', { filter: { display: `frame.direction == "sent" && tcp.flags.syn && match.reply_in` } });
      expect(sent.rows.map((row) => row.id)).toEqual([syn.id]);
    } finally {
      await call('closeSocket', { socketId: socket.socketId });
    }
  });

  it('filterLog scans in steps and names the bad part of a filter', async () => {
    await call('clearLog', {});
    const run = await call('ping', { target: '127.0.0.1', count: 5, intervalMs: 10, mode: 'raw' });
    await finished(run.runId);
    const rows = await allRows();
    const first = await call('filterLog', { expression: 'icmp', fromId: 0, limit: 3 });
    const rest = await call('filterLog', { expression: 'icmp', fromId: first.nextId });
    expect([...first.ids, ...rest.ids]).toEqual(rows.map((row) => row.id));
    expect(rest.nextId).toBe(rows[rows.length - 1].id + 1);
    const error = await call('filterLog', { expression: 'icmp.tpye == 8' }).then(
      () => null,
      (failure: WorkbenchError) => failure,
    );
    expect(error).toBeInstanceOf(WorkbenchError);
    expect(error?.code).toBe('INVALID_ARGUMENT');
    expect(error?.field).toBe('expression');
    expect(error?.message).toMatch(/Unknown field 'icmp\.tpye'; did you mean icmp\.type\? \(column 1/);
  });
});
