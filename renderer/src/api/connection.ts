// The WebSocket connection to the browser host, kept as one Transport across reconnects:
// the store's client never changes, while the socket under it may close (host stopped,
// network gone) and be opened again on the same URL. Listeners hear every state change.
import { connectWebSocket, type EventListener, type Transport, type WebSocketLike } from '../../../common/client';

export type ConnectionState = 'open' | 'closed' | 'connecting';

export interface Connection extends Transport {
  readonly state: ConnectionState;
  /** Why the last connection ended or the last reconnect failed. */
  readonly reason: string | null;
  onStateChange(listener: (state: ConnectionState) => void): () => void;
  /** Opens a new socket on the same URL; resolves true once it is open, false if it failed. */
  reconnect(): Promise<boolean>;
  /** Closes the socket as if the host had gone (tests, and leaving the page). */
  close(): void;
}

/** Connects once; rejects like connectWebSocket when the first attempt fails. */
export async function connectReconnecting(url: string, create: (url: string) => WebSocketLike): Promise<Connection> {
  let state: ConnectionState = 'connecting';
  let reason: string | null = null;
  let current: (Transport & { close(): void }) | null = null;
  let unsubscribe: (() => void) | null = null;
  /** Bumped per attempt: a close from an old socket must not touch the new one's state. */
  let generation = 0;
  const stateListeners = new Set<(state: ConnectionState) => void>();
  const eventListeners = new Set<EventListener>();

  const setState = (next: ConnectionState) => {
    if (state === next) return;
    state = next;
    for (const listener of [...stateListeners]) listener(next);
  };

  const attempt = async (): Promise<void> => {
    const mine = ++generation;
    setState('connecting');
    // A socket that closes before it opens fails the attempt even without an 'error' event.
    let failEarly: (error: Error) => void = () => undefined;
    const closedEarly = new Promise<never>((_, reject) => {
      failEarly = reject;
    });
    closedEarly.catch(() => undefined);
    const transport = await Promise.race([
      connectWebSocket(url, (target) => {
        const socket = create(target);
        socket.addEventListener('close', () => {
          if (mine !== generation) return;
          if (state === 'open') reason = 'The connection to the workbench closed';
          failEarly(new Error(`Cannot connect to the workbench at ${target.replace(/token=[^&]*/, 'token=…')}`));
          setState('closed');
        });
        return socket;
      }),
      closedEarly,
    ]);
    if (mine !== generation) {
      transport.close();
      return;
    }
    unsubscribe?.();
    current = transport;
    unsubscribe = transport.onEvents((batch) => {
      for (const listener of eventListeners) listener(batch);
    });
    reason = null;
    setState('open');
  };

  await attempt().catch((error: unknown) => {
    state = 'closed';
    throw error;
  });

  return {
    get state() {
      return state;
    },
    get reason() {
      return reason;
    },
    invoke(method, params) {
      if (state !== 'open' || !current) {
        return Promise.reject(new Error('Disconnected from the workbench: reconnect first'));
      }
      return current.invoke(method, params);
    },
    onEvents(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onStateChange(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    async reconnect() {
      if (state === 'open') return true;
      try {
        await attempt();
        return true;
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
        setState('closed');
        return false;
      }
    },
    close() {
      current?.close();
    },
  };
}
