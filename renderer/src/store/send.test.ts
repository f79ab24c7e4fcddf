// The Send slice with variable fields, streams and send-and-match: what it asks the engine
// for, where errors land, what survives a reload, and what the exports hold. The client
// stands in for the engine and records the calls.
import { describe, expect, it, vi } from 'vitest';
import type { SendJobInfo, SendResults } from '../../../common/contract';
import { WorkbenchError } from '../../../common/validate';
import type { WorkbenchClient } from '../api/client';
import { createWorkbenchStore } from './index';
import { NEW_SOCKET } from './send';

function memoryStorage() {
  const items = new Map<string, string>();
  return { getItem: (key: string) => items.get(key) ?? null, setItem: (key: string, value: string) => void items.set(key, value) };
}

const job = (change: Partial<SendJobInfo> = {}): SendJobInfo => ({
  jobId: 'job-1',
  socketId: 'socket-1',
  address: '127.0.0.1',
  total: 1,
  sent: 1,
  errors: 0,
  state: 'done',
  startedAt: 0,
  ...change,
});

function setup(options: { storage?: ReturnType<typeof memoryStorage>; send?: (params: Record<string, unknown>) => Promise<SendJobInfo>; results?: SendResults } = {}) {
  const saveFile = vi.fn();
  const client = {
    openSocket: vi.fn(async () => ({ socketId: 'socket-1', family: 'ipv4', protocol: 1, mode: 'raw', via: 'raw', receivePaused: false, closed: false, counters: {}, filter: null })),
    send: vi.fn(options.send ?? (async () => job())),
    sendResults: vi.fn(async () => options.results),
    openExport: vi.fn(async ({ ids }: { ids: number[] }) => ({ exportId: 'export-1', packets: ids.length })),
    readExport: vi.fn(async () => ({ data: btoa('pcapng'), done: true, count: 3 })),
    onEvents: () => () => undefined,
  };
  const store = createWorkbenchStore({ client: client as unknown as WorkbenchClient, storage: options.storage ?? null, saveFile, nextFrame: (callback) => callback() });
  store.getState().editor.loadTemplate('icmp-echo');
  store.getState().send.setForm({ target: '127.0.0.1', socketId: NEW_SOCKET });
  return { client, store, saveFile, send: () => store.getState().send };
}

describe('variable fields', () => {
  it('sends the rows as variations, starting with the echo sequence', async () => {
    const { client, send } = setup();
    send().setForm({ repeat: 'count', count: '50', interval: '0' });
    send().addVariation();
    const [row] = send().variations;
    expect(row).toMatchObject({ field: 'sequence', mode: 'increment' });
    send().updateVariation(row.id, { count: '50' });
    await send().start();
    expect(client.send).toHaveBeenCalledWith(
      expect.objectContaining({ packet: expect.anything(), count: 50, intervalMs: 0, variations: [{ layer: 1, field: 'sequence', mode: 'increment', count: 50 }] }),
    );
  });

  it('checks every row before sending and clears a row’s errors as it is edited', async () => {
    const { client, send } = setup();
    send().addVariation();
    send().addVariation();
    const [first, second] = send().variations;
    send().updateVariation(first.id, { step: 'x' });
    send().updateVariation(second.id, { mode: 'list', values: '' });
    expect(await send().start()).toBeNull();
    expect(client.send).not.toHaveBeenCalled();
    expect(send().error?.where).toBe('variations');
    expect(Object.keys(send().variationErrors)).toEqual([first.id, second.id]);
    send().updateVariation(first.id, { step: '2' });
    expect(Object.keys(send().variationErrors)).toEqual([second.id]);
    send().removeVariation(second.id);
    expect(send().variationErrors).toEqual({});
    expect(send().error).toBeNull();
  });

  it('sends identical echo requests when asked (variations: []), else leaves the default to the engine', async () => {
    const { client, send } = setup();
    send().setForm({ repeat: 'count', count: '5' });
    await send().start();
    expect(client.send.mock.calls[0][0]).not.toHaveProperty('variations');
    send().setForm({ identical: true });
    await send().start();
    expect(client.send.mock.calls[1][0]).toMatchObject({ variations: [] });
  });

  it('shows the engine’s error about a variation beside its row', async () => {
    const { send } = setup({
      send: async () => {
        throw new WorkbenchError('INVALID_ARGUMENT', 'ICMP has: type, code, identifier, sequence', 'variations.0.field');
      },
    });
    send().addVariation();
    await send().start();
    const [row] = send().variations;
    expect(send().variationErrors[row.id]).toEqual({ field: 'ICMP has: type, code, identifier, sequence' });
    expect(send().error?.where).toBe('variations');
  });
});

describe('streams', () => {
  it('adds packets with their count and variations, sends them as packets with order and bursts, and keeps them across a reload', async () => {
    const storage = memoryStorage();
    const { client, store, send } = setup({ storage });
    send().setForm({ repeat: 'count', count: '3' });
    expect(send().addToStream()).toBe(true);
    store.getState().editor.loadTemplate('udp');
    send().setForm({ repeat: 'once' });
    send().addVariation();
    const row = send().variations[0];
    send().updateVariation(row.id, { mode: 'random', count: '' });
    expect(send().addToStream()).toBe(true);
    const stream = send().stream;
    expect(stream.map((entry) => [entry.summary, entry.count, entry.variationWords])).toEqual([
      ['Echo request id=0x1234 seq=1', 3, ['Sequence number +1 per packet (the default for a repeated echo request)']],
      ['UDP 49152 → 33434 len=5', 1, ['UDP Source port random over its whole range']],
    ]);

    send().setForm({ order: 'interleaved' });
    const reloaded = setup({ storage });
    expect(reloaded.send().stream.map((entry) => entry.id)).toEqual(stream.map((entry) => entry.id));
    expect(reloaded.send().form.order).toBe('interleaved');
    reloaded.send().setForm({ pacing: 'burst', burstSize: '2', burstGap: '10' });
    await reloaded.send().start();
    const params = reloaded.client.send.mock.calls[0][0];
    expect(params).toMatchObject({ address: '127.0.0.1', order: 'interleaved', burst: { size: 2, gapMs: 10 } });
    expect(params).not.toHaveProperty('packet');
    expect(params).not.toHaveProperty('count');
    expect((params as { packets: unknown[] }).packets).toEqual([
      { packet: { layers: stream[0].layers }, count: 3 },
      { packet: { layers: stream[1].layers }, variations: [{ layer: 1, field: 'srcPort', mode: 'random' }], count: 1 },
    ]);
    expect(client.send).not.toHaveBeenCalled();

    reloaded.send().moveInStream(stream[1].id, -1);
    reloaded.send().removeFromStream(stream[0].id);
    expect(setup({ storage }).send().stream.map((entry) => entry.id)).toEqual([stream[1].id]);
  });

  it('puts the engine’s error about a stream packet beside that packet', async () => {
    const { send } = setup({
      send: async () => {
        throw new WorkbenchError('INVALID_ARGUMENT', 'values out of range', 'packets.1.variations.0.values');
      },
    });
    send().addToStream();
    send().addVariation();
    send().updateVariation(send().variations[0].id, { mode: 'list', values: '1, 2' });
    send().addToStream();
    await send().start();
    expect(send().error).toMatchObject({ where: 'stream', entryId: send().stream[1].id, message: expect.stringMatching(/from a list: 1, 2 .*: values out of range$/) });
  });
});

describe('send and match', () => {
  const results: SendResults = {
    jobId: 'job-1',
    final: true,
    answeredTotal: 1,
    unansweredTotal: 1,
    answered: [{ packetIndex: 0, requestId: 5, replyId: 7, rttMs: 0.05, summary: 'Echo request' }],
    unanswered: [{ packetIndex: 1, requestId: 6, summary: 'UDP' }],
  };

  it('asks for answers, reads the results once the job is final, and exports them', async () => {
    const { client, send, saveFile } = setup({ send: async () => job({ state: 'running', matching: true, total: 2, sent: 0 }), results });
    send().setForm({ matching: true, answerTimeout: '500' });
    await send().start();
    expect(client.send.mock.calls[0][0]).toMatchObject({ answers: { timeoutMs: 500 } });
    expect(send().results).toMatchObject({ jobId: 'job-1', page: null });
    send().applyJob(job({ state: 'waiting', matching: true, total: 2, sent: 2 }));
    expect(client.sendResults).not.toHaveBeenCalled();
    send().applyJob(job({ state: 'done', matching: true, total: 2, sent: 2 }));
    await vi.waitFor(() => expect(send().results?.page).toEqual(results));
    expect(client.sendResults).toHaveBeenCalledWith({ jobId: 'job-1', offset: 0, limit: 100 });

    await send().exportResults('csv');
    expect(saveFile).toHaveBeenLastCalledWith('job-1-results.csv', 'text/csv', expect.stringContaining('unanswered,2,6,,,UDP'));
    await send().exportResults('pcapng');
    expect(client.openExport).toHaveBeenCalledWith({ ids: [5, 6, 7] });
    expect(saveFile).toHaveBeenLastCalledWith('job-1-results.pcapng', 'application/x-pcapng', new TextEncoder().encode('pcapng'));
    expect(send().results?.message).toEqual({ kind: 'info', text: 'Exported 3 packets to pcapng' });
  });

  it('refuses an answer timeout out of range beside its control', async () => {
    const { client, send } = setup();
    send().setForm({ matching: true, answerTimeout: '70000' });
    await send().start();
    expect(send().error).toMatchObject({ where: 'answers' });
    expect(client.send).not.toHaveBeenCalled();
  });
});
