// A send job whose socket closes under it stops at the first ERR_SOCKET_CLOSED
// instead of failing every remaining packet one by one.
import type { Socket } from '@packet-workbench/raw-socket';
import { describe, expect, it, vi } from 'vitest';
import { planVariations } from '../../packets/variation';
import { EventHub } from './events';
import { SendJob, type PreparedPacket, type SendJobHost } from './send-job';

type AfterSend = (error: Error | null, bytes: number, sentAt?: bigint) => void;

function closedError(): Error {
  return Object.assign(new Error('Cannot send: the socket is closed'), { code: 'ERR_SOCKET_CLOSED' });
}

/** A socket that completes each send on the next tick, failing once `closed` is set. */
function fakeSocket() {
  const state = { closed: false, sends: 0 };
  const socket = {
    send(_buffer: Uint8Array, _offset: number, length: number, _address: string, after: AfterSend) {
      state.sends++;
      process.nextTick(() => (state.closed ? after(closedError(), 0) : after(null, length, 1n)));
    },
  } as unknown as Socket;
  return { socket, state };
}

function host() {
  const counts = { sent: 0, failed: 0, ended: 0 };
  const events = new EventHub({ intervalMs: 1 });
  const value: SendJobHost = {
    events,
    sent: () => counts.sent++,
    failed: () => counts.failed++,
    ended: () => counts.ended++,
  };
  return { value, counts, events };
}

/** A job of one identical packet sent count times. */
function job1(host: SendJobHost, socket: Socket, count: number, intervalMs: number): SendJob {
  const packet: PreparedPacket = { bytes: new Uint8Array([0]), offset: 0, length: 1, plan: null, count, destination: '127.0.0.1', request: false, description: 'x' };
  return new SendJob(host, { jobId: 'job-1', socketId: 'socket-1', socket, packets: [packet], order: 'sequential', intervalMs, description: 'x' });
}

describe('SendJob', () => {
  it('ends (failed, with the error) at the first ERR_SOCKET_CLOSED of a large job', async () => {
    const { socket, state } = fakeSocket();
    const h = host();
    const job = job1(h.value, socket, 200_000, 0);
    job.start();
    await vi.waitFor(() => expect(h.counts.sent).toBeGreaterThan(10), { timeout: 2000, interval: 1 });
    state.closed = true;
    const closedAt = performance.now();
    await vi.waitFor(() => expect(job.running).toBe(false), { timeout: 2000, interval: 1 });
    expect(performance.now() - closedAt).toBeLessThan(200);
    const info = job.snapshot();
    expect(info.state).toBe('failed');
    expect(info.error).toMatchObject({ code: 'ERR_SOCKET_CLOSED' });
    expect(info.errors).toBe(1);
    expect(h.counts.failed).toBe(1);
    expect(h.counts.ended).toBe(1);
    // Nothing more is queued once it ended.
    const sends = state.sends;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(state.sends).toBe(sends);
    expect(state.sends).toBeLessThan(200_000);
    h.events.close();
  });

  it('fail() ends a running job with the given error, once', () => {
    const { socket } = fakeSocket();
    const h = host();
    const job = job1(h.value, socket, 1000, 10);
    job.start();
    job.fail({ code: 'EIO', message: 'poll failed' });
    job.fail({ code: 'EOTHER', message: 'later' });
    expect(job.snapshot()).toMatchObject({ state: 'failed', error: { code: 'EIO', message: 'poll failed' } });
    expect(h.counts.ended).toBe(1);
    h.events.close();
  });

  it('never changes a slot whose send has not completed, even when sends complete out of order', async () => {
    // The library reads a queued buffer later (on its thread pool for large batches): a variant must stay as queued.
    const queued: { buffer: Uint8Array; offset: number; length: number; copy: Uint8Array; after: AfterSend }[] = [];
    const socket = {
      send(buffer: Uint8Array, offset: number, length: number, _address: string, after: AfterSend) {
        queued.push({ buffer, offset, length, copy: buffer.slice(offset, offset + length), after });
      },
    } as unknown as Socket;
    let changed = 0;
    const sequences: number[] = [];
    // Completes a random half of what is queued, in random order, checking each buffer first.
    const pump = setInterval(() => {
      for (let n = Math.ceil(queued.length / 2); n > 0; n--) {
        const [request] = queued.splice(Math.floor(Math.random() * queued.length), 1);
        const now = request.buffer.subarray(request.offset, request.offset + request.length);
        if (now.some((byte, i) => byte !== request.copy[i])) changed++;
        request.after(null, request.length, 1n);
      }
    }, 1);
    const h = host();
    h.value.sent = (_p, bytes, offset) => {
      sequences.push((bytes[offset + 6] << 8) | bytes[offset + 7]);
      return 0;
    };
    const plan = planVariations([{ kind: 'icmp', fields: { identifier: 1 } }], [{ layer: 0, field: 'sequence', mode: 'increment' }]);
    const packet: PreparedPacket = { bytes: plan.template, offset: 0, length: plan.template.length, plan, count: 20_000, destination: '127.0.0.1', request: false, description: 'x' };
    const job = new SendJob(h.value, { jobId: 'job-3', socketId: 'socket-1', socket, packets: [packet], order: 'sequential', intervalMs: 0, description: 'x' });
    job.start();
    await vi.waitFor(() => expect(job.snapshot().state).toBe('done'), { timeout: 10_000, interval: 5 });
    clearInterval(pump);
    expect(changed).toBe(0);
    expect(sequences).toHaveLength(20_000);
    expect(new Set(sequences).size).toBe(20_000 % 65536);
    h.events.close();
  });

  it('sends each packet to its varied IP destination, and logs that peer', async () => {
    const addresses: string[] = [];
    const peers: string[] = [];
    const socket = {
      send(_buffer: Uint8Array, _offset: number, length: number, address: string, after: AfterSend) {
        addresses.push(address);
        process.nextTick(() => after(null, length, 1n));
      },
    } as unknown as Socket;
    const h = host();
    h.value.sent = (_p, _bytes, _offset, _length, peer) => peers.push(peer);
    const plan = planVariations([{ kind: 'ipv6', fields: { src: 'fd42::1', dst: 'fd42::5' } }, { kind: 'icmpv6' }], [{ layer: 0, field: 'dst', mode: 'list', values: ['fd42::7', 'fd42::1:0'] }]);
    const packet: PreparedPacket = { bytes: plan.template, offset: 0, length: plan.template.length, plan, count: 5, destination: 'fd42::5', request: false, description: 'x' };
    const job = new SendJob(h.value, { jobId: 'job-4', socketId: 'socket-1', socket, packets: [packet], order: 'sequential', intervalMs: 0, description: 'x' });
    job.start();
    await vi.waitFor(() => expect(job.snapshot().state).toBe('done'), { timeout: 2000, interval: 5 });
    expect(addresses).toEqual(['fd42::7', 'fd42::1:0', 'fd42::7', 'fd42::1:0', 'fd42::7']);
    expect(peers).toEqual(addresses);
    h.events.close();
  });

  it('a send-and-match job waits after its last packet, and cancel closes the window at once', async () => {
    const { socket } = fakeSocket();
    const h = host();
    h.value.onAnswered = () => () => undefined;
    const packet: PreparedPacket = { bytes: new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0]), offset: 0, length: 8, plan: null, count: 3, destination: '127.0.0.1', request: true, description: 'x' };
    const job = new SendJob(h.value, { jobId: 'job-5', socketId: 'socket-1', socket, packets: [packet], order: 'sequential', intervalMs: 0, answers: { timeoutMs: 60_000 }, description: 'x' });
    job.start();
    await vi.waitFor(() => expect(job.snapshot().state).toBe('waiting'), { timeout: 2000, interval: 5 });
    expect(job.running).toBe(false);
    expect(job.active).toBe(true);
    expect(job.snapshot()).toMatchObject({ sent: 3, lost: 0, matching: true });
    job.cancel();
    expect(job.snapshot()).toMatchObject({ state: 'cancelled', lost: 3, answered: 0 });
    expect(job.results(0, 10, () => 'row').unanswered.map((entry) => entry.packetIndex)).toEqual([0, 0, 0]);
    expect(h.counts.ended).toBe(1);
    h.events.close();
  });
});
