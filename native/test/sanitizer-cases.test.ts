// The cases issue 11 names for the sanitizer run (npm run test:asan runs this file
// against the ASan + UBSan addon): close while a batch is on the thread pool, close
// during receive, GC of closed sockets, worker termination. Each runs in a child
// process: a sanitizer error stops it before it prints "done" (and native/asan/reports.mjs
// fails the run on it and on any leak in the addon); a crash fails the test too.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, NATIVE_DIR, runNode } from './helpers';

const CASES = path.join(FIXTURES, 'sanitizer-cases.js');

describe('sanitizer cases (each in a child process)', () => {
  for (const name of ['close-during-send', 'close-during-receive', 'gc-closed', 'worker-terminate']) {
    it(`${name}: finishes with exit code 0 and no sanitizer report`, async () => {
      const args = name === 'gc-closed' ? ['--expose-gc'] : [];
      const result = await runNode([...args, CASES, NATIVE_DIR, name], { timeout: 25_000 });
      if (result.code !== 0) console.log(result.stderr.slice(0, 8000));
      expect(result.stderr).not.toMatch(/Sanitizer|runtime error/);
      expect(result.signal).toBeNull();
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^${name} done \\d+\\n$`));
    }, 40_000);
  }
});
