// The Workbench on real raw sockets, on loopback only (127.0.0.1 and ::1): sockets
// and options, send jobs counted on a receiver socket, ping, the log, pcapng read
// back by tshark, and a flood through a full ring with memory measured.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createSocket, type Socket } from '@packet-workbench/raw-socket';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventBatch, ExperimentRun, ParamsIn, MethodName } from '../../common/contract';
import { validateParams, WorkbenchError } from '../../common/validate';
import { Workbench } from '../engine';
import { readIntOption } from '../engine/options';
import { rawSocketsWhy, skipNote } from './fixtures/privilege';

// Experimental protocol 253 (RFC 3692): no kernel handler answers it, and nothing else on loopback sends it.
const EXPERIMENTAL = 253;
// Packets per second of the measured flood: fast, yet slow enough that the receiving
// socket's kernel buffer (rmem_default) does not overflow, so both paths are exercised.
const FLOOD_RATE = 100_000;

let workbench: Workbench;
const extraSockets: Socket[] = [];

/** Calls a method the way a transport does: validate, then the handler. */
function call<M extends MethodName>(method: M, params: ParamsIn<M>): ReturnType<Workbench[M]> {
  const valid = validateParams(method, params);
  return (workbench[method] as (p: unknown) => ReturnType<Workbench[M]>).call(workbench, valid);
}

async function finished(runId: string, timeout = 15_000): Promise<ExperimentRun> {
  let run: ExperimentRun | undefined;
  await vi.waitFor(
    async () => {
      run = (await workbench.listExperiments()).find((candidate) => candidate.runId === runId);
      expect(run?.state).not.toBe('running');
    },
    { timeout, interval: 10 },
  );
  return run as ExperimentRun;
}

function errorOf(promise: Promise<unknown>): Promise<WorkbenchError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: WorkbenchError) => error,
  );
}

function receiver(family: 4 | 6, protocol: number, marker: Buffer): { socket: Socket; count: () => number } {
  const socket = createSocket({ addressFamily: family === 4 ? 1 : 2, protocol, mode: 'raw' });
  extraSockets.push(socket);
  let count = 0;
  socket.on('message', (buffer: Buffer) => {
    if (buffer.includes(marker)) count++;
  });
  return { socket, count: () => count };
}

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe.skipIf(rawSocketsWhy !== '')(`Workbench on loopback${skipNote(rawSocketsWhy)}`, () => {
  beforeAll(() => {
    workbench = new Workbench();
  });
  afterEach(() => {
    for (const socket of extraSockets.splice(0)) socket.close();
  });
  afterAll(async () => {
    await workbench.close();
  });

  describe('capabilities', () => {
    it('probes raw and datagram sockets', async () => {
      const capabilities = await call('capabilities', {});
      expect(capabilities).toMatchObject({ platform: 'linux', uid: 0, raw: true, remedy: null });
      expect(capabilities.modes).toContain('raw');
      expect(typeof capabilities.datagram.ipv4).toBe('boolean');
    });
  });

  describe('sockets', () => {
    it('opens, lists, pauses, resumes and closes', async () => {
      const info = await call('openSocket', { family: 'ipv4', protocol: 1, mode: 'raw' });
      expect(info).toMatchObject({ family: 'ipv4', protocol: 1, mode: 'raw', receivePaused: false, closed: false });
      expect((await call('listSockets', {})).map((s) => s.socketId)).toContain(info.socketId);
      expect(await call('pauseReceive', { socketId: info.socketId })).toMatchObject({ receivePaused: true });
      expect(await call('resumeReceive', { socketId: info.socketId })).toMatchObject({ receivePaused: false });
      expect(await call('closeSocket', { socketId: info.socketId })).toMatchObject({ closed: true });
      expect((await call('listSockets', {})).map((s) => s.socketId)).not.toContain(info.socketId);
      const error = await errorOf(call('pauseReceive', { socketId: info.socketId }));
      expect(error).toMatchObject({ code: 'NOT_FOUND', field: 'socketId' });
    });

    it('reads every option of its family and sets one, reading it back', async () => {
      const v4 = await call('openSocket', { family: 'ipv4', protocol: EXPERIMENTAL, mode: 'raw' });
      const readings = await call('readSocketOptions', { socketId: v4.socketId });
      expect(readings.map((r) => r.name)).toEqual(['SO_RCVBUF', 'SO_SNDBUF', 'SO_RCVTIMEO', 'SO_SNDTIMEO', 'SO_BINDTODEVICE', 'IP_HDRINCL', 'IP_TTL', 'IP_TOS', 'IP_OPTIONS']);
      const byName = Object.fromEntries(readings.map((r) => [r.name, r.value]));
      expect(byName).toMatchObject({ SO_RCVTIMEO: 0, SO_BINDTODEVICE: '', IP_HDRINCL: 0, IP_TTL: 64, IP_TOS: 0, IP_OPTIONS: '' });
      expect(byName.SO_RCVBUF).toBeGreaterThan(0);

      expect(await call('setSocketOption', { socketId: v4.socketId, name: 'IP_TTL', value: 17 })).toEqual({ name: 'IP_TTL', value: 17 });
      expect(await call('setSocketOption', { socketId: v4.socketId, name: 'SO_RCVTIMEO', value: 1500 })).toEqual({ name: 'SO_RCVTIMEO', value: 1500 });
      expect(await call('setSocketOption', { socketId: v4.socketId, name: 'SO_BINDTODEVICE', value: 'lo' })).toEqual({ name: 'SO_BINDTODEVICE', value: 'lo' });
      expect(await call('setSocketOption', { socketId: v4.socketId, name: 'IP_OPTIONS', value: '01 01 01 01' })).toEqual({ name: 'IP_OPTIONS', value: '01 01 01 01' });
      expect(await call('setSocketOption', { socketId: v4.socketId, name: 'IP_HDRINCL', value: 1 })).toEqual({ name: 'IP_HDRINCL', value: 1 });

      expect(await errorOf(call('setSocketOption', { socketId: v4.socketId, name: 'IP_TTL', value: 300 }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'value' });
      expect(await errorOf(call('setSocketOption', { socketId: v4.socketId, name: 'IPV6_UNICAST_HOPS', value: 3 }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
      expect(await errorOf(call('setSocketOption', { socketId: v4.socketId, name: 'SO_BINDTODEVICE', value: 'no-such-if0' }))).toMatchObject({ code: 'ENODEV' });

      const v6 = await call('openSocket', { family: 'ipv6', protocol: 58, mode: 'raw' });
      const v6Readings = await call('readSocketOptions', { socketId: v6.socketId });
      expect(v6Readings.map((r) => r.name)).toContain('IPV6_UNICAST_HOPS');
      expect(await call('setSocketOption', { socketId: v6.socketId, name: 'IPV6_UNICAST_HOPS', value: 9 })).toEqual({ name: 'IPV6_UNICAST_HOPS', value: 9 });
      expect(await call('setSocketOption', { socketId: v6.socketId, name: 'IPV6_UNICAST_HOPS', value: -1 })).toEqual({ name: 'IPV6_UNICAST_HOPS', value: 64 });
      await call('closeSocket', { socketId: v4.socketId });
      await call('closeSocket', { socketId: v6.socketId });
    });

    it('opens every socket, its own and those of ping and traceroute, with a 4 MiB receive buffer (as far as rmem_max allows)', async () => {
      // setsockopt(SO_RCVBUF, 4 MiB) gives twice min(4 MiB, net.core.rmem_max); never less than the default.
      const sysctl = (name: string) => Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8'));
      const expected = Math.max(sysctl('rmem_default'), 2 * Math.min(4 << 20, sysctl('rmem_max')));
      const rcvbuf = (socket: Socket) => readIntOption(socket, 'SO_RCVBUF');
      for (const params of [
        { family: 'ipv4', protocol: 1, mode: 'raw' },
        { family: 'ipv6', protocol: 58, mode: 'raw' },
        { family: 'ipv4', protocol: EXPERIMENTAL, mode: 'raw' },
      ] as const) {
        const info = await call('openSocket', params);
        const readings = await call('readSocketOptions', { socketId: info.socketId });
        expect(readings.find((r) => r.name === 'SO_RCVBUF')?.value, JSON.stringify(params)).toBe(expected);
        await call('closeSocket', { socketId: info.socketId });
      }
      const ping = await call('ping', { target: '::1', count: 1000, intervalMs: 1000 });
      const trace = await call('traceroute', { target: '127.0.0.1', probe: 'tcp', port: 9, timeoutMs: 1000 });
      try {
        const running = workbench['experiments']['running'];
        expect(rcvbuf(running.get(ping.runId)!['socket' as never] as Socket)).toBe(expected);
        // The run's raw sockets live in its prober (traceroute-raw.ts).
        const prober = running.get(trace.runId)!['prober' as never] as Record<string, Socket>;
        expect(rcvbuf(prober['icmpSocket'])).toBe(expected);
        expect(rcvbuf(prober['probeSocket'])).toBe(expected);
      } finally {
        await call('stopExperiment', { runId: ping.runId });
        await call('stopExperiment', { runId: trace.runId });
      }
    });

    it('datagram mode follows net.ipv4.ping_group_range: an echo and its reply where allowed, the library code where refused', async () => {
      // Both outcomes are asserted: which one runs depends on this namespace's sysctl.
      const [low, high] = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().split(/\s+/).map(Number);
      const allowed = process.getgid!() >= low && process.getgid!() <= high;
      const capabilities = await call('capabilities', {});
      expect(capabilities.datagram.ipv4).toBe(allowed);
      if (!allowed) {
        const error = await errorOf(call('openSocket', { family: 'ipv4', protocol: 1, mode: 'datagram' }));
        expect(['EACCES', 'EPERM']).toContain(error.code);
        expect(error).toBeInstanceOf(WorkbenchError);
        return;
      }
      const socket = await call('openSocket', { family: 'ipv4', protocol: 1, mode: 'datagram' });
      expect(socket).toMatchObject({ family: 'ipv4', protocol: 1, mode: 'datagram', closed: false });
      const payload = randomBytes(8).toString('hex');
      const job = await call('send', { socketId: socket.socketId, address: '127.0.0.1', packet: { hex: `0800000000000001${payload}` } });
      // The kernel picks the identifier and fills the checksum; the reply comes back to this socket only.
      await vi.waitFor(async () => expect((await call('listSockets', {})).find((s) => s.socketId === socket.socketId)?.counters).toMatchObject({ sent: 1, received: 1 }), { timeout: 2000 });
      expect((await call('listSendJobs', {})).find((j) => j.jobId === job.jobId)).toMatchObject({ sent: 1, errors: 0 });
      const reply = (await call('queryLog', { filter: { direction: 'received' } })).rows.filter((row) => row.socketId === socket.socketId);
      expect(reply).toHaveLength(1);
      expect(reply[0]).toMatchObject({ source: '127.0.0.1', protocol: 'ICMP' });
      expect(reply[0].info).toMatch(/echo reply/i);
      await call('closeSocket', { socketId: socket.socketId });
    });
  });

  describe('send jobs', () => {
    it('sends N packets at a rate and a receiver socket counts N', async () => {
      const marker = randomBytes(8);
      const counter = receiver(4, EXPERIMENTAL, marker);
      const sender = await call('openSocket', { family: 'ipv4', protocol: EXPERIMENTAL, mode: 'raw' });
      const batches: EventBatch[] = [];
      const unsubscribe = workbench.subscribe((batch) => batches.push(batch));
      const started = performance.now();
      const job = await call('send', { socketId: sender.socketId, address: '127.0.0.1', packet: { hex: marker.toString('hex') + '00'.repeat(24) }, count: 300, rate: 1000 });
      expect(job).toMatchObject({ total: 300, state: 'running' });
      await vi.waitFor(async () => expect((await call('listSendJobs', {})).find((j) => j.jobId === job.jobId)?.state).toBe('done'), { timeout: 5000, interval: 10 });
      const elapsed = performance.now() - started;
      await vi.waitFor(() => expect(counter.count()).toBe(300), { timeout: 2000 });
      // 300 packets at 1000/s: about 0.3 s, and never all at once.
      expect(elapsed).toBeGreaterThan(250);
      expect(elapsed).toBeLessThan(2000);
      const final = (await call('listSendJobs', {})).find((j) => j.jobId === job.jobId);
      expect(final).toMatchObject({ sent: 300, errors: 0, state: 'done' });
      const socket = (await call('listSockets', {})).find((s) => s.socketId === sender.socketId);
      expect(socket?.counters.sent).toBe(300);
      expect(socket?.counters.bytesSent).toBe(300 * 32);
      // The sender's raw socket receives its own packets too (it listens to protocol 253).
      await vi.waitFor(async () => expect((await call('listSockets', {})).find((s) => s.socketId === sender.socketId)?.counters.received).toBeGreaterThanOrEqual(300));
      await new Promise((resolve) => setTimeout(resolve, 50));
      unsubscribe();
      // Progress arrives coalesced: far fewer sendJob events than packets, and every batch at most one per job.
      const jobEvents = batches.flat().filter((e) => e.type === 'sendJob' && e.job.jobId === job.jobId);
      expect(jobEvents.length).toBeGreaterThan(1);
      expect(jobEvents.length).toBeLessThan(100);
      for (const batch of batches) expect(batch.filter((e) => e.type === 'log').length).toBeLessThanOrEqual(1);
      const sentRows = batches.flat().flatMap((e) => (e.type === 'log' ? e.rows : [])).filter((r) => r.direction === 'sent' && r.socketId === sender.socketId);
      expect(sentRows).toHaveLength(300);
      expect(sentRows[0]).toMatchObject({ family: 'ipv4', destination: '127.0.0.1', source: '127.0.0.1', protocol: '253', length: 32 });
      await call('closeSocket', { socketId: sender.socketId });
    });

    it('builds a layer stack and logs the kernel’s echo reply', async () => {
      const socket = await call('openSocket', { family: 'ipv4', protocol: 1, mode: 'raw' });
      const id = 0x4000 + (process.pid % 0x3fff);
      const before = (await call('queryLog', {})).total;
      const job = await call('send', {
        socketId: socket.socketId,
        address: '127.0.0.1',
        packet: { layers: [{ kind: 'icmp', fields: { type: 8, identifier: id, sequence: 7 } }, { kind: 'payload', data: '706b742d776f726b62656e6368' }] },
      });
      expect(job.total).toBe(1);
      const text = `id=0x${id.toString(16)} seq=7`;
      await vi.waitFor(async () => {
        const page = await call('queryLog', { filter: { text, protocol: 'icmp' } });
        expect(page.rows.map((r) => [r.direction, r.info])).toEqual(
          expect.arrayContaining([
            ['sent', `Echo request ${text}`],
            ['received', `Echo reply ${text}`],
          ]),
        );
      }, { timeout: 5000, interval: 20 });
      const reply = (await call('queryLog', { filter: { text: `Echo reply ${text}` } })).rows[0];
      const decoded = await call('decodeLogEntry', { id: reply.id });
      expect(decoded.layers.map((l) => l.kind)).toEqual(['ipv4', 'icmp', 'payload']);
      expect(decoded.layers[1].checksum?.status).toBe('correct');
      expect(decoded.layers[2].data).toBe('70 6b 74 2d 77 6f 72 6b 62 65 6e 63 68');
      expect(decoded.summary).toContain('Echo reply');
      expect(JSON.parse(JSON.stringify(decoded))).toEqual(decoded);
      const sent = (await call('queryLog', { filter: { direction: 'sent', text } })).rows[0];
      const sentDecoded = await call('decodeLogEntry', { id: sent.id });
      expect(sentDecoded.layers[0]).toMatchObject({ kind: 'icmp', checksum: { status: 'correct' } });
      expect((await call('queryLog', { start: 0, limit: 5000 })).total).toBeGreaterThan(before);
      await call('closeSocket', { socketId: socket.socketId });
    });

    it('sends an IPv4 layer on a raw socket by turning IP_HDRINCL on (TTL as set)', async () => {
      const marker = randomBytes(8);
      const seen: Buffer[] = [];
      const watcher = createSocket({ addressFamily: 1, protocol: EXPERIMENTAL, mode: 'raw' });
      extraSockets.push(watcher);
      watcher.on('message', (buffer: Buffer) => {
        if (buffer.includes(marker)) seen.push(buffer);
      });
      const socket = await call('openSocket', { family: 'ipv4', protocol: EXPERIMENTAL, mode: 'raw' });
      await call('send', {
        socketId: socket.socketId,
        address: '127.0.0.1',
        packet: { layers: [{ kind: 'ipv4', fields: { ttl: 33, identification: 0x1234 } }, { kind: 'payload', data: marker.toString('hex') }] },
      });
      await vi.waitFor(() => expect(seen.length).toBe(1));
      expect(seen[0][8]).toBe(33);
      expect(seen[0][9]).toBe(EXPERIMENTAL);
      const options = await call('readSocketOptions', { socketId: socket.socketId });
      expect(options.find((o) => o.name === 'IP_HDRINCL')?.value).toBe(1);
      const row = (await call('queryLog', { limit: 5000, filter: { direction: 'sent' } })).rows.filter((r) => r.socketId === socket.socketId);
      expect(row[0]).toMatchObject({ source: '127.0.0.1', destination: '127.0.0.1', protocol: '253', length: 28 });
      await call('closeSocket', { socketId: socket.socketId });
    });

    it('refuses malformed hex and oversize packets naming the packet', async () => {
      const socket = await call('openSocket', { family: 'ipv4', protocol: EXPERIMENTAL, mode: 'raw' });
      const send = (packet: object) => errorOf(call('send', { socketId: socket.socketId, address: '127.0.0.1', packet } as ParamsIn<'send'>));
      expect(await send({ hex: '0g' })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'packet' });
      expect(await send({ hex: 'abc' })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'packet' });
      expect(await send({ hex: '00'.repeat(65536) })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'packet' });
      expect(await send({ layers: [{ kind: 'payload', data: '00'.repeat(65536) }] })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'packet' });
      expect(await send({ layers: [{ kind: 'udp', fields: { nosuch: 1 } }] })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'packet' });
      expect(await send({ layers: [{ kind: 'ipv6' }] })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'packet' });
      expect(await errorOf(call('send', { socketId: socket.socketId, address: '::1', packet: { hex: '00' } }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'address' });
      expect(await errorOf(call('send', { socketId: 'socket-nope', address: '127.0.0.1', packet: { hex: '00' } }))).toMatchObject({ code: 'NOT_FOUND', field: 'socketId' });
      await call('closeSocket', { socketId: socket.socketId });
    });

    it('cancels a running job, and closing a socket cancels its jobs', async () => {
      const socket = await call('openSocket', { family: 'ipv4', protocol: EXPERIMENTAL, mode: 'raw' });
      const job = await call('send', { socketId: socket.socketId, address: '127.0.0.1', packet: { hex: '00' }, count: 1_000_000, intervalMs: 5 });
      await new Promise((resolve) => setTimeout(resolve, 30));
      const cancelled = await call('cancelSend', { jobId: job.jobId });
      expect(cancelled.state).toBe('cancelled');
      expect(cancelled.sent).toBeLessThan(100);
      const second = await call('send', { socketId: socket.socketId, address: '127.0.0.1', packet: { hex: '00' }, count: 1_000_000, rate: 100 });
      await call('closeSocket', { socketId: socket.socketId });
      expect((await call('listSendJobs', {})).find((j) => j.jobId === second.jobId)?.state).toBe('cancelled');
      expect(await errorOf(call('cancelSend', { jobId: 'job-none' }))).toMatchObject({ code: 'NOT_FOUND', field: 'jobId' });
    });
  });

  describe('ping', () => {
    for (const target of ['127.0.0.1', '::1']) {
      it(`pings ${target} with statistics and events`, async () => {
        const batches: EventBatch[] = [];
        const unsubscribe = workbench.subscribe((batch) => batches.push(batch));
        const run = await call('ping', { target, count: 4, intervalMs: 20, size: 100 });
        expect(run).toMatchObject({ kind: 'ping', state: 'running', mode: 'raw', family: target === '::1' ? 'ipv6' : 'ipv4' });
        const done = await finished(run.runId);
        expect(done.state).toBe('done');
        expect(done.ping?.replies.map((r) => [r.sequence, r.status, r.from, r.bytes])).toEqual([1, 2, 3, 4].map((s) => [s, 'reply', target, 108]));
        const stats = done.ping!.statistics;
        expect(stats).toMatchObject({ transmitted: 4, received: 4, errors: 0, loss: 0 });
        expect(stats.min!).toBeGreaterThan(0);
        expect(stats.min!).toBeLessThanOrEqual(stats.avg!);
        expect(stats.avg!).toBeLessThanOrEqual(stats.max!);
        expect(stats.mdev!).toBeGreaterThanOrEqual(0);
        // IPv4 raw sockets read it from the IP header; IPv6 (and datagram) sockets from IP_RECVTTL / IPV6_RECVHOPLIMIT.
        expect(done.ping!.replies.map((r) => r.ttl)).toEqual([64, 64, 64, 64]);
        await vi.waitFor(() => expect(batches.flat().some((e) => e.type === 'experiment' && e.run.runId === run.runId && e.run.state === 'done')).toBe(true));
        unsubscribe();
        const replies = batches.flat().filter((e) => e.type === 'pingReply' && e.runId === run.runId);
        expect(replies).toHaveLength(4);
        const page = await call('queryLog', { filter: { address: target, text: 'echo' } });
        expect(page.rows.some((r) => r.direction === 'received' && r.source === target)).toBe(true);
      });
    }

    it('keeps the replies of two concurrent runs apart', async () => {
      const [a, b] = await Promise.all([
        call('ping', { target: '127.0.0.1', count: 6, intervalMs: 10 }),
        call('ping', { target: '127.0.0.1', count: 6, intervalMs: 10 }),
      ]);
      const [doneA, doneB] = await Promise.all([finished(a.runId), finished(b.runId)]);
      for (const run of [doneA, doneB]) {
        expect(run.ping?.replies.map((r) => r.sequence).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(run.ping?.statistics).toMatchObject({ transmitted: 6, received: 6, loss: 0 });
      }
      // The log shows two identifiers, one per run.
      const page = await call('queryLog', { limit: 5000, filter: { direction: 'sent', protocol: 'ICMP' } });
      const ids = new Set(page.rows.filter((r) => r.info.startsWith('Echo request')).slice(-12).map((r) => r.info.split(' ')[2]));
      expect(ids.size).toBe(2);
    });

    it('stops a run', async () => {
      const run = await call('ping', { target: '::1', count: 1000, intervalMs: 20 });
      await new Promise((resolve) => setTimeout(resolve, 70));
      const stopped = await call('stopExperiment', { runId: run.runId });
      expect(stopped.state).toBe('stopped');
      expect(stopped.ping!.statistics.transmitted).toBeGreaterThan(0);
      expect(stopped.ping!.statistics.transmitted).toBeLessThan(20);
      expect(await errorOf(call('stopExperiment', { runId: 'run-none' }))).toMatchObject({ code: 'NOT_FOUND', field: 'runId' });
    });
  });

  describe('log', () => {
    it('exports pcapng that tshark reads, synthesizing IPv6 headers, and imports it back', async () => {
      await call('clearLog', {});
      const v4 = await call('ping', { target: '127.0.0.1', count: 2, intervalMs: 10 });
      const v6 = await call('ping', { target: '::1', count: 2, intervalMs: 10 });
      await finished(v4.runId);
      await finished(v6.runId);
      const page = await call('queryLog', { limit: 5000 });
      const mine = page.rows.filter((r) => r.info.startsWith('Echo'));
      expect(mine.length).toBeGreaterThanOrEqual(8);
      const v6Row = mine.find((r) => r.family === 'ipv6' && r.direction === 'received')!;
      expect(v6Row).toMatchObject({ source: '::1', destination: '::1', protocol: 'ICMPv6' });

      const exported = await call('exportPcapng', { ids: mine.map((r) => r.id) });
      expect(exported.count).toBe(mine.length);
      const dir = mkdtempSync(path.join(tmpdir(), 'engine-pcap-'));
      try {
        const file = path.join(dir, 'log.pcapng');
        writeFileSync(file, Buffer.from(exported.pcapng, 'base64'));
        const stdout = await new Promise<string>((resolve, reject) =>
          execFile(
            'tshark',
            ['-r', file, '-T', 'fields', '-E', 'separator=,', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'icmp.type', '-e', 'icmpv6.type', '-e', 'icmp.seq', '-e', 'icmpv6.echo.sequence_number'],
            { timeout: 30_000 },
            (error, out, err) => (error ? reject(new Error(`${error.message}: ${err}`)) : resolve(out)),
          ),
        );
        const lines = stdout.trim().split('\n');
        expect(lines).toHaveLength(mine.length);
        const expected = mine.map((r) => {
          const seq = r.info.split('seq=')[1];
          const request = r.info.startsWith('Echo request');
          return r.family === 'ipv4'
            ? `127.0.0.1,,,${request ? 8 : 0},,${seq},`
            : `,::1,::1,,${request ? 128 : 129},,${seq}`;
        });
        expect(lines).toEqual(expected);

        const before = (await call('queryLog', {})).total;
        const imported = await call('importPcapng', { pcapng: readFileSync(file).toString('base64') });
        expect(imported.imported).toBe(mine.length);
        const after = await call('queryLog', { filter: { direction: 'imported' }, limit: 5000 });
        expect(after.total).toBe(mine.length);
        expect((await call('queryLog', {})).total).toBe(before + mine.length);
        const importedV6 = after.rows.find((r) => r.family === 'ipv6')!;
        expect(importedV6).toMatchObject({ source: '::1', destination: '::1', protocol: 'ICMPv6' });
        expect((await call('decodeLogEntry', { id: importedV6.id })).layers.map((l) => l.kind)).toEqual(['ipv6', 'icmpv6', 'payload']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      expect(await errorOf(call('importPcapng', { pcapng: Buffer.from('not a capture').toString('base64') }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'pcapng' });
    });

    it('filters, pages, clears, resizes, and says NOT_FOUND for gone entries', async () => {
      await call('clearLog', {});
      const empty = await call('queryLog', {});
      expect(empty).toMatchObject({ total: 0, rows: [], capacity: 100_000 });
      const run = await call('ping', { target: '127.0.0.1', count: 3, intervalMs: 10 });
      await finished(run.runId);
      const received = await call('queryLog', { filter: { direction: 'received', address: '127.0.0.1' } });
      expect(received.total).toBeGreaterThanOrEqual(3);
      const second = await call('queryLog', { start: 1, limit: 1, filter: { direction: 'received' } });
      expect(second.rows).toHaveLength(1);
      expect(second.rows[0].id).toBe(received.rows[1].id);
      expect((await call('queryLog', { filter: { protocol: 'tcp' } })).total).toBe(0);
      const oldId = received.rows[0].id;
      expect(await call('configureLog', { capacity: 100 })).toEqual({ capacity: 100 });
      expect((await call('queryLog', {})).capacity).toBe(100);
      await call('clearLog', {});
      expect(await errorOf(call('decodeLogEntry', { id: oldId }))).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
      await call('configureLog', { capacity: 100_000 });
    });
  });

  describe('log duplicates', () => {
    // Every raw ICMP socket receives a copy of every ICMP packet of the host: the log shows each packet once
    // (as Wireshark does), each socket's counters count its copy.
    const counters = async (socketId: string) => (await call('listSockets', {})).find((s) => s.socketId === socketId)!.counters;

    for (const family of ['ipv4', 'ipv6'] as const) {
      it(`logs a packet two ${family} ICMP sockets receive once, and counts it on both`, async () => {
        const protocol = family === 'ipv4' ? 1 : 58;
        const a = await call('openSocket', { family, protocol, mode: 'raw' });
        const b = await call('openSocket', { family, protocol, mode: 'raw' });
        try {
          const identifier = 0x1000 + (randomBytes(2).readUInt16BE(0) & 0x0fff);
          const sequence = family === 'ipv4' ? 11 : 12;
          const type = family === 'ipv4' ? 8 : 128;
          // IPv6: the two requests (and the two replies) are byte-for-byte the same; arriving at different times they are two packets.
          const count = family === 'ipv4' ? 1 : 2;
          const address = family === 'ipv4' ? '127.0.0.1' : '::1';
          const [beforeA, beforeB] = [await counters(a.socketId), await counters(b.socketId)];
          await call('send', {
            socketId: a.socketId,
            address,
            packet: { layers: [{ kind: family === 'ipv4' ? 'icmp' : 'icmpv6', fields: { type, identifier, sequence } }, { kind: 'payload', data: '6475706c6963617465' }] },
            count,
            // Identical packets: a repeated echo request would otherwise increment its sequence.
            variations: [],
            intervalMs: 20,
          });
          const text = `id=0x${identifier.toString(16)} seq=${sequence}`;
          const rows = async () => (await call('queryLog', { limit: 5000, filter: { text } })).rows;
          await vi.waitFor(async () => expect((await rows()).filter((r) => r.info.startsWith('Echo reply')).length).toBeGreaterThanOrEqual(count), { timeout: 5000, interval: 10 });
          await new Promise((resolve) => setTimeout(resolve, 100));
          const mine = await rows();
          const of = (direction: string, what: string) => mine.filter((r) => r.direction === direction && r.info.startsWith(what));
          expect(of('sent', 'Echo request').map((r) => r.socketId)).toEqual(new Array(count).fill(a.socketId));
          expect(of('received', 'Echo request')).toHaveLength(count);
          expect(of('received', 'Echo reply')).toHaveLength(count);
          expect(mine).toHaveLength(3 * count);
          for (const row of of('received', 'Echo')) expect([a.socketId, b.socketId]).toContain(row.socketId);
          // Each socket received the request and the reply (and perhaps other ICMP of the host meanwhile).
          const [afterA, afterB] = [await counters(a.socketId), await counters(b.socketId)];
          expect(afterA.received - beforeA.received).toBeGreaterThanOrEqual(2 * count);
          expect(afterB.received - beforeB.received).toBeGreaterThanOrEqual(2 * count);
        } finally {
          await call('closeSocket', { socketId: a.socketId });
          await call('closeSocket', { socketId: b.socketId });
        }
      });
    }

    it('logs a ping reply once when an open ICMPv6 socket receives it too', async () => {
      const socket = await call('openSocket', { family: 'ipv6', protocol: 58, mode: 'raw' });
      try {
        const run = await call('ping', { target: '::1', count: 2, intervalMs: 20 });
        const done = await finished(run.runId);
        expect(done.ping!.statistics.received).toBe(2);
        await new Promise((resolve) => setTimeout(resolve, 50));
        const page = await call('queryLog', { limit: 5000, filter: { address: '::1', protocol: 'ICMPv6' } });
        const echoId = (await call('queryLog', { limit: 5000, filter: { direction: 'sent', protocol: 'ICMPv6' } })).rows.filter((r) => r.socketId === null).at(-1)!.info.split(' ')[2];
        const mine = page.rows.filter((r) => r.info.includes(`${echoId} `));
        // The requests: sent by the ping, received by the open socket; the replies: once each, though the ping's socket and the open one both got them.
        expect(mine.map((r) => [r.direction, r.info.split(' ').slice(0, 2).join(' ')]).sort()).toEqual(
          [
            ['received', 'Echo reply'],
            ['received', 'Echo reply'],
            ['received', 'Echo request'],
            ['received', 'Echo request'],
            ['sent', 'Echo request'],
            ['sent', 'Echo request'],
          ],
        );
      } finally {
        await call('closeSocket', { socketId: socket.socketId });
      }
    });
  });

  describe('flood', () => {
    it('keeps a 100,000-packet ring bounded and memory flat while 200,000+ packets pass', { timeout: 120_000 }, async () => {
      const gc = exposeGc();
      const flood = new Workbench({ logCapacity: 100_000 });
      let rowsDelivered = 0;
      let batches = 0;
      flood.subscribe((batch) => {
        batches++;
        for (const event of batch) if (event.type === 'log') rowsDelivered += event.rows.length;
      });
      try {
        const socket = await flood.openSocket({ family: 'ipv4', protocol: EXPERIMENTAL, mode: 'raw' });
        // A larger kernel receive buffer (up to rmem_max) so fewer looped-back packets are dropped.
        await flood.setSocketOption({ socketId: socket.socketId, name: 'SO_RCVBUF', value: 4 * 1048576 });
        const packet = { hex: randomBytes(8).toString('hex') + '00'.repeat(56) };
        const run = async (count: number, rate?: number) => {
          const job = await flood.send({ socketId: socket.socketId, address: '127.0.0.1', packet, count, ...(rate ? { rate } : {}) });
          await vi.waitFor(async () => expect((await flood.listSendJobs()).find((j) => j.jobId === job.jobId)?.state).toBe('done'), { timeout: 60_000, interval: 20 });
        };
        // Fill the ring first: what is measured is the steady state of a full ring. Unpaced, so its time shows the per-packet cost.
        const fillStarted = performance.now();
        await run(100_000);
        const fillSeconds = (performance.now() - fillStarted) / 1000;
        await new Promise((resolve) => setTimeout(resolve, 100));
        gc();
        const before = process.memoryUsage();
        const started = performance.now();
        await run(200_000, FLOOD_RATE);
        const seconds = (performance.now() - started) / 1000;
        await new Promise((resolve) => setTimeout(resolve, 100));
        gc();
        const after = process.memoryUsage();
        const page = await flood.queryLog({ start: 0, limit: 10 });
        const info = (await flood.listSockets())[0];
        const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
        const report = {
          sent: info.counters.sent,
          received: info.counters.received,
          logged: page.total,
          fillSeconds: Math.round(fillSeconds * 100) / 100,
          seconds: Math.round(seconds * 100) / 100,
          heapUsedMB: [mb(before.heapUsed), mb(after.heapUsed)],
          arrayBuffersMB: [mb(before.arrayBuffers), mb(after.arrayBuffers)],
          rssMB: [mb(before.rss), mb(after.rss)],
          batches,
          rowsDelivered,
        };
        console.log('engine flood:', JSON.stringify(report));
        expect(info.counters.sent).toBe(300_000);
        expect(info.counters.received).toBeGreaterThan(0);
        expect(rowsDelivered).toBe(info.counters.sent + info.counters.received);
        expect(page.total).toBe(100_000);
        expect(page.capacity).toBe(100_000);
        expect(after.heapUsed - before.heapUsed).toBeLessThan(8 * 1048576);
        expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(4 * 1048576);
      } finally {
        await flood.close();
      }
    });
  });

  describe('close', () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout' || kind === 'Immediate').length;

    /** A workbench with a socket, a send job and a ping run going; the timers counted before it. */
    async function busyEngine() {
      // vitest's runner keeps a 100 ms timer pending after a test ends (its task-update throttle,
      // @vitest/runner): let it fire first, or it is counted on one side of close() and not the other.
      await new Promise((resolve) => setTimeout(resolve, 120));
      const timersBefore = timers();
      const engine = new Workbench();
      engine.subscribe(() => undefined);
      const socket = await engine.openSocket({ family: 'ipv6', protocol: 58, mode: 'raw' });
      const job = await engine.send({ socketId: socket.socketId, address: '::1', packet: { hex: '8000000000010001' }, count: 1_000_000, intervalMs: 10 });
      const run = await engine.ping({ target: '::1', count: 1000, intervalMs: 10, size: 56, ttl: 64, timeoutMs: 2000, mode: 'auto' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(timers()).toBeGreaterThan(timersBefore);
      return { engine, job, run, timersBefore };
    }

    it('closes sockets, stops runs and jobs, and refuses calls after', async () => {
      const { engine, job, run } = await busyEngine();
      // The engine's own records of the run and the job, read again after close().
      const ping = engine['experiments']['running'].get(run.runId) as unknown as { run: ExperimentRun; socket: Socket };
      const pingSocket = ping.socket;
      const sending = engine['jobs']['jobs'].get(job.jobId)!;
      expect([ping.run.state, sending.info.state, pingSocket.isClosed]).toEqual(['running', 'running', false]);
      await engine.close();
      await engine.close();
      expect(ping.run.state).toBe('stopped');
      expect(pingSocket.isClosed).toBe(true);
      expect(sending.info.state).toBe('cancelled');
      expect(sending.info.sent).toBeLessThan(1_000_000);
      expect(engine['experiments']['running'].size).toBe(0);
      await expect(engine.listSockets()).rejects.toMatchObject({ code: 'CLOSED' });
    });

    // A cancelled echo job used to keep its answer sweep (setInterval) and listener after close().
    it('clears every timer it set (the answer sweep of a cancelled send job included)', async () => {
      const { engine, job, timersBefore } = await busyEngine();
      const sending = engine['jobs']['jobs'].get(job.jobId)!;
      expect(sending['sweepTimer']).not.toBeNull();
      await engine.close();
      // close() leaves one Immediate (the sockets' close events), gone a turn later.
      await new Promise((resolve) => setImmediate(resolve));
      expect(timers()).toBeLessThanOrEqual(timersBefore);
      // The sweep is unref'd, so getActiveResourcesInfo() does not list it: ask the job.
      expect(sending['sweepTimer']).toBeNull();
    });
  });
});
