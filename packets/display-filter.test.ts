import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { build } from './build';
import { decode } from './decode';
import { PacketLayers } from './display-filter-packet';
import { compileDisplayFilter, DisplayFilterError, displayFilterFields, type FilterPacket } from './display-filter';
import type { PacketStack } from './layer';
import { layerKinds } from './registry';

const payload = { kind: 'payload', data: '40414243' } as const;
const packets: Record<string, FilterPacket> = {
  request: { bytes: build([{ kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.1.1', ttl: 64 } }, { kind: 'icmp', fields: { type: 8, identifier: 0x1234, sequence: 1 } }, payload]), first: 'auto', direction: 'sent', number: 1 },
  reply: { bytes: build([{ kind: 'ipv4', fields: { src: '198.18.1.1', dst: '198.18.0.1', ttl: 63 } }, { kind: 'icmp', fields: { type: 0, identifier: 0x1234, sequence: 1 } }, payload]), first: 'auto', direction: 'received', number: 2, match: { requestId: 1, rttMs: 0.25 } },
  timeExceeded: {
    bytes: build([
      { kind: 'ipv4', fields: { src: '198.18.1.1', dst: '198.18.0.1', ttl: 64 } },
      { kind: 'icmp', fields: { type: 11, code: 0 } },
      { kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.3.2', ttl: 1 } },
      { kind: 'udp', fields: { srcPort: 40001, dstPort: 33435 } },
      payload,
    ] as PacketStack),
    first: 'auto',
    direction: 'received',
    number: 3,
  },
  syn: { bytes: build([{ kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.3.2' } }, { kind: 'tcp', fields: { srcPort: 40000, dstPort: 80, flags: 0x02, seq: 7 } }]), first: 'auto', direction: 'sent', number: 4 },
  synAck: { bytes: build([{ kind: 'ipv4', fields: { src: '198.18.3.2', dst: '198.18.0.1' } }, { kind: 'tcp', fields: { srcPort: 80, dstPort: 40000, flags: 0x12, ack: 8 } }]), first: 'auto', direction: 'received', number: 5 },
  ipv6Request: { bytes: build([{ kind: 'ipv6', fields: { src: 'fd42::1', dst: 'fd42::2', hopLimit: 7, trafficClass: 0x20 } }, { kind: 'icmpv6', fields: { type: 128, identifier: 5, sequence: 9 } }, payload]), first: 'auto', direction: 'sent', number: 6 },
  // An IPv6 raw socket delivers no IPv6 header: the log keeps the addresses beside the bytes.
  headerless: { bytes: build([{ kind: 'icmpv6', fields: { type: 129, identifier: 5, sequence: 9 } }, payload]), first: 'icmpv6', family: 6, source: '::1', destination: '', direction: 'received', number: 7, socket: 'socket-2' },
  dns: { bytes: build([{ kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.0.53' } }, { kind: 'udp', fields: { srcPort: 5353, dstPort: 53 } }, payload]), first: 'auto', direction: 'sent', number: 8 },
};

function matching(filter: string): string[] {
  const compiled = compileDisplayFilter(filter);
  return Object.entries(packets)
    .filter(([, packet]) => compiled.test(packet))
    .map(([name]) => name);
}

function failure(filter: string): DisplayFilterError {
  try {
    compileDisplayFilter(filter);
  } catch (error) {
    expect(error).toBeInstanceOf(DisplayFilterError);
    return error as DisplayFilterError;
  }
  throw new Error(`'${filter}' compiled`);
}

describe('display filters: matching', () => {
  it('the issue examples', () => {
    expect(matching('icmp.type == 0 && ip.src == 198.18.1.1')).toEqual(['reply']);
    expect(matching('tcp.flags.syn')).toEqual(['syn', 'synAck']);
    expect(matching('tcp.flags.syn && !tcp.flags.ack')).toEqual(['syn']);
    expect(matching('udp.port in {53, 33434..33534}')).toEqual(['timeExceeded', 'dns']);
  });

  it('layer names alone test presence; frame is every packet', () => {
    expect(matching('icmp')).toEqual(['request', 'reply', 'timeExceeded']);
    expect(matching('ipv6')).toEqual(['ipv6Request', 'headerless']);
    expect(matching('icmpv6 and not ipv6.hlim')).toEqual(['headerless']);
    expect(matching('frame')).toHaveLength(Object.keys(packets).length);
    expect(matching('ipv4 && udp')).toEqual(['timeExceeded', 'dns']);
  });

  it('reads fields of the packet an ICMP error quotes (any occurrence matches)', () => {
    expect(matching('ip.ttl == 1')).toEqual(['timeExceeded']);
    expect(matching('ip.dst == 198.18.3.2')).toEqual(['timeExceeded', 'syn']);
    expect(matching('udp.dstport == 33435 && icmp.type == 11')).toEqual(['timeExceeded']);
    // != holds when the field is there and no occurrence equals.
    expect(matching('ip.ttl != 64')).toEqual(['reply']);
    expect(matching('!(ip.ttl == 64)')).toEqual(['reply', 'ipv6Request', 'headerless']);
  });

  it('uses the model names and their Wireshark spellings alike, in any case', () => {
    expect(matching('ipv6.hopLimit == 7')).toEqual(['ipv6Request']);
    expect(matching('ipv6.hlim == 7 && ipv6.tclass == 0x20')).toEqual(['ipv6Request']);
    expect(matching('ipv4.ttl == 63')).toEqual(['reply']);
    expect(matching('IP.TTL eq 63')).toEqual(['reply']);
    expect(matching('icmp.seq == 1 and icmp.ident == 0x1234')).toEqual(['request', 'reply']);
    expect(matching('tcp.srcport == 80 || tcp.dstPort == 80')).toEqual(['syn', 'synAck']);
    expect(matching('tcp.port == 80')).toEqual(['syn', 'synAck']);
  });

  it('compares addresses exactly, by network, and IPv6 from the log when the header is missing', () => {
    expect(matching('ip.src == 198.18.0.0/15')).toEqual(['request', 'reply', 'timeExceeded', 'syn', 'synAck', 'dns']);
    expect(matching('ip.addr == 198.18.3.0/24')).toEqual(['timeExceeded', 'syn', 'synAck']);
    expect(matching('ip.dst in {198.18.0.53 198.18.1.1}')).toEqual(['request', 'dns']);
    expect(matching('ipv6.src == ::1 && icmpv6.type == 129')).toEqual(['headerless']);
    expect(matching('ipv6.addr == fd42::/16')).toEqual(['ipv6Request']);
    expect(matching('ip.src > 198.18.1.0')).toEqual(['reply', 'timeExceeded', 'synAck']);
  });

  it('numbers, masks, enum names, frame columns and request/response links', () => {
    expect(matching('tcp.flags & 0x12 == 0x12')).toEqual(['synAck']);
    expect(matching('tcp.flags & 0x10')).toEqual(['synAck']);
    expect(matching('icmp.type == "echo reply"')).toEqual(['reply']);
    expect(matching('frame.len >= 60 && icmp')).toEqual(['timeExceeded']);
    expect(matching('frame.direction == "sent" && ip.ttl == 64 && icmp')).toEqual(['request']);
    expect(matching('frame.direction == received && frame.socket == "socket-2"')).toEqual(['headerless']);
    expect(matching('frame.number in {1..2}')).toEqual(['request', 'reply']);
    expect(matching('match.rtt < 1 && match.request_in == 1')).toEqual(['reply']);
    expect(matching('icmp.resptime')).toEqual(['reply']);
    expect(matching('data.len == 4 && udp')).toEqual(['timeExceeded', 'dns']);
  });

  it('an empty filter passes everything', () => {
    const filter = compileDisplayFilter('   ');
    expect(filter.empty).toBe(true);
    expect(filter.test(packets.syn)).toBe(true);
  });

  it('never throws on bytes that are cut short or not IP', () => {
    const filter = compileDisplayFilter('ip.src == 1.2.3.4 || tcp.flags.syn || icmp.seq > 3 || data.len > 0');
    for (let length = 0; length <= packets.timeExceeded.bytes.length; length++) {
      expect(() => filter.test({ ...packets.timeExceeded, bytes: packets.timeExceeded.bytes.subarray(0, length) })).not.toThrow();
    }
    expect(filter.test({ bytes: Uint8Array.of(0x10, 2, 3), first: 'auto' })).toBe(false);
  });
});

describe('display filters: errors name the position and the bad part', () => {
  it('an unknown field, with the nearest known name', () => {
    const error = failure('ip.ttl > 1 && icmp.tpye == 0');
    expect(error.position).toBe(14);
    expect(error.message).toMatch(/Unknown field 'icmp\.tpye'; did you mean icmp\.type\?/);
    expect(error.code).toBe('ERR_DISPLAY_FILTER');
  });

  it('syntax errors from the parser, at their position', () => {
    expect(failure('icmp.type ==').position).toBe(12);
    expect(failure('icmp.type ==').message).toMatch(/Expected a field or value after ==/);
    expect(failure('(icmp').message).toMatch(/Unclosed \(/);
    expect(failure('ip.ttl 5').position).toBe(7);
    expect(failure('icmp.type = 0').position).toBeGreaterThanOrEqual(10);
    expect(failure('frame.direction == "sent').message).toMatch(/Unclosed string/);
  });

  it('values that do not fit the field', () => {
    expect(failure('ip.src == 300.1.1.1').message).toMatch(/'300\.1\.1\.1'.*above 255/);
    expect(failure('ip.src == 300.1.1.1').position).toBe(10);
    expect(failure('ip.src == 5').message).toMatch(/ip\.src is an IPv4 address; '5' is not/);
    expect(failure('ip.src == ::1').message).toMatch(/IPv4 address; ::1 is IPv6/);
    expect(failure('ip.ttl == 1.2.3.4').message).toMatch(/ip\.ttl is a number/);
    expect(failure('ip.src == 10.0.0.0/33').message).toMatch(/prefix length/);
    expect(failure('udp.port in {5..1}').message).toMatch(/empty/);
    expect(failure('udp.port in 53').message).toMatch(/'in' takes a set/);
    expect(failure('udp.port == 1..5').message).toMatch(/belongs in a set/);
    expect(failure('icmp == 1').message).toMatch(/'icmp' is a protocol/);
    expect(failure('icmp.type == "echo repyl"').message).toMatch(/no value named "echo repyl"/);
    expect(failure('53').message).toMatch(/alone is not a test/);
    expect(failure('ip.src == and').message).toMatch(/operator 'and'/);
  });

  it('refuses what is not a string', () => {
    expect(() => compileDisplayFilter(5 as unknown as string)).toThrow(TypeError);
  });
});

describe('displayFilterFields', () => {
  const fields = displayFilterFields();
  const names = new Set(fields.map((field) => field.name));

  it('lists the names of the issue, the layers and the Wireshark spellings', () => {
    for (const name of ['ip.src', 'ip.ttl', 'ipv6.hopLimit', 'ipv6.hlim', 'icmp.type', 'icmpv6.type', 'udp.port', 'tcp.port', 'tcp.flags.syn', 'frame.len', 'icmp', 'tcp', 'ipv6', 'match.rtt']) {
      expect(names, name).toContain(name);
    }
    expect(fields.find((field) => field.name === 'ipv6.hlim')?.aliasOf).toBe('ipv6.hopLimit');
  });

  it('has every field the editor shows, under the layer prefix, and each compiles', () => {
    for (const [kind, definition] of Object.entries(layerKinds)) {
      const prefix = kind === 'ipv4' ? 'ip' : kind;
      for (const field of definition.fields) {
        expect(names, `${prefix}.${field.name}`).toContain(`${prefix}.${field.name}`);
      }
    }
    for (const field of fields) expect(() => compileDisplayFilter(field.name)).not.toThrow();
  });
});

describe('the filter walk agrees with decode()', () => {
  /** Headers and payloads as decode() finds them, outermost first, quoted packets in place. */
  function decodedLayers(bytes: Uint8Array): string[] | null {
    const out: string[] = [];
    const visit = (layers: ReturnType<typeof decode>): boolean => {
      for (const layer of layers) {
        if (layer.kind === 'malformed') return false;
        if (layer.kind === 'payload') {
          if (!layer.note) out.push(`data@${layer.range.start}`);
          continue;
        }
        if (layer.problems.some((problem) => /cut short|exceeds|below the minimum/.test(problem))) return false;
        out.push(`${layer.kind}@${layer.range.start}`);
        if (layer.quoted && !visit(layer.quoted)) return false;
      }
      return true;
    };
    return visit(decode(bytes)) ? out : null;
  }

  function walkedLayers(bytes: Uint8Array): string[] {
    const layers = new PacketLayers().read({ bytes, first: 'auto' });
    return Array.from({ length: layers.count }, (_, i) => `${layers.kinds[i]}@${layers.starts[i]}`);
  }

  const header = fc.constantFrom<PacketStack[number]>(
    { kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.3.2' } },
    { kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.3.2', options: '01010101', fragmentOffset: 0 } },
    { kind: 'ipv6', fields: { src: 'fd42::1', dst: 'fd42::2' } },
    { kind: 'icmp', fields: { type: 11 } },
    { kind: 'icmp', fields: { type: 8, identifier: 1, sequence: 2 } },
    { kind: 'icmpv6', fields: { type: 1 } },
    { kind: 'icmpv6', fields: { type: 128 } },
    { kind: 'udp', fields: { srcPort: 1, dstPort: 2 } },
    { kind: 'tcp', fields: { srcPort: 1, dstPort: 2, options: '020405b4' } },
    { kind: 'payload', data: '0102030405' },
  );

  it('on built stacks of any shape, cut anywhere', () => {
    let compared = 0;
    fc.assert(
      fc.property(fc.constantFrom('ipv4', 'ipv6'), fc.array(header, { maxLength: 5 }), fc.nat(), (first, rest, cut) => {
        let bytes: Uint8Array;
        try {
          bytes = build([{ kind: first as 'ipv4' | 'ipv6', fields: first === 'ipv4' ? { src: '198.18.0.1', dst: '198.18.1.1' } : { src: 'fd42::1', dst: 'fd42::9' } }, ...rest]);
        } catch {
          return; // a stack build refuses (a header after a payload…)
        }
        bytes = bytes.subarray(0, bytes.length - (cut % 4 === 0 ? cut % bytes.length : 0));
        const expected = decodedLayers(bytes);
        if (expected === null) return;
        compared++;
        expect(walkedLayers(bytes)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
    expect(compared).toBeGreaterThan(100);
  });

  it('on random bytes behind an IP version nibble', () => {
    fc.assert(
      fc.property(fc.constantFrom(0x45, 0x46, 0x60), fc.uint8Array({ minLength: 0, maxLength: 120 }), (first, rest) => {
        const bytes = Uint8Array.of(first, ...rest);
        const expected = decodedLayers(bytes);
        if (expected !== null) expect(walkedLayers(bytes)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
