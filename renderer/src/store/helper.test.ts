import { describe, expect, it, vi } from 'vitest';
import type { Capabilities, EventBatch, ExperimentCapability, HelperStatus, SendJobInfo, SocketInfo } from '../../../common/contract';
import type { WorkbenchClient } from '../api/client';
import { pumpEvents } from '../api/events';
import { createWorkbenchStore } from './index';

const status = (part: Partial<HelperStatus> = {}): HelperStatus => ({
  state: 'not-started',
  via: null,
  path: '/opt/helper',
  pid: null,
  capabilities: [],
  reason: null,
  command: null,
  launchers: { installed: false, pkexec: false, sudo: true },
  ...part,
});
const running = status({ state: 'running', via: 'sudo', pid: 4242, capabilities: ['net_raw'], command: ['/usr/bin/sudo', '-n', '--', '/opt/helper', '--elevated'] });

const row = (experiment: ExperimentCapability['experiment'], via: ExperimentCapability['via']): ExperimentCapability => ({
  experiment,
  label: experiment,
  works: via !== null,
  via,
  remedy: via === null || via === 'error-queue' ? 'Start the socket helper' : null,
});

function capabilities(helper: HelperStatus): Capabilities {
  const up = helper.state === 'running';
  return {
    platform: 'linux',
    uid: 65534,
    raw: false,
    datagram: { ipv4: false, ipv6: false },
    pingGroupRange: [1, 0],
    modes: up ? ['raw'] : [],
    remedy: up ? null : 'Start the socket helper',
    helper,
    experiments: [
      row('ping', up ? 'helper' : null),
      row('traceroute-udp', up ? 'helper' : 'error-queue'),
      row('send-raw', up ? 'helper' : null),
    ],
  };
}

/** A client whose engine holds one helper state; start/stop answer after the test lets them. */
function fakeEngine() {
  let listener: ((batch: EventBatch) => void) | null = null;
  let helper = status();
  const client = {
    capabilities: vi.fn(async () => capabilities(helper)),
    startHelper: vi.fn(async () => helper),
    stopHelper: vi.fn(async () => helper),
    onEvents: (l: (batch: EventBatch) => void) => {
      listener = l;
      return () => (listener = null);
    },
  } as unknown as WorkbenchClient & Record<'capabilities' | 'startHelper' | 'stopHelper', ReturnType<typeof vi.fn>>;
  return {
    client,
    set(next: HelperStatus) {
      helper = next;
    },
    /** A batch as it comes, the helper's state untouched. */
    emitRaw(batch: EventBatch) {
      listener?.(batch);
    },
    /** The engine changes the helper's state and tells its clients. */
    emit(next: HelperStatus, extra: EventBatch = []) {
      helper = next;
      listener?.([{ type: 'helper', helper: next }, ...extra]);
    },
  };
}

function makeStore(client: WorkbenchClient) {
  const store = createWorkbenchStore({ client, storage: null, saveFile: vi.fn(), nextFrame: (callback) => callback() });
  pumpEvents((l) => client.onEvents(l), store, (callback) => callback());
  return store;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('helper slice', () => {
  it('takes its first state from the capabilities', async () => {
    const engine = fakeEngine();
    const store = makeStore(engine.client);
    expect(store.getState().helper.status).toBeNull();
    await store.getState().settings.loadCapabilities();
    expect(store.getState().helper.status).toMatchObject({ state: 'not-started', launchers: { sudo: true } });
    // Reading capabilities does not read them again.
    expect(engine.client.capabilities).toHaveBeenCalledTimes(1);
  });

  it('follows helper events through every state and re-reads the capabilities at each', async () => {
    const engine = fakeEngine();
    const store = makeStore(engine.client);
    await store.getState().settings.loadCapabilities();
    const states: string[] = [];
    store.subscribe((state) => {
      const now = state.helper.status?.state;
      if (now && states[states.length - 1] !== now) states.push(now);
    });
    const asking = status({ state: 'asking', via: 'sudo', reason: 'Waiting for sudo to authorise the helper', command: running.command });
    engine.emit(asking);
    await settle();
    expect(store.getState().helper.status).toEqual(asking);
    engine.emit(running);
    await settle();
    expect(store.getState().helper.status).toEqual(running);
    expect(store.getState().settings.capabilities?.modes).toEqual(['raw']);
    engine.emit(status({ state: 'stopped', via: 'sudo', reason: 'Stopped', command: running.command }));
    await settle();
    engine.emit(status({ state: 'failed', reason: 'The socket helper exited: killed by SIGKILL' }));
    await settle();
    expect(states).toEqual(['asking', 'running', 'stopped', 'failed']);
    expect(store.getState().helper.status?.reason).toBe('The socket helper exited: killed by SIGKILL');
    expect(store.getState().settings.capabilities?.modes).toEqual([]);
    expect(engine.client.capabilities.mock.calls.length).toBeGreaterThanOrEqual(5);
  });

  it('folds events that arrive while capabilities are being read into one more read', async () => {
    const engine = fakeEngine();
    let release: () => void = () => undefined;
    engine.client.capabilities.mockImplementationOnce(
      () => new Promise<Capabilities>((resolve) => (release = () => resolve(capabilities(status({ state: 'asking' }))))),
    );
    const store = makeStore(engine.client);
    engine.emit(status({ state: 'asking' }));
    engine.emit(running);
    engine.emit(running);
    expect(engine.client.capabilities).toHaveBeenCalledTimes(1);
    release();
    await settle();
    await settle();
    // One more read after the stale answer, and it wins: the helper runs.
    expect(engine.client.capabilities).toHaveBeenCalledTimes(2);
    expect(store.getState().helper.status?.state).toBe('running');
    expect(store.getState().settings.capabilities?.helper.state).toBe('running');
  });

  it('start() asks for the auto launch, is pending until the answer, and keeps the answer', async () => {
    const engine = fakeEngine();
    let answer: (value: HelperStatus) => void = () => undefined;
    engine.client.startHelper.mockImplementationOnce(() => new Promise<HelperStatus>((resolve) => (answer = resolve)));
    const store = makeStore(engine.client);
    const started = store.getState().helper.start();
    expect(engine.client.startHelper).toHaveBeenCalledWith({ how: 'auto' });
    expect(store.getState().helper.pending).toBe('start');
    // A second click while it asks does nothing.
    expect(await store.getState().helper.start()).toBeNull();
    expect(engine.client.startHelper).toHaveBeenCalledTimes(1);
    engine.set(running);
    answer(running);
    expect(await started).toEqual(running);
    expect(store.getState().helper).toMatchObject({ pending: null, error: null, status: running });
    await settle();
    expect(store.getState().settings.capabilities?.helper).toEqual(running);
  });

  it('a refusal or failure is a state with its reason, not an error of the request', async () => {
    const engine = fakeEngine();
    const refused = status({ state: 'refused', via: 'pkexec', reason: 'pkexec did not authorise the helper: dismissed', command: ['/usr/bin/pkexec', '/opt/helper', '--elevated'] });
    engine.set(refused);
    const store = makeStore(engine.client);
    await store.getState().helper.start('elevated');
    expect(engine.client.startHelper).toHaveBeenCalledWith({ how: 'elevated' });
    expect(store.getState().helper).toMatchObject({ pending: null, error: null, status: refused });
  });

  it('a rejected request is shown as the slice error and clears pending', async () => {
    const engine = fakeEngine();
    engine.client.startHelper.mockRejectedValueOnce(new Error('Disconnected from the workbench: reconnect first'));
    engine.client.stopHelper.mockRejectedValueOnce(Object.assign(new Error('Unknown method stopHelper'), { code: 'INVALID_ARGUMENT' }));
    const store = makeStore(engine.client);
    expect(await store.getState().helper.start()).toBeNull();
    expect(store.getState().helper).toMatchObject({ pending: null, error: 'Cannot start the socket helper: Disconnected from the workbench: reconnect first' });
    expect(await store.getState().helper.stop()).toBeNull();
    expect(store.getState().helper.error).toBe('Cannot stop the socket helper: Unknown method stopHelper');
    // The next attempt clears the old error.
    engine.set(running);
    await store.getState().helper.start();
    expect(store.getState().helper.error).toBeNull();
  });

  it('stop() keeps the stopped state; the helper sockets, jobs and runs end through their own events', async () => {
    const engine = fakeEngine();
    const store = makeStore(engine.client);
    engine.set(running);
    await store.getState().helper.start();
    const socket: SocketInfo = {
      socketId: 'socket-3',
      family: 'ipv4',
      protocol: 6,
      mode: 'raw',
      via: 'helper',
      receivePaused: false,
      closed: false,
      counters: { sent: 1, received: 1, sendErrors: 0, bytesSent: 44, bytesReceived: 40 }, filter: null,
    };
    const job: SendJobInfo = { jobId: 'job-2', socketId: 'socket-3', address: '10.0.3.2', total: 100, sent: 3, errors: 0, state: 'running', startedAt: 1 };
    store.getState().sockets.applySocket(socket);
    store.getState().send.applyJob(job);
    const stopped = status({ state: 'stopped', via: 'sudo', reason: 'Stopped' });
    engine.client.stopHelper.mockImplementationOnce(async () => {
      const failure = { code: 'EHELPER', message: 'The socket helper stopped (Stopped); sockets it opened were closed' };
      engine.emit(stopped, [
        { type: 'socket', socket: { ...socket, closed: true } },
        { type: 'sendJob', job: { ...job, state: 'failed', error: failure, finishedAt: 2 } },
      ]);
      return stopped;
    });
    expect(await store.getState().helper.stop()).toEqual(stopped);
    expect(store.getState().helper.status?.state).toBe('stopped');
    expect(store.getState().sockets.list[0]).toMatchObject({ via: 'helper', closed: true });
    expect(store.getState().send.jobs[0]).toMatchObject({ state: 'failed', error: { code: 'EHELPER' } });
  });

  it('a helper socket closing or an EHELPER failure re-reads the capabilities even without a helper event', async () => {
    const engine = fakeEngine();
    const store = makeStore(engine.client);
    engine.set(running);
    await store.getState().helper.start();
    await settle();
    const socket: SocketInfo = {
      socketId: 'socket-9',
      family: 'ipv4',
      protocol: 1,
      mode: 'raw',
      via: 'helper',
      receivePaused: false,
      closed: false,
      counters: { sent: 0, received: 0, sendErrors: 0, bytesSent: 0, bytesReceived: 0 }, filter: null,
    };
    store.getState().sockets.applySocket(socket);
    // An open socket or a user's own close says nothing about the helper… (the helper still runs)
    const reads = engine.client.capabilities.mock.calls.length;
    engine.emitRaw([{ type: 'socket', socket }]);
    await settle();
    expect(engine.client.capabilities.mock.calls.length).toBe(reads);
    // …but when the helper died and only its consequences reach this client, they are enough.
    engine.set(status({ state: 'failed', via: 'sudo', reason: 'The socket helper exited: killed by SIGKILL' }));
    engine.emitRaw([{ type: 'socket', socket: { ...socket, closed: true } }]);
    await settle();
    expect(engine.client.capabilities.mock.calls.length).toBe(reads + 1);
    expect(store.getState().helper.status).toMatchObject({ state: 'failed', reason: 'The socket helper exited: killed by SIGKILL' });
    // Once it is known to be down, further EHELPER failures read nothing more.
    const failure = { code: 'EHELPER', message: 'The socket helper stopped' };
    engine.emitRaw([{ type: 'sendJob', job: { jobId: 'job-9', socketId: 'socket-9', address: '127.0.0.1', total: 9, sent: 1, errors: 0, state: 'failed', error: failure, startedAt: 1 } }]);
    await settle();
    expect(engine.client.capabilities.mock.calls.length).toBe(reads + 1);
  });

  it('an EHELPER run failure alone is enough too', async () => {
    const engine = fakeEngine();
    const store = makeStore(engine.client);
    engine.set(running);
    await store.getState().helper.start();
    await settle();
    engine.set(status({ state: 'failed', reason: 'The socket helper exited: killed by SIGKILL' }));
    engine.emitRaw([
      {
        type: 'experiment',
        run: { runId: 'run-1', kind: 'ping', target: '10.0.0.1', family: 'ipv4', params: {}, state: 'failed', error: { code: 'EHELPER', message: 'The socket helper stopped' }, startedAt: 1, mode: 'raw', via: 'helper' },
      },
    ]);
    await settle();
    expect(store.getState().helper.status?.state).toBe('failed');
    expect(store.getState().experiments.runs[0]).toMatchObject({ state: 'failed', error: { code: 'EHELPER' } });
  });
});
