// Input repeated in error messages comes back clipped, wherever it sits: an unknown key,
// a path through a record's keys, a method name; serializeError is the backstop.
import { describe, expect, it } from 'vitest';
import { serializeError, validateParams, WorkbenchError } from './validate';

const long = 'k'.repeat(10 * 1024 * 1024);
const clipped = `${'k'.repeat(64)}…`;

function refusal(method: string, params: unknown): WorkbenchError {
  try {
    validateParams(method as never, params);
  } catch (error) {
    return error as WorkbenchError;
  }
  throw new Error('accepted');
}

describe('echoed input in error messages', () => {
  it('clips an unknown 10 MiB parameter name to 64 characters in message and field', () => {
    const error = refusal('capabilities', { [long]: 1, b: 2 });
    expect(error.field).toBe(clipped);
    expect(error.message).toBe(`capabilities: unknown parameters "${clipped}", "b" (capabilities takes none)`);
  });

  it('names at most 8 unknown keys', () => {
    const params = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`key${i}`, i]));
    const error = refusal('capabilities', params);
    expect(error.message).toMatch(/"key7" and 992 more/);
    expect(error.message.length).toBeLessThan(300);
  });

  it('clips a path through a long key of the caller', () => {
    const error = refusal('send', { socketId: 's1', address: '127.0.0.1', packet: { layers: [{ kind: 'icmp', fields: { [long]: {} } }] } });
    expect(error.message.length).toBeLessThan(1000);
    expect(JSON.stringify(serializeError(error)).length).toBeLessThan(1000);
  });

  it('serializeError caps any message at 4096 characters and a field at 128', () => {
    const wire = serializeError(new WorkbenchError('X', long, long));
    expect(wire.message).toHaveLength(4097);
    expect(wire.field).toHaveLength(129);
    expect(serializeError(new Error(long)).message).toHaveLength(4097);
  });
});
