// The renderer's one door to the workbench: the preload bridge in Electron, a WebSocket to
// the browser host otherwise. Everything else programs against WorkbenchClient and never
// learns which one it got.
import { createClient, type WebSocketLike, type WorkbenchClient } from '../../../common/client';
import { deserializeError, type SerializedError } from '../../../common/validate';
import { connectReconnecting, type Connection } from './connection';

declare global {
  interface Window {
    /** Exposed by the Electron preload; absent in a browser. */
    workbench?: WorkbenchClient;
  }
}

export type { WorkbenchClient };

/** The WebSocket URL of the browser host that served this page, token included. */
export function browserHostApiUrl(location: Pick<Location, 'protocol' | 'host' | 'search'>): string {
  const token = new URLSearchParams(location.search).get('token');
  if (!token) {
    throw new Error('This page has no ?token= in its address: open the URL the workbench printed when it started (it includes the token).');
  }
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api?token=${encodeURIComponent(token)}`;
}

/**
 * The preload bridge as a client. Electron's context bridge keeps only an Error's
 * message, so the preload rejects with plain {code, message, field} objects; they
 * become WorkbenchErrors here, exactly as over the WebSocket.
 */
export function clientFromBridge(bridge: WorkbenchClient): WorkbenchClient {
  const methods = bridge as unknown as Record<string, (params: unknown) => Promise<unknown>>;
  return createClient({
    invoke: (method, params) =>
      methods[method](params).catch((error: unknown) => {
        const plain = error as Partial<SerializedError> | null;
        throw plain && typeof plain.code === 'string' && typeof plain.message === 'string'
          ? deserializeError(plain as SerializedError)
          : error;
      }),
    onEvents: (listener) => bridge.onEvents(listener),
  });
}

/**
 * The client, and over a WebSocket the connection under it (its state, reconnect); the
 * Electron bridge has no connection to lose.
 */
export async function connectWorkbench(): Promise<{ client: WorkbenchClient; connection?: Connection }> {
  if (window.workbench) return { client: clientFromBridge(window.workbench) };
  if (window.location.protocol === 'file:') {
    throw new Error('No workbench bridge: this page was opened from a file outside the Workbench app.');
  }
  const connection = await connectReconnecting(browserHostApiUrl(window.location), (url) => new WebSocket(url) as unknown as WebSocketLike);
  return { client: createClient(connection), connection };
}

/** Human text of an error from any transport: 'EPERM: Operation not permitted'. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
