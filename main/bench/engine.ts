// npm run bench:engine: packets per second from a raw socket to a connected
// client's event batches over the WebSocket transport (a real startBrowserHost on
// 127.0.0.1 and a `ws` client counting log rows), against the same traffic counted
// straight from the library ('message' events), in the same run. See README.md.
//
// Processes, so that nobody measured shares an event loop with the load:
//   orchestrator (this file, no role)  - runs the phases; in the engine phase it is the ws client
//   --role sender    - IPv4 packets of protocol 253 (RFC 3692 experimental) to 127.0.0.1 at a fixed rate
//   --role library   - a raw socket counting 'message' events
//   --role engine    - a Workbench behind startBrowserHost, sampling its memory
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { createSocket, SocketLevel, SocketOption } from '@packet-workbench/raw-socket';
import { Workbench } from '../engine';
import { startBrowserHost } from '../web/host';
import { streamSection } from './engine-stream';

const EXPERIMENTAL = 253;
const IPPROTO_RAW = 255;
const RESULTS_FILE = path.resolve(__dirname, '..', '..', '..', 'main', 'bench', '.results.json');

const CONFIG = {
  /**
   * Offered load, packets per second. Fixed, and the same for both paths: high enough that the
   * engine path saturates, low enough that the sender keeps it while the engine and its client
   * run beside it (on 2 CPUs the sender tops out near 130 000/s: the kernel's loopback delivery
   * runs on the sender's CPU). The table shows the rate each run actually offered.
   */
  rate: Number(process.env.BENCH_ENGINE_RATE ?? 100_000),
  /** Packets per measured run (4 s at the default rate). */
  count: Number(process.env.BENCH_ENGINE_COUNT ?? 400_000),
  /** Rounds per variant, alternating library and engine; the median round is reported. */
  rounds: Number(process.env.BENCH_ENGINE_ROUNDS ?? 3),
  /**
   * Receive socket variants, applied the same way to both paths: SO_RCVBUF at 4 MiB, what
   * Workbench.openSocket asks for itself (the library: setOption), and at the kernel's
   * default, which stresses both receivers: both paths lose what overflows it. Both must
   * hold the target.
   */
  variants: [
    { name: 'SO_RCVBUF 4 MiB', rcvbuf: 4 << 20 },
    { name: 'SO_RCVBUF 212992 (kernel default)', rcvbuf: 212_992 / 2 },
  ],
  ringCapacity: 100_000,
  /** Payload bytes: fill traffic and measured traffic differ in length, so each side counts only the latter. */
  fillPayload: 40,
  measurePayload: 48,
  /** The socket's options, the same in both measurements (those Workbench.openSocket uses). */
  socket: { addressFamily: 1, protocol: EXPERIMENTAL, mode: 'auto' as const, timestamps: true, bufferSize: 65536 },
  drainIdleMs: 500,
  drainMaxMs: 5_000,
  memorySampleMs: 50,
  target: 0.8,
};

type Message = Record<string, unknown> & { type: string };

function send(message: Message): void {
  process.send?.(message);
}

function nextMessage(child: ChildProcess, type: string, timeoutMs: number): Promise<Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no '${type}' from the ${String(child.spawnargs[3] ?? 'child')} process within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: Message) => {
      if (message.type === 'error') {
        cleanup();
        reject(new Error(String(message.message)));
      } else if (message.type === type) {
        cleanup();
        resolve(message);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`the child process exited (${code}) before '${type}'`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

function spawnRole(role: string, params: Record<string, unknown> = {}): ChildProcess {
  return fork(__filename, ['--role', role, JSON.stringify(params)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

// ---- sender -----------------------------------------------------------------------

function ipv4Packet(payloadLength: number, marker: number): Buffer {
  const packet = Buffer.alloc(20 + payloadLength);
  packet[0] = 0x45;
  packet.writeUInt16BE(packet.length, 2);
  packet[8] = 64;
  packet[9] = EXPERIMENTAL;
  packet.set([127, 0, 0, 1], 12);
  packet.set([127, 0, 0, 1], 16);
  // The kernel fills in the header checksum (IP_HDRINCL) and the ID when it is zero.
  for (let i = 20; i < packet.length; i++) packet[i] = (marker + i) & 0xff;
  return packet;
}

/** Sends `count` packets at `rate` per second on a schedule (packet k due at start + k/rate). */
async function runSender(params: { count: number; rate: number; payload: number }): Promise<void> {
  const socket = createSocket({ addressFamily: 1, protocol: IPPROTO_RAW, mode: 'raw' });
  socket.on('error', () => undefined);
  const packet = ipv4Packet(params.payload, 0xa5);
  const maxInFlight = 4096;
  let issued = 0;
  let completed = 0;
  let errors = 0;
  let firstError: string | null = null;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const after = (error: Error | null) => {
      completed++;
      if (error) {
        errors++;
        firstError ??= error.message;
      }
      if (completed === params.count) resolve();
    };
    const pump = () => {
      const due = Math.min(params.count, Math.floor(((performance.now() - started) / 1000) * params.rate));
      let n = Math.min(due - issued, maxInFlight - (issued - completed), 1024);
      while (n-- > 0) {
        socket.send(packet, 0, packet.length, '127.0.0.1', after);
        issued++;
      }
      if (issued < params.count) setImmediate(pump);
    };
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  socket.close();
  send({ type: 'sent', sent: completed - errors, errors, firstError, seconds, offeredRate: params.rate, achievedRate: (completed - errors) / seconds });
}

// ---- measured sides ---------------------------------------------------------------------

class MemoryPeak {
  rss = 0;
  heapUsed = 0;
  private timer: NodeJS.Timeout | null = null;

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), CONFIG.memorySampleMs);
  }

  stop(): { rss: number; heapUsed: number } {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return { rss: this.rss, heapUsed: this.heapUsed };
  }

  private sample(): void {
    const usage = process.memoryUsage();
    this.rss = Math.max(this.rss, usage.rss);
    this.heapUsed = Math.max(this.heapUsed, usage.heapUsed);
  }
}

function runLibrary(params: { rcvbuf?: number | null }): void {
  const socket = createSocket(CONFIG.socket);
  if (params.rcvbuf) socket.setOption(SocketLevel.SOL_SOCKET, SocketOption.SO_RCVBUF, params.rcvbuf);
  const measuredLength = 20 + CONFIG.measurePayload;
  let received = 0;
  let others = 0;
  const memory = new MemoryPeak();
  let cpuAtStart = process.cpuUsage();
  socket.on('message', (buffer: Buffer) => {
    if (buffer.length === measuredLength) received++;
    else others++;
  });
  socket.on('error', (error) => send({ type: 'error', message: `library socket: ${error.message}` }));
  process.on('message', (message: Message) => {
    if (message.type === 'start') {
      received = 0;
      others = 0;
      cpuAtStart = process.cpuUsage();
      memory.start();
      send({ type: 'started' });
    } else if (message.type === 'count') {
      send({ type: 'count', received });
    } else if (message.type === 'stop') {
      const cpu = process.cpuUsage(cpuAtStart);
      send({ type: 'result', received, others, memory: memory.stop(), cpuMs: (cpu.user + cpu.system) / 1000 });
      socket.close();
      process.disconnect?.();
    }
  });
  send({ type: 'ready' });
}

async function runEngine(): Promise<void> {
  // What is measured is the transport's capacity, not the GUI's row budget: every row goes.
  process.env.WORKBENCH_LIVE_ROWS_PER_SECOND = '0';
  const staticDir = mkdtempSync(path.join(tmpdir(), 'bench-engine-'));
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>bench</title>');
  const workbench = new Workbench({ logCapacity: CONFIG.ringCapacity });
  const host = await startBrowserHost({ engine: workbench, staticDir, port: 0 });
  const memory = new MemoryPeak();
  let cpuAtStart = process.cpuUsage();
  process.on('message', (message: Message) => {
    if (message.type === 'start') {
      cpuAtStart = process.cpuUsage();
      memory.start();
      send({ type: 'started' });
    } else if (message.type === 'stop') {
      const cpu = process.cpuUsage(cpuAtStart);
      send({ type: 'result', memory: memory.stop(), cpuMs: (cpu.user + cpu.system) / 1000 });
      void host.close().then(() => workbench.close()).finally(() => {
        rmSync(staticDir, { recursive: true, force: true });
        process.disconnect?.();
      });
    }
  });
  send({ type: 'ready', port: host.port, token: host.token });
}

// ---- the client (orchestrator side of the engine phase) ---------------------------------------

class Client {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  /** Rows of measured packets seen in event frames. */
  measuredRows = 0;
  fillRows = 0;
  frames = 0;
  lastRowAt = 0;
  private measuredLength = 20 + CONFIG.measurePayload;

  private constructor(private readonly ws: WebSocket) {
    const measured = `"length":${this.measuredLength},`;
    ws.on('message', (data: WebSocket.RawData) => {
      const text = data.toString();
      if (text.startsWith('{"events":')) {
        // Event frames are counted without JSON.parse: on 2 CPUs the client's parsing would
        // compete with the process it measures. Each log row has one "id" and one "length".
        this.frames++;
        const rows = countOf(text, '"direction":');
        const ours = countOf(text, measured);
        this.measuredRows += ours;
        this.fillRows += rows - ours;
        if (rows > 0) this.lastRowAt = performance.now();
        return;
      }
      const frame = JSON.parse(text) as { id?: number; result?: unknown; error?: { message: string } };
      const waiter = frame.id !== undefined ? this.pending.get(frame.id) : undefined;
      if (!waiter) return;
      this.pending.delete(frame.id as number);
      if (frame.error) waiter.reject(new Error(frame.error.message));
      else waiter.resolve(frame.result);
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
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

function countOf(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}

// ---- phases --------------------------------------------------------------------------------

interface Sent {
  sent: number;
  errors: number;
  firstError: string | null;
  seconds: number;
  achievedRate: number;
}

async function sendTraffic(count: number, payload: number): Promise<Sent> {
  const sender = spawnRole('sender', { count, rate: CONFIG.rate, payload });
  try {
    return (await nextMessage(sender, 'sent', 60_000)) as unknown as Sent;
  } finally {
    await stopChild(sender);
  }
}

/** Resolves when `count()` has not grown for drainIdleMs (at most drainMaxMs). */
async function drained(count: () => number | Promise<number>): Promise<void> {
  const deadline = performance.now() + CONFIG.drainMaxMs;
  let last = await count();
  let changedAt = performance.now();
  while (performance.now() < deadline && performance.now() - changedAt < CONFIG.drainIdleMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = await count();
    if (now !== last) {
      last = now;
      changedAt = performance.now();
    }
  }
}

interface SideResult {
  received: number;
  sent: Sent;
  rate: number;
  memory: { rss: number; heapUsed: number };
  cpuMs: number;
  ringCount?: number;
  frames?: number;
}

type Variant = (typeof CONFIG.variants)[number];

async function measureLibrary(variant: Variant): Promise<SideResult> {
  const child = spawnRole('library', { rcvbuf: variant.rcvbuf });
  try {
    await nextMessage(child, 'ready', 10_000);
    child.send({ type: 'start' });
    await nextMessage(child, 'started', 5_000);
    const sent = await sendTraffic(CONFIG.count, CONFIG.measurePayload);
    await drained(async () => {
      child.send({ type: 'count' });
      return Number((await nextMessage(child, 'count', 5_000)).received);
    });
    child.send({ type: 'stop' });
    const result = await nextMessage(child, 'result', 5_000);
    const received = Number(result.received);
    return { received, sent, rate: received / sent.seconds, memory: result.memory as SideResult['memory'], cpuMs: Number(result.cpuMs) };
  } finally {
    await stopChild(child);
  }
}

async function measureEngine(variant: Variant): Promise<SideResult> {
  const child = spawnRole('engine');
  let client: Client | null = null;
  try {
    const ready = await nextMessage(child, 'ready', 10_000);
    client = await Client.connect(Number(ready.port), String(ready.token));
    const socket = await client.call<{ socketId: string }>('openSocket', { family: 'ipv4', protocol: EXPERIMENTAL });
    if (variant.rcvbuf) await client.call('setSocketOption', { socketId: socket.socketId, name: 'SO_RCVBUF', value: variant.rcvbuf });
    // Fill the ring first, so the measurement runs with it full (bounded: a few fill rounds).
    const ringTotal = async () => (await client!.call<{ total: number }>('queryLog', { limit: 1 })).total;
    for (let round = 0; round < 5 && (await ringTotal()) < CONFIG.ringCapacity; round++) {
      await sendTraffic(CONFIG.ringCapacity + 10_000, CONFIG.fillPayload);
      await drained(() => client!.fillRows);
    }
    const ringCount = await ringTotal();
    child.send({ type: 'start' });
    await nextMessage(child, 'started', 5_000);
    client.measuredRows = 0;
    const sent = await sendTraffic(CONFIG.count, CONFIG.measurePayload);
    await drained(() => client!.measuredRows);
    child.send({ type: 'stop' });
    const result = await nextMessage(child, 'result', 10_000);
    const received = client.measuredRows;
    return {
      received,
      sent,
      rate: received / sent.seconds,
      memory: result.memory as SideResult['memory'],
      cpuMs: Number(result.cpuMs),
      ringCount,
      frames: client.frames,
    };
  } finally {
    client?.close();
    await stopChild(child);
  }
}

// ---- report -----------------------------------------------------------------------------------

function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function table(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  log(line(cells[0]));
  log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of cells.slice(1)) log(line(row));
}

const number = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

function median<T>(items: T[], key: (item: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)];
}

async function orchestrate(): Promise<void> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    log('bench:engine needs raw sockets: run it as root (or give node CAP_NET_RAW).');
    process.exitCode = 77;
    return;
  }
  const runStarted = Date.now();
  // BENCH_ENGINE_ONLY=stream: only the send section (engine-stream.ts), a minute instead of several.
  if (process.env.BENCH_ENGINE_ONLY === 'stream') {
    process.exitCode = (await streamSection(log)).pass ? 0 : 1;
    return;
  }
  const thousands = (value: number) => value.toLocaleString('en-US');
  log(`bench:engine: ${thousands(CONFIG.rate)} packets/s offered (IPv4 protocol ${EXPERIMENTAL} to 127.0.0.1, from a separate sender process), ${thousands(CONFIG.count)} per run`);
  log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}); ring of ${thousands(CONFIG.ringCapacity)} entries filled before each engine run; ${CONFIG.rounds} rounds per variant`);
  log();
  const variants: { variant: Variant; rounds: { library: SideResult; engine: SideResult; ratio: number }[] }[] = [];
  for (const variant of CONFIG.variants) {
    const rounds = [];
    for (let round = 0; round < CONFIG.rounds; round++) {
      const library = await measureLibrary(variant);
      const engine = await measureEngine(variant);
      rounds.push({ library, engine, ratio: engine.rate / library.rate });
    }
    variants.push({ variant, rounds });
  }
  const rows = variants.flatMap(({ variant, rounds }) =>
    rounds.flatMap((round, i) => [
      [`${variant.name} #${i + 1}  library`, number(round.library.sent.achievedRate), number(round.library.received), number(round.library.rate), '', mib(round.library.memory.rss), mib(round.library.memory.heapUsed), number(round.library.cpuMs), ((round.library.cpuMs * 1000) / Math.max(1, round.library.received)).toFixed(2)],
      [`${variant.name} #${i + 1}  engine+ws`, number(round.engine.sent.achievedRate), number(round.engine.received), number(round.engine.rate), `${(round.ratio * 100).toFixed(1)}%`, mib(round.engine.memory.rss), mib(round.engine.memory.heapUsed), number(round.engine.cpuMs), ((round.engine.cpuMs * 1000) / Math.max(1, round.engine.received)).toFixed(2)],
    ]),
  );
  table(['variant / path', 'offered/s', 'delivered', 'delivered/s', 'ratio', 'peak rss', 'peak heapUsed', 'cpu ms', 'cpu µs/pkt'], rows);
  log();
  const summaries = variants.map(({ variant, rounds }) => {
    const chosen = median(rounds, (round) => round.ratio);
    return { variant: variant.name, rcvbuf: variant.rcvbuf, ratio: chosen.ratio, libraryRate: chosen.library.rate, engineRate: chosen.engine.rate, engineMemory: chosen.engine.memory, ringCount: chosen.engine.ringCount, frames: chosen.engine.frames };
  });
  for (const summary of summaries) {
    log(
      `${summary.variant}: engine + WebSocket ${number(summary.engineRate)}/s vs library ${number(summary.libraryRate)}/s = ${(summary.ratio * 100).toFixed(1)}% ` +
        `(median round; ring ${number(summary.ringCount ?? 0)}/${number(CONFIG.ringCapacity)} while measured; peak rss ${mib(summary.engineMemory.rss)}, heapUsed ${mib(summary.engineMemory.heapUsed)})`,
    );
  }
  // Every variant must hold the target; the worst one is the verdict.
  const verdict = summaries.reduce((worst, summary) => (summary.ratio < worst.ratio ? summary : worst));
  const peak = summaries.reduce((most, summary) => (summary.engineMemory.rss > most.engineMemory.rss ? summary : most));
  const pass = verdict.ratio >= CONFIG.target;
  log(
    `${pass ? 'PASS' : 'FAIL'}: the engine and WebSocket transport kept ${(verdict.ratio * 100).toFixed(1)}% of the library's delivered rate at worst (${verdict.variant}; target >= ${CONFIG.target * 100}% in every variant); ` +
      `peak memory with the ring full: rss ${mib(peak.engineMemory.rss)}, heapUsed ${mib(Math.max(...summaries.map((summary) => summary.engineMemory.heapUsed)))}`,
  );
  log();
  const stream = await streamSection(log);
  const results = {
    stream,
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim(),
    config: CONFIG,
    variants,
    summaries,
    target: CONFIG.target,
    pass,
    seconds: (Date.now() - runStarted) / 1000,
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  log(`results: ${path.relative(process.cwd(), RESULTS_FILE)}; ${results.seconds.toFixed(1)} s`);
  process.exitCode = pass && stream.pass ? 0 : 1;
}

// ---- entry ---------------------------------------------------------------------------------------

const roleIndex = process.argv.indexOf('--role');
const role = roleIndex >= 0 ? process.argv[roleIndex + 1] : null;
const roleParams = roleIndex >= 0 ? (JSON.parse(process.argv[roleIndex + 2] ?? '{}') as Record<string, number>) : {};
const fail = (error: unknown) => {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (role) send({ type: 'error', message });
  else process.stderr.write(`bench:engine failed: ${message}\n`);
  process.exitCode = 1;
};
if (role === 'sender') runSender(roleParams as { count: number; rate: number; payload: number }).catch(fail);
else if (role === 'library') {
  try {
    runLibrary(roleParams as { rcvbuf?: number | null });
  } catch (error) {
    fail(error);
  }
} else if (role === 'engine') runEngine().catch(fail);
else orchestrate().catch(fail);
