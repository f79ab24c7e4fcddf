// Network namespace labs: a linear topology client — router1 — … — target built
// from Linux network namespaces and veth pairs, for tests and for teachers' labs.
// Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2. Every command runs
// through execFile with an argument vector: nothing is ever parsed by a shell.
import { execFile, execFileSync, spawn as spawnChild, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { planLab, type LabFamily, type LabHostPlan, type LabPlan, type LabRole } from './plan';

// ---- commands ------------------------------------------------------------------

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Exit code, or null when a signal ended the command. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The command ran out of time and was killed. */
  timedOut: boolean;
}

export class LabCommandError extends Error {
  readonly result: CommandResult;
  readonly argv: readonly string[];

  constructor(argv: readonly string[], result: CommandResult) {
    const how = result.timedOut
      ? 'timed out'
      : result.code !== null
        ? `exited with code ${result.code}`
        : `was killed by ${result.signal}`;
    const detail = result.stderr.trim() || result.stdout.trim();
    super(`\`${argv.join(' ')}\` ${how}${detail ? `: ${detail.slice(0, 2000)}` : ''}`);
    this.name = 'LabCommandError';
    this.argv = argv;
    this.result = result;
  }
}

export interface RunOptions {
  /** Kill the command (SIGKILL) after this many ms; default 30 000. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Reject with a LabCommandError unless the command exits with 0; default true. */
  check?: boolean;
  /** Bytes of stdout or stderr kept; default 16 MiB. */
  maxBuffer?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const argv = [file, ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        timeout,
        killSignal: 'SIGKILL',
        maxBuffer: options.maxBuffer ?? 16 * 1024 * 1024,
        env: options.env,
        cwd: options.cwd,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const failure = error as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: NodeJS.Signals }) | null;
        if (failure && typeof failure.code === 'string') {
          // The command could not be started at all (ENOENT, EACCES, …).
          reject(failure);
          return;
        }
        const result: CommandResult = {
          stdout,
          stderr,
          code: failure ? ((failure.code as number | undefined) ?? null) : 0,
          signal: failure?.signal ?? null,
          timedOut: Boolean(failure?.killed) && failure?.signal === 'SIGKILL',
        };
        if (options.check !== false && result.code !== 0) reject(new LabCommandError(argv, result));
        else resolve(result);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

// ---- validation -----------------------------------------------------------------

const SYSCTL_KEY = /^[A-Za-z0-9_]+(?:[./][A-Za-z0-9_-]+)*$/;
const NAME_PREFIX = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,39}$/;

export type Sysctls = Readonly<Record<string, string | number>>;

function sysctlArguments(sysctls: Sysctls): string[] {
  return Object.entries(sysctls).map(([key, value]) => {
    if (!SYSCTL_KEY.test(key)) throw new RangeError(`Invalid sysctl name '${key}'`);
    const text = String(value);
    if (/[\0\n\r]/.test(text)) throw new RangeError(`Invalid value for sysctl ${key}`);
    return `${key}=${text}`;
  });
}

function checkArgv(argv: readonly string[]): void {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) {
    throw new TypeError('The "argv" argument must be a non-empty array of strings');
  }
}

// ---- running as another user ------------------------------------------------------

export interface RunAs {
  uid: number;
  gid: number;
}

/** nobody:nogroup on Debian-like systems. */
export const NOBODY: RunAs = Object.freeze({ uid: 65534, gid: 65534 });

/** setpriv prefix that drops to uid/gid with no supplementary groups and no capabilities. */
export function runAsPrefix(user: RunAs): string[] {
  for (const id of [user.uid, user.gid]) {
    if (!Number.isInteger(id) || id < 0 || id > 0xfffffffe) throw new RangeError(`Invalid user or group id ${id}`);
  }
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--inh-caps=-all'];
}

export interface NamespaceExecOptions extends RunOptions {
  /** Run as this user (through setpriv, without capabilities), e.g. NOBODY. */
  user?: RunAs;
}

export interface NamespaceSpawnOptions extends SpawnOptions {
  user?: RunAs;
}

// ---- cleanup registry ---------------------------------------------------------------

// Every namespace and child process created by this module, until destroyed, so a
// process that exits or is signalled does not leave them behind.
const liveNamespaces = new Set<string>();
const liveChildren = new Set<ChildProcess>();
let handlersInstalled = false;
const CLEANUP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function cleanupSync(): void {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  liveChildren.clear();
  for (const name of liveNamespaces) {
    try {
      execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore', timeout: 5_000 });
    } catch {
      // best effort: it may already be gone
    }
  }
  liveNamespaces.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupSync();
  // With nobody else listening, do what the signal would have done.
  if (process.listenerCount(signal) <= 1) {
    uninstallHandlers();
    process.kill(process.pid, signal);
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupSync);
  for (const signal of CLEANUP_SIGNALS) process.on(signal, onSignal);
}

function uninstallHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off('exit', cleanupSync);
  for (const signal of CLEANUP_SIGNALS) process.off(signal, onSignal);
}

function maybeUninstallHandlers(): void {
  if (liveNamespaces.size === 0 && liveChildren.size === 0) uninstallHandlers();
}

let sequence = 0;

/** A name unique to this process and call: `${prefix}-${pid}-${n}${random}`. */
function uniqueId(prefix: string): string {
  if (!NAME_PREFIX.test(prefix)) throw new RangeError(`Invalid name prefix '${prefix}'`);
  return `${prefix}-${process.pid}-${sequence++}${randomBytes(2).toString('hex')}`;
}

// ---- one namespace -------------------------------------------------------------------

export interface Namespace {
  readonly name: string;
  /** Run argv inside the namespace (`ip netns exec NAME …`). */
  exec(argv: readonly string[], options?: NamespaceExecOptions): Promise<CommandResult>;
  /** Start argv inside the namespace; the child is killed by destroy(). */
  spawn(argv: readonly string[], options?: NamespaceSpawnOptions): ChildProcess;
  /** Set sysctls inside the namespace (net.* ones are per namespace). */
  setSysctls(sysctls: Sysctls): Promise<void>;
  /** Kill its children and delete it; idempotent. */
  destroy(): Promise<void>;
}

export interface NamespaceOptions {
  /** Default 'pwlab'; the name becomes `${prefix}-${pid}-${n}…`. */
  prefix?: string;
  /** Appended to the name, e.g. a host name. */
  suffix?: string;
  /** Applied right after creation, before any link exists. */
  sysctls?: Sysctls;
  /** Bring `lo` up; default true. */
  loopback?: boolean;
}

function execArgv(name: string, argv: readonly string[], user: RunAs | undefined): string[] {
  checkArgv(argv);
  return ['netns', 'exec', name, ...(user ? runAsPrefix(user) : []), ...argv];
}

async function deleteNamespace(name: string): Promise<void> {
  const result = await run('ip', ['netns', 'delete', name], { check: false, timeoutMs: 10_000 });
  if (result.code !== 0 && !/No such file|does not exist/i.test(result.stderr)) {
    throw new LabCommandError(['ip', 'netns', 'delete', name], result);
  }
}

async function stopChildren(children: Set<ChildProcess>): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    waits.push(
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      }),
    );
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  await Promise.all(waits);
  for (const child of children) liveChildren.delete(child);
  children.clear();
}

/** Creates a network namespace with `lo` up and the given sysctls. */
export async function createNamespace(options: NamespaceOptions = {}): Promise<Namespace> {
  let name = uniqueId(options.prefix ?? 'pwlab');
  if (options.suffix !== undefined) {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(options.suffix)) throw new RangeError(`Invalid namespace suffix '${options.suffix}'`);
    name += `-${options.suffix}`;
  }
  return openNamespace(name, options);
}

async function openNamespace(name: string, options: NamespaceOptions): Promise<Namespace> {
  const sysctls = sysctlArguments(options.sysctls ?? {});
  installHandlers();
  liveNamespaces.add(name);
  const children = new Set<ChildProcess>();
  let destroyed = false;

  const namespace: Namespace = {
    name,
    exec(argv, execOptions = {}) {
      if (destroyed) return Promise.reject(new Error(`Namespace ${name} is destroyed`));
      try {
        return run('ip', execArgv(name, argv, execOptions.user), execOptions);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    spawn(argv, spawnOptions = {}) {
      if (destroyed) throw new Error(`Namespace ${name} is destroyed`);
      const { user, ...rest } = spawnOptions;
      const child = spawnChild('ip', execArgv(name, argv, user), rest);
      children.add(child);
      liveChildren.add(child);
      child.once('exit', () => {
        children.delete(child);
        liveChildren.delete(child);
      });
      child.once('error', () => {
        children.delete(child);
        liveChildren.delete(child);
      });
      return child;
    },
    async setSysctls(more) {
      const args = sysctlArguments(more);
      if (args.length > 0) await run('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', ...args], { timeoutMs: 10_000 });
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await stopChildren(children);
      try {
        await deleteNamespace(name);
      } finally {
        liveNamespaces.delete(name);
        maybeUninstallHandlers();
      }
    },
  };

  try {
    await run('ip', ['netns', 'add', name], { timeoutMs: 10_000 });
    if (options.loopback !== false) await run('ip', ['-n', name, 'link', 'set', 'lo', 'up'], { timeoutMs: 10_000 });
    if (sysctls.length > 0) await run('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', ...sysctls], { timeoutMs: 10_000 });
  } catch (error) {
    await namespace.destroy().catch(() => undefined);
    throw error;
  }
  return namespace;
}

// ---- support check -----------------------------------------------------------------------

export interface LabSupport {
  supported: boolean;
  /** Why not, when not supported. */
  reason?: string;
}

let cachedSupport: LabSupport | undefined;

/** Whether labs can be built here: Linux, root, and `ip netns add` works. Synchronous, cached. */
export function labSupport(): LabSupport {
  if (cachedSupport) return cachedSupport;
  cachedSupport = checkSupport();
  return cachedSupport;
}

export function isLabSupported(): boolean {
  return labSupport().supported;
}

function checkSupport(): LabSupport {
  if (process.platform !== 'linux') return { supported: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { supported: false, reason: 'network namespace labs need root (ip netns add needs CAP_SYS_ADMIN)' };
  }
  const name = uniqueId('pwlab-check');
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'the `ip` command (iproute2) is not installed' : `\`ip netns add\` failed: ${stderr || (error as Error).message}`;
    return { supported: false, reason: why };
  }
  try {
    execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    return { supported: false, reason: `\`ip netns delete ${name}\` failed` };
  }
  return { supported: true };
}

// ---- the lab --------------------------------------------------------------------------------

export interface LabHost {
  name: string;
  role: LabRole;
  namespace: string;
  /** Per family, in interface order (toward the client first). */
  addresses: Record<LabFamily, string[]>;
  interfaces: LabHostPlan['interfaces'];
}

export interface LabOptions {
  /** Routers between client and target: 0-64, default 2. */
  routers?: number;
  /** Namespace name prefix, default 'pwlab'. */
  prefix?: string;
  /** Extra sysctls for every namespace, e.g. { 'net.ipv4.ping_group_range': '0 2147483647' }. */
  sysctls?: Sysctls;
  /** Extra sysctls per host name ('client', 'router1', 'target', …). */
  hostSysctls?: Readonly<Record<string, Sysctls>>;
  /** Wait until the client reaches the target over both families (ms); 0 skips the check; default 10 000. */
  readyTimeoutMs?: number;
}

export interface Lab {
  /** Unique per lab: `${prefix}-${pid}-${n}…`; every namespace name starts with it. */
  id: string;
  plan: LabPlan;
  hosts: Record<string, LabHost>;
  client: LabHost;
  routers: LabHost[];
  target: LabHost;
  /** Namespace names, client first. */
  namespaces: string[];
  expectedHops: Record<LabFamily, string[]>;
  exec(host: string, argv: readonly string[], options?: NamespaceExecOptions): Promise<CommandResult>;
  spawn(host: string, argv: readonly string[], options?: NamespaceSpawnOptions): ChildProcess;
  /** Kills the lab's children and deletes its namespaces (their veths go with them); idempotent. */
  destroy(): Promise<void>;
}

const BASE_SYSCTLS: Sysctls = {
  // No duplicate address detection: addresses are usable at once.
  'net.ipv6.conf.all.accept_dad': 0,
  'net.ipv6.conf.default.accept_dad': 0,
  'net.ipv6.conf.all.disable_ipv6': 0,
  'net.ipv6.conf.default.disable_ipv6': 0,
};

const ROUTER_SYSCTLS: Sysctls = {
  'net.ipv4.ip_forward': 1,
  'net.ipv6.conf.all.forwarding': 1,
  // Every expired probe gets its Time Exceeded.
  'net.ipv4.icmp_ratelimit': 0,
  'net.ipv6.icmp.ratelimit': 0,
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Builds client — router1 — … — target and waits until the client reaches the target. */
export async function createLab(options: LabOptions = {}): Promise<Lab> {
  const plan = planLab({ routers: options.routers });
  const id = uniqueId(options.prefix ?? 'pwlab');
  sysctlArguments(options.sysctls ?? {});
  for (const [host, sysctls] of Object.entries(options.hostSysctls ?? {})) {
    if (!plan.hosts.some((h) => h.name === host)) throw new RangeError(`hostSysctls names an unknown host '${host}'`);
    sysctlArguments(sysctls);
  }
  const readyTimeout = options.readyTimeoutMs ?? 10_000;

  const namespaces = new Map<string, Namespace>();
  const destroy = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const namespace of namespaces.values()) {
      try {
        await namespace.destroy();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `Could not remove every namespace of lab ${id}`);
  };

  try {
    for (const host of plan.hosts) {
      const namespace = await openNamespace(`${id}-${host.name}`, {
        sysctls: {
          ...BASE_SYSCTLS,
          ...(host.forwarding ? ROUTER_SYSCTLS : {}),
          ...options.sysctls,
          ...options.hostSysctls?.[host.name],
        },
      });
      namespaces.set(host.name, namespace);
    }
    await wire(plan, namespaces);
    if (readyTimeout > 0) await waitUntilReachable(plan, namespaces.get('client') as Namespace, readyTimeout);
  } catch (error) {
    await destroy().catch(() => undefined);
    throw error;
  }

  const hosts: Record<string, LabHost> = {};
  for (const host of plan.hosts) {
    hosts[host.name] = {
      name: host.name,
      role: host.role,
      namespace: (namespaces.get(host.name) as Namespace).name,
      addresses: { ipv4: [...host.addresses.ipv4], ipv6: [...host.addresses.ipv6] },
      interfaces: host.interfaces.map((i) => ({ ...i })),
    };
  }
  const namespaceOf = (host: string): Namespace => {
    const namespace = namespaces.get(host);
    if (!namespace) throw new RangeError(`Unknown lab host '${host}' (hosts: ${[...namespaces.keys()].join(', ')})`);
    return namespace;
  };
  return {
    id,
    plan,
    hosts,
    client: hosts.client,
    routers: plan.hosts.filter((h) => h.role === 'router').map((h) => hosts[h.name]),
    target: hosts.target,
    namespaces: plan.hosts.map((h) => hosts[h.name].namespace),
    expectedHops: { ipv4: [...plan.expectedHops.ipv4], ipv6: [...plan.expectedHops.ipv6] },
    exec: async (host, argv, execOptions) => namespaceOf(host).exec(argv, execOptions),
    spawn: (host, argv, spawnOptions) => namespaceOf(host).spawn(argv, spawnOptions),
    destroy,
  };
}

/** veth pairs created directly inside their namespaces (never in the caller's), addresses, routes. */
async function wire(plan: LabPlan, namespaces: Map<string, Namespace>): Promise<void> {
  const ns = (host: string): string => (namespaces.get(host) as Namespace).name;
  const options: RunOptions = { timeoutMs: 10_000 };
  for (const link of plan.links) {
    // Each end is named after the host at the other end.
    await run('ip', ['link', 'add', link.right, 'netns', ns(link.left), 'type', 'veth', 'peer', 'name', link.left, 'netns', ns(link.right)], options);
  }
  for (const host of plan.hosts) {
    const name = ns(host.name);
    for (const iface of host.interfaces) {
      await run('ip', ['-n', name, 'address', 'add', `${iface.ipv4}/24`, 'dev', iface.name], options);
      await run('ip', ['-n', name, '-6', 'address', 'add', `${iface.ipv6}/64`, 'dev', iface.name, 'nodad'], options);
      await run('ip', ['-n', name, 'link', 'set', iface.name, 'up'], options);
    }
  }
  for (const host of plan.hosts) {
    const name = ns(host.name);
    for (const route of host.routes) {
      await run('ip', ['-n', name, route.family === 'ipv4' ? '-4' : '-6', 'route', 'add', route.destination, 'via', route.via], options);
    }
  }
}

/** Bounded: one `ping -c1 -W1` per family per attempt until both answer or the time is up. */
async function waitUntilReachable(plan: LabPlan, client: Namespace, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const target = plan.hosts[plan.hosts.length - 1];
  const pending = new Set<LabFamily>(['ipv4', 'ipv6']);
  const last: Partial<Record<LabFamily, string>> = {};
  for (let attempt = 0; attempt < 100 && pending.size > 0; attempt++) {
    for (const family of [...pending]) {
      const address = target.addresses[family][0];
      const result = await client.exec(['ping', family === 'ipv4' ? '-4' : '-6', '-n', '-c1', '-W1', address], {
        check: false,
        timeoutMs: 3_000,
      });
      if (result.code === 0) pending.delete(family);
      else last[family] = (result.stdout + result.stderr).trim().split('\n').slice(-2).join(' | ');
    }
    if (pending.size === 0 || Date.now() >= deadline) break;
    await sleep(100);
  }
  if (pending.size > 0) {
    const details = [...pending].map((f) => `${f} ${target.addresses[f][0]}: ${last[f] ?? 'no answer'}`).join('; ');
    throw new Error(`Lab not ready: the client did not reach the target within ${timeoutMs} ms (${details})`);
  }
}
