// Network namespaces for labs: create one with `lo` up and its sysctls, run commands
// in it, delete it; a registry removes every namespace this process made on exit
// and on SIGINT/SIGTERM/SIGHUP. labSupport() says whether namespaces work here.
import { execFileSync, spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { checkArgv, NAME_PREFIX, run, runAsPrefix, sysctlArguments, LabCommandError, type CommandResult, type NamespaceExecOptions, type NamespaceSpawnOptions, type RunAs, type Sysctls } from './command';

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

/**
 * Stops tracking a namespace so this process's exit no longer deletes it: a lab
 * that outlives `lab up` (its state file says how to remove it).
 */
export function keepNamespace(name: string): void {
  liveNamespaces.delete(name);
  maybeUninstallHandlers();
}

let sequence = 0;

/** A name unique to this process and call: `${prefix}-${pid}-${n}${random}`. */
export function uniqueId(prefix: string): string {
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

/** The lookup a lab's exec/spawn use: a host's namespace, or a RangeError listing the hosts. */
export function namespaceLookup(namespaces: ReadonlyMap<string, Namespace>): (host: string) => Namespace {
  return (host) => {
    const namespace = namespaces.get(host);
    if (!namespace) throw new RangeError(`Unknown lab host '${host}' (hosts: ${[...namespaces.keys()].join(', ')})`);
    return namespace;
  };
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

export async function openNamespace(name: string, options: NamespaceOptions): Promise<Namespace> {
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
