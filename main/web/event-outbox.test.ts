// The row budget end to end: a real engine floods loopback through a raw socket, and each
// client is sent at most its budget; every other row is named in a 'logSkipped' event and
// pages in from the engine's log, so nothing is lost, only not pushed.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventBatch } from '../../common/contract';
import { readLogRange } from '../../common/log-range';
import { Workbench } from '../engine/workbench';
import { budgetFromEnvironment, EventOutbox, HIGH_WATER_BYTES } from './event-outbox';

const EXPERIMENTAL = 253; // RFC 3692: no stack answers it, so the log holds only what we send and see
const PACKETS = 20_000;

interface Received {
  sentIds: number[];
  skipped: { fromId: number; toId: number; count: number }[];
}

function client(bufferedAmount: () => number): { outbox: EventOutbox; received: Received } {
  const received: Received = { sentIds: [], skipped: [] };
  const outbox = new EventOutbox({
    bufferedAmount,
    send: (frame) => {
      for (const event of (JSON.parse(frame) as { events: EventBatch }).events) {
        if (event.type === 'log') for (const row of event.rows) received.sentIds.push(row.id);
        if (event.type === 'logSkipped') received.skipped.push({ fromId: event.fromId, toId: event.toId, count: event.count });
      }
    },
  });
  return { outbox, received };
}

describe('row budget (real engine, loopback flood)', () => {
  const workbench = new Workbench({ logCapacity: 100_000 });
  const fast = client(() => 0);
  // Reads nothing for the first 300 ms, then keeps up.
  let slowStalled = true;
  const slow = client(() => (slowStalled ? HIGH_WATER_BYTES + 1 : 0));
  let logged = 0;

  beforeAll(async () => {
    for (const { outbox } of [fast, slow]) workbench.subscribe((batch) => outbox.push(batch));
    setTimeout(() => (slowStalled = false), 300);
    const socket = await workbench.openSocket({ family: 'ipv4', protocol: EXPERIMENTAL, mode: 'raw' });
    const job = await workbench.send({ socketId: socket.socketId, address: '127.0.0.1', packet: { hex: '00'.repeat(32) }, count: PACKETS });
    await vi.waitFor(async () => expect((await workbench.listSendJobs()).find((j) => j.jobId === job.jobId)?.state).toBe('done'), { timeout: 60_000, interval: 20 });
    await workbench.closeSocket({ socketId: socket.socketId });
    // Settled: the engine's last batch went out and no client gets more.
    const total = () => fast.received.sentIds.length + fast.received.skipped.reduce((sum, range) => sum + range.count, 0);
    let last = -1;
    await vi.waitFor(() => {
      const now = total();
      const settled = now === last;
      last = now;
      expect(settled).toBe(true);
    }, { timeout: 20_000, interval: 200 });
    logged = (await workbench.queryLog({ start: 0, limit: 1 })).total;
  }, 90_000);

  afterAll(async () => {
    fast.outbox.close();
    slow.outbox.close();
    await workbench.close();
  });

  for (const [name, { outbox, received }] of [['fast', fast], ['slow', slow]] as const) {
    it(`${name} client: every logged id is either sent or named as skipped, once, in order`, async () => {
      expect(logged).toBeGreaterThanOrEqual(PACKETS); // sent rows at least; the raw socket's own copies too
      const seen: number[] = [];
      for (const range of received.skipped) {
        expect(range.count).toBe(range.toId - range.fromId + 1);
        for (let id = range.fromId; id <= range.toId; id++) seen.push(id);
      }
      seen.push(...received.sentIds);
      seen.sort((a, b) => a - b);
      expect(seen).toEqual(Array.from({ length: logged }, (_, i) => i));
      expect(outbox.skippedRows).toBe(logged - received.sentIds.length);
      // A flood beyond the budget: most rows are not pushed.
      expect(received.sentIds.length).toBeLessThan(logged);
      expect(received.sentIds.length).toBeGreaterThan(0);
    });

    it(`${name} client: paging the skipped ranges in from the engine returns exactly the skipped ids`, async () => {
      const query = (params: { start: number; limit: number }) => workbench.queryLog(params);
      for (const range of received.skipped) {
        const page = await readLogRange(query, range.fromId, range.toId);
        expect(page.gone).toBe(0);
        expect(page.rows.map((row) => row.id)).toEqual(Array.from({ length: range.count }, (_, i) => range.fromId + i));
      }
    });
  }
});

describe('event outbox: capture and log status', () => {
  it('passes on capture and logStatus events (latest per capture, latest status)', async () => {
    const frames: EventBatch[] = [];
    const outbox = new EventOutbox({ bufferedAmount: () => 0, send: (frame) => frames.push(JSON.parse(frame).events) });
    const status = (kept: number) => ({ type: 'logStatus', status: { capacity: 10, kept, logged: kept, overflowed: 0, kernelDrops: 0 } }) as const;
    const capture = (packets: number) =>
      ({ type: 'capture', capture: { captureId: 'c1', interface: 'lo', promiscuous: false, state: 'running', packets, bytes: 0, kernelDrops: 0, startedAt: 0 } }) as never;
    outbox.push([status(1), capture(1), status(2), capture(5)]);
    await expect.poll(() => frames.length).toBe(1);
    expect(frames[0]).toEqual([status(2), expect.objectContaining({ type: 'capture', capture: expect.objectContaining({ packets: 5 }) })]);
    outbox.close();
  });
});

describe('budgetFromEnvironment', () => {
  it('is the GUI budget unless WORKBENCH_LIVE_ROWS_PER_SECOND says otherwise (0: every row)', () => {
    const now = () => 0;
    expect(budgetFromEnvironment(now, undefined)?.perSecond).toBe(5000);
    expect(budgetFromEnvironment(now, '0')).toBeNull();
    expect(budgetFromEnvironment(now, '20000')).toMatchObject({ perSecond: 20_000, burst: 20_000 });
    expect(() => budgetFromEnvironment(now, 'lots')).toThrow(/WORKBENCH_LIVE_ROWS_PER_SECOND .* got 'lots'/);
    expect(() => budgetFromEnvironment(now, '-1')).toThrow(RangeError);
  });
});
