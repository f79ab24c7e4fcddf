// Validation of every call that crosses a transport, from the contract's schemas.
import type { z } from 'zod';
import { methods, type MethodName, type Params } from './contract';
import { clipEcho, ECHO_CHARS, MAX_ERROR_MESSAGE_CHARS } from './echo';
import { describeIssue } from './validation-message';

export { clipEcho, ECHO_CHARS, MAX_ERROR_MESSAGE_CHARS };

/** An error a client can act on: code, message, and the parameter at fault. */
export class WorkbenchError extends Error {
  readonly code: string;
  readonly field: string | undefined;

  constructor(code: string, message: string, field?: string) {
    super(message);
    this.name = 'WorkbenchError';
    this.code = code;
    this.field = field;
  }
}

export interface SerializedError {
  name: string;
  code: string;
  message: string;
  field?: string;
}

/** The form errors take on the wire (IPC and WebSocket alike), message and field clipped. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof WorkbenchError) {
    const message = clipEcho(error.message, MAX_ERROR_MESSAGE_CHARS);
    return { name: error.name, code: error.code, message, ...(error.field ? { field: clipEcho(error.field, 2 * ECHO_CHARS) } : {}) };
  }
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return { name: clipEcho(error.name), code: typeof code === 'string' ? clipEcho(code) : 'INTERNAL', message: clipEcho(error.message, MAX_ERROR_MESSAGE_CHARS) };
  }
  return { name: 'Error', code: 'INTERNAL', message: clipEcho(String(error), MAX_ERROR_MESSAGE_CHARS) };
}

export function deserializeError(error: SerializedError): WorkbenchError {
  return new WorkbenchError(error.code, error.message, error.field);
}

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methods, name);
}

/** Checks a method's parameters; throws WorkbenchError('INVALID_ARGUMENT') naming the path into them, what was expected and what came. */
export function validateParams<M extends MethodName>(name: M, input: unknown): Params<M> {
  const schema = methods[name].params as unknown as z.ZodType<Params<M>>;
  const parsed = schema.safeParse(input === undefined ? {} : input, { reportInput: true });
  if (parsed.success) return parsed.data;
  const { field, message } = describeIssue(parsed.error.issues[0], schema, name);
  throw new WorkbenchError('INVALID_ARGUMENT', `${name}: ${message}`, field || undefined);
}
