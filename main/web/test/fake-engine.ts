// A small engine for transport tests: every contract method answers, errors come
// back as the real engine's do (WorkbenchError naming the field, the engine's code:
// fake-engine.test.ts holds each refusal against a real Workbench), events are
// emitted by hand. It records the (validated) parameters each method received.
import type { EventBatch, MethodName, SocketInfo, WorkbenchHandlers } from '../../../common/contract';
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
    queryLog: async () => ({ total: 0, rows: [], capacity: 100_000 }),
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
    loadWorkspace: async () => { throw notFound('data', 'The fake engine loads no workspace'); },
    writeImport: async ({ importId, end }) => {
      if (importId !== 'import-1') throw notFound('importId', `No open import ${importId}`);
      return { imported: 0, done: end };
    },
    closeTransfer: async ({ transferId }) => {
      if (transferId !== 'export-1' && transferId !== 'import-1') throw notFound('transferId', `No open export or import ${transferId}`);
      return null;
    },
    ping: async () => {
      throw new WorkbenchError('NOT_SUPPORTED', 'not in the fake');
    },
    traceroute: async () => {
      throw new WorkbenchError('NOT_SUPPORTED', 'not in the fake');
    },
    stopExperiment: async ({ runId }) => {
      throw notFound('runId', `No experiment ${runId}`);
    },
    listExperiments: async () => [],
  };
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
