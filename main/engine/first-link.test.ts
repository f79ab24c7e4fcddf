// "What the kernel changed" on real namespaces: packets sent from 'client' in the shipped
// 'line' topology (client — r1 — r2 — r3 — target), their copies captured on r1's interface
// facing client, and the fields the kernel rewrote between the socket and that link.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo, LogRow, PacketOnWire, SocketInfo } from '../../common/contract';
import { validateParams } from '../../common/validate';
import { build } from '../../packets/build';
import { labSupport } from '../lab';
import { dispatchCall } from './dispatch';
import { transportKey } from './first-link';
import { Workbench } from './workbench';

const support = labSupport();

describe('transportKey', () => {
  it('is the same for a ping socket\'s message and its wire copy (identifier and checksum rewritten), not for another sequence', () => {
    const echo = (identifier: number, sequence: number) => ({ kind: 'icmp', fields: { type: 8, identifier, sequence } }) as const;
    const data = { kind: 'payload', data: '01 02 03' } as const;
    const sent = build([echo(0, 1), data]);
    const wire = build([{ kind: 'ipv4', fields: { src: '198.18.1.1', dst: '198.18.4.2' } }, echo(0x77, 1), data]);
    expect(transportKey(sent, 'icmp')).toBe(transportKey(wire));
    expect(transportKey(build([{ kind: 'ipv4', fields: { dst: '198.18.4.2' } }, echo(0x77, 2), data]))).not.toBe(transportKey(wire));
    expect(transportKey(new Uint8Array([0x45, 0]))).toBeUndefined();
  });
});

describe.skipIf(!support.supported)(`packetOnWire in the line lab${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  let workbench: Workbench;
  let up: LabInfo;

  beforeAll(async () => {
    workbench = new Workbench({ eventIntervalMs: 5 });
    up = await workbench.startLab({ topology: 'line' });
  }, 60_000);
  afterAll(() => workbench?.close());

  async function sentRow(socketId: string): Promise<LogRow> {
    const end = Date.now() + 5_000;
    for (;;) {
      const page = await workbench.queryLog(validateParams('queryLog', { limit: 1000 }));
      const row = page.rows.find((candidate) => candidate.socketId === socketId && candidate.direction === 'sent');
      if (row) return row;
      if (Date.now() > end) throw new Error(`no sent row of ${socketId}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('a raw IPv4 echo sent with source 0.0.0.0, id 0 and checksum 0 crossed r1 with all three filled in', async () => {
    const socket = (await dispatchCall(workbench, 'openSocket', { family: 'ipv4', protocol: 1, mode: 'raw', host: 'client' })) as SocketInfo;
    const packet = { layers: [{ kind: 'ipv4', fields: { src: '0.0.0.0', dst: '198.18.4.2', identification: 0, checksum: 0, ttl: 64 } }, { kind: 'icmp', fields: { type: 8, identifier: 0x4b43, sequence: 1 } }, { kind: 'payload', data: '6b65726e656c' }] };
    await dispatchCall(workbench, 'send', { socketId: socket.socketId, address: '198.18.4.2', packet });
    const row = await sentRow(socket.socketId);
    const onWire = (await dispatchCall(workbench, 'packetOnWire', { id: row.id })) as PacketOnWire;
    expect(onWire).toMatchObject({ rowId: row.id, host: 'client', capturedOn: { host: 'r1', interface: 'client' } });
    expect(onWire.wireHex).not.toBe(onWire.sentHex);
    const named = Object.fromEntries(onWire.differences.map((d) => [`${d.layer}.${d.field}`, d]));
    expect(Object.keys(named).sort()).toEqual(['IPv4.checksum', 'IPv4.identification', 'IPv4.src']);
    expect(named['IPv4.src']).toMatchObject({ sent: '0.0.0.0', wire: '198.18.1.1' });
    expect(named['IPv4.src'].why).toMatch(/source address filled in by the kernel/);
    expect(named['IPv4.identification'].sent).toBe('0x0000');
    expect(named['IPv4.identification'].wire).not.toBe('0x0000');
    expect(named['IPv4.checksum'].why).toMatch(/checksum computed by the kernel/);
    expect(onWire.notes.join(' ')).toMatch(/Time to live 64 on arrival, as sent/);
    // The address the client's kernel chose is client's on its link to r1, as the lab's map says.
    expect(up.map!.links[0].ends.find((end) => end.host === 'client')!.addresses).toContain('198.18.1.1/24');
  });

  it("a ping (datagram) socket's echo crossed r1 with the socket's identifier in place of the one sent", async () => {
    const namespace = up.map!.hosts.find((host) => host.name === 'client')!.namespace!;
    // A new network namespace allows no ping sockets (ping_group_range '1 0'): this lab host does, for root's group.
    execFileSync('ip', ['netns', 'exec', namespace, 'sysctl', '-qw', 'net.ipv4.ping_group_range=0 0']);
    const socket = (await dispatchCall(workbench, 'openSocket', { family: 'ipv4', protocol: 1, mode: 'datagram', host: 'client' })) as SocketInfo;
    expect(socket.mode).toBe('datagram');
    await dispatchCall(workbench, 'send', { socketId: socket.socketId, address: '198.18.4.2', packet: { layers: [{ kind: 'icmp', fields: { type: 8, identifier: 0x1234, sequence: 9 } }, { kind: 'payload', data: '6b6b' }] } });
    const row = await sentRow(socket.socketId);
    const onWire = (await dispatchCall(workbench, 'packetOnWire', { id: row.id })) as PacketOnWire;
    const identifier = onWire.differences.find((d) => d.layer === 'ICMP' && d.field === 'identifier');
    expect(identifier?.sent).toBe('0x1234');
    expect(identifier?.wire).not.toBe('0x1234');
    expect(identifier?.why).toMatch(/ICMP identifier replaced by the ping socket's/);
    expect(onWire.differences[0]).toMatchObject({ layer: 'IPv4', field: 'header', sent: '(none)' });
    expect(onWire.differences[0].why).toMatch(/source 198\.18\.1\.1, TTL 64 on arrival/);
  });

  it('an ICMPv6 echo sent without an IP header crossed r1 with the header the kernel wrote and the checksum it computed', async () => {
    const socket = (await dispatchCall(workbench, 'openSocket', { family: 'ipv6', protocol: 58, mode: 'raw', host: 'client' })) as SocketInfo;
    await dispatchCall(workbench, 'send', { socketId: socket.socketId, address: 'fd42:0:0:4::2', packet: { layers: [{ kind: 'icmpv6', fields: { type: 128, identifier: 0x6b63, sequence: 3, checksum: 0 } }, { kind: 'payload', data: '7636' }] } });
    const row = await sentRow(socket.socketId);
    const onWire = (await dispatchCall(workbench, 'packetOnWire', { id: row.id })) as PacketOnWire;
    expect(onWire.capturedOn).toEqual({ host: 'r1', interface: 'client' });
    expect(onWire.differences[0]).toMatchObject({ layer: 'IPv6', field: 'header', sent: '(none)', wire: '40 bytes' });
    expect(onWire.differences[0].why).toMatch(/source fd42:0:0:1::1, hop limit 64 on arrival/);
    const checksum = onWire.differences.find((d) => d.layer === 'ICMPv6' && d.field === 'checksum');
    expect(checksum?.sent).toBe('0x0000');
    expect(checksum?.why).toMatch(/checksum computed by the kernel \(it was left 0\)/);
  });

  it('NOT_FOUND with the reason for a received row and for a row sent from the workbench\'s own namespace', async () => {
    const page = await workbench.queryLog(validateParams('queryLog', { limit: 1000 }));
    const received = page.rows.find((row) => row.direction === 'received');
    expect(received).toBeDefined();
    await expect(dispatchCall(workbench, 'packetOnWire', { id: received!.id })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('not sent') });
    const local = (await dispatchCall(workbench, 'openSocket', { family: 'ipv4', protocol: 1, mode: 'raw' })) as SocketInfo;
    await dispatchCall(workbench, 'send', { socketId: local.socketId, address: '127.0.0.1', packet: { layers: [{ kind: 'icmp', fields: { type: 8, identifier: 0x4c43, sequence: 1 } }] } });
    const row = await sentRow(local.socketId);
    await expect(dispatchCall(workbench, 'packetOnWire', { id: row.id })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining("workbench's own namespace") });
    await expect(dispatchCall(workbench, 'packetOnWire', { id: 10_000_000 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
