// Exact capture files, checked with tshark: direction in the EPB flags, one interface
// block per socket, synthesized headers with the real TTL / hop limit and local address
// (loopback, real sockets), re-import keeping direction and socket, classic pcap; and a
// ping plus a 3-hop traceroute through a namespace lab: probes show TTL 1, 2, 3.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRow } from '../../common/contract';
import { validateParams } from '../../common/validate';
import { readCapture } from '../../packets/pcapng';
import { Workbench } from '../engine';
import { createLab, isLabSupported, type Lab } from '../lab';
import { labWhy, rootWhy, skipNote } from './fixtures/privilege';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const labs = isRoot && isLabSupported();
const FIXTURES = path.join(__dirname, 'fixtures');

let directory: string;
beforeAll(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'capture-export-'));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** tshark's fields per packet, as objects. */
function tshark(file: string, fields: string[]): Record<string, string>[] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 30_000,
  });
  return out
    .trimEnd()
    .split('\n')
    .map((line) => Object.fromEntries(line.split('|').map((value, i) => [fields[i], value])));
}

const FIELDS = ['frame.packet_flags_direction', 'frame.interface_name', 'frame.interface_description', 'ip.ttl', 'ip.dst', 'ipv6.hlim', 'ipv6.src', 'ipv6.dst', 'icmp.type', 'icmpv6.type', 'frame.comment'];

describe.runIf(isRoot)(`exact pcapng from real loopback sockets${skipNote(rootWhy('raw and packet sockets'))}`, () => {
  const workbench = new Workbench();
  afterAll(() => workbench.close());
  const call = async <T>(method: string, params: unknown): Promise<T> =>
    (workbench as unknown as Record<string, (p: unknown) => Promise<T>>)[method].call(workbench, validateParams(method as never, params));

  it('sent packets carry the socket TTL / hop limit, received IPv6 ones the kernel\'s address and hop limit; direction and socket survive re-import', { timeout: 30_000 }, async () => {
    const id = randomBytes(2).readUInt16BE(0) | 1;
    const v4 = await call<{ socketId: string }>('openSocket', { family: 'ipv4', protocol: 1, mode: 'raw' });
    const v6 = await call<{ socketId: string }>('openSocket', { family: 'ipv6', protocol: 58, mode: 'raw' });
    await call('setSocketOption', { socketId: v4.socketId, name: 'IP_TTL', value: 9 });
    await call('setSocketOption', { socketId: v6.socketId, name: 'IPV6_UNICAST_HOPS', value: 7 });
    await call('send', { socketId: v4.socketId, address: '127.0.0.1', packet: { layers: [{ kind: 'icmp', fields: { type: 8, identifier: id, sequence: 1 } }] } });
    // One exchange at a time: the rows' order is then known.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await call('send', { socketId: v6.socketId, address: '::1', packet: { layers: [{ kind: 'icmpv6', fields: { type: 128, identifier: id, sequence: 1 } }] } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const page = await call<{ rows: LogRow[] }>('queryLog', { limit: 5000 });
    // Other tests share loopback: only our echo identifier counts.
    const ours = page.rows.filter((row) => row.info.includes(`id=0x${id.toString(16).padStart(4, '0')}`) && (row.socketId === v4.socketId || row.socketId === v6.socketId));
    expect(ours.map((row) => `${row.socketId === v4.socketId ? 4 : 6} ${row.direction} ${row.info.split(' id=')[0]}`)).toEqual([
      '4 sent Echo request',
      '4 received Echo request',
      '4 received Echo reply',
      '6 sent Echo request',
      '6 received Echo request',
      '6 received Echo reply',
    ]);

    const exported = await call<{ pcapng: string; count: number }>('exportPcapng', { ids: ours.map((row) => row.id) });
    const file = path.join(directory, 'loopback.pcapng');
    writeFileSync(file, Buffer.from(exported.pcapng, 'base64'));
    const rows = tshark(file, FIELDS);
    const describe4 = `Packet Workbench socket ${v4.socketId}: IPv4 raw socket, protocol 1 (ICMP)`;
    const describe6 = `Packet Workbench socket ${v6.socketId}: IPv6 raw socket, protocol 58 (ICMPv6)`;
    const synthesized = 'IP header synthesized: the socket delivers none';
    expect(rows.map((r) => [r['frame.packet_flags_direction'], r['frame.interface_name'], r['frame.interface_description']])).toEqual([
      ['0x00000002', v4.socketId, describe4],
      ['0x00000001', v4.socketId, describe4],
      ['0x00000001', v4.socketId, describe4],
      ['0x00000002', v6.socketId, describe6],
      ['0x00000001', v6.socketId, describe6],
      ['0x00000001', v6.socketId, describe6],
    ]);
    // IPv4: the sent request's header is synthesized with the socket's TTL 9; the kernel's copies carry their own.
    expect(rows.slice(0, 3).map((r) => [r['ip.ttl'], r['ip.dst'], r['icmp.type'], r['frame.comment']])).toEqual([
      ['9', '127.0.0.1', '8', synthesized],
      ['9', '127.0.0.1', '8', ''],
      ['64', '127.0.0.1', '0', ''],
    ]);
    // IPv6 raw sockets deliver no header: hop limit 7 as sent and as received (IPV6_RECVHOPLIMIT), destination ::1 (IPV6_PKTINFO), never ::.
    expect(rows.slice(3).map((r) => [r['ipv6.hlim'], r['ipv6.src'], r['ipv6.dst'], r['icmpv6.type'], r['frame.comment']])).toEqual([
      ['7', '::1', '::1', '128', synthesized],
      ['7', '::1', '::1', '128', synthesized],
      ['64', '::1', '::1', '129', synthesized],
    ]);

    const before = (await call<{ total: number }>('queryLog', {})).total;
    expect(await call('importPcapng', { pcapng: exported.pcapng })).toEqual({ imported: 6 });
    const imported = (await call<{ rows: LogRow[] }>('queryLog', { start: before, limit: 10 })).rows;
    expect(imported.map((row) => [row.direction, row.socketId, row.imported])).toEqual(ours.map((row) => [row.direction, row.socketId, true]));
    expect((await call<{ total: number }>('queryLog', { filter: { direction: 'imported' } })).total).toBeGreaterThanOrEqual(6);

    const pcap = await call<{ pcapng: string; count: number }>('exportPcapng', { ids: ours.map((row) => row.id), format: 'pcap' });
    const pcapFile = path.join(directory, 'loopback.pcap');
    writeFileSync(pcapFile, Buffer.from(pcap.pcapng, 'base64'));
    expect(execFileSync('capinfos', ['-c', '-E', '-M', pcapFile], { encoding: 'utf8' })).toMatch(/File encapsulation:\s+rawip\nNumber of packets:\s+6\n/);
    expect(tshark(pcapFile, ['ip.ttl', 'ipv6.hlim']).map((r) => r['ip.ttl'] || r['ipv6.hlim'])).toEqual(['9', '9', '64', '7', '7', '64']);
  });
});

describe.runIf(labs)(`ping and a 3-hop traceroute exported from a namespace lab, read by tshark${skipNote(labWhy())}`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({ routers: 2, hostSysctls: { target: { 'net.ipv4.icmp_ratelimit': 0, 'net.ipv6.icmp.ratelimit': 0 } } });
  }, 60_000);
  afterAll(async () => {
    await lab?.destroy();
  });

  it('probes show TTL / hop limit 1, 2, 3 going out; answers come in with their real destination and hop limit', { timeout: 120_000 }, async () => {
    const v4 = lab.target.addresses.ipv4[0];
    const v6 = lab.target.addresses.ipv6[0];
    const calls = [
      { method: 'ping', params: { target: v4, count: 1, mode: 'raw' } },
      { method: 'traceroute', params: { target: v4, probe: 'icmp', maxHops: 5, probesPerHop: 1, timeoutMs: 1000, mode: 'raw' } },
      { method: 'ping', params: { target: v6, count: 1, mode: 'raw' } },
      { method: 'traceroute', params: { target: v6, probe: 'icmp', maxHops: 5, probesPerHop: 1, timeoutMs: 1000, mode: 'raw' } },
      { method: 'exportPcapng', params: {} },
    ];
    const result = await lab.exec('client', [process.execPath, path.join(FIXTURES, 'engine-runner.cjs'), path.join(FIXTURES, 'engine-experiments.ts'), JSON.stringify(calls)], {
      timeoutMs: 90_000,
      check: false,
      cwd: '/',
    });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { result?: { pcapng?: string }; error?: unknown });
    for (const line of lines.slice(0, 4)) expect(line.error).toBeUndefined();
    const file = path.join(directory, 'lab.pcapng');
    writeFileSync(file, Buffer.from(lines[4].result!.pcapng!, 'base64'));
    expect(readCapture(new Uint8Array(Buffer.from(lines[4].result!.pcapng!, 'base64'))).problems).toEqual([]);
    const rows = tshark(file, FIELDS);
    const sent = rows.filter((r) => r['frame.packet_flags_direction'] === '0x00000002');
    const received = rows.filter((r) => r['frame.packet_flags_direction'] === '0x00000001');
    expect(sent.length + received.length).toBe(rows.length);
    // IPv4: ping with TTL 64, then the traceroute's probes with 1, 2, 3.
    expect(sent.filter((r) => r['ip.ttl']).map((r) => r['ip.ttl'])).toEqual(['64', '1', '2', '3']);
    expect(sent.filter((r) => r['ipv6.hlim']).map((r) => r['ipv6.hlim'])).toEqual(['64', '1', '2', '3']);
    const client6 = lab.client.addresses.ipv6[0];
    const answers6 = received.filter((r) => r['ipv6.hlim']);
    // Echo reply from the target (2 routers: 62), Time Exceeded from router1 (64), router2 (63), the target's reply (62).
    expect(answers6.map((r) => [r['ipv6.src'], r['ipv6.dst'], r['icmpv6.type'], r['ipv6.hlim']])).toEqual([
      [v6, client6, '129', '62'],
      [lab.expectedHops.ipv6[0], client6, '3', '64'],
      [lab.expectedHops.ipv6[1], client6, '3', '63'],
      [v6, client6, '129', '62'],
    ]);
    // IPv4 answers come with their own header: the real TTLs too.
    expect(received.filter((r) => r['ip.ttl']).map((r) => [r['ip.dst'], r['icmp.type'], r['ip.ttl']])).toEqual([
      [lab.client.addresses.ipv4[0], '0', '62'],
      [lab.client.addresses.ipv4[0], '11', '64'],
      [lab.client.addresses.ipv4[0], '11', '63'],
      [lab.client.addresses.ipv4[0], '0', '62'],
    ]);
  });
});
