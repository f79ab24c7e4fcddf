import { describe, expect, it } from 'vitest';
import { build } from './build';
import { decode } from './decode';
import { packetDifferences } from './differences';
import type { DecodedHeaderLayer } from './layer';

const data = { kind: 'payload', data: '70 77 2d 6b 63' } as const;
const echo = (identifier: number, checksum?: number) => ({ kind: 'icmp', fields: { type: 8, identifier, sequence: 7, ...(checksum === undefined ? {} : { checksum }) } }) as const;

function fieldOf(bytes: Uint8Array, layer: number, name: string) {
  return (decode(bytes)[layer] as DecodedHeaderLayer).fields.find((field) => field.name === name)!;
}

describe('packetDifferences', () => {
  it('names the source, identification and checksum the kernel filled into an IPv4 header sent as zeros', () => {
    const sent = build([{ kind: 'ipv4', fields: { src: '0.0.0.0', dst: '198.18.4.2', identification: 0, checksum: 0, ttl: 64 } }, echo(0x1234), data]);
    const wire = build([{ kind: 'ipv4', fields: { src: '198.18.1.1', dst: '198.18.4.2', identification: 0x4d2, ttl: 64 } }, echo(0x1234), data]);
    const { differences, notes } = packetDifferences(sent, wire);
    expect(differences.map((d) => `${d.layer}.${d.field}`)).toEqual(['IPv4.identification', 'IPv4.checksum', 'IPv4.src']);
    const source = differences.find((d) => d.field === 'src')!;
    expect(source).toMatchObject({ sent: '0.0.0.0', wire: '198.18.1.1', sentRange: { start: 12, end: 16 }, wireRange: { start: 12, end: 16 } });
    expect(source.why).toMatch(/source address filled in by the kernel/);
    expect(differences.find((d) => d.field === 'identification')!.why).toMatch(/IP identification set by the kernel/);
    const checksum = differences.find((d) => d.field === 'checksum')!;
    expect(checksum.why).toMatch(/checksum computed by the kernel/);
    expect(checksum.wire).toBe(fieldOf(wire, 0, 'checksum').display);
    expect(notes.join(' ')).toMatch(/Time to live 64 on arrival, as sent: captured on the first link.*0 hops/);
  });

  it('lines a ping socket\'s ICMP message up with the wire copy and names the identifier it replaced', () => {
    const sent = build([echo(0), data]);
    const wire = build([{ kind: 'ipv4', fields: { src: '198.18.1.1', dst: '198.18.4.2', identification: 0x99, ttl: 64 } }, echo(0x2b), data]);
    const { differences } = packetDifferences(sent, wire, { sentFirst: 'icmp' });
    expect(differences.map((d) => `${d.layer}.${d.field}`)).toEqual(['IPv4.header', 'ICMP.checksum', 'ICMP.identifier']);
    expect(differences[0]).toMatchObject({ sent: '(none)', wire: '20 bytes', wireRange: { start: 0, end: 20 } });
    expect(differences[0].why).toMatch(/written by the kernel.*source 198\.18\.1\.1, TTL 64 on arrival, identification 0x0099/);
    const identifier = differences.find((d) => d.field === 'identifier')!;
    expect(identifier).toMatchObject({ sent: '0x0000', wire: '0x002b', sentRange: { start: 4, end: 6 }, wireRange: { start: 24, end: 26 } });
    expect(identifier.why).toMatch(/ICMP identifier replaced by the ping socket's/);
  });

  it('compares IPv6: the unspecified source, the flow label and the ICMPv6 checksum the kernel computes', () => {
    const sent = build([{ kind: 'ipv6', fields: { src: '::', dst: 'fd42:0:0:4::2', flowLabel: 0, hopLimit: 64 } }, { kind: 'icmpv6', fields: { type: 128, identifier: 5, sequence: 1, checksum: 0 } }, data]);
    const wire = build([{ kind: 'ipv6', fields: { src: 'fd42:0:0:1::1', dst: 'fd42:0:0:4::2', flowLabel: 0x5a5a5, hopLimit: 64 } }, { kind: 'icmpv6', fields: { type: 128, identifier: 5, sequence: 1 } }, data]);
    const { differences, notes } = packetDifferences(sent, wire);
    expect(differences.map((d) => `${d.layer}.${d.field}`)).toEqual(['IPv6.flowLabel', 'IPv6.src', 'ICMPv6.checksum']);
    expect(differences.find((d) => d.field === 'src')).toMatchObject({ sent: '::', wire: 'fd42:0:0:4::2'.replace('4::2', '1::1') });
    expect(differences.find((d) => d.field === 'checksum')!.why).toMatch(/checksum computed by the kernel \(it was left 0\)/);
    expect(notes.join(' ')).toMatch(/Hop limit 64 on arrival, as sent/);
  });

  it('says the TTL differs when the kernel set its own, and finds nothing in identical packets', () => {
    const sent = build([{ kind: 'ipv4', fields: { src: '198.18.1.1', dst: '198.18.4.2', ttl: 5 } }, echo(1), data]);
    const wire = build([{ kind: 'ipv4', fields: { src: '198.18.1.1', dst: '198.18.4.2', ttl: 64 } }, echo(1), data]);
    const ttl = packetDifferences(sent, wire).differences.find((d) => d.field === 'ttl')!;
    expect(ttl).toMatchObject({ sent: '5', wire: '64' });
    expect(ttl.why).toMatch(/set by the kernel/);
    expect(packetDifferences(wire, wire).differences).toEqual([]);
  });

  it('refuses what is not bytes', () => {
    expect(() => packetDifferences('45 00' as unknown as Uint8Array, new Uint8Array(20))).toThrow(TypeError);
  });
});
