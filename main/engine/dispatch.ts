// The one place a transport hands a call to the engine: the method name is checked
// against the contract, the parameters validated with the contract's schemas, and
// only then does the engine see them. IPC, the WebSocket host and the contract
// tests all call through here, so every transport refuses the same input the same way.
import { methodNames, type EventBatch, type MethodName, type WorkbenchHandlers } from '../../common/contract';
import { clipEcho, isMethodName, validateParams, WorkbenchError } from '../../common/validate';
import { CallGate, DEFAULT_CALL_LIMITS, type CallLimits } from './call-gate';

/** What a transport needs from the engine: the contract's handlers and its batched event stream. */
export type EngineLike = WorkbenchHandlers & {
  /** Event batches, at most one per EVENT_BATCH_INTERVAL_MS; returns the unsubscribe function. */
  subscribe(listener: (batch: EventBatch) => void): () => void;
};

/** Validates and performs one call; throws WorkbenchError (or the engine's error) on failure. */
export async function dispatchCall(engine: EngineLike, method: unknown, params: unknown): Promise<unknown> {
  if (!isMethodName(method)) {
    const shown = typeof method === 'string' ? `'${clipEcho(method)}'` : `a ${typeof method}`;
    throw new WorkbenchError(
      'UNKNOWN_METHOD',
      `There is no method ${shown}; the workbench offers: ${methodNames.join(', ')}`,
      'method',
    );
  }
  return callMethod(engine, method, params);
}

async function callMethod<M extends MethodName>(engine: EngineLike, method: M, params: unknown): Promise<unknown> {
  const valid = validateParams(method, params);
  const handler = engine[method] as (params: unknown) => Promise<unknown>;
  return handler.call(engine, valid);
}

/**
 * One client's calls (a WebSocket connection, an Electron window): each admitted through
 * its CallGate (BUSY beyond its limits, nothing queued), and the exports and imports it
 * opened closed when it goes, so a client that disconnects mid-transfer holds nothing.
 */
export class ClientCalls {
  private readonly gate: CallGate;
  private readonly transfers = new Set<string>();
  private closed = false;

  constructor(
    private readonly engine: EngineLike,
    limits: CallLimits = DEFAULT_CALL_LIMITS,
    isBacklogged?: () => string | null,
  ) {
    this.gate = new CallGate(limits, isBacklogged);
  }

  get inFlight(): number {
    return this.gate.callsInFlight;
  }

  /** Admits, validates and performs one call; throws WorkbenchError (BUSY, INVALID_ARGUMENT, ...) or the engine's error. */
  async call(method: unknown, params: unknown): Promise<unknown> {
    const admission = this.gate.admit(method, params);
    try {
      const result = await dispatchCall(this.engine, method, params);
      this.track(method, params, result);
      return result;
    } finally {
      admission.release();
    }
  }

  /** The client is gone: close what it left open. */
  close(): void {
    this.closed = true;
    for (const transferId of this.transfers) void this.engine.closeTransfer({ transferId }).catch(() => undefined);
    this.transfers.clear();
  }

  private track(method: unknown, params: unknown, result: unknown): void {
    const answer = result as { exportId?: string; importId?: string; done?: boolean } | null;
    const opened = method === 'openExport' || method === 'saveWorkspace' ? answer?.exportId : method === 'openImport' ? answer?.importId : undefined;
    if (opened !== undefined) {
      // Opened after the client went (its answer is lost): close it at once.
      if (this.closed) void this.engine.closeTransfer({ transferId: opened }).catch(() => undefined);
      else this.transfers.add(opened);
      return;
    }
    const given = params as { exportId?: string; importId?: string; transferId?: string };
    if ((method === 'readExport' || method === 'writeImport') && answer?.done) this.transfers.delete((given.exportId ?? given.importId)!);
    if (method === 'closeTransfer') this.transfers.delete(given.transferId!);
  }
}
