// Each predicate and each kind of check, passing and failing, over packets built by
// packets/, written to a pcapng and imported into a real Workbench (its request/reply
// matching included), evaluated by the evaluator `lesson check` and checkLesson run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, writePcapng, type PacketStack, type PacketToWrite } from '../../packets';
import { Workbench } from '../engine';
import { loadTopology } from '../lab/topologies';
import { evaluateLesson } from './evaluate';
import { parseLesson } from './lesson';
import { decode } from '../../packets/decode';
import { checksumVerdict, hostAddresses, outerHeaders, type LessonPacket } from './predicate';
import type { LessonCheckVerdict } from '../../common/contract';

const CLIENT = '198.18.1.1';
const R1 = '198.18.1.2';
const TARGET = '198.18.4.2';
const payload = { kind: 'payload', data: '7061636b6574' } as const;
const ip = (src: string, dst: string, more: Record<string, number> = {}) => ({ kind: 'ipv4', fields: { src, dst, ttl: 64, ...more } }) as const;
const T0 = 1_700_000_000_000n * 1_000_000n;
const at = (ms: number) => T0 + BigInt(ms) * 1_000_000n;

// One "student session" on the line topology, as a capture on the client would show it (row ids 0..11).
const session: Array<{ stack: unknown[]; ms: number; direction: 'inbound' | 'outbound' }> = [
  /* 0 */ { stack: [ip(CLIENT, TARGET), { kind: 'icmp', fields: { type: 8, identifier: 7, sequence: 1 } }, payload], ms: 0, direction: 'outbound' },
  /* 1 */ { stack: [ip(TARGET, CLIENT, { ttl: 61 }), { kind: 'icmp', fields: { type: 0, identifier: 7, sequence: 1 } }, payload], ms: 12, direction: 'inbound' },
  /* 2 */ { stack: [ip(CLIENT, TARGET), { kind: 'icmp', fields: { type: 8, identifier: 7, sequence: 2, checksum: 0x1234 } }, payload], ms: 1000, direction: 'outbound' },
  /* 3 */ { stack: [ip(CLIENT, TARGET, { ttl: 1 }), { kind: 'udp', fields: { srcPort: 40000, dstPort: 33434 } }, payload], ms: 5000, direction: 'outbound' },
  /* 4 */ { stack: [ip(R1, CLIENT), { kind: 'icmp', fields: { type: 11, code: 0 } }, ip(CLIENT, TARGET, { ttl: 1 }), { kind: 'udp', fields: { srcPort: 40000, dstPort: 33434 } }, payload], ms: 5001, direction: 'inbound' },
  /* 5 */ { stack: [ip(CLIENT, TARGET), { kind: 'udp', fields: { srcPort: 40001, dstPort: 33435 } }, payload], ms: 5100, direction: 'outbound' },
  /* 6 */ { stack: [ip(TARGET, CLIENT), { kind: 'icmp', fields: { type: 3, code: 3 } }, ip(CLIENT, TARGET, { ttl: 1 }), { kind: 'udp', fields: { srcPort: 40001, dstPort: 33435 } }, payload], ms: 5103, direction: 'inbound' },
  /* 7 */ { stack: [ip(CLIENT, TARGET), { kind: 'tcp', fields: { srcPort: 40002, dstPort: 80, flags: 0x02, seq: 1 } }], ms: 6000, direction: 'outbound' },
  /* 8 */ { stack: [ip(TARGET, CLIENT), { kind: 'tcp', fields: { srcPort: 80, dstPort: 40002, flags: 0x14, ack: 2 } }], ms: 6002, direction: 'inbound' },
  /* 9 */ { stack: [ip(CLIENT, TARGET, { flags: 2 }), { kind: 'udp', fields: { srcPort: 40003, dstPort: 33436 } }, { kind: 'payload', data: '00'.repeat(1372) }], ms: 7000, direction: 'outbound' },
  /* 10 */ { stack: [ip(R1, CLIENT), { kind: 'icmp', fields: { type: 3, code: 4, nextHopMtu: 1280 } }, ip(CLIENT, TARGET, { flags: 2, totalLength: 1400 }), { kind: 'udp', fields: { srcPort: 40003, dstPort: 33436 } }], ms: 7001, direction: 'inbound' },
  /* 11 */ { stack: [{ kind: 'ipv6', fields: { src: 'fd42:0:0:1::1', dst: 'fd42:0:0:4::2', hopLimit: 64 } }, { kind: 'icmpv6', fields: { type: 128, identifier: 9, sequence: 1 } }, payload], ms: 8000, direction: 'outbound' },
];

const topology = loadTopology('line');
let workbench: Workbench;

beforeAll(async () => {
  workbench = new Workbench();
  const packets: PacketToWrite[] = session.map((p) => ({ data: build(p.stack as PacketStack), timestampNs: at(p.ms), direction: p.direction }));
  const file = writePcapng(packets);
  const { imported } = await workbench.importPcapng({ pcapng: Buffer.from(file).toString('base64') });
  expect(imported).toBe(session.length);
});

afterAll(() => workbench?.close());

/** Evaluates one check (as JSON) over the session. */
function verdict(check: Record<string, unknown>): LessonCheckVerdict {
  const lesson = { name: 'unit', title: 'Unit', topology: 'line', steps: [{ title: 'One', text: 'One check.', checks: [{ id: 'it', text: 'It', ...check }] }] };
  return workbench.evaluateLesson(parseLesson(JSON.stringify(lesson), loadTopology, 'unit.json')).steps[0].checks[0];
}
const count = (match: Record<string, unknown>, bounds: Record<string, number> = {}) => verdict({ kind: 'count', match, ...bounds });

describe('lesson predicates', () => {
  it('protocol and ICMP type/code read the packet\'s own header, not the packet an error quotes', () => {
    expect(count({ protocol: 'udp' }, { atLeast: 0 }).evidence).toEqual([3, 5, 9]);
    expect(count({ protocol: 'icmp' }, { atLeast: 0 }).evidence).toEqual([0, 1, 2, 4, 6, 10]);
    expect(count({ protocol: 'icmpv6' }).evidence).toEqual([11]);
    expect(count({ icmpType: 'echo-request' }).evidence).toEqual([0, 2, 11]);
    expect(count({ icmpType: 'echo-request', family: 'ipv4' }).evidence).toEqual([0, 2]);
    expect(count({ icmpType: 'time-exceeded' }).evidence).toEqual([4]);
    expect(count({ icmpType: 'port-unreachable' }).evidence).toEqual([6]);
    expect(count({ icmpType: 'fragmentation-needed' }).evidence).toEqual([10]);
    expect(count({ icmpType: 3 }).evidence).toEqual([6, 10]);
    expect(count({ icmpType: 3, icmpCode: 4 }).evidence).toEqual([10]);
    // A display filter sees the quoted echo of no packet here, but the quoted UDP header of #4 and #6.
    expect(count({ filter: 'udp.dstport == 33434' }).evidence).toEqual([3, 4]);
  });

  it('direction, hosts (by address), addresses, seenOn', () => {
    expect(count({ direction: 'received' }).evidence).toEqual([1, 4, 6, 8, 10]);
    expect(count({ from: 'r1' }).evidence).toEqual([4, 10]);
    expect(count({ from: 'target', to: 'client' }).evidence).toEqual([1, 6, 8]);
    expect(count({ to: 'target', family: 'ipv6' }).evidence).toEqual([11]);
    expect(count({ from: R1 }).evidence).toEqual([4, 10]);
    expect(count({ from: 'fd42:0:0:1:0::1' }).evidence).toEqual([11]);
    // Imported rows carry no LogRow.host: nothing was seen "on" a host.
    expect(count({ seenOn: 'client' })).toMatchObject({ passed: false, reason: 'no packets match, at least 1 needed' });
    expect(hostAddresses(topology).get('r2')).toEqual(new Set(['198.18.2.2', '198.18.3.1', 'fd42:0:0:2::2', 'fd42:0:0:3::1']));
  });

  it('a host matches by LogRow.host where the row has no address', () => {
    const row = { id: 1, time: 0, direction: 'sent', socketId: 's', family: 'ipv6', source: '', destination: 'fd42:0:0:4::2', protocol: 'ICMPv6', length: 8, info: '', host: 'client' } as const;
    const bytes = build([{ kind: 'icmpv6', fields: { type: 128 } }]);
    const packet: LessonPacket = { row, bytes, first: 'icmpv6', family: 6, source: '', destination: row.destination };
    expect(outerHeaders(packet)).toEqual({ transport: 'icmpv6', at: 0 });
    const lesson = parseLesson(JSON.stringify({ name: 'u', title: 'U', topology: 'line', steps: [{ title: 'S', text: 'T', checks: [
      { id: 'from-client', kind: 'count', text: 'x', match: { from: 'client', icmpType: 'echo-request' } },
      { id: 'from-r1', kind: 'count', text: 'x', match: { from: 'r1' } },
      { id: 'seen-on-client', kind: 'count', text: 'x', match: { seenOn: 'client' } },
    ] }] }), loadTopology);
    const checks = evaluateLesson(lesson, [packet]).steps[0].checks.map((c) => [c.id, c.passed]);
    expect(checks).toEqual([['from-client', true], ['from-r1', false], ['seen-on-client', true]]);
  });

  it('field comparisons through display filters, checksum verdicts, answered requests', () => {
    expect(count({ filter: 'ip.ttl == 1 && udp' }).evidence).toEqual([3, 4, 6]);
    expect(count({ filter: 'ip.flags.df && ip.len > 1280', direction: 'sent' }).evidence).toEqual([9]);
    expect(count({ filter: 'icmp.mtu == 1280' }).evidence).toEqual([10]);
    expect(count({ filter: 'match.rtt >= 10' }).evidence).toEqual([1]);
    expect(count({ checksum: 'wrong' }).evidence).toEqual([2]);
    expect(count({ icmpType: 'echo-request', checksum: 'correct' }).evidence).toEqual([0, 11]);
    expect(count({ icmpType: 'echo-request', answered: true }).evidence).toEqual([0]);
    expect(count({ icmpType: 'echo-request', answered: false }).evidence).toEqual([2, 11]);
    expect(count({ protocol: 'tcp', filter: 'tcp.flags.rst' }).evidence).toEqual([8]);
  });
});

describe('checksum verdicts', () => {
  it('the direct ICMPv4 sum agrees with the decoder: right, wrong ICMP, wrong IP header, headerless, truncated', () => {
    const icmp = (checksum?: number) => ({ kind: 'icmp', fields: { type: 8, identifier: 1, sequence: 2, ...(checksum === undefined ? {} : { checksum }) } });
    const cases: Array<[string, Uint8Array, 'auto' | 'icmp']> = [
      ['right', build([ip(CLIENT, TARGET), icmp(), payload] as PacketStack), 'auto'],
      ['wrong icmp', build([ip(CLIENT, TARGET), icmp(0x1234), payload] as PacketStack), 'auto'],
      ['wrong ip header', build([ip(CLIENT, TARGET, { checksum: 0x4321 }), icmp(), payload] as PacketStack), 'auto'],
      ['headerless right', build([icmp(), payload] as PacketStack), 'icmp'],
      ['headerless wrong', build([icmp(0x1234), payload] as PacketStack), 'icmp'],
    ];
    const truncated = build([ip(CLIENT, TARGET), icmp(), payload] as PacketStack).slice(0, 30);
    cases.push(['truncated', truncated, 'auto']);
    for (const [label, bytes, first] of cases) {
      const row = { id: 0, time: 0, direction: 'sent', socketId: null, family: 'ipv4', source: CLIENT, destination: TARGET, protocol: 'ICMP', length: bytes.length, info: '' } as const;
      const layers = first === 'auto' ? decode(bytes) : decode(bytes, { first: 'icmp' });
      const statuses = layers.flatMap((layer) => (layer.kind !== 'payload' && layer.kind !== 'malformed' && layer.checksum ? [layer.checksum.status] : []));
      const decoded = statuses.includes('wrong') ? 'wrong' : statuses.includes('correct') ? 'correct' : 'unverified';
      expect(checksumVerdict({ row, bytes, first, source: CLIENT, destination: TARGET }), label).toBe(decoded);
    }
    expect(checksumVerdict({ row: { id: 1, time: 0, direction: 'sent', socketId: null, family: 'ipv4', source: CLIENT, destination: TARGET, protocol: 'ICMP', length: 0, info: '' }, bytes: cases[1][1], first: 'auto' })).toBe('wrong');
  });
});

describe('lesson checks', () => {
  it('count: at least, at most, with the reason when not', () => {
    expect(count({ icmpType: 'echo-request' }, { atLeast: 3 })).toEqual({ id: 'it', text: 'It', passed: true, evidence: [0, 2, 11] });
    expect(count({ icmpType: 'echo-request' }, { atLeast: 4 })).toMatchObject({ passed: false, reason: '3 packets match, at least 4 needed' });
    expect(count({ icmpType: 'echo-reply' }, { atMost: 0 })).toMatchObject({ passed: false, evidence: [1], reason: '1 packet matches, at most 0 allowed' });
    expect(count({ icmpType: 'time-exceeded', from: 'r2' })).toMatchObject({ passed: false, evidence: [], reason: 'no packets match, at least 1 needed' });
  });

  it('order: A before B, not B before A', () => {
    expect(verdict({ kind: 'order', first: { icmpType: 'echo-request' }, then: { icmpType: 'echo-reply' } })).toMatchObject({ passed: true, evidence: [0, 1] });
    expect(verdict({ kind: 'order', first: { protocol: 'tcp', direction: 'received' }, then: { icmpType: 'echo-reply' } })).toMatchObject({
      passed: false,
      evidence: [8, 1],
      reason: 'the second part (#1) came only before the first (#8)',
    });
    expect(verdict({ kind: 'order', first: { icmpType: 'time-exceeded', from: 'r3' }, then: { icmpType: 'echo-reply' } })).toMatchObject({ passed: false, reason: 'no packet matches the first part' });
  });

  it('no reply within N s: by the matched reply, or by a reply predicate', () => {
    expect(verdict({ kind: 'no-reply', match: { icmpType: 'echo-request', family: 'ipv4' }, seconds: 2 })).toMatchObject({ passed: true, evidence: [2] });
    expect(verdict({ kind: 'no-reply', match: { icmpType: 'echo-request', filter: 'icmp.seq == 1' }, seconds: 2 })).toMatchObject({
      passed: false,
      evidence: [0, 1],
      reason: 'every matching packet got a reply within 2 s (#0 → #1)',
    });
    // The reply came 12 ms after the request: not within 0.01 s.
    expect(verdict({ kind: 'no-reply', match: { filter: 'icmp.seq == 1', icmpType: 'echo-request' }, seconds: 0.01 })).toMatchObject({ passed: true, evidence: [0] });
    // With a reply predicate: anything from the target within 5 s of the bad echo (#2 at 1 s; the target's next packet is #6 at 5.103 s).
    expect(verdict({ kind: 'no-reply', match: { checksum: 'wrong' }, reply: { from: 'target' }, seconds: 4 })).toMatchObject({ passed: true, evidence: [2] });
    expect(verdict({ kind: 'no-reply', match: { checksum: 'wrong' }, reply: { from: 'target' }, seconds: 5 })).toMatchObject({ passed: false, evidence: [2, 6] });
    expect(verdict({ kind: 'no-reply', match: { from: 'r3' }, seconds: 1 })).toMatchObject({ passed: false, reason: 'no packet matches' });
  });
});
