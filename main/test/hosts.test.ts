// The hosts' entry points: the e2e host loads files the build produces, the two
// `serve` entry points share one --port check, and what the Electron app tells
// users about privileges names only what exists.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePort } from '../web/serve';

const ROOT = path.resolve(__dirname, '..', '..');
const source = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 20_000, killSignal: 'SIGKILL', encoding: 'utf8' }, (error, _stdout, stderr) => {
      const code = error ? (error as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stderr });
    });
  });
}

describe('entry points', () => {
  it("e2e/serve.mjs loads only compiled files that the build produces from today's sources", () => {
    const text = source('e2e/serve.mjs');
    const required = [...text.matchAll(/'(dist\/main\/[^']+\.js)'/g)].map((m) => m[1]);
    expect(required.length).toBeGreaterThan(0);
    for (const file of required) {
      const ts = file.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      expect(existsSync(path.join(ROOT, ts)), ts).toBe(true);
      expect(existsSync(path.join(ROOT, file)), file).toBe(true);
    }
  });
});

describe('--port', () => {
  it('parses whole numbers from 0 to 65535', () => {
    expect(parsePort('0')).toBe(0);
    expect(parsePort('8080')).toBe(8080);
    expect(parsePort(65535)).toBe(65535);
    for (const bad of ['70000', '-1', '1.5', 'abc', '', undefined, 70000]) {
      expect(() => parsePort(bad as string)).toThrow(/^--port: must be a whole number from 0 to 65535/);
    }
  });

  it('is refused with the same words by `packet-workbench serve` and by dist/main/web/serve.js', async () => {
    const cli = await run([path.join(ROOT, 'dist', 'main', 'cli.js'), 'serve', '--port', '70000']);
    const web = await run([path.join(ROOT, 'dist', 'main', 'web', 'serve.js'), '--port', '70000']);
    expect(cli.code).toBe(2);
    expect(web.code).toBe(1);
    let expected = '';
    try {
      parsePort('70000');
    } catch (error) {
      expected = (error as Error).message;
    }
    expect(expected).not.toBe('');
    expect(cli.stderr).toContain(expected);
    expect(web.stderr).toContain(expected);
  });
});

describe('what the hosts say about privileges', () => {
  it('the Electron root refusal offers only what exists', () => {
    const text = source('main/electron/main.ts');
    const refusal = text.slice(text.indexOf('export const ROOT_REFUSAL'), text.indexOf('function refuseRoot'));
    expect(refusal).not.toMatch(/helper/i);
    expect(refusal).not.toMatch(/UDP traceroute/i);
    expect(refusal).toContain('ping_group_range');
    expect(refusal).toContain('setcap cap_net_raw');
  });
});
