// The workbench's side of the socket helper (helper/README.md): starts the helper
// with one end of an AF_UNIX SOCK_SEQPACKET socketpair as its stdin, waits for its
// hello, then asks it for raw sockets, one request at a time. Each answer is one
// message; a successful open carries the socket's descriptor (SCM_RIGHTS).
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { binding, type NativeDescriptorChannel } from './binding';
import { RawSocketError } from './errors';
import { createSocket, type Socket, type SocketOptions } from './socket';

export interface HelperHello {
  version: number;
  pid: number;
  uid: number;
  gid: number;
  mode: 'capability' | 'elevated';
  capabilities: string[];
}

export interface HelperOpenRequest {
  family: 'ipv4' | 'ipv6';
  protocol: 'icmp' | 'icmpv6' | 'udp' | 'tcp' | 'raw';
  /** A lab network namespace (pwlab…); needs a helper started with --elevated --namespaces. */
  namespace?: string;
}

export interface HelperExitInfo {
  code: number | null;
  signal: string | null;
  reason: string;
}

export interface HelperStartOptions {
  /** Until the hello; default 120 000 (a password prompt may take long). The process is killed then. */
  timeoutMs?: number;
  /** Per request; default 10 000. A helper that misses it is stopped (a late answer would be taken for the next request's). */
  requestTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface HelperErrorDetails {
  exitCode?: number;
  signal?: string;
  stderr?: string;
}

/**
 * A refusal or failure of the socket helper. code: an errno name the helper sent
 * (EPROTONOSUPPORT, EACCES, EPERM, EINVAL, …), ENOCAP (the helper lacks CAP_NET_RAW),
 * EHELPEREXIT (it exited or was not running), ETIMEDOUT or EPROTO (it broke the protocol).
 */
export class HelperError extends RawSocketError {
  exitCode?: number;
  signal?: string;
  /** The last lines the helper (or sudo/pkexec) wrote to stderr. */
  stderr?: string;

  constructor(message: string, code: string, details: HelperErrorDetails = {}) {
    const errno = (osConstants.errno as Record<string, number | undefined>)[code];
    super(message, code, errno);
    this.name = 'HelperError';
    if (details.exitCode !== undefined) this.exitCode = details.exitCode;
    if (details.signal !== undefined) this.signal = details.signal;
    if (details.stderr !== undefined) this.stderr = details.stderr;
  }
}

const DEFAULT_START_TIMEOUT_MS = 120_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** After a refusal, how long to wait for the exit code. */
const REFUSAL_EXIT_WAIT_MS = 2_000;
/** stop(): the grace after closing the channel, then after SIGTERM, before SIGKILL. */
const STOP_GRACE_MS = 2_000;
const KILL_GRACE_MS = 1_000;
const STDERR_KEEP = 4096;
const MAX_TIMEOUT = 0x7fffffff;
// One word of a request: the helper splits on single spaces, so no field may add words.
const WORD = /^[\x21-\x7e]{1,200}$/;
const HELLO =
  /^hello (\d{1,3}) pid=(\d{1,10}) uid=(\d{1,10}) gid=(\d{1,10}) mode=(capability|elevated) caps=([a-z_]+(?:,[a-z_]+)*)$/;

interface Timeouts {
  start: number;
  request: number;
}

interface Reply {
  text: string;
  descriptor: number;
}

interface Pending {
  line: string;
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

function closeQuietly(descriptor: number): void {
  if (descriptor < 0) return;
  try {
    closeSync(descriptor);
  } catch {
    // already closed
  }
}

function checkArgv(argv: unknown): asserts argv is string[] {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((item) => typeof item === 'string' && item.length > 0)) {
    throw new TypeError('The "argv" argument must be a non-empty array of non-empty strings');
  }
}

function timeoutOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT) {
    throw new RangeError(`The "${name}" option must be an integer from 1 to ${MAX_TIMEOUT}`);
  }
  return value;
}

function requestLine(request: HelperOpenRequest): string {
  if (typeof request !== 'object' || request === null) throw new TypeError('The "request" argument must be an object');
  const { family, protocol, namespace } = request;
  for (const [name, value] of [['family', family], ['protocol', protocol]] as const) {
    if (typeof value !== 'string' || !WORD.test(value)) {
      throw new TypeError(`The "${name}" field must be one word of printable ASCII, got ${JSON.stringify(value)}`);
    }
  }
  if (namespace === undefined) return `open ${family} ${protocol}`;
  if (typeof namespace !== 'string' || !WORD.test(namespace)) {
    throw new TypeError(`The "namespace" field must be one word of printable ASCII, got ${JSON.stringify(namespace)}`);
  }
  // Which names are allowed is the helper's decision (pwlab… only).
  return `open ${family} ${protocol} netns ${namespace}`;
}

function parseHello(text: string): HelperHello | null {
  const match = HELLO.exec(text);
  if (!match) return null;
  return {
    version: Number(match[1]),
    pid: Number(match[2]),
    uid: Number(match[3]),
    gid: Number(match[4]),
    mode: match[5] as HelperHello['mode'],
    capabilities: match[6].split(','),
  };
}

/** `error CODE reason` or `refused CODE reason` as a HelperError; null for anything else. */
function parseFailure(text: string, details: HelperErrorDetails = {}): HelperError | null {
  const match = /^(?:error|refused) ([A-Z][A-Z0-9]{1,31}) (.+)$/s.exec(text);
  if (!match) return null;
  return new HelperError(`The socket helper: ${match[2]}`, match[1], details);
}

export class SocketHelperClient extends EventEmitter {
  /** What the helper said when it was ready. */
  readonly hello: HelperHello;
  /** The spawned process: sudo or pkexec, or the helper itself. */
  readonly pid: number;

  private readonly child: ChildProcess;
  private readonly channel: NativeDescriptorChannel;
  private readonly stderrTail: () => string;
  private readonly exited: Promise<void>;
  private queue: Pending[] = [];
  private inFlight: Pending | null = null;
  private requestTimer: NodeJS.Timeout | null = null;
  private channelOpen = true;
  /** close() was called on the channel; its onClose is still to come. */
  private channelClosing = false;
  private processExited = false;
  private stopping = false;
  private exitEmitted = false;
  private exitInfo: { code: number | null; signal: string | null } | null = null;
  private failure: string | null = null;

  /**
   * Spawns argv (e.g. [helperPath], or ['sudo', '-n', '--', helperPath, '--elevated'])
   * with the channel as its stdin and resolves once the helper's hello arrives.
   * Rejects with a HelperError when it exits or refuses first (with its exit code
   * and last stderr lines), or after timeoutMs (the process is killed then).
   */
  static start(argv: string[], options: HelperStartOptions = {}): Promise<SocketHelperClient> {
    let timeouts: Timeouts;
    try {
      checkArgv(argv);
      if (typeof options !== 'object' || options === null) throw new TypeError('The "options" argument must be an object');
      timeouts = {
        start: timeoutOption(options.timeoutMs, 'timeoutMs', DEFAULT_START_TIMEOUT_MS),
        request: timeoutOption(options.requestTimeoutMs, 'requestTimeoutMs', DEFAULT_REQUEST_TIMEOUT_MS),
      };
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => new Starter([...argv], options.env ?? process.env, timeouts, resolve, reject).begin());
  }

  private readonly requestTimeoutMs: number;

  /** @internal Built by start(). */
  constructor(
    child: ChildProcess,
    channel: NativeDescriptorChannel,
    hello: HelperHello,
    requestTimeoutMs: number,
    stderrTail: () => string,
    exited: Promise<{ code: number | null; signal: string | null }>,
  ) {
    super();
    this.requestTimeoutMs = requestTimeoutMs;
    this.child = child;
    this.channel = channel;
    this.hello = hello;
    this.pid = child.pid as number;
    this.stderrTail = stderrTail;
    this.exited = exited.then((info) => {
      this.exitInfo = info;
      this.processExited = true;
      this.onEnded();
    });
  }

  /** The process runs and the channel is open. */
  get running(): boolean {
    return this.channelOpen && !this.channelClosing && !this.processExited;
  }

  /** Opens a raw socket in the helper; resolves with its descriptor, which the caller owns (close it). */
  openDescriptor(request: HelperOpenRequest): Promise<number> {
    let line: string;
    try {
      line = requestLine(request);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.request(line).then(({ text, descriptor }) => {
      const expected = `ok ${request.family} ${request.protocol}`;
      if (text === expected && descriptor >= 0) return descriptor;
      closeQuietly(descriptor);
      throw parseFailure(text) ?? this.protocolError(`answered '${text.slice(0, 80)}' to '${line}'`);
    });
  }

  /**
   * Opens a raw socket in the helper and adopts it as a Socket
   * (`createSocket({ ...socketOptions, descriptor })`: family, protocol and mode come
   * from the descriptor, given ones must match). The descriptor is closed if adoption throws.
   */
  async openSocket(request: HelperOpenRequest, socketOptions: Omit<SocketOptions, 'descriptor'> = {}): Promise<Socket> {
    if (typeof socketOptions !== 'object' || socketOptions === null) {
      throw new TypeError('The "socketOptions" argument must be an object');
    }
    const descriptor = await this.openDescriptor(request);
    try {
      return createSocket({ ...socketOptions, descriptor });
    } catch (error) {
      closeQuietly(descriptor);
      throw error;
    }
  }

  /** A round trip through the helper. */
  async ping(): Promise<void> {
    const { text, descriptor } = await this.request('ping');
    closeQuietly(descriptor);
    if (text !== 'pong') throw this.protocolError(`answered '${text.slice(0, 80)}' to 'ping'`);
  }

  /** Ends the channel, so the helper exits; resolves when the process has exited (SIGKILL after a bound). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.closeChannel();
    if (!this.processExited) {
      const escalate = [
        setTimeout(() => this.signal('SIGTERM'), STOP_GRACE_MS),
        setTimeout(() => this.signal('SIGKILL'), STOP_GRACE_MS + KILL_GRACE_MS),
      ];
      try {
        await this.exited;
      } finally {
        escalate.forEach(clearTimeout);
      }
    }
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      this.child.kill(signal);
    } catch {
      // gone already
    }
  }

  private request(line: string): Promise<Reply> {
    if (!this.running) {
      return Promise.reject(new HelperError(`The socket helper is not running${this.failure ? `: ${this.failure}` : ''}`, 'EHELPEREXIT', this.details()));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.inFlight || this.queue.length === 0 || !this.running) return;
    const pending = this.queue.shift() as Pending;
    this.inFlight = pending;
    try {
      this.channel.send(Buffer.from(pending.line, 'latin1'));
    } catch (error) {
      this.inFlight = null;
      pending.reject(new HelperError(`The socket helper's channel failed: ${(error as Error).message}`, 'EHELPEREXIT', this.details()));
      this.fail('its channel failed');
      return;
    }
    this.requestTimer = setTimeout(() => {
      this.requestTimer = null;
      this.inFlight = null;
      const what = `no answer to '${pending.line}' within ${this.requestTimeoutMs} ms`;
      pending.reject(new HelperError(`The socket helper gave ${what}; it is stopped`, 'ETIMEDOUT', this.details()));
      // A late answer would be taken for the next request's: end the helper instead.
      this.fail(what);
    }, this.requestTimeoutMs);
  }

  /** @internal Called by the channel. */
  handleMessage(text: Buffer, descriptor: number, problem: number): void {
    const pending = this.inFlight;
    if (!pending || problem !== 0) {
      closeQuietly(descriptor);
      this.fail(problem !== 0 ? `sent a malformed message (${problem})` : 'sent a message nobody asked for');
      return;
    }
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.requestTimer = null;
    this.inFlight = null;
    pending.resolve({ text: text.toString('latin1'), descriptor });
    this.next();
  }

  /** @internal Called by the channel. */
  handleChannelClose(errno: number): void {
    this.channelOpen = false;
    if (errno !== 0 && !this.failure) this.failure = `its channel failed (errno ${errno})`;
    this.onEnded();
    // The helper has gone, or will see the end of the channel; make sure the process ends.
    if (!this.processExited && !this.stopping) {
      const kill = setTimeout(() => this.signal('SIGKILL'), STOP_GRACE_MS);
      void this.exited.finally(() => clearTimeout(kill));
    }
  }

  private protocolError(what: string): HelperError {
    return new HelperError(`The socket helper ${what}`, 'EPROTO', this.details());
  }

  private fail(reason: string): void {
    if (!this.failure) this.failure = reason;
    this.closeChannel();
    if (!this.processExited) {
      this.signal('SIGTERM');
      const kill = setTimeout(() => this.signal('SIGKILL'), KILL_GRACE_MS);
      void this.exited.finally(() => clearTimeout(kill));
    }
  }

  private closeChannel(): void {
    if (this.channelOpen && !this.channelClosing) {
      this.channelClosing = true;
      this.channel.close(); // handleChannelClose follows
    }
  }

  private details(): HelperErrorDetails {
    const details: HelperErrorDetails = {};
    if (this.exitInfo?.code != null) details.exitCode = this.exitInfo.code;
    if (this.exitInfo?.signal != null) details.signal = this.exitInfo.signal;
    const stderr = this.stderrTail();
    if (stderr) details.stderr = stderr;
    return details;
  }

  /** Rejects what waits once the channel or the process has ended; emits 'exit' once both have. */
  private onEnded(): void {
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.requestTimer = null;
    const waiting = [...(this.inFlight ? [this.inFlight] : []), ...this.queue.splice(0)];
    this.inFlight = null;
    for (const pending of waiting) {
      pending.reject(new HelperError(`The socket helper ended before answering '${pending.line}'${this.failure ? `: ${this.failure}` : ''}`, 'EHELPEREXIT', this.details()));
    }
    if (!this.processExited) return;
    this.closeChannel();
    if (this.exitEmitted || this.channelOpen) return;
    this.exitEmitted = true;
    const { code, signal } = this.exitInfo as { code: number | null; signal: string | null };
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    const stderr = this.stderrTail().split('\n').filter(Boolean).pop();
    const reason = this.failure
      ? `${this.failure} (${how})`
      : this.stopping
        ? `stopped (${how})`
        : `${how}${stderr ? `: ${stderr}` : ''}`;
    this.emit('exit', { code, signal, reason } satisfies HelperExitInfo);
  }
}

/** One start(): spawn, channel, hello, or a rejection with everything cleaned up. */
class Starter {
  private child: ChildProcess | null = null;
  private channel: NativeDescriptorChannel | null = null;
  private client: SocketHelperClient | null = null;
  private stderr = '';
  private settled = false;
  private timer: NodeJS.Timeout | null = null;
  private exitWaiter: NodeJS.Timeout | null = null;
  private refusal: HelperError | null = null;
  private exitInfo: { code: number | null; signal: string | null } | null = null;
  private resolveExit!: (info: { code: number | null; signal: string | null }) => void;
  private readonly exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    this.resolveExit = resolve;
  });

  constructor(
    private readonly argv: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly timeouts: Timeouts,
    private readonly resolve: (client: SocketHelperClient) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  begin(): void {
    const [ours, theirs] = binding.socketPair();
    try {
      this.child = spawn(this.argv[0], this.argv.slice(1), { stdio: [theirs, 'ignore', 'pipe'], env: this.env });
    } catch (error) {
      closeQuietly(ours);
      this.settled = true;
      this.reject(error as Error);
      return;
    } finally {
      closeQuietly(theirs); // the child has its own copy as stdin
    }
    const child = this.child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEEP);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Could not be started (ENOENT, EACCES): no 'exit' follows.
      if (child.pid === undefined) this.onExit(null, null, error);
    });
    child.on('exit', (code, signal) => this.onExit(code, signal));
    try {
      this.channel = new binding.DescriptorChannel(ours, {
        onMessage: (text, descriptor, problem) => this.onMessage(text, descriptor, problem),
        onClose: (errno) => this.client?.handleChannelClose(errno) ?? this.onEarlyClose(errno),
      });
    } catch (error) {
      closeQuietly(ours);
      this.fail(error as Error);
      return;
    }
    this.timer = setTimeout(() => {
      this.fail(new HelperError(`The socket helper did not start within ${this.timeouts.start} ms`, 'ETIMEDOUT', this.details()));
    }, this.timeouts.start);
  }

  private tail(): string {
    return this.stderr.split('\n').map((line) => line.trimEnd()).filter(Boolean).slice(-5).join('\n');
  }

  private details(): HelperErrorDetails {
    const details: HelperErrorDetails = {};
    if (this.exitInfo?.code != null) details.exitCode = this.exitInfo.code;
    if (this.exitInfo?.signal != null) details.signal = this.exitInfo.signal;
    const stderr = this.tail();
    if (stderr) details.stderr = stderr;
    return details;
  }

  private onMessage(text: Buffer, descriptor: number, problem: number): void {
    if (this.client) {
      this.client.handleMessage(text, descriptor, problem);
      return;
    }
    closeQuietly(descriptor);
    if (this.settled || this.refusal) return;
    const line = text.toString('latin1');
    const hello = problem === 0 && descriptor < 0 ? parseHello(line) : null;
    if (hello && hello.version === 1) {
      this.succeed(hello);
      return;
    }
    const refusal = parseFailure(line);
    if (refusal && line.startsWith('refused ')) {
      // Its exit code comes next; wait a little for it.
      this.refusal = refusal;
      this.exitWaiter = setTimeout(() => this.fail(refusal), REFUSAL_EXIT_WAIT_MS);
      return;
    }
    this.fail(new HelperError(`The socket helper sent '${line.slice(0, 80)}' instead of its hello`, 'EPROTO', this.details()));
  }

  private onEarlyClose(errno: number): void {
    this.channel = null;
    if (this.settled || this.refusal) return;
    // The helper (or sudo) closed the channel, or is gone: its exit code tells why.
    this.exitWaiter = setTimeout(() => {
      this.fail(new HelperError(`The socket helper closed its channel before it was ready${errno ? ` (errno ${errno})` : ''}`, 'EHELPEREXIT', this.details()));
    }, REFUSAL_EXIT_WAIT_MS);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void {
    if (this.exitInfo) return;
    this.exitInfo = { code, signal };
    // 'exit' can come before the last of stderr: read what is left first.
    const finish = (): void => {
      this.resolveExit({ code, signal });
      if (this.settled) return;
      if (spawnError) {
        this.fail(new HelperError(`The socket helper could not be started: ${spawnError.message}`, 'EHELPEREXIT', this.details()));
        return;
      }
      if (this.refusal) {
        const refusal = this.refusal;
        Object.assign(refusal, this.details());
        refusal.message += code !== null ? ` (exit code ${code})` : '';
        this.fail(refusal);
        return;
      }
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const stderr = this.tail();
      this.fail(new HelperError(`The socket helper ${how} before it was ready${stderr ? `: ${stderr}` : ''}`, 'EHELPEREXIT', this.details()));
    };
    const stream = this.child?.stderr;
    if (!stream || stream.readableEnded || stream.destroyed) {
      finish();
      return;
    }
    const done = setTimeout(finish, 200);
    stream.once('close', () => {
      clearTimeout(done);
      finish();
    });
  }

  private succeed(hello: HelperHello): void {
    this.settled = true;
    this.clearTimers();
    const child = this.child as ChildProcess;
    const channel = this.channel as NativeDescriptorChannel;
    this.client = new SocketHelperClient(child, channel, hello, this.timeouts.request, () => this.tail(), this.exited);
    this.resolve(this.client);
  }

  private fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.clearTimers();
    this.channel?.close();
    this.channel = null;
    const child = this.child;
    if (child && !this.exitInfo && child.pid !== undefined) {
      try {
        child.kill('SIGTERM');
      } catch {
        // gone
      }
      const kill = setTimeout(() => {
        try {
          child.kill('SIGKILL');
        } catch {
          // gone
        }
      }, KILL_GRACE_MS);
      void this.exited.then(() => clearTimeout(kill));
    }
    this.reject(error);
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.exitWaiter) clearTimeout(this.exitWaiter);
    this.timer = null;
    this.exitWaiter = null;
  }
}
