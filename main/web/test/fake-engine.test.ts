// The transport tests' fake engine refuses as the real one does: each refusal the fake
// makes, made by a real Workbench too (ids it does not hold need no privilege), must
// come back with the same code and field. A fake that drifts from the engine fails here.
import { afterAll, describe, expect, it } from 'vitest';
import type { MethodName } from '../../../common/contract';
import { WorkbenchError } from '../../../common/validate';
import { dispatchCall } from '../../engine/dispatch';
import { Workbench } from '../../engine';
import { createFakeEngine } from './fake-engine';

const unknownIds: [MethodName, unknown][] = [
  ['closeSocket', { socketId: 'no-such-socket' }],
  ['pauseReceive', { socketId: 'no-such-socket' }],
  ['resumeReceive', { socketId: 'no-such-socket' }],
  ['readSocketOptions', { socketId: 'no-such-socket' }],
  ['setSocketOption', { socketId: 'no-such-socket', name: 'IP_TTL', value: 9 }],
  ['setSocketFilter', { socketId: 'no-such-socket', filter: 'icmp' }],
  ['send', { socketId: 'no-such-socket', address: '127.0.0.1', packet: { hex: '0800f7ff00000000' } }],
  ['cancelSend', { jobId: 'no-such-job' }],
  ['stopExperiment', { runId: 'no-such-run' }],
  ['decodeLogEntry', { id: 123_456_789 }],
];

async function refusal(call: Promise<unknown>): Promise<{ code: string; field: string | undefined }> {
  const error = await call.then(
    (result) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkbenchError);
  return { code: (error as WorkbenchError).code, field: (error as WorkbenchError).field };
}

describe('fake engine against the real one', () => {
  const fake = createFakeEngine();
  const real = new Workbench();
  afterAll(() => real.close());

  for (const [method, params] of unknownIds) {
    it(`${method} with an id neither holds: the engine's code and field`, async () => {
      const expected = await refusal(dispatchCall(real, method, params));
      expect(await refusal(dispatchCall(fake, method, params))).toEqual(expected);
      expect(expected.code).toBe('NOT_FOUND');
    });
  }
});
