// Forms report every wrong field at once, forget each one as it is fixed, and take host names.
import { describe, expect, it, vi } from 'vitest';
import type { WorkbenchClient } from '../api/client';
import { createWorkbenchStore } from './index';

function storeWith(client: Partial<WorkbenchClient>) {
  const full = { onEvents: () => () => {}, ...client } as unknown as WorkbenchClient;
  return createWorkbenchStore({ client: full, storage: null, saveFile: () => {}, nextFrame: (callback) => callback() });
}

const run = (target: string) => ({ runId: 'run-1', kind: 'ping', target, family: 'ipv4', params: {}, state: 'running', startedAt: 0, mode: 'raw', via: 'raw' });

describe('experiment forms', () => {
  it('reports every wrong field in one try and clears each as it is fixed', async () => {
    const ping = vi.fn();
    const store = storeWith({ ping });
    const { experiments } = store.getState();
    experiments.setPingForm({ target: '', count: 'x', ttl: '300' });
    await store.getState().experiments.startPing();
    const error = store.getState().experiments.pingError!;
    expect(Object.keys(error.fields!)).toEqual(['target', 'count', 'ttl']);
    expect(error.message).toBe('3 fields need fixing');
    expect(ping).not.toHaveBeenCalled();

    store.getState().experiments.setPingForm({ count: '3' });
    expect(Object.keys(store.getState().experiments.pingError!.fields!)).toEqual(['target', 'ttl']);
    // Typing in a field that was never flagged does not flag it mid-edit.
    store.getState().experiments.setPingForm({ size: '' });
    expect(Object.keys(store.getState().experiments.pingError!.fields!)).toEqual(['target', 'ttl']);
    store.getState().experiments.setPingForm({ target: '127.0.0.1', ttl: '64', size: '56' });
    expect(store.getState().experiments.pingError).toBeNull();
  });

  it('resolves a host name through the engine and starts the run on its address', async () => {
    const ping = vi.fn(async (params: { target: string }) => run(params.target));
    const resolveHost = vi.fn(async ({ name }: { name: string }) => ({ name, address: '127.0.0.1', family: 'ipv4' as const }));
    const store = storeWith({ ping: ping as never, resolveHost: resolveHost as never });
    store.getState().experiments.setPingForm({ target: 'localhost' });
    await store.getState().experiments.startPing();
    expect(resolveHost).toHaveBeenCalledWith({ name: 'localhost' });
    expect(ping.mock.calls[0][0].target).toBe('127.0.0.1');
    expect(store.getState().experiments.pingResolved).toBe('localhost is 127.0.0.1');
    // A literal is not sent to the resolver.
    store.getState().experiments.setPingForm({ target: '::1' });
    await store.getState().experiments.startPing();
    expect(resolveHost).toHaveBeenCalledTimes(1);
    expect(store.getState().experiments.pingResolved).toBeNull();
  });

  it('a name the resolver refuses is shown on the target field', async () => {
    const traceroute = vi.fn();
    const resolveHost = vi.fn(async () => {
      throw Object.assign(new Error("Cannot resolve 'nohost': no such host"), { code: 'RESOLVE_FAILED', field: 'name' });
    });
    const store = storeWith({ traceroute, resolveHost: resolveHost as never });
    store.getState().experiments.setTraceForm({ target: 'nohost', maxHops: '0', probesPerHop: '11' });
    await store.getState().experiments.startTraceroute();
    expect(Object.keys(store.getState().experiments.traceError!.fields!)).toEqual(['maxHops', 'probesPerHop']);
    store.getState().experiments.setTraceForm({ maxHops: '3', probesPerHop: '1' });
    await store.getState().experiments.startTraceroute();
    expect(store.getState().experiments.traceError).toMatchObject({ field: 'target', code: 'RESOLVE_FAILED' });
    expect(traceroute).not.toHaveBeenCalled();
  });
});

describe('send error', () => {
  it('"the packet is not valid" clears once the packet is fixed', async () => {
    const store = storeWith({});
    const ttl = () => store.getState().editor.layers[0];
    store.getState().editor.setField(ttl().id, 'ttl', '256');
    await store.getState().send.start();
    expect(store.getState().send.error).toMatchObject({ where: 'packet' });
    store.getState().editor.setField(ttl().id, 'ttl', '64');
    expect(store.getState().send.error).toBeNull();
  });
});
