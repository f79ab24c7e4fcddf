// Labs that outlive the process that built them (`lab up NAME`): a state file per
// lab under /run/packet-workbench/labs/ (a tmpfs: a reboot forgets labs, as it
// forgets their namespaces), a crash guard that removes a half-built lab when its
// builder is killed, and the sweep of namespaces no state file accounts for.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { run } from './command';
import { stopLinkEmulator } from './emulator';
import type { LabMap } from './topology-lab';

// One folder for every caller: the orphan sweep counts a namespace as left behind when
// no state file here names it, so a second folder would make it delete live labs.
export const LAB_STATE_DIR = '/run/packet-workbench/labs';

export function labStateDir(): string {
  return LAB_STATE_DIR;
}

export const LAB_STATE_VERSION = 1;

export interface LabState {
  version: typeof LAB_STATE_VERSION;
  name: string;
  id: string;
  /** The topology: a shipped name or the file it came from. */
  source: string;
  createdAt: string;
  /** Host name → namespace name. */
  namespaces: Record<string, string>;
  map: LabMap;
  /** Link emulator processes (links the kernel could not impair), stopped by `lab down`. */
  emulators?: Array<{ link: string; pid: number; statsFile: string }>;
}

export interface StoredLab {
  file: string;
  state?: LabState;
  /** Why the file could not be read as a lab state. */
  broken?: string;
}

/** Namespaces of topology labs: pwl-<lab>-<pid of lab up>-<n><random>-<host>. */
export const TOPOLOGY_NAMESPACE = /^pwl-([a-z][a-z0-9-]*)-(\d+)-[0-9a-f]+-[a-z][a-z0-9]*$/;

export function lockFile(name: string): string {
  return path.join(labStateDir(), `${name}.lock`);
}

export function stateFile(name: string): string {
  return path.join(labStateDir(), `${name}.json`);
}

/**
 * One `lab up` per lab name at a time: a lock file holding the builder's pid. A lock
 * whose process is gone (a crash) is taken over. Returns the release function.
 */
export function lockLab(name: string): () => void {
  mkdirSync(labStateDir(), { recursive: true, mode: 0o755 });
  const file = lockFile(name);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o644 });
      return () => {
        if (readLock(file) === process.pid) rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(file);
      if (holder !== undefined && holder !== process.pid && isAlive(holder)) throw new Error(`lab ${name} is being built by process ${holder}`);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock lab ${name} (${file})`);
}

function readLock(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function writeLabState(state: LabState): void {
  mkdirSync(labStateDir(), { recursive: true, mode: 0o755 });
  const file = stateFile(state.name);
  // Written whole and renamed, so a reader never sees half a file.
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  renameSync(temporary, file);
}

export function readLabStates(): StoredLab[] {
  let files: string[];
  try {
    files = readdirSync(labStateDir()).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.sort().map((name) => {
    const file = path.join(labStateDir(), name);
    try {
      const state = JSON.parse(readFileSync(file, 'utf8')) as LabState;
      if (state.version !== LAB_STATE_VERSION || typeof state.name !== 'string' || typeof state.namespaces !== 'object' || !state.map) {
        return { file, broken: `not a version ${LAB_STATE_VERSION} lab state` };
      }
      return { file, state };
    } catch (error) {
      return { file, broken: (error as Error).message };
    }
  });
}

export function listNamespaces(): string[] {
  const listing = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter(Boolean);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Topology-lab namespaces in no state file whose builder is gone: left by a crash. */
export function orphanNamespaces(stored: StoredLab[], namespaces = listNamespaces()): string[] {
  const owned = new Set(stored.flatMap((s) => Object.values(s.state?.namespaces ?? {})));
  return namespaces.filter((name) => {
    const match = TOPOLOGY_NAMESPACE.exec(name);
    return match !== null && !owned.has(name) && !isAlive(Number(match[2]));
  });
}

export async function deleteNamespaces(names: readonly string[]): Promise<string[]> {
  const failures: string[] = [];
  for (const name of names) {
    const result = await run('ip', ['netns', 'delete', name], { check: false, timeoutMs: 10_000 });
    if (result.code !== 0 && !/No such file|does not exist/i.test(result.stderr)) failures.push(`${name}: ${result.stderr.trim()}`);
  }
  return failures;
}

/** Stops a stored lab's link emulators, deletes its namespaces (with them its veths, routes, rules and qdiscs) and its state file. */
export async function removeStoredLab(stored: StoredLab): Promise<void> {
  const failures: string[] = [];
  for (const emulator of stored.state?.emulators ?? []) {
    await stopLinkEmulator(emulator.pid, emulator.statsFile).catch((error: unknown) => failures.push(`emulator of ${emulator.link}: ${(error as Error).message}`));
  }
  // An emulator that would not stop still ends when its devices go with the namespaces.
  failures.push(...(await deleteNamespaces(Object.values(stored.state?.namespaces ?? {}))));
  if (failures.length > 0) throw new Error(`could not remove everything of the lab: ${failures.join('; ')}`);
  rmSync(stored.file, { force: true });
}

// Waits (bounded: 10 minutes) for the builder to end; if it ended without releasing
// the guard (killed, even by SIGKILL), deletes the namespaces it was building.
const GUARD_SCRIPT = `p=$1; lock=$2; shift 2; i=0
while kill -0 "$p" 2>/dev/null && [ "$i" -lt 6000 ]; do sleep 0.1; i=$((i+1)); done
kill -0 "$p" 2>/dev/null && exit 0
[ -n "$lock" ] && rm -f "$lock"
for n in "$@"; do ip netns delete "$n" 2>/dev/null; done`;

export interface CrashGuard {
  /** The lab is built (or removed by its builder): the guard leaves. */
  release(): void;
}

/** A detached watcher that removes `namespaces` (and the lab's lock file) if this process dies before release(). */
export function startCrashGuard(namespaces: readonly string[], lab?: string): CrashGuard {
  for (const name of namespaces) if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new RangeError(`Invalid namespace name '${name}'`);
  // The names are passed as arguments, never inside the script text.
  const guard = spawn('sh', ['-c', GUARD_SCRIPT, 'lab-crash-guard', String(process.pid), lab === undefined ? '' : lockFile(lab), ...namespaces], { detached: true, stdio: 'ignore' });
  guard.on('error', () => undefined);
  guard.unref();
  return {
    release() {
      try {
        if (guard.pid !== undefined) process.kill(guard.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}
