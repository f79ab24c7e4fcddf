// The shipped lab topologies through the built CLI (dist/main/cli.js), as root, in
// parallel: each comes up, passes IPv4 and IPv6 pings client → target inside the lab
// and goes down leaving no namespace, veth or state file; the diamond splits flows,
// the small-MTU link answers Fragmentation Needed / Packet Too Big, the filtered
// path shows * and !X in the CLI traceroute; the lossy link's emulator (where the
// kernel has no netem) outlives `lab up` and stops with `lab down`; a second `lab up`
// and a `lab up` killed with SIGKILL midway leave nothing behind (no emulator either). Addresses: 198.18.0.0/15, fd42::/16 only.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLabSupported } from '../lab';
import { isLinkEmulator } from '../lab/emulator';
import { lockFile, stateFile } from '../lab/lab-state';
import { labWhy, skipNote } from './fixtures/privilege';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'main', 'cli.js');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const supported = isRoot && isLabSupported() && existsSync(CLI);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], timeoutMs = 30_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (error as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

const inLab = (lab: string, host: string, argv: string[]) => cli(['lab', 'exec', '--lab', lab, host, '--', ...argv]);
const namespacesOf = (lab: string) => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n').filter((line) => line.startsWith(`pwl-${lab}-`));
const rootVeths = () => execFileSync('ip', ['-o', 'link', 'show', 'type', 'veth'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface LabMapJson {
  name: string;
  hosts: Array<{ name: string; role: string; addresses: string[] }>;
  links: Array<{ ends: Array<{ host: string; interface: string; addresses: string[] }>; mtu: number; impairments: Array<{ from: string; to: string; how: string; reason: string; delayMs?: number; lossPercent?: number }> }>;
}

async function up(name: string): Promise<LabMapJson> {
  const result = await cli(['lab', 'up', name, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as LabMapJson;
}

/** Takes the lab down and checks that nothing of it is left. */
async function down(name: string): Promise<void> {
  // Its own namespaces: an engine elsewhere on the machine (a GUI test) may run a lab of the same name.
  const ours = Object.values((JSON.parse(readFileSync(stateFile(name), 'utf8')) as { namespaces: Record<string, string> }).namespaces);
  const result = await cli(['lab', 'down', name]);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toContain(`${name} is down`);
  expect(namespacesOf(name).filter((n) => ours.includes(n.split(' ')[0]))).toEqual([]);
  expect(existsSync(stateFile(name))).toBe(false);
  expect(existsSync(lockFile(name))).toBe(false);
}

const targetOf = (map: LabMapJson) => {
  const addresses = map.hosts.find((h) => h.name === 'target')!.addresses.map((a) => a.replace(/\/\d+$/, ''));
  return { ipv4: addresses.find((a) => a.includes('.'))!, ipv6: addresses.find((a) => a.includes(':'))! };
};

/** Pings client → target over both families in one exec; `count` > 1 tolerates loss (ping exits 0 on any reply). */
async function pingsBothWays(lab: string, map: LabMapJson, count = 1): Promise<void> {
  const target = targetOf(map);
  const script = 'ping -4 -n -c "$1" -i 0.2 -W 1 "$2" && ping -6 -n -c "$1" -i 0.2 -W 1 "$3"';
  const result = await inLab(lab, 'client', ['sh', '-c', script, 'pings', String(count), target.ipv4, target.ipv6]);
  expect(result.code, `${lab}: ping ${target.ipv4} and ${target.ipv6}: ${result.stdout}${result.stderr}`).toBe(0);
  for (const address of [target.ipv4, target.ipv6]) expect(result.stdout).toContain(`bytes from ${address}: icmp_seq=`);
}

const SHIPPED = ['line', 'diamond', 'small-mtu', 'filtered', 'lossy'];

describe.runIf(supported)(`shipped lab topologies (CLI)${skipNote(labWhy() || (existsSync(CLI) ? '' : 'needs the built CLI (npm run build:main)'))}`, { timeout: 90_000 }, () => {
  let vethsBefore = '';
  let scratch = '';

  beforeAll(() => {
    for (const name of SHIPPED) {
      if (existsSync(stateFile(name))) throw new Error(`lab ${name} is up already on this machine: take it down first (packet-workbench lab down ${name})`);
    }
    vethsBefore = rootVeths();
    scratch = mkdtempSync(path.join(tmpdir(), 'pw-lab-topologies-'));
  });

  afterAll(async () => {
    for (const name of [...SHIPPED, 'crash-test', 'crash-lossy', 'twice-test', 'sweep-test']) if (existsSync(stateFile(name))) await cli(['lab', 'down', name]);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    // veths are created inside the namespaces: none ever appears in the caller's.
    expect(rootVeths()).toBe(vethsBefore);
  });

  it.concurrent('line: the map, pings, a second `lab up` refused without leaving anything, down clean', async () => {
    const map = await up('line');
    expect(map.name).toBe('line');
    expect(map.hosts.map((h) => [h.name, h.role])).toEqual([['client', 'host'], ['r1', 'router'], ['r2', 'router'], ['r3', 'router'], ['target', 'host']]);
    expect(map.hosts[0].addresses).toEqual(['198.18.1.1/24', 'fd42:0:0:1::1/64']);
    expect(map.links[0].ends.map((e) => [e.host, e.interface])).toEqual([['client', 'r1'], ['r1', 'client']]);
    const namespaces = namespacesOf('line');
    expect(namespaces).toHaveLength(5);
    const state = readFileSync(stateFile('line'), 'utf8');
    // Independent checks at once: each CLI start costs a second or more on a loaded machine.
    const [, again, statusText, exit, unknown] = await Promise.all([
      pingsBothWays('line', map),
      cli(['lab', 'up', 'line']),
      cli(['lab', 'status', '--json']),
      inLab('line', 'target', ['sh', '-c', 'exit 7']),
      inLab('line', 'server', ['true']),
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/lab line is already up .*`lab down line` first/);
    expect(namespacesOf('line')).toEqual(namespaces);
    expect(readFileSync(stateFile('line'), 'utf8')).toBe(state);
    const status = JSON.parse(statusText.stdout) as { labs: Array<{ name: string; state: string }> };
    expect(status.labs.find((l) => l.name === 'line')?.state).toBe('up');
    expect(exit.code).toBe(7);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("lab line has no host 'server' (hosts: client, r1, r2, r3, target)");
    await down('line');
  });

  it.concurrent('diamond: flows with different ports leave r1 by different middle routers (ECMP, layer-4 hash)', async () => {
    const map = await up('diamond');
    const target = targetOf(map);
    // One exec for every lookup: 32 UDP flows per family, differing in the source port.
    const script = 'for p in $(seq 40000 40031); do ip -4 route get "$1" ipproto udp sport $p dport 33434; ip -6 route get "$2" ipproto udp sport $p dport 33434; done';
    // Real traffic too, counted by nft on r1's way out (only these probes: neighbour discovery is not counted).
    const counters = 'nft add table inet probes && nft add chain inet probes out "{ type filter hook forward priority 0; }" && nft add rule inet probes out oifname r2 udp dport 33434 counter && nft add rule inet probes out oifname r3 udp dport 33434 counter';
    const [, routes, counting] = await Promise.all([pingsBothWays('diamond', map), inLab('diamond', 'r1', ['sh', '-c', script, 'routes', target.ipv4, target.ipv6]), inLab('diamond', 'r1', ['sh', '-c', counters])]);
    expect(counting.code, counting.stderr).toBe(0);
    expect(routes.code, routes.stderr).toBe(0);
    for (const [address, vias] of [[target.ipv4, ['198.18.2.2', '198.18.3.2']], [target.ipv6, ['fd42:0:0:2::2', 'fd42:0:0:3::2']]] as const) {
      const chosen = routes.stdout.split('\n').filter((line) => line.startsWith(`${address} `)).map((line) => / via (\S+)/.exec(line)?.[1]);
      expect(chosen).toHaveLength(32);
      for (const via of chosen) expect(vias).toContain(via);
      // 32 flows on one path by chance: 2^-31.
      expect([...new Set(chosen)].sort()).toEqual([...vias].sort());
    }
    // 32 UDP datagrams from 32 source ports leave r1 by both middle routers.
    const send = 'import socket, sys\nfor port in range(41000, 41032):\n    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n    s.bind(("", port))\n    s.sendto(b"x", (sys.argv[1], 33434))\n    s.close()\n';
    expect((await inLab('diamond', 'client', ['python3', '-c', send, target.ipv4])).code).toBe(0);
    const listed = (await inLab('diamond', 'r1', ['nft', 'list', 'table', 'inet', 'probes'])).stdout;
    const count = (device: string) => Number(new RegExp(`oifname "${device}" udp dport 33434 counter packets (\\d+)`).exec(listed)?.[1]);
    expect(count('r2') + count('r3'), listed).toBe(32);
    expect(count('r2'), listed).toBeGreaterThan(0);
    expect(count('r3'), listed).toBeGreaterThan(0);
    await down('diamond');
  });

  it.concurrent('small-mtu: a 1400-byte packet with DF set gets Fragmentation Needed / Packet Too Big with MTU 1280', async () => {
    const map = await up('small-mtu');
    expect(map.links.map((l) => l.mtu)).toEqual([1500, 1280, 1500]);
    const target = targetOf(map);
    // 1372 + 8 + 20 = 1400 bytes (IPv4); 1352 + 8 + 40 = 1400 (IPv6).
    const [, v4, v6] = await Promise.all([
      pingsBothWays('small-mtu', map),
      inLab('small-mtu', 'client', ['ping', '-4', '-n', '-c1', '-W1', '-M', 'do', '-s', '1372', target.ipv4]),
      inLab('small-mtu', 'client', ['ping', '-6', '-n', '-c1', '-W1', '-M', 'do', '-s', '1352', target.ipv6]),
    ]);
    expect(v4.code).not.toBe(0);
    expect(v4.stdout).toMatch(/From 198\.18\.1\.2 icmp_seq=1 Frag needed and DF set \(mtu = 1280\)/);
    expect(v6.code).not.toBe(0);
    expect(v6.stdout).toMatch(/From fd42:0:0:1::2 icmp_seq=1 Packet too big: mtu=1280/);
    await down('small-mtu');
  });

  it.concurrent('filtered: the CLI traceroute shows * at the silent router and !X at the rejecting one', async () => {
    const map = await up('filtered');
    const target = targetOf(map);
    const traceTo = (address: string) => inLab('filtered', 'client', [process.execPath, CLI, 'traceroute', '-q', '1', '-w', '1', '-m', '6', address]);
    const [, trace4, trace6] = await Promise.all([pingsBothWays('filtered', map), traceTo(target.ipv4), traceTo(target.ipv6)]);
    for (const [trace, rejecter] of [[trace4, '198.18.2.2'], [trace6, 'fd42:0:0:2::2']] as const) {
      // Not reached: exit 1.
      expect(trace.code, trace.stderr).toBe(1);
      const hops = trace.stdout.split('\n').filter((line) => /^\s*\d+\s/.test(line));
      expect(hops[0]).toMatch(/^\s*1\s+\*$/);
      expect(hops[1]).toMatch(new RegExp(`^\\s*2\\s+${rejecter.replace(/\./g, '\\.')}\\s+[\\d.]+ ms !X$`));
      expect(hops).toHaveLength(2);
    }
    await down('filtered');
  });

  it.concurrent('lossy: comes up with its impairment through netem or the link emulator, passes pings, and down stops the emulator', async () => {
    const map = await up('lossy');
    const impairments = map.links.flatMap((l) => l.impairments);
    expect(impairments).toHaveLength(1);
    expect(impairments[0]).toMatchObject({ from: 'r1', to: 'r2', delayMs: 40, lossPercent: 20 });
    // netem where the kernel has it, else the userspace link emulator (measured in main/lab/impairment-lab.test.ts).
    expect(impairments[0].how).toMatch(/^(netem|emulator)$/);
    const emulators = (JSON.parse(readFileSync(stateFile('lossy'), 'utf8')) as { emulators?: Array<{ link: string; pid: number }> }).emulators ?? [];
    expect(emulators.map((e) => e.link)).toEqual(impairments[0].how === 'emulator' ? ['r1—r2'] : []);
    // It outlives `lab up`, which has exited.
    for (const { pid } of emulators) expect(isLinkEmulator(pid)).toBe(true);
    // Ten tries are enough to get a reply through 20 %.
    const [status] = await Promise.all([cli(['lab', 'status']), pingsBothWays('lossy', map, 10)]);
    expect(status.stdout).toMatch(impairments[0].how === 'netem' ? /r1 → r2 {2}delay 40 ms, loss 20 % {2}tc netem/ : /r1 → r2 {2}delay 40 ms, loss 20 % {2}userspace link emulator \(this kernel has no netem\)\n {2}link emulator r1—r2: pid \d+/);
    await down('lossy');
    for (const { pid } of emulators) expect(isLinkEmulator(pid)).toBe(false);
  });

  it.concurrent('a `lab up` of an emulated link killed with SIGKILL once its emulator runs leaves no emulator and no namespace', async () => {
    const file = path.join(scratch, 'crash-lossy.json');
    const lossy = JSON.parse(readFileSync(path.join(ROOT, 'main', 'lab', 'topologies', 'lossy.json'), 'utf8'));
    writeFileSync(file, JSON.stringify({ ...lossy, name: 'crash-lossy' }));
    const child = spawn(process.execPath, [CLI, 'lab', 'up', file, '--link-emulator', 'always'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Its stats file names the lab: /run/packet-workbench/linkemu/pwl-crash-lossy-<pid>-…
    const emulatorsOf = () => execFileSync('pgrep', ['-f', `linkemu .*pwl-crash-lossy-${child.pid}-`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').filter(Boolean).map(Number);
    const running = () => {
      try {
        return emulatorsOf();
      } catch {
        return []; // pgrep: none
      }
    };
    let seen: number[] = [];
    for (let i = 0; i < 1000 && seen.length === 0 && child.exitCode === null; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      seen = running();
    }
    child.kill('SIGKILL');
    await exited;
    expect(seen).toHaveLength(1);
    let left = running();
    for (let i = 0; i < 50 && (left.length > 0 || namespacesOf('crash-lossy').length > 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = running();
    }
    expect(left).toEqual([]);
    expect(namespacesOf('crash-lossy')).toEqual([]);
    expect(existsSync(stateFile('crash-lossy'))).toBe(false);
  });

  it.concurrent('a `lab up` killed with SIGKILL midway leaves nothing behind', async () => {
    const file = path.join(scratch, 'crash.json');
    const line = JSON.parse(readFileSync(path.join(ROOT, 'main', 'lab', 'topologies', 'line.json'), 'utf8'));
    // Its own addresses would not matter (separate namespaces), its own name does.
    writeFileSync(file, JSON.stringify({ ...line, name: 'crash-test' }));
    const child = spawn(process.execPath, [CLI, 'lab', 'up', file], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let seen: string[] = [];
    for (let i = 0; i < 500 && seen.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      seen = namespacesOf('crash-test');
    }
    child.kill('SIGKILL');
    await exited;
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(existsSync(stateFile('crash-test'))).toBe(false);
    // The crash guard removes them within a few tenths of a second.
    let left = namespacesOf('crash-test');
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = namespacesOf('crash-test');
    }
    expect(left).toEqual([]);
    expect(existsSync(stateFile('crash-test'))).toBe(false);
    expect(existsSync(lockFile('crash-test'))).toBe(false);
  });

  it.concurrent('two `lab up` of one lab at once: one builds it, the other is refused, nothing extra is left', async () => {
    const file = path.join(scratch, 'twice.json');
    const line = JSON.parse(readFileSync(path.join(ROOT, 'main', 'lab', 'topologies', 'line.json'), 'utf8'));
    writeFileSync(file, JSON.stringify({ ...line, name: 'twice-test' }));
    const results = await Promise.all([cli(['lab', 'up', file]), cli(['lab', 'up', file])]);
    expect(results.map((r) => r.code).sort()).toEqual([0, 2]);
    expect(results.find((r) => r.code === 2)!.stderr).toMatch(/lab twice-test is (being built by process \d+|already up)/);
    expect(namespacesOf('twice-test')).toHaveLength(5);
    await down('twice-test');
  });

  it('lab list names the shipped topologies, one line each', async () => {
    const text = await cli(['lab', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['diamond', 'filtered', 'line', 'lossy', 'small-mtu']);
    const json = await cli(['lab', 'list', '--json']);
    expect(json.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { name: string }).name)).toEqual(['diamond', 'filtered', 'line', 'lossy', 'small-mtu']);
  });

  // After the concurrent tests: their `lab up`s would sweep the namespace first.
  it('namespaces a crash left (no state file, builder gone) are listed by status and swept by the next lab up', async () => {
    const gone = spawn('true');
    await new Promise((resolve) => gone.once('exit', resolve));
    const ghost = `pwl-ghost-${gone.pid}-0a0a-client`;
    execFileSync('ip', ['netns', 'add', ghost]);
    try {
      const status = JSON.parse((await cli(['lab', 'status', '--json'])).stdout) as { orphans: string[] };
      expect(status.orphans).toContain(ghost);
      const file = path.join(scratch, 'sweep.json');
      const line = JSON.parse(readFileSync(path.join(ROOT, 'main', 'lab', 'topologies', 'line.json'), 'utf8'));
      writeFileSync(file, JSON.stringify({ ...line, name: 'sweep-test' }));
      expect((await cli(['lab', 'up', file])).code).toBe(0);
      expect(namespacesOf('ghost')).toEqual([]);
      await down('sweep-test');
    } finally {
      // Normally gone already.
      if (namespacesOf('ghost').length > 0) execFileSync('ip', ['netns', 'delete', ghost], { stdio: 'ignore' });
    }
  });

  it('bad topologies and unknown labs are usage errors naming the problem', async () => {
    const file = path.join(scratch, 'bad.json');
    writeFileSync(file, JSON.stringify({ name: 'bad', hosts: [], links: [], routes: 'auto' }));
    const bad = await cli(['lab', 'up', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${file}: hosts: needs at least two hosts (line 1, column 23); links: needs at least one link (line 1, column 34)`);
    const unknown = await cli(['lab', 'up', 'triangle']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/triangle: no shipped topology of that name/);
    const downUnknown = await cli(['lab', 'down', 'triangle']);
    expect(downUnknown.code).toBe(2);
    expect(downUnknown.stderr).toMatch(/no lab named triangle is up/);
  });
});
