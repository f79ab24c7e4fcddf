import { describe, expect, it, vi } from 'vitest';
import type { ExperimentRun, LabInfo } from '../../../common/contract';
import type { WorkbenchClient } from '../api/client';
import { parseMtrForm, parsePmtuForm } from './experiments';
import { createWorkbenchStore } from './index';

describe('mtr and path MTU forms', () => {
  it('turn the fields into the contract parameters (ms stay ms)', () => {
    expect(parseMtrForm({ target: ' 198.18.4.2 ', probe: 'udp', cycles: '5', interval: '200', maxHops: '10', timeout: '800' })).toEqual({
      params: { target: '198.18.4.2', probe: 'udp', cycles: 5, intervalMs: 200, maxHops: 10, timeoutMs: 800 },
    });
    expect(parsePmtuForm({ target: 'fd42:0:0:3::2', maxHops: '8', timeout: '1000' })).toEqual({ params: { target: 'fd42:0:0:3::2', maxHops: 8, timeoutMs: 1000 } });
  });

  it('name every wrong field at once, with the bounds of the contract', () => {
    expect(parseMtrForm({ target: '', probe: 'icmp', cycles: '0', interval: '50', maxHops: '65', timeout: 'x' })).toEqual({
      errors: {
        target: 'mtr target is required: an address or a host name such as localhost',
        cycles: 'Cycles must be from 1 to 1000, not 0',
        interval: 'Interval must be from 100 to 10000, not 50',
        maxHops: 'Max hops must be from 1 to 64, not 65',
        timeout: 'Timeout must be a whole number from 10 to 30000',
      },
    });
    expect(parsePmtuForm({ target: 'a b', maxHops: '0', timeout: '10' })).toEqual({
      errors: { target: "Path MTU target 'a b' has a space: type one address or host name", maxHops: 'Max hops must be from 1 to 64, not 0' },
    });
  });
});

describe('starting mtr and path MTU discovery', () => {
  const lab: LabInfo = { state: 'up', topology: 'line', map: { name: 'line', hosts: [{ name: 'client', role: 'host', addresses: ['198.18.1.1/24'] }], links: [] } };
  const run = (kind: 'mtr' | 'pmtu', runId: string): ExperimentRun => ({ runId, kind, target: '198.18.4.2', family: 'ipv4', params: {}, state: 'running', startedAt: 1, mode: 'raw', via: 'raw', host: 'client' });

  it('act from the lab host chosen in the Lab panel, and Show brings each kind back to its tab', async () => {
    const mtr = vi.fn().mockResolvedValue(run('mtr', 'run-1'));
    const pmtu = vi.fn().mockResolvedValue(run('pmtu', 'run-2'));
    const client = { onEvents: () => () => undefined, labStatus: vi.fn().mockResolvedValue(lab), labTopologies: vi.fn().mockResolvedValue([]), mtr, pmtu } as unknown as WorkbenchClient;
    const store = createWorkbenchStore({ client, storage: { getItem: () => null, setItem: () => undefined }, saveFile: vi.fn(), nextFrame: (callback) => callback() });
    await store.getState().lab.load();
    store.getState().lab.setHost('client');
    const experiments = () => store.getState().experiments;
    experiments().setMtrForm({ target: '198.18.4.2', cycles: '5' });
    await experiments().startMtr();
    expect(mtr).toHaveBeenCalledWith({ target: '198.18.4.2', probe: 'icmp', cycles: 5, intervalMs: 1000, maxHops: 30, timeoutMs: 1000, host: 'client' });
    experiments().setPmtuForm({ target: '198.18.4.2' });
    await experiments().startPmtu();
    expect(pmtu).toHaveBeenCalledWith({ target: '198.18.4.2', maxHops: 30, timeoutMs: 1000, host: 'client' });
    expect(experiments()).toMatchObject({ mtrRunId: 'run-1', pmtuRunId: 'run-2', mtrError: null, pmtuError: null });
    experiments().show('run-1');
    expect(experiments().routeView).toBe('mtr');
    experiments().show('run-2');
    expect(experiments().routeView).toBe('pmtu');
  });

  it('an older mtr snapshot never replaces a newer one while the run goes on', () => {
    const client = { onEvents: () => () => undefined } as unknown as WorkbenchClient;
    const store = createWorkbenchStore({ client, storage: { getItem: () => null, setItem: () => undefined }, saveFile: vi.fn(), nextFrame: (callback) => callback() });
    const experiments = () => store.getState().experiments;
    const hop = { ttl: 1, address: '127.0.0.1', addresses: ['127.0.0.1'], sent: 3, received: 3, lossPercent: 0 };
    experiments().applyRun({ ...run('mtr', 'run-1'), mtr: { cycles: 3, hops: [hop], reached: true } });
    experiments().applyRun({ ...run('mtr', 'run-1'), mtr: { cycles: 2, hops: [{ ...hop, sent: 2, received: 2 }], reached: true } });
    expect(experiments().runs[0].mtr!.cycles).toBe(3);
    experiments().applyRun({ ...run('mtr', 'run-1'), state: 'stopped', mtr: { cycles: 3, hops: [{ ...hop, sent: 3 }], reached: true } });
    expect(experiments().runs[0].state).toBe('stopped');
  });
});
