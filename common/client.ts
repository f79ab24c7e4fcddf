// A WorkbenchApi over any transport that can invoke a method and deliver event
// batches: Electron's preload bridge, the browser host's WebSocket, a test fake.
import { methodNames, type EventBatch, type MethodName, type WorkbenchApi } from './contract';
import { deserializeError, type SerializedError } from './validate';

export type EventListener = (batch: EventBatch) => void;

/** What a client needs from a transport. */
export interface Transport {
  invoke(method: string, params: unknown): Promise<unknown>;
  /** Subscribes to event batches; returns the unsubscribe function. */
  onEvents(listener: EventListener): () => void;
}

/** The API the renderer (and any other client) programs against. */
export type WorkbenchClient = WorkbenchApi & { onEvents(listener: EventListener): () => void };

/**
 * Calls that only read, asked again when the engine answers BUSY (one client's calls in flight
 * or heavy calls over its limit, main/engine/call-gate.ts): a BUSY call was not performed, and
 * a read asked twice does no harm. Sends, opens, writes and starts are never repeated: the
 * user decides whether to try again.
 */
export const RETRIED_ON_BUSY: ReadonlySet<MethodName> = new Set<MethodName>([
  'capabilities', 'listSockets', 'readSocketOptions', 'listSendJobs', 'sendResults', 'queryLog', 'filterLog',
  'decodeLogEntry', 'exportPcapng', 'readExport', 'resolveHost', 'helperStatus', 'listExperiments', 'listCaptures',
  'logStatus', 'labTopologies', 'labStatus', 'lessons', 'lesson', 'checkLesson', 'packetOnWire',
]);

/** Waits before each retry of a BUSY read: three more tries within about 1.3 s, then the engine's BUSY stands. */
export const BUSY_RETRY_DELAYS_MS: readonly number[] = [100, 300, 900];

export interface ClientOptions {
  /** Waits before the retries of a BUSY read (default BUSY_RETRY_DELAYS_MS; [] for none). */
  busyRetryDelaysMs?: readonly number[];
}

export function createClient(transport: Transport, options: ClientOptions = {}): WorkbenchClient {
  const delays = options.busyRetryDelaysMs ?? BUSY_RETRY_DELAYS_MS;
  const client = { onEvents: (listener: EventListener) => transport.onEvents(listener) } as WorkbenchClient;
  for (const name of methodNames) {
    const call = (params: unknown) => transport.invoke(name, params ?? {});
    (client as unknown as Record<string, (params: unknown) => Promise<unknown>>)[name] = RETRIED_ON_BUSY.has(name)
      ? (params: unknown) => retryWhileBusy(() => call(params), delays)
      : call;
  }
  return client;
}

async function retryWhileBusy(call: () => Promise<unknown>, delays: readonly number[]): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      // By code, not class: a bridge may hand over a plain {code, message} object.
      const busy = (error as { code?: unknown } | null)?.code === 'BUSY';
      if (!busy || attempt >= delays.length) throw error;
      await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
    }
  }
}

// ---- the WebSocket wire format (browser host) ------------------------------------

export interface RequestFrame {
  id: number;
  method: string;
  params: unknown;
}
export type ResponseFrame = { id: number; result: unknown } | { id: number; error: SerializedError };
export interface EventFrame {
  events: EventBatch;
}
export type ServerFrame = ResponseFrame | EventFrame;

/** The minimal WebSocket surface used here: the browser's, or the `ws` package's. */
export interface WebSocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: (event: unknown) => void): void;
}

/** Opens a WebSocket transport; resolves once connected. */
export function connectWebSocket(url: string, create: (url: string) => WebSocketLike): Promise<Transport & { close(): void }> {
  const socket = create(url);
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const listeners = new Set<EventListener>();
  let nextId = 1;
  let closed = false;

  socket.addEventListener('message', (event) => {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(event.data)) as ServerFrame;
    } catch {
      return;
    }
    if ('events' in frame) {
      for (const listener of listeners) listener(frame.events);
      return;
    }
    const waiting = pending.get(frame.id);
    if (!waiting) return;
    pending.delete(frame.id);
    if ('error' in frame) waiting.reject(deserializeError(frame.error));
    else waiting.resolve(frame.result);
  });
  socket.addEventListener('close', () => {
    closed = true;
    for (const waiting of pending.values()) waiting.reject(new Error('The connection to the workbench closed'));
    pending.clear();
  });

  const transport = {
    invoke(method: string, params: unknown): Promise<unknown> {
      if (closed) return Promise.reject(new Error('The connection to the workbench is closed'));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        socket.send(JSON.stringify({ id, method, params } satisfies RequestFrame));
      });
    },
    onEvents(listener: EventListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      socket.close();
    },
  };
  return new Promise((resolve, reject) => {
    socket.addEventListener('open', () => resolve(transport));
    socket.addEventListener('error', () => {
      if (!closed) reject(new Error(`Cannot connect to the workbench at ${url.replace(/token=[^&]*/, 'token=…')}`));
    });
  });
}
