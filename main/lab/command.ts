// Running commands for labs: execFile with an argument vector and a timeout (never a
// shell), sysctl argument checks, and dropping to another user with setpriv.
import { execFile, type SpawnOptions } from 'node:child_process';

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

export const DEFAULT_TIMEOUT_MS = 30_000;

export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
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
export const NAME_PREFIX = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,39}$/;

export type Sysctls = Readonly<Record<string, string | number>>;

export function sysctlArguments(sysctls: Sysctls): string[] {
  return Object.entries(sysctls).map(([key, value]) => {
    if (!SYSCTL_KEY.test(key)) throw new RangeError(`Invalid sysctl name '${key}'`);
    const text = String(value);
    if (/[\0\n\r]/.test(text)) throw new RangeError(`Invalid value for sysctl ${key}`);
    return `${key}=${text}`;
  });
}

export function checkArgv(argv: readonly string[]): void {
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
