// A socket callback that throws must surface as an uncaught exception, as an EventEmitter
// listener's error does, whichever path delivered it (the poll watcher's Node-API callback
// swallows errors thrown while Node runs its tick queue inside it). Child processes, root.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, NATIVE_DIR, runNode } from './helpers';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

describe.skipIf(!isRoot)(`errors thrown by socket callbacks reach uncaughtException${isRoot ? '' : ' (skipped: needs root: raw sockets)'}`, () => {
  for (const [which, message] of [
    ['message', 'message listener threw'],
    ['after', 'afterCallback threw'],
    ['close', 'close listener threw'],
    ['sent', 'sent listener threw'],
  ] as const) {
    it(`a throwing ${which === 'after' ? 'afterCallback (send made from a message listener)' : `'${which}' listener`}`, async () => {
      const result = await runNode([path.join(FIXTURES, 'listener-throws.js'), NATIVE_DIR, which], { timeout: 15_000 });
      expect(result.stdout.trim(), result.stderr).toBe(`uncaught: ${message}`);
      expect(result.code).toBe(0);
    });
  }
});
