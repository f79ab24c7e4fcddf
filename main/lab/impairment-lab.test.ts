// Each impairment is visible on real traffic, through the userspace link emulator and
// through the kernel (netem where it exists; tbf for a rate): the shipped `lossy`
// topology loses about 20 % and adds about 40 ms client → target and nothing the other
// way, over IPv4 and IPv6; a rate limit caps a bounded TCP transfer in one direction.
// Real namespaces, root; addresses only in 198.18.0.0/15 and fd42::/16.
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isLinkEmulator, linkEmulatorPath, type LinkEmulatorMode } from './emulator';
import { isLabSupported } from './namespace';
import { loadTopology } from './topologies';
import { parseTopology } from './topology';
import { createTopologyLab, type TopologyLab } from './topology-lab';
import { labWhy, skipNote } from '../test/fixtures/privilege';

const built = linkEmulatorPath() !== undefined;
const supported = built && typeof process.getuid === 'function' && process.getuid() === 0 && isLabSupported();
const why = labWhy() || (built ? '' : 'needs the link emulator (npm run build:native)');

// 300 probes at p = 0.2: sd 2.3 points, so 12..28 % is ±3.5 sd; both directions lossy would be 36 %.
const PROBES = 300;
const LOSS_RANGE = [12, 28] as const;
// +40 ms one way (both ways would be 80); the rest is a busy machine's scheduling.
const RTT_RANGE = [38, 60] as const;

// One-way: every namespace reads the same CLOCK_REALTIME, so a timestamp in the datagram gives the delay.
const ONE_WAY = `
import json, socket, sys, time
mode, address, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ':' in address else socket.AF_INET, socket.SOCK_DGRAM)
if mode == 'receive':
    # The sender may take seconds to start on a busy machine; after its first datagram, 2 s of silence ends it.
    s.bind((address, port)); s.settimeout(20.0); delays = []
    print('ready', flush=True)
    try:
        while len(delays) < count:
            data, _ = s.recvfrom(64); delays.append(time.time() - float(data)); s.settimeout(2.0)
    except socket.timeout:
        pass
    print(json.dumps({'received': len(delays), 'meanMs': 1000 * sum(delays) / max(1, len(delays))}))
else:
    for i in range(count):
        s.sendto(repr(time.time()).encode(), (address, port)); time.sleep(0.01)
`;

function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no line within ${timeoutMs} ms: ${out}`)), timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.split('\n')[0]);
      }
    });
  });
}

function output(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const timer = setTimeout(() => reject(new Error(`not done within ${timeoutMs} ms: ${out}`)), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** Datagrams `from` → `to` at 100/s: how many arrived and their mean one-way delay. */
async function oneWay(lab: TopologyLab, from: string, to: string, address: string, port: number, count = 200): Promise<{ received: number; meanMs: number }> {
  const receiver = lab.spawn(to, ['python3', '-c', ONE_WAY, 'receive', address, String(port), String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const done = output(receiver, 40_000);
  expect(await firstLine(receiver, 15_000)).toBe('ready');
  await lab.exec(from, ['python3', '-c', ONE_WAY, 'send', address, String(port), String(count)], { timeoutMs: 30_000 });
  const lines = (await done).trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as { received: number; meanMs: number };
}

interface PingSummary {
  transmitted: number;
  received: number;
  lossPercent: number;
  averageMs: number;
}

async function pingMany(lab: TopologyLab, family: '-4' | '-6', address: string): Promise<PingSummary> {
  const result = await lab.exec('client', ['ping', family, '-n', '-q', '-c', String(PROBES), '-i', '0.01', '-W', '2', address], { check: false, timeoutMs: 30_000 });
  const counts = /(\d+) packets transmitted, (\d+) received/.exec(result.stdout);
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(result.stdout);
  expect(counts, result.stdout + result.stderr).not.toBeNull();
  const [transmitted, received] = [Number(counts?.[1]), Number(counts?.[2])];
  return { transmitted, received, lossPercent: (100 * (transmitted - received)) / transmitted, averageMs: Number(rtt?.[1]) };
}

const MODES: Array<[string, LinkEmulatorMode]> = [
  ['the userspace link emulator', 'always'],
  ['the kernel (netem)', 'never'],
];

describe.runIf(supported)(`impairments on real traffic${skipNote(why)}`, { timeout: 120_000 }, () => {
  it.for(MODES)('lossy through %s: about a fifth lost and +40 ms, client → target only, IPv4 and IPv6', async ([, linkEmulator], context) => {
    // pwt-: not a name the CLI's lab sweeps or tests look at.
    const lab = await createTopologyLab(loadTopology('lossy'), { prefix: 'pwt-lossy', linkEmulator, readyTimeoutMs: 30_000 });
    try {
      const impairment = lab.map.links[1].impairments[0];
      if (linkEmulator === 'never' && impairment.how !== 'netem') {
        expect(impairment.how).toBe('unsupported');
        context.skip('this kernel has no netem');
      }
      expect(impairment).toMatchObject({ from: 'r1', to: 'r2', delayMs: 40, lossPercent: 20, how: linkEmulator === 'always' ? 'emulator' : 'netem' });
      expect(lab.emulators.map((e) => e.link)).toEqual(linkEmulator === 'always' ? ['r1—r2'] : []);

      const [v4, v6] = await Promise.all([pingMany(lab, '-4', '198.18.3.2'), pingMany(lab, '-6', 'fd42:0:0:3::2')]);
      const [forward, back] = await Promise.all([oneWay(lab, 'client', 'target', '198.18.3.2', 9004), oneWay(lab, 'target', 'client', 'fd42:0:0:1::1', 9006)]);
      console.log(`lossy via ${linkEmulator === 'always' ? 'emulator' : 'netem'}: ping v4 ${v4.lossPercent.toFixed(1)} % lost avg ${v4.averageMs} ms; v6 ${v6.lossPercent.toFixed(1)} % lost avg ${v6.averageMs} ms; one way client→target ${forward.received}/200 ${forward.meanMs.toFixed(1)} ms, target→client ${back.received}/200 ${back.meanMs.toFixed(1)} ms`);
      for (const summary of [v4, v6]) {
        expect(summary.transmitted).toBe(PROBES);
        expect(summary.lossPercent).toBeGreaterThanOrEqual(LOSS_RANGE[0]);
        expect(summary.lossPercent).toBeLessThanOrEqual(LOSS_RANGE[1]);
        expect(summary.averageMs).toBeGreaterThanOrEqual(RTT_RANGE[0]);
        expect(summary.averageMs).toBeLessThanOrEqual(RTT_RANGE[1]);
      }
      // The impaired direction alone: 200 datagrams at p = 0.2 (sd 2.8 points).
      expect(forward.received).toBeGreaterThanOrEqual(140);
      expect(forward.received).toBeLessThanOrEqual(180);
      expect(back.received).toBe(200);
      expect(back.meanMs).toBeLessThan(15);
      // What the link adds one way, over what the same path costs unimpaired (a busy machine's wakeups, in both).
      expect(forward.meanMs - back.meanMs).toBeGreaterThanOrEqual(35);
      expect(forward.meanMs - back.meanMs).toBeLessThanOrEqual(55);

      if (linkEmulator === 'always') {
        // The emulator's own counters agree: losses on r1 → r2 only.
        const counters = await lab.emulators[0].counters();
        expect(counters?.ab.lost).toBeGreaterThan(0);
        expect(counters?.ba.lost).toBe(0);
        expect(counters?.ab.lost).toBe((counters?.ab.received ?? 0) - (counters?.ab.sent ?? 0) - (counters?.ab.queueDrops ?? 0) - (counters?.ab.writeErrors ?? 0) - (counters?.ab.queued ?? 0));
      }
    } finally {
      await lab.destroy();
    }
    for (const emulator of lab.emulators) expect(isLinkEmulator(emulator.pid)).toBe(false);
  });

  it.for([
    ['the userspace link emulator', 'always'],
    ['the kernel (netem or tbf)', 'never'],
  ] as Array<[string, LinkEmulatorMode]>)('a 2000 kbit/s rate through %s caps a 256 KB TCP transfer one way only', async ([, linkEmulator]) => {
    const topology = parseTopology(
      JSON.stringify({
        name: 'unit-rate',
        hosts: [{ name: 'client', role: 'host' }, { name: 'target', role: 'host' }],
        links: [{ ends: [{ host: 'client', addresses: ['198.19.9.1/24', 'fd42:9:9::1/64'] }, { host: 'target', addresses: ['198.19.9.2/24', 'fd42:9:9::2/64'] }], impairments: [{ from: 'client', rateKbit: 2000 }] }],
        routes: 'auto',
      }),
    );
    const lab = await createTopologyLab(topology, { prefix: 'pwt-rate', linkEmulator });
    try {
      expect(lab.map.links[0].impairments[0].how).toMatch(linkEmulator === 'always' ? /^emulator$/ : /^(netem|tbf)$/);
      // The receiver times from the first byte to the sender's close; 256 KB at 2000 kbit/s is about 1.05 s.
      const receive = `
import socket, sys, time
s = socket.socket(socket.AF_INET); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9100)); s.listen(1); s.settimeout(20); print('ready', flush=True)
c, _ = s.accept(); c.settimeout(10); total = 0; first = None
while True:
    data = c.recv(65536)
    if first is None: first = time.time()
    if not data: break
    total += len(data)
print(total, round(total * 8 / (time.time() - first) / 1000))
`;
      const send = `
import socket, sys
s = socket.create_connection((sys.argv[1], 9100), timeout=10); s.sendall(b'x' * 262144); s.close()
`;
      const transfer = async (from: string, to: string, address: string) => {
        const receiver = lab.spawn(to, ['python3', '-c', receive, address], { stdio: ['ignore', 'pipe', 'inherit'] });
        const done = output(receiver, 30_000);
        expect(await firstLine(receiver, 10_000)).toBe('ready');
        await lab.exec(from, ['python3', '-c', send, address], { timeoutMs: 30_000 });
        const [bytes, kbit] = (await done).trim().split('\n').pop()!.split(' ').map(Number);
        expect(bytes).toBe(262144);
        return kbit;
      };
      const limited = await transfer('client', 'target', '198.19.9.2');
      const free = await transfer('target', 'client', '198.19.9.1');
      console.log(`rate 2000 kbit/s via ${lab.map.links[0].impairments[0].how}: client→target ${limited} kbit/s, target→client ${free} kbit/s`);
      // TCP/IP headers take about 5 %; a loaded machine may lose some more.
      expect(limited).toBeGreaterThanOrEqual(1200);
      expect(limited).toBeLessThanOrEqual(2100);
      expect(free).toBeGreaterThan(3 * limited);
    } finally {
      await lab.destroy();
    }
  });
});
