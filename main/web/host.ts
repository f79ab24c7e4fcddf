// The browser host: the built renderer and the workbench contract over a WebSocket,
// on 127.0.0.1 only. Anyone who can reach the port could drive raw sockets, so:
// - a random 32-byte token is required for the page (GET /?token=...) and the
//   WebSocket (/api?token=...); the page's own assets (scripts, styles) are public
//   build output and are served without it, since the HTML cannot add the token to them;
// - the Host header must name this loopback port (a DNS-rebinding page arrives
//   with its own host name);
// - a browser's WebSocket must come from this origin (another site's page could
//   otherwise connect to 127.0.0.1 itself; it cannot know the token, but we do not
//   rely on that alone). Clients that send no Origin (CLI, tests) need the token only.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ResponseFrame } from '../../common/client';
import { WHOLE_TRANSFER_BYTES } from '../../common/contract';
import { serializeError, WorkbenchError } from '../../common/validate';
import { contentSecurityPolicy } from '../../common/csp';
import { DEFAULT_CALL_LIMITS, type CallLimits } from '../engine/call-gate';
import { ClientCalls, type EngineLike } from '../engine/dispatch';
import { EventOutbox } from './event-outbox';
import { resolveStaticFile } from './static-files';

/** An engine that can keep the host's own connection out of its log (the Workbench can). */
export type HostedEngine = EngineLike & {
  /** Filters this endpoint's traffic out of the sockets that would see it; returns the undo. */
  excludeOwnTraffic?(endpoint: { protocol: 'tcp'; address: string; port: number }): () => void;
};

export interface BrowserHostOptions {
  engine: HostedEngine;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Only loopback is accepted: the host has no other protection against the network. */
  host?: '127.0.0.1';
  /** The built renderer (renderer/dist). */
  staticDir: string;
  /** A fixed token (tests); by default 32 random bytes. */
  token?: string;
  /** Tighter or looser limits than DEFAULT_HOST_LIMITS (tests). */
  limits?: Partial<HostLimits>;
}

/**
 * What any one client, and all of them, may hold of the host (issue 11: one authorised
 * client could take it past V8's heap limit). The README's security section gives the
 * host's measured RSS under attack with these values.
 */
export interface HostLimits extends CallLimits {
  /** WebSocket clients at once; the next is closed with 1013 and a reason. */
  maxClients: number;
  /** Largest request frame; a larger one closes the connection (1009). */
  maxMessageBytes: number;
  /** Heavy calls are refused (BUSY) while more than this of the client's answers are unread. */
  heavyBacklogBytes: number;
  /** A client with more than this unread is disconnected (1008). */
  maxBufferedBytes: number;
  /** HTTP: the request's headers must arrive within this. */
  headersTimeoutMs: number;
  /** HTTP: the whole request must arrive within this. */
  requestTimeoutMs: number;
  /** HTTP: an idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
}

const MiB = 1024 * 1024;
/**
 * The largest legitimate request is a whole-file importPcapng or loadWorkspace: 8 MiB of
 * file (WHOLE_TRANSFER_BYTES) as base64, 10.7 MiB, and its JSON envelope. Larger files go in
 * writeImport pieces (2 MiB of file each): a pcapng of a full ring of capacity C is at most
 * min(C x 2048, 1 GiB) bytes of packets plus C x ~200 bytes of blocks (headers, options,
 * synthesized IP headers and their comments), for the default 100 000 ~225 MB in ~108 calls.
 * Other calls are smaller: a send of one 64 KiB packet as spaced hex is 192 KiB, a stream of
 * 16 of them 3 MiB; exportPcapng ids of a full 100 000-row log ~1.1 MB.
 */
export const MAX_MESSAGE_BYTES = 4 * Math.ceil(WHOLE_TRANSFER_BYTES / 3) + 64 * 1024;
export const DEFAULT_HOST_LIMITS: HostLimits = {
  ...DEFAULT_CALL_LIMITS,
  maxClients: 16,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  // Twice the event outbox's high water (4 MiB), so a flood of events alone does not refuse a heavy call.
  heavyBacklogBytes: 8 * MiB,
  // Room for one heavy answer (an 8 MiB exportPcapng is 11 MiB of base64) above heavyBacklogBytes.
  maxBufferedBytes: 32 * MiB,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
};
/** Close code for a client over maxClients (RFC 6455 1013: try again later). */
export const CLOSE_TOO_MANY_CLIENTS = 1013;

export interface BrowserHost {
  /** The page's URL, token included: the one thing to open in a browser. */
  url: string;
  /** The address the server is bound to: always 127.0.0.1. */
  address: string;
  port: number;
  token: string;
  /** Connected WebSocket clients. */
  readonly clients: number;
  close(): Promise<void>;
}

/** Path of the contract's WebSocket endpoint. */
export const API_PATH = '/api';
/**
 * A client whose unread responses pass this is disconnected (1008) rather than buffered
 * further. Heavy answers stop at heavyBacklogBytes, so this is reached only by a client
 * that sends light calls and reads nothing.
 */
export const MAX_BUFFERED_BYTES = DEFAULT_HOST_LIMITS.maxBufferedBytes;

export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const bindAddress = options.host ?? '127.0.0.1';
  if (bindAddress !== '127.0.0.1') {
    throw new WorkbenchError('INVALID_ARGUMENT', `The browser host binds to 127.0.0.1 only, not '${bindAddress}'`, 'host');
  }
  const { engine, staticDir } = options;
  const limits: HostLimits = { ...DEFAULT_HOST_LIMITS, ...options.limits };
  const token = options.token ?? randomBytes(32).toString('base64url');
  const tokenBytes = Buffer.from(token);

  const server = http.createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often the two timeouts above are checked (Node's default is 30 s).
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    maxHeaderSize: 16 * 1024,
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes });
  /** Clients connected or completing their handshake. */
  let clients = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, bindAddress, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  // A raw TCP socket or capture would otherwise log this very connection: each logged
  // packet makes event traffic, which is logged again, without end.
  const includeOwnTraffic = engine.excludeOwnTraffic?.({ protocol: 'tcp', address, port });
  const allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  const csp = contentSecurityPolicy([`ws://127.0.0.1:${port}`, `ws://localhost:${port}`]);

  const tokenMatches = (given: string | null): boolean => {
    if (given === null) return false;
    const bytes = Buffer.from(given);
    return bytes.length === tokenBytes.length && timingSafeEqual(bytes, tokenBytes);
  };
  const parseUrl = (req: http.IncomingMessage): URL | null => {
    try {
      return new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    } catch {
      return null;
    }
  };

  /** Why a request is refused (status and text), or null when it may proceed. */
  const refusal = (req: http.IncomingMessage, url: URL | null, needsToken: boolean): [number, string] | null => {
    const host = req.headers.host;
    if (!host || !allowedHosts.has(host.toLowerCase())) {
      return [403, `Refused: the Host header must be 127.0.0.1:${port} or localhost:${port}.`];
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin.toLowerCase())) {
      return [403, 'Refused: requests from another origin are not accepted.'];
    }
    if (!url) return [400, 'Bad request: the URL cannot be parsed.'];
    if (needsToken && !tokenMatches(url.searchParams.get('token'))) {
      return [401, 'Refused: open the URL the workbench printed, with its ?token=... part.'];
    }
    return null;
  };

  const baseHeaders = (contentType: string): http.OutgoingHttpHeaders => ({
    'Content-Type': contentType,
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });
  const sendText = (res: http.ServerResponse, status: number, text: string): void => {
    res.writeHead(status, { ...baseHeaders('text/plain; charset=utf-8'), 'Cache-Control': 'no-store' });
    res.end(`${text}\n`);
  };

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    void (async () => {
      const url = parseUrl(req);
      const early = refusal(req, url, false);
      if (early) return sendText(res, early[0], early[1]);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        return sendText(res, 405, 'Only GET and HEAD are served here.');
      }
      if (url!.pathname === API_PATH) return sendText(res, 426, 'The workbench API is a WebSocket.');
      // A document is refused before the disk is even looked at.
      if (/(^|\/)$|\.html?$/i.test(url!.pathname)) {
        const denied = refusal(req, url, true);
        if (denied) return sendText(res, denied[0], denied[1]);
      }
      const found = await resolveStaticFile(staticDir, url!.pathname);
      if (found.kind === 'forbidden') return sendText(res, 403, `Refused: ${found.reason}.`);
      if (found.kind === 'not-found') {
        const missingIndex = url!.pathname === '/' || url!.pathname === '/index.html';
        return sendText(
          res,
          404,
          missingIndex
            ? `The renderer is not built: no index.html in ${staticDir}. Build it (npm run build) and reload.`
            : 'Not found.',
        );
      }
      const isDocument = found.contentType.startsWith('text/html');
      // The page needs the token (it reads it from its own URL); assets do not.
      if (isDocument) {
        const denied = refusal(req, url, true);
        if (denied) return sendText(res, denied[0], denied[1]);
      }
      res.writeHead(200, {
        ...baseHeaders(found.contentType),
        'Content-Length': found.size,
        'Cache-Control': isDocument ? 'no-store' : 'no-cache',
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(found.file)
        .on('error', () => res.destroy())
        .pipe(res);
    })().catch(() => {
      if (!res.headersSent) sendText(res, 500, 'Internal error.');
      else res.destroy();
    });
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const url = parseUrl(req);
    const denied =
      url && url.pathname !== API_PATH ? ([404, 'Not found: the API is at /api.'] as [number, string]) : refusal(req, url, true);
    if (denied) {
      const [status, text] = denied;
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
      );
      return;
    }
    if (clients >= limits.maxClients) {
      // Completed and closed, so a browser's page sees the reason (a refused handshake shows none).
      wss.handleUpgrade(req, socket, head, (ws) =>
        ws.close(CLOSE_TOO_MANY_CLIENTS, `Too many clients: at most ${limits.maxClients} at once; close another workbench tab`),
      );
      return;
    }
    clients++;
    socket.once('close', () => clients--);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => serveClient(ws, engine, limits));

  return {
    url: `http://127.0.0.1:${port}/?token=${encodeURIComponent(token)}`,
    address,
    port,
    token,
    get clients() {
      return wss.clients.size;
    },
    async close() {
      includeOwnTraffic?.();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

/** One WebSocket client: its own event subscription and request handling. */
function serveClient(ws: WebSocket, engine: EngineLike, limits: HostLimits): void {
  const outbox = new EventOutbox({
    bufferedAmount: () => ws.bufferedAmount,
    send: (frame) => ws.send(frame),
  });
  const unsubscribe = engine.subscribe((batch) => outbox.push(batch));
  const calls = new ClientCalls(engine, limits, () =>
    ws.bufferedAmount > limits.heavyBacklogBytes
      ? `${(ws.bufferedAmount / MiB).toFixed(1)} MiB of this client's answers are unread (the limit is ${limits.heavyBacklogBytes / MiB} MiB)`
      : null,
  );
  ws.on('close', () => {
    unsubscribe();
    outbox.close();
    calls.close();
  });
  // A protocol error (a frame over maxMessageBytes: 1009) has ws send its close frame and discard what follows;
  // the connection goes a second later, so the client reads why rather than a reset.
  ws.on('error', () => {
    const timer = setTimeout(() => ws.terminate(), 1000);
    timer.unref();
    ws.once('close', () => clearTimeout(timer));
  });

  const respond = (frame: ResponseFrame): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > limits.maxBufferedBytes) {
      ws.close(1008, 'The client does not read its responses');
      return;
    }
    let text: string;
    try {
      text = JSON.stringify(frame);
    } catch (error) {
      text = JSON.stringify({ id: frame.id, error: serializeError(error) });
    }
    ws.send(text);
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const request = parseRequest(data, isBinary);
    if ('error' in request) {
      respond({ id: request.id, error: serializeError(request.error) });
      return;
    }
    calls.call(request.method, request.params).then(
      (result) => respond({ id: request.id, result: result === undefined ? null : result }),
      (error: unknown) => respond({ id: request.id, error: serializeError(error) }),
    );
  });
}

/**
 * Reads a request frame. A frame that cannot be answered by its id (not JSON,
 * no numeric id) gets an error frame with id 0, which clients never use.
 */
function parseRequest(
  data: RawData,
  isBinary: boolean,
): { id: number; method: unknown; params: unknown } | { id: number; error: WorkbenchError } {
  const bad = (id: number, message: string, field?: string) => ({
    id,
    error: new WorkbenchError('BAD_REQUEST', message, field),
  });
  if (isBinary) return bad(0, 'Requests are JSON text frames: {"id": 1, "method": "...", "params": {...}}');
  let frame: unknown;
  try {
    frame = JSON.parse(rawText(data));
  } catch {
    return bad(0, 'The request is not valid JSON; send {"id": 1, "method": "...", "params": {...}}');
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
    return bad(0, 'The request must be a JSON object: {"id": 1, "method": "...", "params": {...}}');
  }
  const { id, method, params } = frame as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
    return bad(0, 'The request needs an "id": a positive integer that its response will carry', 'id');
  }
  return { id, method, params };
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
