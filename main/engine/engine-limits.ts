// What one engine holds at once, whoever asks: each open socket and running capture is a
// file descriptor (and a kernel buffer of up to a few MiB), each send job and experiment
// timers and sockets of its own. Without a bound one client could exhaust the process's
// descriptors (issue 11); beyond a bound the call is refused with LIMIT, naming the limit,
// how many are open and what to do.
import { WorkbenchError } from '../../common/validate';

export interface EngineLimits {
  /** Sockets (openSocket) and running captures (startCapture) open at once. */
  maxOpenSockets: number;
  /** Send jobs running or waiting for answers at once. */
  maxRunningJobs: number;
  /** Experiments (ping, traceroute, mtr, pmtu) running at once, each with sockets of its own. */
  maxRunningExperiments: number;
}

export const DEFAULT_ENGINE_LIMITS: EngineLimits = { maxOpenSockets: 256, maxRunningJobs: 64, maxRunningExperiments: 32 };

/** One limit and how to count what it bounds now. */
export interface Bound {
  readonly name: keyof EngineLimits;
  readonly max: number;
  readonly count: () => number;
}

/** Throws WorkbenchError('LIMIT') when `bound` is reached: what is open, the limit's name and value, the remedy. */
export function checkBound(bound: Bound, what: string, remedy: string): void {
  const open = bound.count();
  if (open < bound.max) return;
  throw new WorkbenchError('LIMIT', `Limit reached: ${open} ${what}, and the engine allows ${bound.max} at once (${bound.name}); ${remedy}`);
}

/** Limits as given (a partial set over the defaults), each a whole number of at least 1. */
export function engineLimits(given: Partial<EngineLimits> = {}): EngineLimits {
  const limits = { ...DEFAULT_ENGINE_LIMITS, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number of at least 1, not ${String(value)}`);
  }
  return limits;
}
