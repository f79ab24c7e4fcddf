// TTL / hop-limit probes through a namespace lab: client — router1 — router2 — target.
// The probe runs as a child process inside the client namespace (fixtures/lab-probe.js)
// and reports who answered each TTL; the answers must be exactly the lab's expected hops.
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labSupport, type Lab } from '../../main/lab';

const nativeDir = path.resolve(__dirname, '..');
const probeScript = path.join(__dirname, 'fixtures', 'lab-probe.js');
const signalScript = path.join(__dirname, 'fixtures', 'lab-signal.js');
const labSources = path.resolve(__dirname, '..', '..', 'main', 'lab');
const support = labSupport();
const PROBE_TIMEOUT_MS = 2_000;

interface Answer {
  ttl: number;
  from?: string;
  type?: number;
  code?: number;
  timeout?: true;
  sendError?: string;
}
type Methods = Record<'setOption' | 'beforeCallback', Answer[]> & { mode: string };
interface ProbeReport {
  identifier: number;
  results: Record<'ipv4' | 'ipv6', Methods>;
}

async function probe(lab: Lab): Promise<ProbeReport> {
  const hops = lab.expectedHops.ipv4.length;
  const config = { ipv4: lab.target.addresses.ipv4[0], ipv6: lab.target.addresses.ipv6[0], hops, timeoutMs: PROBE_TIMEOUT_MS };
  const result = await lab.exec('client', [process.execPath, probeScript, nativeDir, JSON.stringify(config)], {
    check: false,
    // 2 families × 2 methods × hops probes, each bounded by PROBE_TIMEOUT_MS.
    timeoutMs: 4 * hops * PROBE_TIMEOUT_MS + 10_000,
  });
  expect(result, `probe failed: ${result.stderr}`).toMatchObject({ code: 0, timedOut: false });
  return JSON.parse(result.stdout) as ProbeReport;
}

function expectPath(report: ProbeReport, lab: Lab): void {
  const hops = lab.expectedHops;
  const last = hops.ipv4.length - 1;
  const v4Types = hops.ipv4.map((_, i) => (i < last ? 11 : 0)); // Time Exceeded …, Echo Reply
  const v6Types = hops.ipv6.map((_, i) => (i < last ? 3 : 129));
  expect(report.results.ipv4.mode).toBe('raw');
  expect(report.results.ipv6.mode).toBe('raw');
  for (const method of ['setOption', 'beforeCallback'] as const) {
    const v4 = report.results.ipv4[method];
    const v6 = report.results.ipv6[method];
    expect(v4.map((a) => a.from), `IPv4 responders (${method})`).toEqual(hops.ipv4);
    expect(v4.map((a) => a.type), `IPv4 ICMP types (${method})`).toEqual(v4Types);
    expect(v4.map((a) => a.code), `IPv4 ICMP codes (${method})`).toEqual(v4Types.map(() => 0));
    expect(v6.map((a) => a.from), `IPv6 responders (${method})`).toEqual(hops.ipv6);
    expect(v6.map((a) => a.type), `IPv6 ICMPv6 types (${method})`).toEqual(v6Types);
    expect(v6.map((a) => a.code), `IPv6 ICMPv6 codes (${method})`).toEqual(v6Types.map(() => 0));
  }
}

describe.skipIf(!support.supported)(`namespace lab${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  describe('two routers (default)', () => {
    let lab: Lab | undefined;

    beforeAll(async () => {
      lab = await createLab();
    });

    afterAll(async () => {
      await lab?.destroy();
    });

    it('describes the topology', () => {
      const l = lab as Lab;
      expect(l.routers.map((r) => r.name)).toEqual(['router1', 'router2']);
      expect(l.namespaces).toHaveLength(4);
      for (const name of l.namespaces) expect(name).toContain(`-${process.pid}-`);
      expect(l.expectedHops).toEqual({
        ipv4: ['198.18.1.2', '198.18.2.2', '198.18.3.2'],
        ipv6: ['fd42:0:0:1::2', 'fd42:0:0:2::2', 'fd42:0:0:3::2'],
      });
      const listed = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
      for (const name of l.namespaces) expect(listed).toContain(name);
    });

    it('sets the router sysctls in each namespace', async () => {
      const l = lab as Lab;
      const read = async (host: string, key: string): Promise<string> =>
        (await l.exec(host, ['sysctl', '-n', key])).stdout.trim();
      expect(await read('router1', 'net.ipv4.ip_forward')).toBe('1');
      expect(await read('router2', 'net.ipv6.conf.all.forwarding')).toBe('1');
      expect(await read('router1', 'net.ipv4.icmp_ratelimit')).toBe('0');
      expect(await read('router2', 'net.ipv6.icmp.ratelimit')).toBe('0');
      expect(await read('client', 'net.ipv4.ip_forward')).toBe('0');
      expect(await read('client', 'net.ipv6.conf.all.accept_dad')).toBe('0');
    });

    it('TTL / hop limit 1, 2, 3 are answered by router1, router2 and the target', async () => {
      const l = lab as Lab;
      const report = await probe(l);
      expectPath(report, l);
    });
  });

  describe('three routers', () => {
    let lab: Lab | undefined;

    beforeAll(async () => {
      lab = await createLab({ routers: 3 });
    });

    afterAll(async () => {
      await lab?.destroy();
    });

    it('TTL / hop limit 1-4 follow the longer path', async () => {
      const l = lab as Lab;
      expect(l.expectedHops.ipv4).toEqual(['198.18.1.2', '198.18.2.2', '198.18.3.2', '198.18.4.2']);
      const report = await probe(l);
      expectPath(report, l);
    });
  });

  describe('cleanup', () => {
    it('destroy() removes every namespace and is idempotent', async () => {
      const lab = await createLab({ routers: 1, readyTimeoutMs: 0 });
      const before = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
      for (const name of lab.namespaces) expect(before).toContain(name);
      await lab.destroy();
      await lab.destroy();
      const after = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
      for (const name of lab.namespaces) expect(after).not.toContain(name);
      // The veths lived only inside the namespaces: none is left in ours.
      const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
      expect(links).not.toMatch(/\b(client|router1|target)@/);
    });

    it('spawned children are killed by destroy()', async () => {
      const lab = await createLab({ routers: 0, readyTimeoutMs: 0 });
      const child = lab.spawn('target', ['sleep', '30'], { stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      await lab.destroy();
      expect(await exited).toBe('SIGKILL');
    });
  });

  describe('cleanup when the process ends without destroy()', () => {
    let compiled: string | undefined;

    beforeAll(() => {
      // The fixture is plain Node: give it main/lab as CommonJS.
      compiled = mkdtempSync(path.join(tmpdir(), `pw-lab-js-${process.pid}-`));
      for (const file of ['index', 'lab', 'command', 'namespace', 'plan', 'readable-copy']) {
        const source = readFileSync(path.join(labSources, `${file}.ts`), 'utf8');
        const output = ts.transpileModule(source, {
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        });
        writeFileSync(path.join(compiled, `${file}.js`), output.outputText);
      }
    });

    afterAll(() => {
      if (compiled) rmSync(compiled, { recursive: true, force: true });
    });

    /** Running (not gone, not a zombie waiting for a reaper that may never come). */
    function alive(pid: number): boolean {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return !/^Z/.test(stat.slice(stat.lastIndexOf(')') + 2));
      } catch {
        return false;
      }
    }

    for (const how of ['exit', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      it(`removes its namespaces and children on ${how === 'exit' ? 'process.exit()' : how}`, async () => {
        const child = spawn(process.execPath, [signalScript, compiled as string, how === 'exit' ? 'exit' : 'wait'], {
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stderr.on('data', (chunk) => (stderr += chunk));
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
          child.once('exit', (code, signal) => resolve({ code, signal })),
        );
        const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
        try {
          const report = await new Promise<{ namespaces: string[]; childPid: number }>((resolve, reject) => {
            child.stdout.on('data', (chunk) => {
              stdout += chunk;
              if (stdout.includes('\n')) resolve(JSON.parse(stdout));
            });
            void exited.then(() => {
              if (!stdout.includes('\n')) reject(new Error(`lab-signal ended early: ${stderr}`));
            });
          });
          expect(report.namespaces).toHaveLength(3);
          const before = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
          for (const name of report.namespaces) expect(before).toContain(name);
          if (how === 'exit') child.stdin.end('exit\n');
          else child.kill(how);
          const end = await exited;
          // The handler re-raises the signal, so the process still dies of it.
          expect(end, stderr).toEqual(how === 'exit' ? { code: 0, signal: null } : { code: null, signal: how });
          const after = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
          for (const name of report.namespaces) expect(after).not.toContain(name);
          // SIGKILLed by the cleanup; give the kernel a moment to reap it (bounded).
          for (let i = 0; i < 50 && alive(report.childPid); i++) await new Promise((r) => setTimeout(r, 20));
          expect(alive(report.childPid)).toBe(false);
        } finally {
          clearTimeout(killer);
        }
      });
    }
  });
});
