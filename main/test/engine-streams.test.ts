// Streams, variable fields and send-and-match on real loopback sockets (127.0.0.1 and ::1 only):
// what went out is read back from the log (and decoded), what came back from the log's
// request/response links.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DecodedLayerJson, LogRow, MethodName, ParamsIn, SendJobInfo } from '../../common/contract';
import { validateParams, WorkbenchError } from '../../common/validate';
import { Workbench } from '../engine';
import { rawSocketsWhy, skipNote } from './fixtures/privilege';

let workbench: Workbench;

/** Validates like a transport does, then calls the engine. */
async function call<M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Awaited<ReturnType<Workbench[M]>>> {
  const valid = validateParams(method, params);
  return (workbench[method] as (p: unknown) => Promise<Awaited<ReturnType<Workbench[M]>>>).call(workbench, valid);
}

async function errorOf(promise: () => Promise<unknown>): Promise<WorkbenchError> {
  try {
    await promise();
  } catch (error) {
    return error as WorkbenchError;
  }
  throw new Error('expected a rejection');
}

async function job(jobId: string): Promise<SendJobInfo> {
  return (await call('listSendJobs', {})).find((candidate) => candidate.jobId === jobId)!;
}

/** Rows this socket sent, oldest first. */
async function sentRows(socketId: string): Promise<LogRow[]> {
  return (await call('queryLog', { limit: 5000, filter: { direction: 'sent' } })).rows.filter((row) => row.socketId === socketId);
}

const uniqueId = () => 0x1000 + (randomBytes(2).readUInt16BE(0) % 0xe000);
const field = (layer: DecodedLayerJson, name: string) => layer.fields!.find((f) => f.name === name)!.value;

describe.skipIf(rawSocketsWhy !== '')(`streams, variable fields and send-and-match on loopback${skipNote(rawSocketsWhy)}`, () => {
  let icmp4: string;
  let icmp6: string;
  beforeAll(async () => {
    workbench = new Workbench();
    icmp4 = (await call('openSocket', { family: 'ipv4', protocol: 1, mode: 'raw' })).socketId;
    icmp6 = (await call('openSocket', { family: 'ipv6', protocol: 58, mode: 'raw' })).socketId;
  });
  afterAll(async () => {
    await workbench.close();
  });

  it('50 echo requests increment their sequence by default: 50 distinct replies, all matched, answered 50, lost 0, RTT', async () => {
    const identifier = uniqueId();
    const started = await call('send', {
      socketId: icmp4,
      address: '127.0.0.1',
      packet: { layers: [{ kind: 'icmp', fields: { identifier, sequence: 1 } }, { kind: 'payload', data: '70 77 39' }] },
      count: 50,
    });
    expect(started.description).toBe('ICMP echo request ×50 to 127.0.0.1, sequence +1');
    expect(started.packets).toHaveLength(1);
    await vi.waitFor(async () => expect((await job(started.jobId)).answered).toBe(50), { timeout: 5000, interval: 10 });
    const info = await job(started.jobId);
    expect(info).toMatchObject({ state: 'done', sent: 50, answered: 50, lost: 0, matching: false });
    const counters = info.packets![0];
    expect(counters).toMatchObject({ total: 50, sent: 50, answered: 50, lost: 0, description: 'ICMP echo request to 127.0.0.1 (sequence +1)' });
    expect(counters.rttMs!.min).toBeGreaterThanOrEqual(0);
    expect(counters.rttMs!.max).toBeGreaterThanOrEqual(counters.rttMs!.avg);
    const rows = (await call('queryLog', { limit: 5000, filter: { text: `id=0x${identifier.toString(16)}` } })).rows;
    const replies = rows.filter((row) => row.direction === 'received' && row.info.startsWith('Echo reply'));
    const sequences = new Set(replies.map((row) => row.info.match(/seq=(\d+)/)![1]));
    expect(sequences.size).toBe(50);
    expect([...sequences].map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, k) => k + 1));
    expect(replies.every((row) => row.match?.requestId !== undefined)).toBe(true);
    // Nothing is counted lost once the answer window (2 s) passed either.
    await new Promise((resolve) => setTimeout(resolve, 2300));
    expect((await job(started.jobId)).packets![0]).toMatchObject({ answered: 50, lost: 0 });
  });

  it('2,000 echo requests as fast as possible are all answered (each request logged before its reply is read)', async () => {
    const started = await call('send', { socketId: icmp4, address: '127.0.0.1', packet: { layers: [{ kind: 'icmp', fields: { identifier: uniqueId() } }] }, count: 2000 });
    await vi.waitFor(async () => expect((await job(started.jobId)).answered).toBe(2000), { timeout: 10_000, interval: 20 });
    expect(await job(started.jobId)).toMatchObject({ state: 'done', sent: 2000, lost: 0 });
  });

  it('ICMPv6 echoes to ::1 increment too and are all answered', async () => {
    const identifier = uniqueId();
    const started = await call('send', { socketId: icmp6, address: '::1', packet: { layers: [{ kind: 'icmpv6', fields: { identifier } }] }, count: 10, intervalMs: 1 });
    await vi.waitFor(async () => expect((await job(started.jobId)).answered).toBe(10), { timeout: 5000, interval: 10 });
  });

  it('a stream of 2 packets interleaved goes out A, B, A, B, A, B; sequential A, A, A, B, B, B', async () => {
    for (const order of ['interleaved', 'sequential'] as const) {
      const [a, b] = [uniqueId(), uniqueId()];
      const echo = (identifier: number) => ({ layers: [{ kind: 'icmp' as const, fields: { identifier } }] });
      const before = (await sentRows(icmp4)).length;
      const started = await call('send', { socketId: icmp4, address: '127.0.0.1', packets: [{ packet: echo(a), count: 3 }, { packet: echo(b), count: 3 }], order, intervalMs: 2 });
      expect(started.description).toBe(`stream of 2 packets (${order}) to 127.0.0.1`);
      expect(started.total).toBe(6);
      await vi.waitFor(async () => expect((await job(started.jobId)).state).toBe('done'), { timeout: 5000, interval: 10 });
      const wire = (await sentRows(icmp4)).slice(before).map((row) => {
        const [, id, seq] = row.info.match(/id=0x([0-9a-f]+) seq=(\d+)/)!;
        return `${parseInt(id, 16) === a ? 'A' : 'B'}${seq}`;
      });
      expect(wire).toEqual(order === 'interleaved' ? ['A0', 'B0', 'A1', 'B1', 'A2', 'B2'] : ['A0', 'A1', 'A2', 'B0', 'B1', 'B2']);
      const info = await job(started.jobId);
      expect(info.packets!.map((counters) => counters.sent)).toEqual([3, 3]);
      await vi.waitFor(async () => expect((await job(started.jobId)).answered).toBe(6), { timeout: 5000, interval: 10 });
    }
  });

  it('a variable IPv4 source and TTL on a raw socket: the logged headers decode with those values and good checksums', async () => {
    const identifier = uniqueId();
    const started = await call('send', {
      socketId: icmp4,
      address: '127.0.0.1',
      packet: { layers: [{ kind: 'ipv4', fields: { src: '127.0.0.1' } }, { kind: 'icmp', fields: { identifier, sequence: 100 } }] },
      variations: [
        { layer: 0, field: 'src', mode: 'increment' },
        { layer: 0, field: 'ttl', mode: 'list', values: [5, 6, 7] },
        { layer: 1, field: 'sequence', mode: 'decrement', step: 10 },
      ],
      count: 6,
    });
    expect(started.description).toBe('ICMP echo request ×6 to 127.0.0.1, src +1, ttl list of 3, sequence -10');
    await vi.waitFor(async () => expect((await job(started.jobId)).state).toBe('done'), { timeout: 5000, interval: 10 });
    const rows = (await sentRows(icmp4)).filter((row) => row.info.includes(`id=0x${identifier.toString(16)}`));
    expect(rows).toHaveLength(6);
    for (const [k, row] of rows.entries()) {
      const entry = await call('decodeLogEntry', { id: row.id });
      const [ip, echo] = entry.layers;
      expect(field(ip, 'src')).toBe(`127.0.0.${1 + k}`);
      expect(field(ip, 'ttl')).toBe(5 + (k % 3));
      expect(field(echo, 'sequence')).toBe(100 - 10 * k);
      expect(ip.checksum?.status).toBe('correct');
      expect(echo.checksum?.status).toBe('correct');
    }
  });

  it('bursts: 3 bursts of 5 back to back, 150 ms apart', async () => {
    const identifier = uniqueId();
    const started = await call('send', { socketId: icmp4, address: '127.0.0.1', packet: { layers: [{ kind: 'icmp', fields: { identifier } }] }, count: 15, burst: { size: 5, gapMs: 150 } });
    await vi.waitFor(async () => expect((await job(started.jobId)).state).toBe('done'), { timeout: 5000, interval: 10 });
    const times = (await sentRows(icmp4)).filter((row) => row.info.includes(`id=0x${identifier.toString(16)}`)).map((row) => row.time);
    expect(times).toHaveLength(15);
    const gaps = times.slice(1).map((time, i) => time - times[i]);
    for (const [i, gap] of gaps.entries()) {
      if ((i + 1) % 5 === 0) expect(gap).toBeGreaterThan(100);
      else expect(gap).toBeLessThan(50);
    }
  });

  describe('send-and-match', () => {
    let silent: UdpSocket;
    let port = 0;
    beforeAll(async () => {
      // A bound UDP port that never answers: no ICMP port unreachable either.
      silent = createSocket('udp4');
      await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
      port = silent.address().port;
    });
    afterAll(() => silent.close());

    it('an echo is answered, a UDP datagram to a silent port is not: waiting, then done, with the pairs by log id', async () => {
      const identifier = uniqueId();
      const started = await call('send', {
        socketId: icmp4,
        address: '127.0.0.1',
        packets: [
          { packet: { layers: [{ kind: 'ipv4' }, { kind: 'icmp', fields: { identifier } }] } },
          { packet: { layers: [{ kind: 'ipv4' }, { kind: 'udp', fields: { srcPort: 40000 + (identifier % 20000), dstPort: port } }, { kind: 'payload', data: '73 72' }] } },
        ],
        answers: { timeoutMs: 400 },
      });
      expect(started.matching).toBe(true);
      await vi.waitFor(async () => expect((await job(started.jobId)).state).toBe('waiting'), { timeout: 2000, interval: 5 });
      const early = await call('sendResults', { jobId: started.jobId });
      expect(early.final).toBe(false);
      await vi.waitFor(async () => expect((await job(started.jobId)).state).toBe('done'), { timeout: 3000, interval: 10 });
      const info = await job(started.jobId);
      expect(info).toMatchObject({ answered: 1, lost: 1 });
      expect(info.packets!.map((counters) => [counters.answered, counters.lost])).toEqual([
        [1, 0],
        [0, 1],
      ]);
      const results = await call('sendResults', { jobId: started.jobId });
      expect(results).toMatchObject({ jobId: started.jobId, final: true, answeredTotal: 1, unansweredTotal: 1 });
      const [pair] = results.answered;
      expect(pair.packetIndex).toBe(0);
      expect(pair.summary).toMatch(/^Echo request .* → Echo reply /);
      const request = await call('decodeLogEntry', { id: pair.requestId });
      const reply = await call('decodeLogEntry', { id: pair.replyId });
      expect(request.row).toMatchObject({ direction: 'sent', socketId: icmp4, match: { replyId: pair.replyId } });
      expect(reply.row).toMatchObject({ direction: 'received', match: { requestId: pair.requestId } });
      expect(pair.rttMs).toBe(reply.row.match!.rttMs);
      const [lonely] = results.unanswered;
      expect(lonely.packetIndex).toBe(1);
      const udp = await call('decodeLogEntry', { id: lonely.requestId });
      expect(udp.row).toMatchObject({ direction: 'sent', protocol: 'UDP' });
      expect(field(udp.layers[1], 'dstPort')).toBe(port);
      // Pages: offset past the end gives empty pages, the totals stay.
      expect(await call('sendResults', { jobId: started.jobId, offset: 1, limit: 1 })).toMatchObject({ answered: [], unanswered: [], answeredTotal: 1, unansweredTotal: 1 });
    });

    it('sendResults of a job without answers is refused, naming jobId', async () => {
      const started = await call('send', { socketId: icmp4, address: '127.0.0.1', packet: { hex: '08 00 f7 ff 00 00 00 00' } });
      const error = await errorOf(() => call('sendResults', { jobId: started.jobId }));
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'jobId', message: `${started.jobId} was not started with answers` });
    });
  });

  it('refuses bad input naming the field, all the valid names where there are some', async () => {
    const echo = { layers: [{ kind: 'icmp' as const }] };
    const base = { socketId: icmp4, address: '127.0.0.1' };
    const cases: [ParamsIn<'send'>, string, RegExp][] = [
      [{ ...base, packet: echo, variations: [{ layer: 0, field: 'seq', mode: 'increment' }] }, 'variations.0.field', /layer 0 \(ICMP\) has no variable field 'seq'; ICMP has: code, checksum, identifier, sequence/],
      [{ ...base, packets: [{ packet: echo }, { packet: echo, variations: [{ layer: 0, field: 'ttl', mode: 'increment' }] }] }, 'packets.1.variations.0.field', /ICMP has: /],
      [{ ...base, packet: echo, variations: [{ layer: 0, field: 'sequence', mode: 'list' }] }, 'variations.0.values', /list/],
      [{ ...base, packet: { hex: '08 00 f7 ff 00 00 00 00' }, variations: [{ layer: 0, field: 'sequence', mode: 'increment' }] }, 'variations', /hex packet is sent as given/],
      [{ ...base, packet: echo, packets: [{ packet: echo }] }, 'packets', /exactly one/],
      [{ ...base, packet: echo, burst: { size: 2, gapMs: 10 }, rate: 10 }, 'burst', /burst or intervalMs\/rate/],
      [{ ...base, packet: echo, order: 'interleaved' }, 'order', /packets/],
      [{ ...base, packet: echo, variations: [{ layer: 0, field: 'type', mode: 'list', values: [8, 0] }] }, 'variations.0.field', /decides which fields/],
      [{ ...base, packet: echo, variations: [{ layer: 0, field: 'sequence', mode: 'list', values: [70000] }] }, 'variations.0.values.0', /0 to 65535/],
    ];
    for (const [params, path, message] of cases) {
      const error = await errorOf(() => call('send', params));
      expect(error, path).toBeInstanceOf(WorkbenchError);
      expect(error.field, `${path}: ${error.message}`).toBe(path);
      expect(error.message, path).toMatch(message);
    }
  });
});
