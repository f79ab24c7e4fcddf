// A WebSocket client of the browser host at the wire level, for the limits tests: requests
// sent as written (pipelined, oversized, never read), answers matched by id, the close
// code and reason kept.
import WebSocket from 'ws';

export interface WireAnswer {
  id: number;
  result?: unknown;
  error?: { code: string; message: string; field?: string };
  /** Bytes of the answer frame. */
  bytes: number;
}

export interface WireClient {
  ws: WebSocket;
  /** Sends one request; resolves with its answer. */
  call(method: string, params?: unknown): Promise<WireAnswer>;
  /** Sends a request frame as given (any text), without waiting. */
  sendRaw(text: string): void;
  answers: Map<number, WireAnswer>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export async function openWireClient(port: number, token: string): Promise<WireClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${encodeURIComponent(token)}`, { maxPayload: 512 * 1024 * 1024 });
  const answers = new Map<number, WireAnswer>();
  const waiting = new Map<number, (answer: WireAnswer) => void>();
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      // Calls the host will not answer now.
      for (const [id, answer] of waiting) answer({ id, error: { code: 'CLOSED', message: `closed ${code} ${reason.toString()}` }, bytes: 0 });
      waiting.clear();
    }),
  );
  ws.on('error', () => undefined);
  ws.on('message', (data: Buffer) => {
    const text = data.toString();
    if (text.startsWith('{"events"')) return;
    const frame = JSON.parse(text) as WireAnswer;
    const answer = { ...frame, bytes: data.length };
    answers.set(frame.id, answer);
    waiting.get(frame.id)?.(answer);
    waiting.delete(frame.id);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
  });
  let nextId = 1;
  return {
    ws,
    answers,
    closed,
    call(method, params = {}) {
      const id = nextId++;
      if (ws.readyState !== ws.OPEN) return Promise.resolve({ id, error: { code: 'CLOSED', message: 'not open' }, bytes: 0 });
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve) => waiting.set(id, resolve));
    },
    sendRaw(text) {
      ws.send(text);
    },
    close() {
      ws.terminate();
    },
  };
}

/** Resolves after `ms`. */
export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
