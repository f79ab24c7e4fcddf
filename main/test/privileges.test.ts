// Every experiment as a normal user (issue 7), through the built command line and engine
// run as user nobody (no groups, no capabilities) in the client namespace of a lab:
// client — router1 — router2 — target (198.18.0.0/15, fd42::/16).
// 1. No privilege, ping_group_range closed, no helper: UDP and TCP traceroute see every hop
//    through the error queue, v4 and v6; ICMP traceroute and raw sends are refused (exit 77).
// 2. ping_group_range open: ICMP traceroute through a ping socket's error queue too.
// 3. The helper installed by `setup-helper` (cap_net_raw+ep): every traceroute kind through
//    raw sockets; a hand-built TCP SYN with IP_TTL set, its RST logged; sockets close with it.
// 4. The elevated launch: sudo with a NOPASSWD rule for nobody (`--elevate`).
// Root creates the conditions; what nobody runs is a readable copy of the build (the checkout
// may be in /root, mode 0700).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, isLabSupported, labSupport, NOBODY, readableCopy, sudoersRule, type Lab, type ReadableCopy } from '../lab';

const support = labSupport();
const hasSudo = existsSync('/usr/bin/sudo');
const hasSetcap = existsSync('/usr/sbin/setcap') || existsSync('/sbin/setcap');
const why = !support.supported ? support.reason : !hasSudo ? 'sudo is not installed' : !hasSetcap ? 'setcap (libcap2-bin) is not installed' : '';

interface Json {
  type: string;
  [key: string]: unknown;
}

const lines = (text: string): Json[] =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Json);

/** The helper processes of this test's copy that are still running. */
function helperProcesses(helper: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.includes(helper) && !cmdline.includes('sudo') && !cmdline[0].endsWith('sudo')) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

describe.skipIf(why !== '' || !isLabSupported())(`every experiment as user nobody${why ? ` (skipped: ${why})` : ''}`, () => {
  let lab: Lab;
  let copy: ReadableCopy;
  let installDir: string;
  const env = (extra: Record<string, string> = {}) => ({ PATH: '/usr/bin:/bin', HOME: '/nonexistent', LANG: 'C', ...extra });
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    lab.exec('client', [process.execPath, copy.cli, ...args], { user: NOBODY, check: false, timeoutMs: 60_000, cwd: '/', env: env(extra) });
  const target = (family: 'ipv4' | 'ipv6') => lab.target.addresses[family][0];
  const setPingGroupRange = (range: string) => lab.exec('client', ['sysctl', '-q', '-w', `net.ipv4.ping_group_range=${range}`]);

  beforeAll(async () => {
    copy = readableCopy('pw-privileges');
    installDir = mkdtempSync(path.join(tmpdir(), 'pw-setup-helper-'));
    execFileSync('chmod', ['0755', installDir]);
    lab = await createLab({
      routers: 2,
      // The target answers every probe: port unreachable and RST are rate limited by default.
      hostSysctls: { target: { 'net.ipv4.icmp_ratelimit': 0, 'net.ipv6.icmp.ratelimit': 0 } },
    });
    await setPingGroupRange('1 0');
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
    copy?.remove();
    if (installDir) rmSync(installDir, { recursive: true, force: true });
  });

  /** traceroute --json as nobody: the responders per hop, the via, and the exit code. */
  async function trace(kind: '-U' | '-T' | '-I', family: 'ipv4' | 'ipv6', extra: string[] = [], envExtra: Record<string, string> = {}) {
    const result = await cli(['traceroute', kind, family === 'ipv6' ? '-6' : '-4', '-q', '2', '-w', '1', '-m', '6', '--json', ...extra, target(family)], envExtra);
    const records = result.stdout.trim() ? lines(result.stdout) : [];
    const start = records.find((record) => record.type === 'start');
    const final = records.find((record) => record.type === 'result' || record.type === 'error');
    const hops = ((final?.hops as { probes: { responder?: string }[] }[] | undefined) ?? []).map((hop) => hop.probes.map((probe) => probe.responder ?? '*'));
    return { code: result.code, stderr: result.stderr, via: start?.via, hops, final };
  }

  const expectEveryHop = (result: Awaited<ReturnType<typeof trace>>, family: 'ipv4' | 'ipv6', via: string, label: string) => {
    expect(result.code, `${label}: ${result.stderr}`).toBe(0);
    expect(result.via, label).toBe(via);
    expect(result.hops, label).toEqual(lab.expectedHops[family].map((address) => [address, address]));
  };

  it('without any privilege: UDP and TCP traceroute list every hop through the error queue, v4 and v6', { timeout: 120_000 }, async () => {
    for (const family of ['ipv4', 'ipv6'] as const) {
      for (const kind of ['-U', '-T'] as const) {
        expectEveryHop(await trace(kind, family), family, 'error-queue', `${kind} ${family}`);
      }
    }
  });

  it('without any privilege: ICMP traceroute and a raw send are refused with the remedy (exit 77)', { timeout: 60_000 }, async () => {
    const icmp = await cli(['traceroute', '-I', target('ipv4')]);
    expect(icmp.code, icmp.stderr).toBe(77);
    expect(icmp.stderr).toMatch(/ping_group_range/);
    expect(icmp.stderr).toMatch(/setup-helper/);
    const send = await cli(['send', target('ipv4'), '--template', 'tcp-syn', '-p', '80']);
    expect(send.code, send.stderr).toBe(77);
    expect(send.stderr).toMatch(/CAP_NET_RAW/);
    expect(send.stderr).toMatch(/Allow raw sockets|--elevate/);
    expect(send.stderr).toMatch(/sudo packet-workbench setup-helper/);
  });

  it('capabilities --json tells nobody what works and how', async () => {
    const result = await cli(['capabilities', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const [record] = lines(result.stdout);
    const table = Object.fromEntries((record.experiments as { experiment: string; via: string | null }[]).map((row) => [row.experiment, row.via]));
    expect(table).toEqual({
      ping: null,
      'traceroute-icmp': null,
      'traceroute-udp': 'error-queue',
      'traceroute-tcp': 'error-queue',
      'send-raw': null,
      capture: null,
      'socket-options': null,
    });
    expect(record).toMatchObject({ uid: 65534, raw: false });
    const text = await cli(['capabilities']);
    expect(text.stdout).toMatch(/^Experiment\s+Works\s+How$/m);
    expect(text.stdout).toMatch(/^Traceroute \(UDP\)\s+yes\s+error queue$/m);
    expect(text.stdout).toMatch(/^Send a crafted packet\s+no\s+-$/m);
  });

  it('with ping_group_range open: ICMP traceroute through a ping socket too, v4 and v6', { timeout: 60_000 }, async () => {
    await setPingGroupRange('0 2147483647');
    try {
      for (const family of ['ipv4', 'ipv6'] as const) expectEveryHop(await trace('-I', family), family, 'error-queue', `-I ${family}`);
    } finally {
      await setPingGroupRange('1 0');
    }
  });

  describe('with the helper installed by setup-helper', () => {
    let installed: string;

    beforeAll(async () => {
      // As root, the way a user sets it up once: prints every command it runs.
      const result = await lab.exec('client', [process.execPath, copy.cli, 'setup-helper', '--dest', installDir, '--source', copy.helper], { check: false, timeoutMs: 30_000 });
      expect(result.code, result.stderr).toBe(0);
      installed = path.join(installDir, 'packet-workbench-helper');
      expect(result.stdout).toContain(`# install -m 0755 -o root -g root ${copy.helper} ${installed}`);
      expect(result.stdout).toMatch(new RegExp(`# \\S*setcap cap_net_raw\\+ep ${installed.replace(/[.]/g, '\\.')}`));
      expect(execFileSync('getcap', [installed]).toString()).toMatch(/cap_net_raw[=+]ep/);
      expect(statSync(installed).uid).toBe(0);
      expect(statSync(installed).mode & 0o777).toBe(0o755);
    }, 60_000);

    it('ICMP, UDP and TCP traceroute go through the helper\'s raw sockets', { timeout: 120_000 }, async () => {
      const helperEnv = { PACKET_WORKBENCH_HELPER: installed };
      for (const kind of ['-I', '-U', '-T'] as const) {
        expectEveryHop(await trace(kind, 'ipv4', [], helperEnv), 'ipv4', 'helper', `${kind} ipv4 via helper`);
      }
      expectEveryHop(await trace('-T', 'ipv6', [], helperEnv), 'ipv6', 'helper', '-T ipv6 via helper');
      // The CLI's helper ends with the CLI.
      expect(helperProcesses(installed)).toEqual([]);
    });

    it('a hand-built TCP SYN goes out through the helper with IP_TTL set, its RST is logged; stopping the helper closes the socket and keeps the log', { timeout: 60_000 }, async () => {
      const fixture = copy.add(path.join(__dirname, 'fixtures', 'helper-engine.cjs'));
      const result = await lab.exec('client', [process.execPath, fixture, copy.root, target('ipv4'), '7'], {
        user: NOBODY,
        check: false,
        timeoutMs: 30_000,
        cwd: '/',
        env: env({ PACKET_WORKBENCH_HELPER: installed }),
      });
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report.error, JSON.stringify(report.error)).toBeUndefined();
      expect(report.uid).toBe(65534);
      expect(report.socket).toMatchObject({ family: 'ipv4', protocol: 6, mode: 'raw', via: 'helper' });
      expect(report.ttl).toMatchObject({ name: 'IP_TTL', value: 33 });
      expect(report.helper).toMatchObject({ state: 'running', via: 'capability', capabilities: ['net_raw'] });
      expect(report.rows).toContainEqual(expect.objectContaining({ direction: 'sent', destination: target('ipv4'), info: expect.stringMatching(/\[SYN\]/) }));
      expect(report.rows).toContainEqual(expect.objectContaining({ direction: 'received', source: target('ipv4'), info: expect.stringMatching(/RST/) }));
      expect(report.stopped).toMatchObject({ state: 'stopped' });
      expect(report.after).toEqual([]);
      expect(report.logAfter).toBe(report.rows.length);
    });
  });

  describe('elevated on demand through sudo', () => {
    let removeRule: () => void = () => undefined;

    beforeAll(() => {
      removeRule = sudoersRule(`pw-test-${process.pid}`, `nobody ALL=(root) NOPASSWD: ${copy.helper} --elevated`);
    });
    afterAll(() => removeRule());

    it('--elevate starts the helper through sudo -n and traces through its raw sockets', { timeout: 60_000 }, async () => {
      const result = await trace('-I', 'ipv4', ['--elevate'], { PACKET_WORKBENCH_HELPER: copy.helper });
      expectEveryHop(result, 'ipv4', 'helper', '-I --elevate');
      expect(result.stderr).toMatch(/socket helper running as pid \d+ \(sudo\), keeping net_raw/);
      expect(helperProcesses(copy.helper)).toEqual([]);
    });

    it('without a rule sudo refuses at once: exit 77 with sudo\'s reason, no hang', { timeout: 30_000 }, async () => {
      removeRule();
      const started = Date.now();
      const result = await cli(['traceroute', '-I', '--elevate', target('ipv4')], { PACKET_WORKBENCH_HELPER: copy.helper });
      expect(result.code, result.stderr).toBe(77);
      expect(result.stderr).toMatch(/the socket helper did not start/);
      expect(result.stderr).toMatch(/sudo/);
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  });
});
