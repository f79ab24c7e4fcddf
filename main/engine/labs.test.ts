// The engine's lab and acting inside its hosts, on real namespaces: the shipped 'line'
// topology (client — r1 — r2 — r3 — target, 198.18.0.0/15 and fd42::/16). The engine runs
// in this process, in its own namespace; only its sockets live in the lab.
import { execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaptureInfo, EventBatch, ExperimentRun, LabInfo, LogRow, SocketInfo } from '../../common/contract';
import { validateParams, WorkbenchError } from '../../common/validate';
import { readCapture } from '../../packets/pcapng';
import { labSupport } from '../lab';
import { dispatchCall } from './dispatch';
import { Workbench } from './workbench';

const support = labSupport();

function netnsNames(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter(Boolean);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('labs without a lab', () => {
  let workbench: Workbench;
  beforeAll(() => {
    workbench = new Workbench();
  });
  afterAll(() => workbench.close());

  it('lists the shipped topologies with their hosts', async () => {
    const topologies = await workbench.labTopologies();
    expect(topologies.find((t) => t.name === 'line')).toMatchObject({ hosts: ['client', 'r1', 'r2', 'r3', 'target'] });
    expect(await workbench.labStatus()).toEqual({ state: 'down' });
    expect(await workbench.stopLab()).toEqual({ state: 'down' });
  });

  it('host without a lab: LAB_NOT_UP on openSocket, startCapture, ping and traceroute; a bad host name is refused by the contract', async () => {
    const calls: [string, unknown][] = [
      ['openSocket', { family: 'ipv4', protocol: 1, host: 'client' }],
      ['startCapture', { host: 'client' }],
      ['ping', { target: '198.18.4.2', count: 1, host: 'client' }],
      ['traceroute', { target: '198.18.4.2', host: 'client' }],
    ];
    for (const [method, params] of calls) {
      await expect(dispatchCall(workbench, method, params), method).rejects.toMatchObject({ code: 'LAB_NOT_UP', field: 'host' });
    }
    expect(() => validateParams('openSocket', { family: 'ipv4', protocol: 1, host: '../client' })).toThrow(WorkbenchError);
    await expect(workbench.startLab({ topology: 'no-such-topology' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(workbench.startLab({ topology: '/etc/passwd' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe.skipIf(!support.supported)(`acting inside a lab host${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  let workbench: Workbench;
  let up: LabInfo;
  const batches: EventBatch[] = [];
  const before = new Set(netnsNames());

  beforeAll(async () => {
    workbench = new Workbench({ eventIntervalMs: 5 });
    workbench.subscribe((batch) => batches.push(batch));
    up = await workbench.startLab({ topology: 'line' });
  }, 60_000);

  afterAll(async () => {
    await workbench?.close();
    // close() takes the lab down too.
    expect(netnsNames().filter((name) => !before.has(name) && name.startsWith('pwl-line-'))).toEqual([]);
  });

  it('startLab: up with the map; a lab event said so; a second start is LAB_RUNNING', async () => {
    expect(up).toMatchObject({ state: 'up', topology: 'line' });
    expect(up.map?.hosts.map((host) => host.name)).toEqual(['client', 'r1', 'r2', 'r3', 'target']);
    expect(up.map?.hosts.find((host) => host.name === 'target')?.addresses).toContain('198.18.4.2/24');
    await until('a lab event', async () => (batches.flat().some((event) => event.type === 'lab' && event.lab.state === 'up') ? true : undefined));
    await expect(workbench.startLab({ topology: 'line' })).rejects.toMatchObject({ code: 'LAB_RUNNING' });
    await expect(workbench.openSocket(validateParams('openSocket', { family: 'ipv4', protocol: 1, host: 'nohost' }))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('client, r1, r2, r3, target'),
    });
  });

  it("a socket opened in 'client' sends an echo to the target; the reply is logged with host 'client'", async () => {
    const socket = (await dispatchCall(workbench, 'openSocket', { family: 'ipv4', protocol: 1, host: 'client' })) as SocketInfo;
    expect(socket).toMatchObject({ host: 'client', mode: 'raw' });
    const identifier = 0x5a00 + (process.pid & 0xff);
    await dispatchCall(workbench, 'send', { socketId: socket.socketId, address: '198.18.4.2', packet: { layers: [{ kind: 'icmp', fields: { type: 8, identifier, sequence: 1 } }] } });
    const reply = await until('the echo reply', async () => {
      const page = await workbench.queryLog(validateParams('queryLog', { limit: 1000 }));
      return page.rows.find((row: LogRow) => row.socketId === socket.socketId && row.direction === 'received' && row.source === '198.18.4.2' && /Echo reply/.test(row.info));
    });
    expect(reply).toMatchObject({ host: 'client', destination: '198.18.1.1' });
    // IPv6 too.
    const v6 = (await dispatchCall(workbench, 'openSocket', { family: 'ipv6', protocol: 58, host: 'client' })) as SocketInfo;
    await dispatchCall(workbench, 'send', { socketId: v6.socketId, address: 'fd42:0:0:4::2', packet: { layers: [{ kind: 'icmpv6', fields: { type: 128, identifier, sequence: 2 } }] } });
    const reply6 = await until('the echo reply (IPv6)', async () => {
      const page = await workbench.queryLog(validateParams('queryLog', { limit: 1000 }));
      return page.rows.find((row: LogRow) => row.socketId === v6.socketId && row.direction === 'received' && /Echo reply/.test(row.info));
    });
    expect(reply6).toMatchObject({ host: 'client', source: 'fd42:0:0:4::2' });
    // UDP: its checksum covers the source address, which is client's (its routes), not ours. The target's
    // kernel answers a datagram to a closed port with Port Unreachable only when the checksum is right.
    const udp = (await dispatchCall(workbench, 'openSocket', { family: 'ipv4', protocol: 17, host: 'client' })) as SocketInfo;
    await dispatchCall(workbench, 'send', { socketId: udp.socketId, address: '198.18.4.2', packet: { layers: [{ kind: 'udp', fields: { srcPort: 40999, dstPort: 9 } }, { kind: 'payload', data: '6869' }] } });
    const unreachable = await until('port unreachable', async () => {
      const page = await workbench.queryLog(validateParams('queryLog', { limit: 1000 }));
      return page.rows.find((row: LogRow) => row.socketId === socket.socketId && row.direction === 'received' && /unreachable/i.test(row.info));
    });
    expect(unreachable).toMatchObject({ host: 'client', source: '198.18.4.2', destination: '198.18.1.1' });
  });

  it("a capture inside router 'r2' sees a ping from 'client' cross it, on r2's interfaces, with host 'r2'", async () => {
    const capture = (await dispatchCall(workbench, 'startCapture', { host: 'r2', protocol: 'ipv4', filter: 'icmp' })) as CaptureInfo;
    expect(capture).toMatchObject({ host: 'r2', state: 'running' });
    const r2Interfaces = up.map!.links.flatMap((link) => link.ends.filter((end) => end.host === 'r2').map((end) => end.interface));
    const run = (await dispatchCall(workbench, 'ping', { target: '198.18.4.2', count: 2, intervalMs: 100, host: 'client' })) as ExperimentRun;
    expect(run).toMatchObject({ host: 'client', kind: 'ping' });
    await until('the ping run', async () => {
      const done = (await workbench.listExperiments()).find((r) => r.runId === run.runId);
      return done?.state === 'done' ? done : undefined;
    });
    const finished = (await workbench.listExperiments()).find((r) => r.runId === run.runId) as ExperimentRun;
    expect(finished.ping?.statistics.received).toBe(2);
    const rows = await until('the capture rows', async () => {
      const page = await workbench.queryLog(validateParams('queryLog', { limit: 1000 }));
      const seen = page.rows.filter((row) => row.socketId === capture.captureId);
      return seen.length >= 8 ? seen : undefined; // 2 requests and 2 replies, each in and out of r2
    });
    for (const row of rows) {
      expect(row.host).toBe('r2');
      expect(r2Interfaces).toContain(row.interface);
    }
    // The ping's own rows name the client.
    const page = await workbench.queryLog(validateParams('queryLog', { limit: 1000 }));
    const pingRows = page.rows.filter((row) => row.socketId === run.runId);
    expect(pingRows.length).toBeGreaterThanOrEqual(4);
    for (const row of pingRows) expect(row.host).toBe('client');
    // Exported: each interface block names the host.
    const exported = await workbench.exportPcapng(validateParams('exportPcapng', { ids: [...rows, ...pingRows].map((row) => row.id) }));
    const descriptions = readCapture(Buffer.from(exported.pcapng, 'base64')).interfaces.map((iface) => iface.description ?? '');
    expect(descriptions.some((text) => text.includes('in lab host r2'))).toBe(true);
    expect(descriptions.some((text) => text.includes('in lab host client'))).toBe(true);
    // Imported elsewhere, the rows still say where they were seen.
    const elsewhere = new Workbench();
    try {
      expect(await elsewhere.importPcapng({ pcapng: exported.pcapng })).toEqual({ imported: rows.length + pingRows.length });
      const imported = (await elsewhere.queryLog(validateParams('queryLog', { limit: 1000 }))).rows;
      expect(imported.filter((row) => row.host === 'r2')).toHaveLength(rows.length);
      expect(imported.filter((row) => row.host === 'client')).toHaveLength(pingRows.length);
    } finally {
      await elsewhere.close();
    }
    await workbench.stopCapture({ captureId: capture.captureId });
  }, 30_000);

  it("traceroute from 'client' reaches the target through r1, r2, r3 (ICMP, UDP and TCP)", async () => {
    for (const probe of ['icmp', 'udp', 'tcp'] as const) {
      const run = (await dispatchCall(workbench, 'traceroute', { target: '198.18.4.2', probe, maxHops: 8, probesPerHop: 1, timeoutMs: 2000, host: 'client' })) as ExperimentRun;
      expect(run.host).toBe('client');
      const done = await until(`the ${probe} traceroute`, async () => {
        const found = (await workbench.listExperiments()).find((r) => r.runId === run.runId);
        return found && found.state !== 'running' ? found : undefined;
      }, 20_000);
      expect(done.traceroute?.reached, probe).toBe(true);
      expect(done.traceroute?.hops.map((hop) => hop.probes[0]?.responder), probe).toEqual(['198.18.1.2', '198.18.2.2', '198.18.3.2', '198.18.4.2']);
    }
  }, 60_000);

  it('stopLab: down, its namespaces gone; acting from a host is LAB_NOT_UP again', async () => {
    const names = Object.values(up.map!.hosts).map((host) => host.namespace).filter(Boolean) as string[];
    expect(names.length).toBe(5);
    for (const name of names) expect(netnsNames()).toContain(name);
    // What acts inside the lab's hosts lets go of them (an open socket would keep a namespace alive).
    const socket = (await dispatchCall(workbench, 'openSocket', { family: 'ipv4', protocol: 1, host: 'target' })) as SocketInfo;
    const capture = (await dispatchCall(workbench, 'startCapture', { host: 'r1' })) as CaptureInfo;
    const ping = (await dispatchCall(workbench, 'ping', { target: '198.18.1.1', count: 1000, intervalMs: 100, host: 'target' })) as ExperimentRun;
    expect(await workbench.stopLab()).toEqual({ state: 'down' });
    expect((await workbench.listSockets()).find((info) => info.socketId === socket.socketId)).toBeUndefined();
    expect((await workbench.listCaptures()).find((info) => info.captureId === capture.captureId)?.state).toBe('stopped');
    expect((await workbench.listExperiments()).find((run) => run.runId === ping.runId)).toMatchObject({ state: 'failed', error: { code: 'LAB_DOWN' } });
    const left = netnsNames();
    for (const name of names) expect(left).not.toContain(name);
    await expect(dispatchCall(workbench, 'ping', { target: '198.18.4.2', host: 'client' })).rejects.toMatchObject({ code: 'LAB_NOT_UP' });
    await until('a lab event: down', async () => (batches.at(-1)?.some((event) => event.type === 'lab' && event.lab.state === 'down') ? true : undefined));
  });
});

describe.skipIf(!support.supported)(`an engine killed with its lab up${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  it('leaves no namespace behind: the crash guard removes them', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'test', 'fixtures', 'engine-runner.cjs'), path.join(__dirname, '..', 'test', 'fixtures', 'engine-lab-crash.ts'), 'line'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const names = await new Promise<string[]>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]) as string[]);
      });
      child.once('exit', (code) => reject(new Error(`the engine child exited with ${code} before its lab was up: ${stderr}`)));
    });
    expect(names.length).toBe(5);
    for (const name of names) expect(netnsNames()).toContain(name);
    child.kill('SIGKILL');
    await until('the namespaces to go', async () => (names.every((name) => !netnsNames().includes(name)) ? true : undefined), 20_000);
  });
});

describe.skipIf(!support.supported)(`stopLab while the lab starts${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  it('waits for it, then takes it down: down, nothing left', { timeout: 60_000 }, async () => {
    const workbench = new Workbench();
    try {
      const starting = workbench.startLab({ topology: 'line' });
      expect((await workbench.labStatus()).state).toBe('starting');
      expect(await workbench.stopLab()).toEqual({ state: 'down' });
      const started = await starting;
      const names = started.map!.hosts.map((host) => host.namespace as string);
      const left = netnsNames();
      for (const name of names) expect(left).not.toContain(name);
    } finally {
      await workbench.close();
    }
  });
});

describe.skipIf(!support.supported)(`the filtered lab's map${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  it("carries r1's dropped Time Exceeded and r2's UDP reject, so the GUI can say which hop is silent and which rejects", { timeout: 60_000 }, async () => {
    const workbench = new Workbench();
    try {
      const up = await workbench.startLab({ topology: 'filtered' });
      const host = (name: string) => up.map!.hosts.find((h) => h.name === name)!;
      expect(host('r1').firewall).toEqual([{ hook: 'output', match: { protocol: 'icmp', icmpType: 'time-exceeded' }, action: 'drop' }]);
      expect(host('r2').firewall).toEqual([{ hook: 'prerouting', match: { protocol: 'udp' }, action: 'reject', rejectWith: 'admin-prohibited' }]);
      for (const name of ['client', 'r3', 'target']) expect(host(name), name).not.toHaveProperty('firewall');
      // The same map through the status call and the contract's JSON (what a client receives).
      expect(JSON.parse(JSON.stringify(await workbench.labStatus())).map).toEqual(up.map);
    } finally {
      await workbench.close();
    }
  });
});
