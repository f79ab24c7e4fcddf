// A small engine for transport tests: every contract method answers (createFakeEngine
// throws when the contract has a method the fake lacks), errors come back as the real
// engine's do (WorkbenchError naming the field, the engine's code: fake-engine.test.ts
// holds each refusal against a real Workbench), events are emitted by hand. It records
// the (validated) parameters each method received.
import type { CaptureInfo, EventBatch, ExperimentRun, HelperStatus, MethodName, SocketInfo, WorkbenchHandlers } from '../../../common/contract';
import { methodNames } from '../../../common/contract';
import { WorkbenchError } from '../../../common/validate';
import type { EngineLike } from '../../engine/dispatch';

export interface FakeEngine extends EngineLike {
  calls: { method: MethodName; params: unknown }[];
  emit(batch: EventBatch): void;
  readonly subscribers: number;
}

/** The engine's refusal of an id it does not hold (sockets.ts, jobs.ts, runs.ts, packet-log.ts). */
const notFound = (field: string, message: string) => new WorkbenchError('NOT_FOUND', message, field);

export function createFakeEngine(): FakeEngine {
  const listeners = new Set<(batch: EventBatch) => void>();
  const calls: { method: MethodName; params: unknown }[] = [];
  const sockets = new Map<string, SocketInfo>();
  const socketOf = (socketId: string): SocketInfo => {
    const socket = sockets.get(socketId);
    if (!socket) throw notFound('socketId', `No socket ${socketId}`);
    return socket;
  };
  const runs = new Map<string, ExperimentRun>();
  const startRun = async (kind: ExperimentRun['kind'], params: { target: string }): Promise<ExperimentRun> => {
    const run: ExperimentRun = {
      runId: `run-${runs.size + 1}`, kind, target: params.target, family: params.target.includes(':') ? 'ipv6' : 'ipv4',
      params: { ...params }, state: 'running', startedAt: Date.now(), mode: 'raw', via: 'direct',
    } as ExperimentRun;
    runs.set(run.runId, run);
    return { ...run };
  };
  const captures = new Map<string, CaptureInfo>();
  const captureOf = (captureId: string): CaptureInfo => {
    const capture = captures.get(captureId);
    if (!capture) throw notFound('captureId', `No capture ${captureId}`);
    return capture;
  };
  const helper: HelperStatus = {
    state: 'not-started', via: null, path: null, pid: null, capabilities: [], reason: null, command: null,
    launchers: { installed: false, pkexec: false, sudo: false },
  };
  const lessonNames = ['ping-rtt'];
  const lessonOf = (name: string) => {
    if (!lessonNames.includes(name)) throw notFound('name', `No lesson '${name}' (shipped: ${lessonNames.join(', ')})`);
    return { name, title: 'Round-trip times', topology: 'line' };
  };
  const handlers: WorkbenchHandlers = {
    capabilities: async () => ({
      platform: 'linux', uid: 0, raw: true, datagram: { ipv4: true, ipv6: true },
      pingGroupRange: [0, 0], modes: ['raw', 'datagram'], remedy: null,
    }),
    openSocket: async ({ family, protocol }) => {
      const socket: SocketInfo = {
        socketId: `s${sockets.size + 1}`, family, protocol, mode: 'raw', receivePaused: false, closed: false,
        counters: { sent: 0, received: 0, sendErrors: 0, bytesSent: 0, bytesReceived: 0 }, filter: null,
      };
      sockets.set(socket.socketId, socket);
      return socket;
    },
    closeSocket: async ({ socketId }) => ({ ...socketOf(socketId), closed: true }),
    resolveHost: async ({ name }) => ({ name, address: name === 'localhost' ? '127.0.0.1' : name, family: 'ipv4' }),
    listSockets: async () => [...sockets.values()],
    pauseReceive: async ({ socketId }) => socketOf(socketId),
    resumeReceive: async ({ socketId }) => socketOf(socketId),
    readSocketOptions: async ({ socketId }) => (socketOf(socketId), [{ name: 'IP_TTL', value: 64 }]),
    setSocketOption: async ({ socketId, name, value }) => (socketOf(socketId), { name, value }),
    setSocketFilter: async ({ socketId, filter }) => ({ ...socketOf(socketId), filter: filter || null }),
    send: async ({ socketId, address, packet, count }) => {
      socketOf(socketId);
      if ('hex' in packet && !/^([0-9a-f]{2}\s*)*$/i.test(packet.hex)) {
        throw new WorkbenchError('INVALID_ARGUMENT', 'packet.hex: not hex', 'packet.hex');
      }
      if ('hex' in packet && packet.hex.replace(/\s/g, '').length / 2 > 65535) {
        throw new WorkbenchError('INVALID_ARGUMENT', 'packet.hex: more than 65535 bytes', 'packet.hex');
      }
      return { jobId: 'j1', socketId, address, total: count, sent: 0, errors: 0, state: 'running', startedAt: Date.now() };
    },
    cancelSend: async ({ jobId }) => {
      throw notFound('jobId', `No send job ${jobId}`);
    },
    listSendJobs: async () => [],
    sendResults: async ({ jobId }) => {
      throw notFound('jobId', `No send job ${jobId}`);
    },
    queryLog: async () => ({ total: 0, rows: [], capacity: 100_000 }),
    filterLog: async ({ fromId }) => ({ ids: [], nextId: fromId }),
    logStatus: async () => ({ capacity: 100_000, kept: 0, logged: 0, overflowed: 0, kernelDrops: 0 }),
    decodeLogEntry: async ({ id }) => {
      throw notFound('id', `Log entry ${id} is not in the log`);
    },
    clearLog: async () => null,
    undoClearLog: async () => ({ restored: 0 }),
    configureLog: async ({ capacity }) => ({ capacity }),
    exportPcapng: async () => ({ pcapng: '', count: 0 }),
    importPcapng: async () => ({ imported: 0 }),
    openExport: async () => ({ exportId: 'export-1', packets: 0 }),
    readExport: async ({ exportId }) => {
      if (exportId !== 'export-1') throw notFound('exportId', `No open export ${exportId}`);
      return { data: '', done: true, count: 0 };
    },
    openImport: async () => ({ importId: 'import-1' }),
    saveWorkspace: async () => ({ exportId: 'export-1', packets: 0 }),
    loadWorkspace: async () => {
      throw new WorkbenchError('INVALID_ARGUMENT', 'Workspace refused, nothing changed: the fake engine loads no workspace', 'data');
    },
    writeImport: async ({ importId, end }) => {
      if (importId !== 'import-1') throw notFound('importId', `No open import ${importId}`);
      return { imported: 0, done: end };
    },
    closeTransfer: async ({ transferId }) => {
      if (transferId !== 'export-1' && transferId !== 'import-1') throw notFound('transferId', `No open export or import ${transferId}`);
      return null;
    },
    ping: (params) => startRun('ping', params),
    traceroute: (params) => startRun('traceroute', params),
    mtr: (params) => startRun('mtr', params),
    pmtu: (params) => startRun('pmtu', params),
    stopExperiment: async ({ runId }) => {
      const run = runs.get(runId);
      if (!run) throw notFound('runId', `No experiment ${runId}`);
      if (run.state === 'running') run.state = 'stopped';
      return { ...run };
    },
    listExperiments: async () => [...runs.values()].map((run) => ({ ...run })),
    helperStatus: async () => ({ ...helper }),
    startHelper: async () => ({ ...helper }),
    stopHelper: async () => ({ ...helper }),
    startCapture: async (params) => {
      const capture: CaptureInfo = {
        captureId: `capture-${captures.size + 1}`, interface: params.interface ?? null, protocol: params.protocol, filter: params.filter || null,
        state: 'running', counters: { received: 0, sent: 0, bytes: 0, kernelDrops: 0 }, startedAt: Date.now(),
      } as CaptureInfo;
      captures.set(capture.captureId, capture);
      return { ...capture };
    },
    stopCapture: async ({ captureId }) => ({ ...captureOf(captureId), state: 'stopped' }),
    listCaptures: async () => [...captures.values()],
    labTopologies: async () => [{ name: 'line', description: 'client — r1 — r2 — target', hosts: ['client', 'r1', 'r2', 'target'] }],
    startLab: async ({ topology }) => {
      if (topology !== 'line') throw notFound('topology', `${topology}: no shipped topology of that name (shipped: line)`);
      return { state: 'up', topology, startedAt: Date.now() };
    },
    stopLab: async () => ({ state: 'down' }),
    labStatus: async () => ({ state: 'down' }),
    lessons: async () => lessonNames.map((name) => ({ ...lessonOf(name), summary: '', steps: 0, checks: 0 })),
    lesson: async ({ name }) => ({ ...lessonOf(name), steps: [] }),
    checkLesson: async ({ name }) => (lessonOf(name), { lesson: name, steps: [] }),
    packetOnWire: async ({ id }) => {
      throw notFound('id', `Log entry ${id} is not in the log`);
    },
  };
  const missing = methodNames.filter((name) => typeof handlers[name] !== 'function');
  if (missing.length > 0) throw new Error(`The fake engine has no handler for ${missing.join(', ')}: add one in fake-engine.ts`);
  const engine = {
    calls,
    emit(batch: EventBatch) {
      for (const listener of listeners) listener(batch);
    },
    get subscribers() {
      return listeners.size;
    },
    subscribe(listener: (batch: EventBatch) => void) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  } as FakeEngine;
  for (const name of methodNames) {
    const handler = handlers[name] as (params: unknown) => Promise<unknown>;
    (engine as unknown as Record<string, unknown>)[name] = (params: unknown) => {
      calls.push({ method: name, params });
      return handler(params);
    };
  }
  return engine;
}
