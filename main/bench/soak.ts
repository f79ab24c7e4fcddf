// npm run soak: packets through library, engine and browser host to a connected client on
// loopback, for SOAK_PACKETS packets (default 10,000,000) or SOAK_SECONDS seconds, whichever
// comes first (SOAK_SECONDS=60 is the one-minute form). Meanwhile engine sockets and library
// sockets are opened and closed in a loop and short-lived clients connect and disconnect.
// RSS, heap and open fds (/proc/self/fd) are sampled each second; the report gives the
// memory slope after warm-up in MiB per million packets. Exits 1 when fds grew.
//
// One process: the sender (a library raw socket, IPv4 protocol 253, RFC 3692 experimental,
// to 127.0.0.1), the engine with its host, and the client all share the memory measured.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { createSocket } from '@packet-workbench/raw-socket';
import { Workbench } from '../engine';
import { startBrowserHost } from '../web/host';

const EXPERIMENTAL = 253;
const IPPROTO_RAW = 255;
const PACKETS = Number(process.env.SOAK_PACKETS ?? 10_000_000);
const SECONDS = Number(process.env.SOAK_SECONDS ?? Infinity);
const RATE = Number(process.env.SOAK_RATE ?? 20_000);
const CHURN_MS = 2_000;
/** Warm-up: the first quarter of the run, and at least until the 100,000-row log ring has filled twice. */
const WARM_UP = 0.25;
const WARM_UP_PACKETS = 200_000;
const MiB = 1024 * 1024;

interface Sample {
  seconds: number;
  packets: number;
  rss: number;
  heapUsed: number;
  fds: number;
}

const fds = () => readdirSync('/proc/self/fd').length;

class Client {
  rows = 0;
  private nextId = 1;
  private readonly pending = new Map<number, (frame: { result?: unknown; error?: { message: string } }) => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const text = data.toString();
      if (text.startsWith('{"events":')) {
        // Counted without JSON.parse, as bench:engine does: one "direction" per log row.
        for (let at = text.indexOf('"direction":'); at >= 0; at = text.indexOf('"direction":', at + 12)) this.rows++;
        return;
      }
      const frame = JSON.parse(text) as { id: number; result?: unknown; error?: { message: string } };
      this.pending.get(frame.id)?.(frame);
      this.pending.delete(frame.id);
    });
  }

  static connect(port: number, token: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${encodeURIComponent(token)}`);
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('error', reject);
    });
  }

  call<T>(method: string, params: unknown = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, (frame) => (frame.error ? reject(new Error(`${method}: ${frame.error.message}`)) : resolve(frame.result as T)));
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

function ipv4Packet(payloadLength: number): Buffer {
  const packet = Buffer.alloc(20 + payloadLength);
  packet[0] = 0x45;
  packet.writeUInt16BE(packet.length, 2);
  packet[8] = 64;
  packet[9] = EXPERIMENTAL;
  packet.set([127, 0, 0, 1], 12);
  packet.set([127, 0, 0, 1], 16);
  return packet;
}

/** Least-squares slope of y over x. */
function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? NaN : sxy / sxx;
}

async function main(): Promise<void> {
  process.env.WORKBENCH_LIVE_ROWS_PER_SECOND = '0'; // every row to the client, as bench:engine
  const staticDir = mkdtempSync(path.join(tmpdir(), 'soak-'));
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>soak</title>');
  const workbench = new Workbench({ logCapacity: 100_000 });
  const host = await startBrowserHost({ engine: workbench, staticDir, port: 0 });
  const client = await Client.connect(host.port, host.token);
  await client.call('openSocket', { family: 'ipv4', protocol: EXPERIMENTAL });
  const sender = createSocket({ addressFamily: 1, protocol: IPPROTO_RAW, mode: 'raw' });
  sender.on('error', () => undefined);
  const packet = ipv4Packet(48);
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  let issued = 0;
  let completed = 0;
  let sendErrors = 0;
  const churn = { engineSockets: 0, librarySockets: 0, clients: 0 };
  const samples: Sample[] = [];
  const sample = () => {
    const { rss, heapUsed } = process.memoryUsage();
    samples.push({ seconds: elapsed(), packets: completed, rss, heapUsed, fds: fds() });
  };
  sample();
  const sampler = setInterval(sample, 1000);

  // Sockets and clients come and go while the traffic runs.
  let churning = true;
  const churner = (async () => {
    while (churning) {
      const socket = await client.call<{ socketId: string }>('openSocket', { family: 'ipv4', protocol: EXPERIMENTAL });
      await client.call('closeSocket', { socketId: socket.socketId });
      churn.engineSockets++;
      const library = createSocket({ addressFamily: 1, protocol: EXPERIMENTAL, mode: 'raw' });
      library.on('error', () => undefined);
      library.close();
      churn.librarySockets++;
      const visitor = await Client.connect(host.port, host.token);
      await visitor.call('capabilities');
      await visitor.close();
      churn.clients++;
      await new Promise((resolve) => setTimeout(resolve, CHURN_MS));
    }
  })();

  await new Promise<void>((resolve) => {
    const after = (error: Error | null) => {
      completed++;
      if (error) sendErrors++;
    };
    const pump = () => {
      const done = issued >= PACKETS || elapsed() >= SECONDS;
      if (done) {
        if (completed === issued) resolve();
        else setTimeout(pump, 10);
        return;
      }
      const due = Math.min(PACKETS, Math.floor(elapsed() * RATE));
      let n = Math.min(due - issued, 4096 - (issued - completed), 1024);
      while (n-- > 0) {
        sender.send(packet, 0, packet.length, '127.0.0.1', after);
        issued++;
      }
      setTimeout(pump, 1);
    };
    pump();
  });
  churning = false;
  await churner;
  await new Promise((resolve) => setTimeout(resolve, 1000)); // the last batches reach the client
  sample();
  clearInterval(sampler);
  sender.close();

  const warm = samples.filter((s) => s.seconds >= samples[samples.length - 1].seconds * WARM_UP && s.packets >= WARM_UP_PACKETS);
  if (warm.length < 2) throw new Error(`too short to measure: ${completed} packets; the warm-up alone is ${WARM_UP_PACKETS}`);
  const perMillion = (pick: (s: Sample) => number) => slope(warm.map((s) => [s.packets / 1e6, pick(s) / MiB]));
  const first = warm[0];
  const last = samples[samples.length - 1];
  const seconds = last.seconds;
  console.log(`soak: ${completed.toLocaleString('en')} packets in ${seconds.toFixed(0)} s (${Math.round(completed / seconds).toLocaleString('en')}/s offered ${RATE.toLocaleString('en')}/s), ${sendErrors} send errors`);
  console.log(`client rows: ${client.rows.toLocaleString('en')} (${((100 * client.rows) / Math.max(1, completed - sendErrors)).toFixed(1)}% of packets sent; past 100%: rows of the churn's sockets, which see the traffic while open)`);
  console.log(`churn: ${churn.engineSockets} engine sockets, ${churn.librarySockets} library sockets opened and closed, ${churn.clients} clients connected and gone`);
  console.log(`rss: ${(first.rss / MiB).toFixed(0)} MiB after warm-up → ${(last.rss / MiB).toFixed(0)} MiB at the end, max ${(Math.max(...samples.map((s) => s.rss)) / MiB).toFixed(0)} MiB; slope ${perMillion((s) => s.rss).toFixed(2)} MiB per million packets`);
  console.log(`heapUsed: ${(first.heapUsed / MiB).toFixed(0)} → ${(last.heapUsed / MiB).toFixed(0)} MiB; slope ${perMillion((s) => s.heapUsed).toFixed(2)} MiB per million packets`);
  console.log(`fds: ${first.fds} after warm-up → ${last.fds} at the end`);
  await client.close();
  await host.close();
  await workbench.close();
  rmSync(staticDir, { recursive: true, force: true });
  if (last.fds > first.fds + 2) {
    console.error(`fd leak: ${last.fds - first.fds} more open fds at the end than after warm-up`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
