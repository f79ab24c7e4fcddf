// The one place a transport hands a call to the engine: the method name is checked
// against the contract, the parameters validated with the contract's schemas, and
// only then does the engine see them. IPC, the WebSocket host and the contract
// tests all call through here, so every transport refuses the same input the same way.
import { methodNames, type EventBatch, type MethodName, type WorkbenchHandlers } from '../../common/contract';
import { isMethodName, validateParams, WorkbenchError } from '../../common/validate';

/** What a transport needs from the engine: the contract's handlers and its batched event stream. */
export type EngineLike = WorkbenchHandlers & {
  /** Event batches, at most one per EVENT_BATCH_INTERVAL_MS; returns the unsubscribe function. */
  subscribe(listener: (batch: EventBatch) => void): () => void;
};

/** Validates and performs one call; throws WorkbenchError (or the engine's error) on failure. */
export async function dispatchCall(engine: EngineLike, method: unknown, params: unknown): Promise<unknown> {
  if (!isMethodName(method)) {
    const shown = typeof method === 'string' ? `'${method.slice(0, 64)}'` : `a ${typeof method}`;
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
