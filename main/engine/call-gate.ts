// What one client (a WebSocket connection, an Electron window) may ask of the engine at
// once. A client that pipelines hundreds of large log pages or exports would otherwise
// hold the engine's answers in memory without bound (issue 11: 300 pipelined pages took
// the host up ~530 MiB, 30 concurrent exports past the V8 heap limit). Beyond a limit
// the call is answered at once with a BUSY error naming the limit: nothing is queued.
import type { MethodName } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';

export interface CallLimits {
  /** Calls of one client answered not yet. */
  maxInFlight: number;
  /** Heavy calls (see isHeavyCall) of one client answered not yet. */
  maxHeavy: number;
}

export const DEFAULT_CALL_LIMITS: CallLimits = { maxInFlight: 32, maxHeavy: 2 };

/** Log rows in one queryLog / sendResults page from which the page counts as heavy (~300 bytes of JSON a row). */
export const HEAVY_PAGE_ROWS = 1000;
/** Ids scanned by one filterLog call from which it counts as heavy. */
export const HEAVY_SCAN_ROWS = 50_000;

const alwaysHeavy = new Set<string>(['exportPcapng', 'importPcapng', 'openExport', 'readExport', 'writeImport', 'saveWorkspace', 'loadWorkspace']);

/** Calls whose answer or input may run to megabytes: exports, imports, large pages. */
export function isHeavyCall(method: unknown, params: unknown): boolean {
  if (typeof method !== 'string') return false;
  if (alwaysHeavy.has(method)) return true;
  const limit = typeof params === 'object' && params !== null ? (params as { limit?: unknown }).limit : undefined;
  // An absent limit takes the contract's default (500 / 1000 / 50 000), which is below these.
  if (typeof limit !== 'number') return false;
  if (method === 'queryLog' || method === 'sendResults') return limit > HEAVY_PAGE_ROWS;
  if (method === 'filterLog') return limit > HEAVY_SCAN_ROWS;
  return false;
}

/** A call admitted through the gate; release() once it is answered (idempotent). */
export interface Admission {
  release(): void;
}

/**
 * Counts one client's calls in flight. `isBacklogged` says the client has not read what
 * it was sent (a WebSocket's bufferedAmount over its bound): heavy calls wait for that.
 */
export class CallGate {
  private inFlight = 0;
  private heavy = 0;

  constructor(
    private readonly limits: CallLimits = DEFAULT_CALL_LIMITS,
    private readonly isBacklogged: () => string | null = () => null,
  ) {}

  get callsInFlight(): number {
    return this.inFlight;
  }

  /** Admits the call or throws WorkbenchError('BUSY') saying which limit it hit. */
  admit(method: unknown, params: unknown): Admission {
    const name = typeof method === 'string' ? (method as MethodName) : 'this call';
    if (this.inFlight >= this.limits.maxInFlight) {
      throw busy(`${this.limits.maxInFlight} calls of this client are in flight (the limit); wait for their answers before sending more`);
    }
    const heavy = isHeavyCall(method, params);
    if (heavy) {
      if (this.heavy >= this.limits.maxHeavy) {
        throw busy(`'${name.slice(0, 64)}' is a heavy call (export, import, page of over ${HEAVY_PAGE_ROWS} rows) and ${this.limits.maxHeavy} of this client's are running (the limit); wait for one to finish`);
      }
      const backlog = this.isBacklogged();
      if (backlog) throw busy(`'${name.slice(0, 64)}' is a heavy call and ${backlog}; read the answers first`);
    }
    this.inFlight++;
    if (heavy) this.heavy++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
        if (heavy) this.heavy--;
      },
    };
  }
}

function busy(message: string): WorkbenchError {
  return new WorkbenchError('BUSY', `Busy: ${message}`);
}
