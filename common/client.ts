// A WorkbenchApi over any transport that can invoke a method and deliver event
// batches: Electron's preload bridge, the browser host's WebSocket, a test fake.
import { methodNames, type EventBatch, type WorkbenchApi } from './contract';
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

export function createClient(transport: Transport): WorkbenchClient {
  const client = { onEvents: (listener: EventListener) => transport.onEvents(listener) } as WorkbenchClient;
  for (const name of methodNames) {
    (client as unknown as Record<string, (params: unknown) => Promise<unknown>>)[name] = (params: unknown) =>
      transport.invoke(name, params ?? {});
  }
  return client;
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
