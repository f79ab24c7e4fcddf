// probeConnect: TCP connect() probes for unprivileged TCP traceroute. On loopback (in
// this process), in an empty namespace (local failures), and through a namespace lab
// as user nobody: Time Exceeded from each router, then the target's RST or SYN-ACK,
// and a timeout where a router drops the probe.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer, type Server, type Socket as NetSocket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, createNamespace, labSupport, NOBODY, type Lab, type Namespace } from '../../main/lab';
import * as raw from '../lib/index';
import { readableNativeCopy, nobodyEnv, type NativeCopy } from './fixtures/native-copy';
import { waitFor } from './helpers';

const support = labSupport();

/** A TCP server on loopback that records how each connection ended ('ECONNRESET' for a reset). */
async function recordingServer(host: string): Promise<{ server: Server; port: number; ends: Map<number, string>; closed: () => number }> {
  const ends = new Map<number, string>();
  let closedCount = 0;
  const server = createServer((connection: NetSocket) => {
    // Undefined when the reset came before Node asked: such ones are only counted.
    const remote = connection.remotePort as number;
    connection.on('error', (error: NodeJS.ErrnoException) => ends.set(remote, error.code ?? 'error'));
    connection.on('end', () => ends.set(remote, 'end'));
    connection.on('close', () => closedCount++);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as { port: number }).port, ends, closed: () => closedCount };
}

async function closedTcpPort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

describe.each(['127.0.0.1', '::1'])('probeConnect on %s', (host) => {
  it("an open port → 'open'; the connection is reset (no FIN, no TIME_WAIT), from the reported local port", async () => {
    const { server, port, ends } = await recordingServer(host);
    try {
      const result = await raw.probeConnect({ address: host, port, ttl: 64, timeout: 2000 });
      expect(result.outcome).toBe('open');
      expect(result.icmpError).toBeUndefined();
      expect(result.localPort).toBeGreaterThan(0);
      expect(typeof result.answeredAt).toBe('bigint');
      expect(result.answeredAt as bigint).toBeGreaterThanOrEqual(result.sentAt);
      const nowNs = BigInt(Date.now()) * 1_000_000n;
      expect(result.sentAt).toBeGreaterThan(nowNs - 10_000_000_000n);
      await waitFor(() => ends.has(result.localPort), 2000, 'the server to see the connection end');
      expect(ends.get(result.localPort)).toBe('ECONNRESET');
    } finally {
      server.close();
    }
  });

  it("a closed port → 'refused' (the RST), answeredAt without timestamps too", async () => {
    const port = await closedTcpPort(host);
    for (const timestamps of [true, false]) {
      const result = await raw.probeConnect({ address: host, port, ttl: 64, timeout: 2000, timestamps });
      expect(result.outcome).toBe('refused');
      expect(result.icmpError).toBeUndefined();
      expect(result.answeredAt as bigint).toBeGreaterThanOrEqual(result.sentAt);
      expect(Number((result.answeredAt as bigint) - result.sentAt)).toBeLessThan(2e9);
    }
  });

  it('40 probes at once all settle, once each, and leave no descriptor behind', async () => {
    const { server, port, closed: serverClosed } = await recordingServer(host);
    const closed = await closedTcpPort(host);
    try {
      const before = openDescriptors();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => raw.probeConnect({ address: host, port: i % 2 ? port : closed, ttl: 64, timeout: 3000 })),
      );
      expect(results.map((r) => r.outcome)).toEqual(Array.from({ length: 40 }, (_, i) => (i % 2 ? 'open' : 'refused')));
      // Each from a socket of its own: a real local port. Not 40 distinct ones: a refused probe's
      // socket is gone at the RST, and the kernel may give its port to a later probe (seen in CI).
      expect(results.every((r) => Number.isInteger(r.localPort) && r.localPort > 0 && r.localPort < 65536)).toBe(true);
      // The server's side of the 20 connections (in this process too) closes once it sees each reset.
      await waitFor(() => serverClosed() >= 20, 2000, 'the server to see every connection end');
      await new Promise((resolve) => setImmediate(resolve));
      expect(openDescriptors()).toBe(before);
    } finally {
      server.close();
    }
  });
});

describe.skipIf(!support.supported)(`probeConnect in a namespace with no route${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  let namespace: Namespace | undefined;
  beforeAll(async () => {
    namespace = await createNamespace({ suffix: 'noroute' });
  });
  afterAll(async () => {
    await namespace?.destroy();
  });

  it('a local failure (ENETUNREACH: no route) rejects with a typed error; nothing is sent', async () => {
    const script = `
      const raw = require(${JSON.stringify(require.resolve('../dist/index.js'))});
      Promise.all(['198.18.99.1', 'fd42:0:0:99::1'].map((address) =>
        raw.probeConnect({ address, port: 80, ttl: 5, timeout: 1000 }).then(
          (r) => ({ resolved: r.outcome }),
          (e) => ({ name: e.name, code: e.code, syscall: e.syscall, isRawSocketError: e instanceof raw.RawSocketError }))))
        .then((r) => console.log(JSON.stringify(r)));`;
    const result = await (namespace as Namespace).exec([process.execPath, '-e', script], { timeoutMs: 10_000 });
    expect(JSON.parse(result.stdout)).toEqual([
      { name: 'RawSocketError', code: 'ENETUNREACH', syscall: 'connect', isRawSocketError: true },
      { name: 'RawSocketError', code: 'ENETUNREACH', syscall: 'connect', isRawSocketError: true },
    ]);
  });
});

// ---- through the lab, as nobody ---------------------------------------------------------

interface ProbeReport {
  outcome?: raw.ConnectProbeResult['outcome'];
  error?: string;
  localPort?: number;
  answeredAfterSent?: boolean | null;
  answerMs?: number | null;
  elapsedMs: number;
  icmpError?: {
    code: string;
    origin: string;
    icmpType: number;
    icmpCode: number;
    offender: string | null;
    address: string;
    port: number;
    hasTimestamp: boolean;
    timestampIsAnsweredAt: boolean;
    quotedSourcePort: number | null;
  };
}
interface FamilyReport {
  closed: ProbeReport[];
  open: ProbeReport[];
  parallel: ProbeReport[];
  blackhole: ProbeReport;
}

const OPEN_PORT = 8080;
const CLOSED_PORT = 8081;
const BLACKHOLE = { ipv4: { prefix: '198.18.200.0/24', address: '198.18.200.1' }, ipv6: { prefix: 'fd42:0:0:c8::/64', address: 'fd42:0:0:c8::1' } };
const BLACKHOLE_TIMEOUT_MS = 500;
const LISTENER = `
  const port = Number(process.argv[1]);
  const server = require('net').createServer((c) => {
    c.on('error', (e) => console.log('connection ' + e.code));
    c.on('end', () => console.log('connection end'));
  });
  server.listen(port, '::', () => console.log('listening'));
  setTimeout(() => process.exit(0), 60000); // bounded lifetime
`;

describe.skipIf(!support.supported)(`unprivileged TCP traceroute with probeConnect, as nobody${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  let lab: Lab | undefined;
  let copy: NativeCopy | undefined;
  let listener: ChildProcess | undefined;
  let listenerOutput = '';
  let report: { uid: number; results: Record<'ipv4' | 'ipv6', FamilyReport> };

  beforeAll(async () => {
    copy = readableNativeCopy(['connect-probe-lab.js', 'connect-probe-worker.js']);
    lab = await createLab();
    // router1 drops what goes to these prefixes, silently: a probe there times out.
    await lab.exec('router1', ['ip', '-4', 'route', 'add', 'blackhole', BLACKHOLE.ipv4.prefix]);
    await lab.exec('router1', ['ip', '-6', 'route', 'add', 'blackhole', BLACKHOLE.ipv6.prefix]);
    listener = lab.spawn('target', [process.execPath, '-e', LISTENER, String(OPEN_PORT)], { stdio: ['ignore', 'pipe', 'pipe'] });
    listener.stdout?.on('data', (chunk) => (listenerOutput += chunk));
    await waitFor(() => listenerOutput.includes('listening'), 10_000, 'the listener in the target namespace');

    const config = {
      ipv4: lab.target.addresses.ipv4[0],
      ipv6: lab.target.addresses.ipv6[0],
      hops: lab.expectedHops.ipv4.length,
      openPort: OPEN_PORT,
      closedPort: CLOSED_PORT,
      blackhole: { ipv4: BLACKHOLE.ipv4.address, ipv6: BLACKHOLE.ipv6.address },
      timeoutMs: 3000,
      blackholeTimeoutMs: BLACKHOLE_TIMEOUT_MS,
    };
    const result = await lab.exec('client', [process.execPath, copy.fixture('connect-probe-lab.js'), copy.nativeDir, JSON.stringify(config)], {
      user: NOBODY,
      check: false,
      timeoutMs: 60_000,
      cwd: '/',
      env: nobodyEnv(),
    });
    expect(result, `fixture failed: ${result.stderr}`).toMatchObject({ code: 0, timedOut: false });
    report = JSON.parse(result.stdout);
  }, 90_000);

  afterAll(async () => {
    await lab?.destroy();
    copy?.remove();
  });

  it('ran as nobody', () => {
    expect(report.uid).toBe(NOBODY.uid);
  });

  for (const name of ['ipv4', 'ipv6'] as const) {
    const origin = name === 'ipv4' ? 'icmp' : 'icmp6';
    const timeExceeded = name === 'ipv4' ? 11 : 3;

    function expectTimeExceeded(probe: ProbeReport, router: string, port: number, timestamps = true): void {
      const target = (lab as Lab).target.addresses[name][0];
      expect(probe.error).toBeUndefined();
      expect(probe.outcome).toBe('icmp-error');
      expect(probe.icmpError).toMatchObject({
        code: 'EHOSTUNREACH',
        origin,
        icmpType: timeExceeded,
        icmpCode: 0,
        offender: router,
        address: target,
        port,
        hasTimestamp: timestamps,
        quotedSourcePort: probe.localPort,
      });
      // answeredAt is the ICMP error's kernel receive time, when there is one.
      if (timestamps) expect(probe.icmpError?.timestampIsAnsweredAt).toBe(true);
      expect(probe.answeredAfterSent).toBe(true);
      expect(probe.answerMs as number).toBeLessThan(1000);
    }

    it(`${name}: TTL 1, 2 → Time Exceeded from router1, router2; TTL 3 → 'refused' (no listener)`, () => {
      const hops = (lab as Lab).expectedHops[name];
      const closed = report.results[name].closed;
      expect(closed).toHaveLength(3);
      expectTimeExceeded(closed[0], hops[0], CLOSED_PORT);
      expectTimeExceeded(closed[1], hops[1], CLOSED_PORT);
      expect(closed[2]).toMatchObject({ outcome: 'refused', answeredAfterSent: true });
      expect(closed[2].icmpError).toBeUndefined();
    });

    it(`${name}: a listening port → Time Exceeded at TTL 1, 'open' at TTL 3`, () => {
      const hops = (lab as Lab).expectedHops[name];
      const [near, far] = report.results[name].open;
      expectTimeExceeded(near, hops[0], OPEN_PORT);
      expect(far).toMatchObject({ outcome: 'open', answeredAfterSent: true });
      expect(far.icmpError).toBeUndefined();
    });

    it(`${name}: probes for every TTL at once (one socket each) get the same answers`, () => {
      const hops = (lab as Lab).expectedHops[name];
      const parallel = report.results[name].parallel;
      expectTimeExceeded(parallel[0], hops[0], CLOSED_PORT, false);
      expectTimeExceeded(parallel[1], hops[1], CLOSED_PORT, false);
      expect(parallel[2].outcome).toBe('refused');
    });

    it(`${name}: a probe router1 drops → 'timeout' after its timeout, without answeredAt`, () => {
      const probe = report.results[name].blackhole;
      expect(probe).toMatchObject({ outcome: 'timeout', answeredAfterSent: null });
      expect(probe.icmpError).toBeUndefined();
      expect(probe.elapsedMs).toBeGreaterThanOrEqual(BLACKHOLE_TIMEOUT_MS - 5);
      expect(probe.elapsedMs).toBeLessThan(BLACKHOLE_TIMEOUT_MS + 1500);
    });
  }

  it('the target saw each open probe reset, and the client keeps no TIME_WAIT', async () => {
    await waitFor(() => (listenerOutput.match(/connection ECONNRESET/g) ?? []).length >= 2, 3000, 'two resets at the target');
    expect(listenerOutput).not.toMatch(/connection end/);
    const timeWait = await (lab as Lab).exec('client', ['ss', '-Htan', 'state', 'time-wait']);
    expect(timeWait.stdout.trim()).toBe('');
  });

  it('worker threads terminated with probes pending: no crash, no descriptor left, probing goes on', async () => {
    const l = lab as Lab;
    const config = { blackhole: BLACKHOLE.ipv4.address, target: l.target.addresses.ipv4[0], closedPort: CLOSED_PORT, rounds: 6 };
    const result = await l.exec('client', [process.execPath, (copy as NativeCopy).fixture('connect-probe-worker.js'), (copy as NativeCopy).nativeDir, JSON.stringify(config)], {
      user: NOBODY,
      check: false,
      timeoutMs: 40_000,
      cwd: '/',
      env: nobodyEnv(),
    });
    expect(result.stderr).not.toMatch(/FATAL|Assertion|Segmentation|terminate called/);
    expect(result, result.stderr).toMatchObject({ code: 0, timedOut: false });
    const lines = result.stdout.trim().split('\n');
    const rounds = lines.filter((line) => line.startsWith('terminated'));
    expect(rounds).toHaveLength(7);
    // Terminated with the four blackholed probes still pending, after the fifth settled.
    for (const line of rounds) expect(line).toBe('terminated 1 pending 4 settled refused');
    const [, before, after] = (lines.find((line) => line.startsWith('descriptors')) as string).split(' ');
    expect(Number(after)).toBe(Number(before));
    expect(lines[lines.length - 1]).toBe('main refused');
  });
});
