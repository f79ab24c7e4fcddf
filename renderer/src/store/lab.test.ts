// The lab slice: topologies and state read at connect, start and stop with the engine's
// answers and 'lab' events, the host to act from (kept across reloads, dropped with its
// lab), refusals in the engine's words.
import { describe, expect, it, vi } from 'vitest';
import type { EventBatch, LabInfo, LabMap } from '../../../common/contract';
import { WorkbenchError } from '../../../common/validate';
import type { WorkbenchClient } from '../api/client';
import { pumpEvents } from '../api/events';
import { createWorkbenchStore } from './index';
import { labStateWords } from '../panels/LabPanel';
import { actingHost, labHosts } from './lab';

const topologies = [
  { name: 'line', description: 'client, three routers, target', hosts: ['client', 'r1', 'r2', 'r3', 'target'] },
  { name: 'lossy', description: 'a lossy link', hosts: ['client', 'r1', 'r2', 'target'] },
];
const map: LabMap = {
  name: 'line',
  hosts: [
    { name: 'r1', role: 'router', addresses: ['198.18.1.2/24'] },
    { name: 'client', role: 'host', addresses: ['198.18.1.1/24'] },
    { name: 'target', role: 'host', addresses: ['198.18.2.2/24'] },
  ],
  links: [],
};
const up: LabInfo = { state: 'up', topology: 'line', map, startedAt: 1 };

function memoryStorage() {
  const items = new Map<string, string>();
  return { getItem: (key: string) => items.get(key) ?? null, setItem: (key: string, value: string) => void items.set(key, value) };
}

function makeStore(overrides: Partial<WorkbenchClient>, storage = memoryStorage()) {
  const client = { onEvents: () => () => undefined, labTopologies: vi.fn().mockResolvedValue(topologies), labStatus: vi.fn().mockResolvedValue({ state: 'down' }), ...overrides } as unknown as WorkbenchClient;
  return createWorkbenchStore({ client, storage, saveFile: vi.fn(), nextFrame: (callback) => callback() });
}

describe('lab slice', () => {
  it('reads the topologies and picks the first when none was chosen; starts it and takes the engine’s answer', async () => {
    let answer: (info: LabInfo) => void = () => undefined;
    const startLab = vi.fn(() => new Promise<LabInfo>((resolve) => (answer = resolve)));
    const store = makeStore({ startLab });
    const lab = () => store.getState().lab;
    await lab().load();
    expect(lab().topologies).toEqual(topologies);
    expect(lab().topology).toBe('line');
    lab().setTopology('lossy');
    const starting = lab().start();
    expect(startLab).toHaveBeenCalledWith({ topology: 'lossy' });
    expect(lab().info.state).toBe('starting');
    expect(lab().busy).toBe(true);
    answer({ ...up, topology: 'lossy', map: { ...map, name: 'lossy' } });
    await starting;
    expect(lab().info.state).toBe('up');
    expect(lab().busy).toBe(false);
  });

  it('shows a refused start in the engine’s words and the state the engine reports after it', async () => {
    const startLab = vi.fn().mockRejectedValue(new WorkbenchError('LAB_RUNNING', 'A lab is running already (diamond): stop it first'));
    const labStatus = vi.fn().mockResolvedValueOnce({ state: 'down' }).mockResolvedValueOnce({ ...up, topology: 'diamond' });
    const store = makeStore({ startLab, labStatus });
    const lab = () => store.getState().lab;
    await lab().load();
    await lab().start();
    expect(lab().error).toEqual({ code: 'LAB_RUNNING', message: 'A lab is running already (diamond): stop it first' });
    expect(lab().info.state).toBe('up');
    // The running lab's topology is the one shown.
    expect(lab().topology).toBe('diamond');
  });

  it('acts from a host of the running lab only; the host is dropped when the lab goes down or fails', async () => {
    const store = makeStore({ labStatus: vi.fn().mockResolvedValue(up), stopLab: vi.fn().mockResolvedValue({ state: 'down' }) });
    const lab = () => store.getState().lab;
    lab().setHost('client');
    expect(lab().host).toBe('');
    await lab().load();
    lab().setHost('nowhere');
    expect(lab().host).toBe('');
    lab().setHost('client');
    expect(actingHost(store.getState())).toEqual({ host: 'client' });
    await lab().stop();
    expect(lab().info.state).toBe('down');
    expect(actingHost(store.getState())).toEqual({});
    lab().applyLab(up);
    lab().setHost('target');
    lab().applyLab({ state: 'failed', topology: 'line', error: { code: 'LAB_FAILED', message: 'r2 did not come up' } });
    expect(lab().host).toBe('');
    expect(lab().info.error?.message).toBe('r2 did not come up');
  });

  it('keeps the topology and the host across a reload while the lab is up', async () => {
    const storage = memoryStorage();
    const first = makeStore({ labStatus: vi.fn().mockResolvedValue(up) }, storage);
    await first.getState().lab.load();
    first.getState().lab.setTopology('line');
    first.getState().lab.setHost('client');
    const second = makeStore({ labStatus: vi.fn().mockResolvedValue(up) }, storage);
    expect(second.getState().lab.topology).toBe('line');
    expect(second.getState().lab.host).toBe('client');
    await second.getState().lab.load();
    expect(second.getState().lab.host).toBe('client');
    // After a reload onto an engine whose lab is gone, nothing acts from a host that is not there.
    const third = makeStore({}, storage);
    await third.getState().lab.load();
    expect(third.getState().lab.host).toBe('');
  });

  it("takes 'lab' events from the pump", () => {
    const store = makeStore({});
    let listener: (batch: EventBatch) => void = () => undefined;
    const pump = pumpEvents(
      (l) => {
        listener = l;
        return () => undefined;
      },
      store,
      (callback) => callback(),
    );
    listener([{ type: 'lab', lab: { state: 'starting', topology: 'line' } }]);
    expect(store.getState().lab.info.state).toBe('starting');
    listener([{ type: 'lab', lab: up }]);
    expect(store.getState().lab.info.map?.hosts).toHaveLength(3);
    pump.stop();
  });

  it('says the state in words: starting…, up since the local time, failed, down', () => {
    const at = new Date(2026, 11, 3, 18, 40, 2, 500).getTime();
    expect(labStateWords({ state: 'starting', topology: 'line' })).toBe('starting…');
    expect(labStateWords({ ...up, startedAt: at })).toBe('up since 18:40:02');
    expect(labStateWords({ state: 'failed', error: { code: 'PERMISSION', message: 'needs root' } })).toBe('failed');
    expect(labStateWords({ state: 'stopping' })).toBe('stopping…');
    expect(labStateWords({ state: 'down' })).toBe('down');
  });

  it('lists hosts before routers', () => {
    expect(labHosts(map).map((h) => h.name)).toEqual(['client', 'target', 'r1']);
    expect(labHosts(undefined)).toEqual([]);
  });
});

describe('acting from a lab host', () => {
  const counters = { sent: 0, received: 0, sendErrors: 0, bytesSent: 0, bytesReceived: 0 };
  function engine() {
    let sockets = 0;
    const client = {
      labStatus: vi.fn().mockResolvedValue(up),
      openSocket: vi.fn(async (params: { family: 'ipv4' | 'ipv6'; protocol: number; host?: string }) => ({
        socketId: `socket-${++sockets}`,
        family: params.family,
        protocol: params.protocol,
        mode: 'raw',
        via: 'raw',
        receivePaused: false,
        closed: false,
        counters,
        filter: null,
        ...(params.host ? { host: params.host } : {}),
      })),
      send: vi.fn(async ({ socketId, address }: { socketId: string; address: string }) => ({ jobId: 'job-1', socketId, address, total: 1, sent: 1, errors: 0, state: 'done', startedAt: 1 })),
      readSocketOptions: vi.fn(async () => []),
      startCapture: vi.fn(async () => ({ captureId: 'capture-1', protocol: 'ip', state: 'running', counters: { received: 0, sent: 0, bytes: 0, kernelDrops: 0 }, startedAt: 1 })),
    };
    const store = makeStore(client as unknown as Partial<WorkbenchClient>);
    return { client, store };
  }

  it('Send opens its socket inside the chosen host and reuses a socket only from the same host', async () => {
    const { client, store } = engine();
    await store.getState().lab.load();
    store.getState().send.setForm({ target: '198.18.4.2' });
    await store.getState().send.start();
    expect(client.openSocket).toHaveBeenLastCalledWith({ family: 'ipv4', protocol: 1, mode: 'auto' });
    store.getState().lab.setHost('client');
    await store.getState().send.start();
    expect(client.openSocket).toHaveBeenLastCalledWith({ family: 'ipv4', protocol: 1, mode: 'auto', host: 'client' });
    await store.getState().send.start();
    expect(client.openSocket).toHaveBeenCalledTimes(2);
    expect(client.send.mock.calls.map(([params]) => params.socketId)).toEqual(['socket-1', 'socket-2', 'socket-2']);
  });

  it('a capture and a socket opened in the Sockets panel start inside the chosen host', async () => {
    const { client, store } = engine();
    await store.getState().lab.load();
    store.getState().lab.setHost('target');
    await store.getState().capture.start();
    expect(client.startCapture).toHaveBeenLastCalledWith({ host: 'target' });
    await store.getState().sockets.open();
    expect(client.openSocket).toHaveBeenLastCalledWith(expect.objectContaining({ host: 'target' }));
  });
});
