// A WebSocket client of the browser host at the wire level, for the limits tests: requests
// sent as written (pipelined, oversized, never read), answers matched by id, the close
// code and reason kept.
import * as net from 'node:net';
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

/** A client frame (masked text) whose header claims `claimed` bytes, then `sent` bytes of it; resolves with the close frame's code. */
export function oversizedFrame(port: number, token: string, claimed: number, sent: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let stage: 'handshake' | 'frames' = 'handshake';
    let received = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(`closed (${stage}) without a close frame: ${received.subarray(0, 16).toString('hex')}`));
    socket.on('connect', () =>
      socket.write(
        `GET /api?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (stage === 'handshake') {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!received.subarray(0, 12).toString().includes('101')) return reject(new Error(received.toString()));
        received = received.subarray(end + 4);
        stage = 'frames';
        const header = Buffer.alloc(14);
        header[0] = 0x81; // FIN, text
        header[1] = 0x80 | 127; // masked, 64-bit length
        header.writeBigUInt64BE(BigInt(claimed), 2);
        socket.write(header); // mask key: zeros
        socket.write(Buffer.alloc(sent, 0x61));
      }
      // Server frames (unmasked): events may come first; a close frame is 0x88, length, the 2-byte code.
      while (stage === 'frames' && received.length >= 2) {
        const short = received[1] & 0x7f;
        const headerBytes = short === 126 ? 4 : short === 127 ? 10 : 2;
        if (received.length < headerBytes) return;
        const length = short === 126 ? received.readUInt16BE(2) : short === 127 ? Number(received.readBigUInt64BE(2)) : short;
        if (received.length < headerBytes + length) return;
        if (received[0] === 0x88) {
          resolve(`${received.readUInt16BE(headerBytes)}`);
          socket.destroy();
          return;
        }
        received = received.subarray(headerBytes + length);
      }
    });
  });
}
