// PACKET_WORKBENCH_ADDON (lib/binding.ts): loads that addon file instead of build/'s,
// as npm run test:asan does with the instrumented build; a bad value is refused by name.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NATIVE_DIR, runNode } from './helpers';

const LOAD = `const raw = require(${JSON.stringify(NATIVE_DIR)}); console.log(raw.createChecksum(Buffer.from([1, 2, 3])));`;

function withAddon(value: string): NodeJS.ProcessEnv {
  return { ...process.env, PACKET_WORKBENCH_ADDON: value };
}

describe('PACKET_WORKBENCH_ADDON', () => {
  it('loads the addon file it names', async () => {
    const result = await runNode(['-e', LOAD], { env: withAddon(path.join(NATIVE_DIR, 'build', 'Release', 'raw_socket.node')) });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${0xfbfd}\n`);
  });

  it('a file that is not there: the error names it, and does not fall back to build/', async () => {
    const result = await runNode(['-e', LOAD], { env: withAddon('/nonexistent/raw_socket.node') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/nonexistent/raw_socket.node: not built');
  });

  for (const bad of ['raw_socket.node', '/tmp/raw_socket.so']) {
    it(`refuses ${JSON.stringify(bad)}: an absolute path to a .node file is required`, async () => {
      const result = await runNode(['-e', LOAD], { env: withAddon(bad) });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('PACKET_WORKBENCH_ADDON must be an absolute path to a .node file');
    });
  }
});
