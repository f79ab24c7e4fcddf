// Shared helpers for the loopback tests: ICMP echo builders and parsers, bounded
// waits, and child-process runners. Every wait has a deadline; every loop a bound.
import { execFile } from 'node:child_process';
import { createSocket as createUdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as raw from '../lib/index';

export const NATIVE_DIR = path.resolve(__dirname, '..');
export const FIXTURES = path.join(__dirname, 'fixtures');
export const EXAMPLES = path.join(NATIVE_DIR, 'examples');

/** The README's echo request (id 1, seq 0x0a09), checksum 0x4352 already in place. */
export function readmeEchoRequest(): Buffer {
  return Buffer.from([
    0x08, 0x00, 0x43, 0x52, 0x00, 0x01, 0x0a, 0x09, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
    0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x61, 0x62, 0x63, 0x64, 0x65,
    0x66, 0x67, 0x68, 0x69,
  ]);
}

// Other test files (and other engineers' benchmarks) ping loopback at the same
// time, and a raw ICMP socket sees all of it: every test uses its own identifier.
let idCounter = 0;
const idBase = (process.pid * 131 + Math.floor(Math.random() * 0x10000)) & 0xffff;
export function uniqueId(): number {
  idCounter++;
  const id = (idBase + idCounter * 257) & 0xffff;
  return id === 0 ? 1 : id;
}

export interface EchoOptions {
  id: number;
  seq: number;
  /** 4 (ICMP, type 8) or 6 (ICMPv6, type 128). */
  family?: 4 | 6;
  payload?: Buffer;
  /** Compute the checksum (IPv4 only; the kernel does ICMPv6). Default true. */
  checksum?: boolean;
}

export function echoRequest({ id, seq, family = 4, payload = Buffer.from('packet-workbench'), checksum = true }: EchoOptions): Buffer {
  const buffer = Buffer.alloc(8 + payload.length);
  buffer[0] = family === 4 ? 8 : 128;
  buffer.writeUInt16BE(id, 4);
  buffer.writeUInt16BE(seq, 6);
  payload.copy(buffer, 8);
  if (family === 4 && checksum) raw.writeChecksum(buffer, 2, raw.createChecksum(buffer));
  return buffer;
}

export interface IcmpView {
  /** Bytes of IP header before the ICMP message (0 for IPv6 raw sockets). */
  ipHeaderLength: number;
  type: number;
  code: number;
  checksum: number;
  id: number;
  seq: number;
  icmp: Buffer;
}

/** Parses what a raw socket delivers: IPv4 with its IP header, ICMPv6 without. */
export function parseIcmp(buffer: Buffer, family: 4 | 6 = 4): IcmpView | undefined {
  let ipHeaderLength = 0;
  if (family === 4) {
    if (buffer.length < 20 || buffer[0] >> 4 !== 4) return undefined;
    ipHeaderLength = (buffer[0] & 0x0f) * 4;
  }
  if (buffer.length < ipHeaderLength + 8) return undefined;
  const icmp = buffer.subarray(ipHeaderLength);
  return {
    ipHeaderLength,
    type: icmp[0],
    code: icmp[1],
    checksum: icmp.readUInt16BE(2),
    id: icmp.readUInt16BE(4),
    seq: icmp.readUInt16BE(6),
    icmp,
  };
}

export function isEchoReply(buffer: Buffer, id: number, family: 4 | 6 = 4, seq?: number): boolean {
  const view = parseIcmp(buffer, family);
  return (
    view !== undefined &&
    view.type === (family === 4 ? 0 : 129) &&
    view.id === id &&
    (seq === undefined || view.seq === seq)
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until check() returns a truthy value or the deadline passes (then rejects). */
export async function waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 2000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; round < 100_000; round++) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) break;
    await sleep(5);
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface Received {
  buffer: Buffer;
  address: string;
  info: raw.MessageInfo;
}

/** The first 'message' that satisfies match, or a rejection after timeoutMs. */
export function nextMessage(socket: raw.Socket, match: (buffer: Buffer, address: string) => boolean, timeoutMs = 2000): Promise<Received> {
  return new Promise((resolve, reject) => {
    const onMessage = (buffer: Buffer, address: string, info: raw.MessageInfo): void => {
      if (!match(buffer, address)) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve({ buffer, address, info });
    };
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error(`No matching message within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('message', onMessage);
  });
}

/** Packets the kernel dropped on this host's input backlog (/proc/net/softnet_stat, 2nd column, all CPUs). */
function backlogDrops(): number {
  try {
    return readFileSync('/proc/net/softnet_stat', 'utf8')
      .trim()
      .split('\n')
      .reduce((sum, line) => sum + parseInt(line.trim().split(/\s+/)[1], 16), 0);
  } catch {
    return 0;
  }
}

/**
 * Sends an echo request and waits for its reply. On loopback a reply is lost only where
 * the kernel drops it: a receive queue overflowing under someone else's flood (loopback
 * is shared with other tests and benchmarks). So the request (same id and seq) is sent
 * again only when socket.drops or the input backlog's drops went up meanwhile, up to
 * `attempts` requests; a reply missing without a reported drop fails at once. Logs how
 * many requests it took, so a retry shows in the test output.
 */
export async function pingUntilReply(
  socket: raw.Socket,
  { id, seq = 1, family = 4, address = family === 4 ? '127.0.0.1' : '::1', attempts = 5, intervalMs = 400, payload }: Partial<EchoOptions> & { id: number; address?: string; attempts?: number; intervalMs?: number },
): Promise<Received & { attempt: number }> {
  const request = echoRequest({ id, seq, family, payload });
  const reply = nextMessage(socket, (buffer) => isEchoReply(buffer, id, family, seq), attempts * intervalMs + 500);
  reply.catch(() => undefined); // awaited below
  const losses = () => socket.drops + backlogDrops();
  for (let attempt = 1; ; attempt++) {
    const before = losses();
    const [error] = await sendCb(socket, request, address);
    if (error) throw error;
    const received = await Promise.race([reply, sleep(intervalMs).then(() => null)]);
    if (received) {
      console.log(`pingUntilReply id ${id}: reply to request ${attempt} of up to ${attempts}`);
      return { ...received, attempt };
    }
    if (attempt < attempts && losses() > before) continue; // a drop the kernel reported: send again
    // No drop reported: this request's reply must still come, by the deadline.
    try {
      return { ...(await reply), attempt };
    } catch {
      const why = losses() > before ? 'the kernel reported drops and the attempts ran out' : 'the kernel reported no drop, so nothing explains the loss';
      throw new Error(`No echo reply for id ${id} seq ${seq} from ${address} after ${attempt} request(s): ${why}`);
    }
  }
}

/** A child that pinged loopback and got no reply: it said so, or ran into its deadline waiting. */
export function lostReply(result: RunResult): boolean {
  return result.timedOut || /no reply from|not delivered/.test(result.stdout);
}

/**
 * Runs `run` up to `attempts` times, again only while `lost` says the last result lost a
 * packet to the shared loopback (the one loss these tests expect); any other failure is
 * returned at once. Logs the runs it took under `what`, so a retry shows in the test output.
 */
export async function retry<T>(what: string, attempts: number, run: () => Promise<T>, lost: (value: T) => boolean): Promise<T> {
  for (let runs = 1; ; runs++) {
    const result = await run();
    if (runs < attempts && lost(result)) continue;
    if (attempts > 1) console.log(`${what}: ${runs} run(s) of up to ${attempts}${runs > 1 ? ` (${runs - 1} lost a reply)` : ''}`);
    return result;
  }
}

/** Calls send with an afterCallback and resolves to [error, bytes, this]. */
export function sendCb(socket: raw.Socket, buffer: Uint8Array, address: string, offset = 0, length = buffer.length): Promise<[Error | null, number, unknown]> {
  return new Promise((resolve) => {
    socket.send(buffer, offset, length, address, function (this: unknown, error, bytes) {
      resolve([error, bytes, this]);
    });
  });
}

export function ipv4Socket(options: raw.SocketOptions = {}): raw.Socket {
  return raw.createSocket({ protocol: raw.Protocol.ICMP, ...options });
}

export function ipv6Socket(options: raw.SocketOptions = {}): raw.Socket {
  return raw.createSocket({ addressFamily: raw.AddressFamily.IPv6, protocol: raw.Protocol.ICMPv6, ...options });
}

/** Closes every socket it was given, once, at the end of a test. */
export class SocketJar {
  private readonly sockets: raw.Socket[] = [];
  add<T extends raw.Socket>(socket: T): T {
    this.sockets.push(socket);
    return socket;
  }
  closeAll(): void {
    for (const socket of this.sockets.splice(0)) if (!socket.isClosed) socket.close();
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Runs `node ...args` with a hard timeout (SIGKILL when it passes). */
export function runNode(args: string[], options: { timeout?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const timeout = options.timeout ?? 10_000;
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { timeout, killSignal: 'SIGKILL', cwd: options.cwd ?? NATIVE_DIR, env: options.env ?? process.env, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: number | string; signal?: NodeJS.Signals; killed?: boolean }) | null;
        const ms = Date.now() - started;
        resolve({
          code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
          signal: failure?.signal ?? null,
          stdout: String(stdout),
          stderr: String(stderr),
          ms,
          timedOut: Boolean(failure?.killed) && ms >= timeout - 50,
        });
      },
    );
  });
}

/** Errors the kernel's global ICMP budget dropped (Icmp OutRateLimitGlobal; since Linux
 * 6.12 one budget per namespace serves IPv4 and IPv6), or undefined on older kernels. */
export function icmpRateLimitDrops(): number | undefined {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((line) => line.startsWith('Icmp: '));
  if (lines.length < 2) return undefined;
  const names = lines[0].split(/\s+/);
  const index = names.indexOf('OutRateLimitGlobal');
  return index < 0 ? undefined : Number(lines[1].split(/\s+/)[index]);
}

/**
 * Runs body, and again (at most `attempts` times) only if it failed while the kernel's
 * global ICMP budget (net.ipv4.icmp_msgs_per_sec, burst icmp_msgs_burst) dropped errors:
 * other test files flood loopback in parallel, and an error test on loopback must not
 * fail for an error the kernel never sent. Any other failure is thrown at once.
 */
export async function retryOnIcmpRateLimit(body: () => Promise<void>, attempts = 3): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const before = icmpRateLimitDrops();
    try {
      await body();
      if (attempt > 1) console.log(`passed on attempt ${attempt} of up to ${attempts} (earlier ones lost ICMP errors to the rate limit)`);
      return;
    } catch (error) {
      const after = icmpRateLimitDrops();
      const limited = before !== undefined && after !== undefined && after > before;
      if (!limited || attempt >= attempts) throw error;
      console.warn(`retry ${attempt}/${attempts - 1}: the kernel rate-limited ${after - before} ICMP errors during the test`);
      await sleep(1100); // a full second refills the budget
    }
  }
}

/**
 * A UDP port on address that nothing listens on. Chosen below the ephemeral range
 * (ip_local_port_range starts at 32768), so no other test's bind(0) can take it
 * between this check and the test's send; bound once to prove it free, then released.
 */
export async function closedPort(type: 'udp4' | 'udp6', address: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    const socket = createUdpSocket(type);
    const free = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port, address, () => resolve(true));
    });
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (free) return port;
  }
  throw new Error(`no free UDP port in 20000-29999 on ${address} after 50 tries`);
}
