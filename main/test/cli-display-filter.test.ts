// `packet-workbench capture --display-filter` as a child process: only the packets the filter
// passes are printed (the count and the file are every packet captured), and a bad filter is a
// usage error before any socket opens. The capture and its ping run in a namespace the test
// creates, so no other traffic on the machine is seen.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, isLabSupported, type Namespace } from '../lab';
import { CLI, cli, ensureBuiltCli, jsonLines } from './fixtures/cli-child';
import { labWhy, skipNote } from './fixtures/privilege';

const supported = typeof process.getuid === 'function' && process.getuid() === 0 && isLabSupported();

beforeAll(() => ensureBuiltCli(), 130_000);

describe('capture --display-filter', () => {
  it('a bad filter: exit 2 at once, the message and a caret under the bad part', async () => {
    const result = await cli(['capture', '-c', '1', '--timeout', '30', '--display-filter', 'icmp.tpye == 0']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain("--display-filter: Unknown field 'icmp.tpye'; did you mean icmp.type? (column 1: \"icmp.tpye\")");
    expect(result.stderr).toContain('  icmp.tpye == 0\n  ^^^^^^^^^');
    expect(result.stderr).not.toMatch(/Capturing/);
  });

  describe.runIf(supported)(`on loopback in a namespace${skipNote(labWhy())}`, () => {
    let ns: Namespace;
    const children: ChildProcess[] = [];
    beforeAll(async () => {
      ns = await createNamespace({ prefix: 'pwdf' });
    }, 30_000);
    afterAll(async () => {
      for (const child of children) child.kill('SIGKILL');
      await ns?.destroy();
    });

    it('prints only the echo replies of ping -c 5 (10 packets captured), each linked to its request', { timeout: 60_000 }, async () => {
      const child = ns.spawn([process.execPath, CLI, 'capture', '-i', 'lo', '-c', '10', '--timeout', '20', '--json', '-Y', 'icmp.type == 0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      const text = { stdout: '', stderr: '' };
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (text.stdout += chunk));
      const started = new Promise<void>((resolve, reject) => {
        child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
          text.stderr += chunk;
          if (/Capturing/.test(text.stderr)) resolve();
        });
        child.on('close', () => reject(new Error(`capture ended early: ${text.stderr}`)));
      });
      const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      await started;
      await ns.exec(['ping', '-c', '5', '-i', '0.01', '-q', '127.0.0.1'], { timeoutMs: 20_000 });
      const code = await done;
      expect(code, text.stderr).toBe(0);
      const records = jsonLines(text.stdout);
      const packets = records.filter((record) => record.type === 'packet');
      expect(packets.map((packet) => String(packet.info).replace(/ id=.*/, ''))).toEqual(Array(5).fill('Echo reply'));
      for (const packet of packets) expect((packet.match as { rttMs?: number } | undefined)?.rttMs).toBeGreaterThan(0);
      expect(records.find((record) => record.type === 'summary')).toMatchObject({ captured: 10, shown: 5, notShown: 0, displayFilter: 'icmp.type == 0' });
      expect(text.stderr).toMatch(/^5 of them passed the display filter$/m);
    });
  });
});
