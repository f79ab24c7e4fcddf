// The userspace link emulator from the lab's side (the program: native/linkemu). For a
// link whose delay, jitter or loss the kernel cannot apply (no tc netem), the lab joins
// the two hosts with a pair of TAP devices and one emulator process instead of a veth
// pair. The emulator creates the devices in the caller's namespace (so it pins no lab
// namespace and dies when they are deleted), and they are moved into the hosts under
// the names the veth ends would have had.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import * as path from 'node:path';
import { run } from './command';
import type { Impairment } from './impairment';

export const LINKEMU_NAME = 'packet-workbench-linkemu';
/** Overrides where the emulator program is. */
export const LINKEMU_PATH_ENV = 'PACKET_WORKBENCH_LINKEMU';
/** auto | always | never: when the lab uses the emulator (see LinkEmulatorMode). */
export const LINK_EMULATOR_ENV = 'PACKET_WORKBENCH_LINK_EMULATOR';
/** Counters of running emulators, one JSON file each (a tmpfs; each emulator removes its own at exit). */
export const EMULATOR_STATS_DIR = '/run/packet-workbench/linkemu';

/**
 * auto: the emulator for links with delay, jitter or loss when the kernel has no netem;
 * always: for every impaired link (tests the emulator on a kernel with netem);
 * never: veth pairs only (without netem, delay and loss are then reported as not applied).
 */
export type LinkEmulatorMode = 'auto' | 'always' | 'never';

export function linkEmulatorMode(env: NodeJS.ProcessEnv = process.env): LinkEmulatorMode {
  const value = env[LINK_EMULATOR_ENV];
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || value === 'always' || value === 'never') return value;
  throw new RangeError(`${LINK_EMULATOR_ENV} must be auto, always or never, not '${value}'`);
}

/**
 * The emulator program: $PACKET_WORKBENCH_LINKEMU, else a packaged app's copy
 * (resources/linkemu, beside app.asar: a program cannot run from inside the archive),
 * else the checkout's native build; undefined when none exists.
 */
export function linkEmulatorPath(
  env: NodeJS.ProcessEnv = process.env,
  resourcesPath = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath,
): string | undefined {
  const fromEnv = env[LINKEMU_PATH_ENV];
  if (fromEnv) return existsSync(fromEnv) ? path.resolve(fromEnv) : undefined;
  const packaged = resourcesPath ? path.join(resourcesPath, 'linkemu', LINKEMU_NAME) : undefined;
  if (packaged && existsSync(packaged)) return packaged;
  const nativeDir = path.dirname(require.resolve('@packet-workbench/raw-socket/package.json'));
  const built = path.join(nativeDir, 'build', 'Release', LINKEMU_NAME);
  return existsSync(built) ? built : undefined;
}

/** One end of an emulated link: the device appears in `namespace` as `device`. */
export interface EmulatedEnd {
  namespace: string;
  device: string;
}

export interface LinkEmulatorSpec {
  a: EmulatedEnd;
  b: EmulatedEnd;
  /** What frames from a to b suffer (absent: passed on at once). */
  ab?: Impairment;
  ba?: Impairment;
  /** Fixes the loss and jitter sequence (0 .. 2^64-1). */
  seed?: bigint;
  /** Frames held per direction before arrivals are dropped; default 1000 (netem's limit). */
  queueFrames?: number;
  /** Counters file; default EMULATOR_STATS_DIR/<a tap>.json. */
  statsFile?: string;
  program?: string;
}

export interface DirectionCounters {
  received: number;
  sent: number;
  lost: number;
  queueDrops: number;
  writeErrors: number;
  bytesSent: number;
  queued: number;
}

export interface EmulatorCounters {
  pid: number;
  ab: DirectionCounters;
  ba: DirectionCounters;
}

export interface LinkEmulator {
  pid: number;
  statsFile: string;
  /** Let the emulator outlive this process (a kept lab); stop() or deleting a namespace still ends it. */
  keep(): void;
  /** SIGTERM (SIGKILL after 2 s); resolves with the final counters when they could be read. */
  stop(): Promise<EmulatorCounters | undefined>;
  /** The counters now (asks with SIGUSR1 and waits, bounded, for the fresh file). */
  counters(): Promise<EmulatorCounters | undefined>;
}

function impairmentArguments(prefix: '--ab' | '--ba', impairment: Impairment | undefined, queueFrames: number | undefined): string[] {
  const args: string[] = [];
  if (impairment?.delayMs !== undefined) args.push(`${prefix}-delay`, String(impairment.delayMs));
  if (impairment?.jitterMs !== undefined) args.push(`${prefix}-jitter`, String(impairment.jitterMs));
  if (impairment?.lossPercent !== undefined) args.push(`${prefix}-loss`, String(impairment.lossPercent));
  if (impairment?.rateKbit !== undefined) args.push(`${prefix}-rate`, String(impairment.rateKbit));
  if (queueFrames !== undefined) args.push(`${prefix}-queue`, String(queueFrames));
  return args;
}

/** The program's arguments for two TAP devices (pure; the program checks every value again). */
export function emulatorArguments(tapA: string, tapB: string, spec: Pick<LinkEmulatorSpec, 'ab' | 'ba' | 'seed' | 'queueFrames'>, statsFile: string): string[] {
  return [
    '--a', tapA, '--b', tapB,
    ...impairmentArguments('--ab', spec.ab, spec.queueFrames),
    ...impairmentArguments('--ba', spec.ba, spec.queueFrames),
    ...(spec.seed !== undefined ? ['--seed', spec.seed.toString()] : []),
    '--stats', statsFile,
    '--lifeline',
  ];
}

export function readEmulatorCounters(file: string): EmulatorCounters | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as EmulatorCounters;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the emulator and moves its devices into the two namespaces; the caller addresses them and sets them up. */
export async function startLinkEmulator(spec: LinkEmulatorSpec): Promise<LinkEmulator> {
  const program = spec.program ?? linkEmulatorPath();
  if (!program) throw new Error(`the link emulator (${LINKEMU_NAME}) is not built: npm run build:native`);
  // Unique names in the caller's namespace, for the moment before the move (IFNAMSIZ: 15).
  const tag = randomBytes(4).toString('hex');
  const [tapA, tapB] = [`pwe${tag}a`, `pwe${tag}b`];
  const statsFile = spec.statsFile ?? path.join(EMULATOR_STATS_DIR, `${tapA}.json`);
  mkdirSync(path.dirname(statsFile), { recursive: true, mode: 0o755 });
  // Its own session: no terminal signal reaches it. stdin is the lifeline: closed by our death until keep().
  const child = spawn(program, emulatorArguments(tapA, tapB, spec, statsFile), { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let launchError: Error | undefined;
  child.once('error', (error) => (launchError = error));

  const stopChild = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    child.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => true), sleep(2_000).then(() => false)]);
    if (!killed) {
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(2_000)]);
    }
  };

  try {
    // Bounded: the devices exist within milliseconds, or the program said why not.
    for (let i = 0; i < 100 && !stdout.includes('\n') && child.exitCode === null && !launchError; i++) await sleep(50);
    if (launchError) throw new Error(`could not start ${program}: ${launchError.message}`);
    if (!/^ready \d+ \d+\n/.test(stdout)) throw new Error(`the link emulator did not start: ${stderr.trim() || stdout.trim() || 'no answer within 5 s'}`);
    for (const [tap, end] of [[tapA, spec.a], [tapB, spec.b]] as const) {
      await run('ip', ['link', 'set', 'dev', tap, 'netns', end.namespace, 'name', end.device], { timeoutMs: 10_000 });
    }
  } catch (error) {
    await stopChild();
    throw error;
  }

  // Nothing here may keep this process alive: the lifeline pipe closes when it exits anyway.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as Socket | null)?.unref?.();
  const pid = child.pid as number;
  let kept = false;
  return {
    pid,
    statsFile,
    keep() {
      if (kept) return;
      kept = true;
      // Synchronous: a signal is pending before this process can exit and close the lifeline.
      process.kill(pid, 'SIGUSR2');
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
    },
    async stop() {
      await stopChild();
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        return JSON.parse(last) as EmulatorCounters;
      } catch {
        return undefined;
      }
    },
    counters: () => emulatorCounters(pid, statsFile),
  };
}

export async function emulatorCounters(pid: number, statsFile: string): Promise<EmulatorCounters | undefined> {
  const before = readEmulatorCounters(statsFile);
  try {
    process.kill(pid, 'SIGUSR1');
  } catch {
    return undefined;
  }
  // The file is rewritten at once; a changed counter set (or 500 ms) says it was.
  for (let i = 0; i < 50; i++) {
    await sleep(10);
    const now = readEmulatorCounters(statsFile);
    if (now && JSON.stringify(now) !== JSON.stringify(before)) return now;
  }
  return readEmulatorCounters(statsFile);
}

/** Whether `pid` is a running link emulator (not some process that reused the number). */
export function isLinkEmulator(pid: number): boolean {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    return path.basename(argv0) === LINKEMU_NAME;
  } catch {
    return false;
  }
}

/** Ends an emulator another process started (a kept lab's, by its pid): SIGTERM, then SIGKILL after 2 s. */
export async function stopLinkEmulator(pid: number, statsFile?: string): Promise<void> {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    if (!isLinkEmulator(pid)) break;
    try {
      process.kill(pid, signal);
    } catch {
      break;
    }
    for (let i = 0; i < 40 && isLinkEmulator(pid); i++) await sleep(50);
  }
  if (isLinkEmulator(pid)) throw new Error(`link emulator ${pid} did not end`);
  // Normally removed by the emulator itself; not after a SIGKILL.
  if (statsFile) rmSync(statsFile, { force: true });
}
