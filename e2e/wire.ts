// What the e2e specs check outside the page: the packets on loopback (a raw socket in the
// test process, so tests run as root or with CAP_NET_RAW, like the host), and the engine's
// own records through the browser host's API, the way any client reaches them.
import { createSocket, type Socket } from '@packet-workbench/raw-socket';
import WebSocket from 'ws';
import { connectWebSocket, createClient, type WebSocketLike, type WorkbenchClient } from '../common/client';
import { E2E_PORT, E2E_TOKEN } from '../playwright.config';

export interface EchoWatch {
  /** Echo requests with the identifier seen on loopback so far. */
  readonly requests: number;
  close(): void;
}

/** Counts the IPv4 echo requests with this identifier that cross loopback (from now on). */
export function watchEchoRequests(identifier: number): EchoWatch {
  const socket: Socket = createSocket({ addressFamily: 1, protocol: 1, mode: 'raw' });
  let requests = 0;
  socket.on('message', (buffer: Buffer) => {
    const icmp = (buffer[0] & 0x0f) * 4; // IPv4 raw sockets deliver the IP header
    if (buffer.length >= icmp + 8 && buffer[icmp] === 8 && buffer.readUInt16BE(icmp + 4) === identifier) requests++;
  });
  return {
    get requests() {
      return requests;
    },
    close: () => socket.close(),
  };
}

/** A client of the e2e host's engine (the page's own connection is untouched). */
export async function engineClient(): Promise<WorkbenchClient & { close(): void }> {
  const transport = await connectWebSocket(`ws://127.0.0.1:${E2E_PORT}/api?token=${E2E_TOKEN}`, (url) => new WebSocket(url) as unknown as WebSocketLike);
  return Object.assign(createClient(transport), { close: () => transport.close() });
}
