// Property: the decoder's checksum verdicts (IPv4 header, ICMP, ICMPv6, UDP, TCP) are tshark's,
// over random packets, captures cut at a snap length, and ICMP errors quoting packets.
// One pcap, one tshark run. Reproduce a failure with VERDICT_SEED=<seed printed>.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6 } from './address';
import { build } from './build';
import { decode } from './decode';
import { formatHex } from './hex';
import type { FieldValue } from './fields';
import type { ChecksumVerdict, DecodedLayer, LayerSpec, PacketStack } from './layer';
import { encodeTcpOptions } from './options';

const PACKETS = 300;
const seed = Number(process.env.VERDICT_SEED ?? Date.now() % 2 ** 31);
const hasTshark = (() => {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

type Kind = 'ip' | 'icmp' | 'icmpv6' | 'udp' | 'tcp';
const KINDS: readonly Kind[] = ['ip', 'icmp', 'icmpv6', 'udp', 'tcp'];

/** tshark's checksum status values (epan/proto.h PROTO_CHECKSUM_E_*) in our words. */
const TSHARK_STATUS: Record<string, string> = { '0': 'wrong', '1': 'correct', '2': 'unverified', '3': 'not present', '4': 'wrong' };

interface Sample {
  readonly bytes: Uint8Array;
  readonly originalLength: number;
  readonly description: string;
}

// ---- Random packets, built with the project's own builder ----
// Left out on purpose: IP lengths longer than the packet sent. The decoder sees only the bytes,
// so it takes a short packet for a capture cut at a snap length (unverified), while tshark, told
// by the file that nothing was cut, checks the TCP or ICMP bytes it has and calls them wrong.

const checksumOrAuto = fc.option(fc.integer({ min: 0, max: 0xffff }), { freq: 3, nil: undefined });
const withChecksum = (fields: Record<string, FieldValue>, checksum: number | undefined): Record<string, FieldValue> => (checksum === undefined ? fields : { ...fields, checksum });
// Ports where tshark finds no dissector that would read the payload as another IP packet (VXLAN, GTP, ...).
const port = fc.oneof(fc.integer({ min: 33434, max: 33534 }), fc.integer({ min: 49152, max: 65535 }));
const address4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map(formatIpv4);
const address6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(formatIpv6);

/** Well-formed IPv4 options: none, Router Alert, or a loose/strict source route pending or done. */
const ipv4Options = fc.oneof(
  { arbitrary: fc.constant(new Uint8Array(0)), weight: 3 },
  { arbitrary: fc.constant(Uint8Array.of(0x94, 4, 0, 0)), weight: 1 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(131, 137), fc.array(fc.uint8Array({ minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 4 }), fc.nat(), fc.boolean())
      .map(([type, hops, step, nop]) => {
        const pointer = 4 + 4 * (step % (hops.length + 1)); // 4 + 4 * hops.length: the route is done
        const route = Uint8Array.of(type, 3 + 4 * hops.length, pointer, ...hops.flatMap((hop) => [...hop]));
        return nop ? Uint8Array.of(1, ...route) : route;
      }),
    weight: 3,
  },
);

const transport4 = fc.oneof(
  fc.record({ kind: fc.constant('icmp' as const), type: fc.constantFrom(0, 8), id: fc.nat(0xffff), checksum: checksumOrAuto }).map(
    ({ kind, type, id, checksum }): LayerSpec => ({ kind, fields: withChecksum({ type, identifier: id, sequence: id ^ 0x5a5a }, checksum) }),
  ),
  fc.record({ kind: fc.constant('udp' as const), src: port, dst: port, checksum: fc.option(fc.constantFrom(0, 0x1234, 0xffff), { freq: 3, nil: undefined }) }).map(
    ({ kind, src, dst, checksum }): LayerSpec => ({ kind, fields: withChecksum({ srcPort: src, dstPort: dst }, checksum) }),
  ),
  fc.record({ kind: fc.constant('tcp' as const), src: port, dst: port, seq: fc.nat(), flags: fc.nat(255), mss: fc.boolean(), checksum: checksumOrAuto }).map(
    ({ kind, src, dst, seq, flags, mss, checksum }): LayerSpec => ({
      kind,
      fields: withChecksum({ srcPort: src, dstPort: dst, seq, flags, ...(mss ? { options: encodeTcpOptions([{ kind: 'mss', value: 1460 }]) } : {}) }, checksum),
    }),
  ),
);
const transport6 = fc.oneof(
  fc.record({ type: fc.constantFrom(128, 129), id: fc.nat(0xffff), checksum: checksumOrAuto }).map(
    ({ type, id, checksum }): LayerSpec => ({ kind: 'icmpv6', fields: withChecksum({ type, identifier: id, sequence: 7 }, checksum) }),
  ),
  transport4.filter((layer) => layer.kind !== 'icmp'),
);

/** Flags and fragment offset: whole (with or without DF), a first fragment, or a later one. */
const fragmentation = fc.oneof(
  { arbitrary: fc.constantFrom({ flags: 0, fragmentOffset: 0 }, { flags: 2, fragmentOffset: 0 }), weight: 4 },
  { arbitrary: fc.record({ flags: fc.constantFrom(0, 1), fragmentOffset: fc.integer({ min: 0, max: 100 }) }), weight: 1 },
);
const ipv4 = fc
  .record({ src: address4, dst: address4, ttl: fc.integer({ min: 1, max: 255 }), id: fc.nat(0xffff), options: ipv4Options, fragmentation, checksum: checksumOrAuto })
  .map(({ src, dst, ttl, id, options, fragmentation, checksum }): LayerSpec => ({
    kind: 'ipv4',
    fields: withChecksum({ src, dst, ttl, identification: id, options, ...fragmentation }, checksum),
  }));
const ipv6 = fc.record({ src: address6, dst: address6, hopLimit: fc.integer({ min: 1, max: 255 }) }).map(
  ({ src, dst, hopLimit }): LayerSpec => ({ kind: 'ipv6', fields: { src, dst, hopLimit } }),
);
const payload = fc.uint8Array({ maxLength: 40 }).map((data): LayerSpec => ({ kind: 'payload', data }));

const plainPacket = fc.oneof(
  fc.tuple(ipv4, transport4, payload).map((stack): PacketStack => stack),
  fc.tuple(ipv6, transport6, payload).map((stack): PacketStack => stack),
);

/** Where an ICMP error cuts its quote: whole, IP header + 8 bytes (RFC 792), or anywhere. */
const quoteCut = fc.oneof(fc.constant('whole' as const), fc.constant('header+8' as const), fc.nat());
const icmpError = fc.tuple(plainPacket, fc.nat(), quoteCut, checksumOrAuto).map(([inner, type, cut, checksum]) => {
  const quoted = build(inner);
  const headerLength = inner[0].kind === 'ipv4' ? (quoted[0] & 0x0f) * 4 : 40;
  const length = cut === 'whole' ? quoted.length : cut === 'header+8' ? Math.min(quoted.length, headerLength + 8) : 1 + (cut % quoted.length);
  const outer: PacketStack =
    inner[0].kind === 'ipv4'
      ? [{ kind: 'ipv4', fields: { src: '198.18.0.254', dst: '198.18.0.1' } }, { kind: 'icmp', fields: withChecksum({ type: [3, 4, 5, 11, 12][type % 5] }, checksum) }]
      : [{ kind: 'ipv6', fields: { src: 'fd42::fe', dst: 'fd42::1' } }, { kind: 'icmpv6', fields: withChecksum({ type: 1 + (type % 4) }, checksum) }];
  const bytes = build([...outer, { kind: 'payload', data: quoted.subarray(0, length) }]);
  return { bytes, what: `ICMP error quoting ${length}/${quoted.length} bytes of ${stackName(inner)}` };
});

const sample = fc
  .tuple(
    fc.oneof(
      { arbitrary: plainPacket.map((stack) => ({ bytes: build(stack), what: stackName(stack) })), weight: 2 },
      { arbitrary: icmpError, weight: 1 },
    ),
    fc.option(fc.nat(), { freq: 3, nil: undefined }),
  )
  .map(([{ bytes, what }, snap]): Sample => {
    const captured = snap === undefined ? bytes.length : 1 + (snap % bytes.length);
    return {
      bytes: bytes.slice(0, captured),
      originalLength: bytes.length,
      description: `${what}${captured < bytes.length ? `, cut to ${captured} of ${bytes.length} bytes` : ''}`,
    };
  });

function stackName(stack: PacketStack): string {
  return stack
    .filter((layer) => layer.kind !== 'payload')
    .map((layer) => layer.kind)
    .join('/');
}

// ---- Files and verdicts ----

/** Classic pcap, LINKTYPE_RAW, with the captured and the original length of each packet. */
function writePcap(samples: readonly Sample[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(101, 20);
  const records = samples.flatMap((packet, i) => {
    const record = Buffer.alloc(16);
    record.writeUInt32LE(1_700_000_000 + i, 0);
    record.writeUInt32LE(packet.bytes.length, 8);
    record.writeUInt32LE(packet.originalLength, 12);
    return [record, Buffer.from(packet.bytes)];
  });
  return Buffer.concat([header, ...records]);
}

type Verdicts = Record<Kind, string[]>;

function tsharkVerdicts(file: string): Verdicts[] {
  const fields = KINDS.flatMap((kind) => ['-e', `${kind}.checksum.status`]);
  // Fragments are shown one by one, as the decoder does, not held for reassembly.
  const checks = [...['ip', 'udp', 'tcp'].flatMap((protocol) => ['-o', `${protocol}.check_checksum:TRUE`]), '-o', 'ip.defragment:FALSE'];
  const output = execFileSync('tshark', ['-r', file, '-n', ...checks, '-T', 'fields', ...fields, '-E', 'occurrence=a', '-E', 'aggregator=,'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 15_000,
  });
  return output
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => {
      const columns = line.split('\t');
      return Object.fromEntries(KINDS.map((kind, i) => [kind, columns[i] ? columns[i].split(',').map((status) => TSHARK_STATUS[status] ?? status) : []])) as Verdicts;
    });
}

interface OurVerdict {
  readonly kind: Kind;
  readonly status: string;
  readonly verdict: ChecksumVerdict;
  /** Type of the ICMP error that quotes this layer, if any. */
  readonly quotedBy?: number;
  /** Bytes from the start of this header to the end of the capture. */
  readonly available: number;
  readonly ipVersion?: 4 | 6;
  /** The layer's own length field (UDP). */
  readonly length?: number;
}

function ourVerdicts(layers: readonly DecodedLayer[], end: number, quotedBy?: number, into: OurVerdict[] = []): OurVerdict[] {
  let ipVersion: 4 | 6 | undefined;
  for (const layer of layers) {
    if (layer.kind === 'payload' || layer.kind === 'malformed') continue;
    if (layer.kind === 'ipv4' || layer.kind === 'ipv6') ipVersion = layer.kind === 'ipv4' ? 4 : 6;
    if (layer.checksum && layer.kind !== 'ipv6') {
      const kind: Kind = layer.kind === 'ipv4' ? 'ip' : layer.kind;
      // tshark says "not present" for a UDP checksum of 0 over IPv4; we say unverified, "checksum not used (0)".
      const notUsed = layer.kind === 'udp' && layer.checksum.status === 'unverified' && /not used/.test(layer.checksum.reason);
      const length = typeof layer.values.length === 'number' ? layer.values.length : undefined;
      into.push({ kind, status: notUsed ? 'not present' : layer.checksum.status, verdict: layer.checksum, quotedBy, available: end - layer.range.start, ipVersion, length });
    }
    if (layer.quoted) ourVerdicts(layer.quoted, end, layer.values.type as number, into);
  }
  return into;
}

const ICMP_REDIRECT = 5;

/**
 * What tshark 4.0 shows for one of our verdicts: the statuses it may give, none when it shows
 * no verdict. Each exception is a place where tshark differs from us on purpose or by a quirk;
 * every other verdict must be tshark's exactly.
 */
function tsharkView(ours: OurVerdict, captureCut: boolean): readonly string[] {
  const quoted = ours.quotedBy !== undefined;
  // Quirk: tshark's ICMP dissector reads the identifier before it adds the checksum, so an ICMP
  // header cut to 4 or 5 bytes has no verdict there. Ours is unverified, as for every other header.
  if (ours.kind === 'icmp' && ours.available < 6) return [];
  // Deliberate: tshark never verifies ICMP or ICMPv6 inside an ICMP error (packet-icmp.c and
  // packet-icmpv6.c skip it when pinfo->flags.in_error_pkt), even when the quote holds the whole
  // message. We verify a whole quote, since every byte it covers is there, as tshark itself does
  // for quoted UDP and TCP; a quote cut short is unverified for both.
  if (quoted && (ours.kind === 'icmp' || ours.kind === 'icmpv6')) return ['unverified'];
  // Deliberate: a UDP checksum of 0 over IPv6 is forbidden (RFC 8200 8.1). tshark calls it
  // "illegal" before looking at the bytes, and "not present" inside an ICMP error. We say wrong,
  // with the value it should have, when the bytes are all there, and unverified when they are not.
  if (ours.kind === 'udp' && ours.ipVersion === 6 && ours.verdict.value === 0) return [quoted ? 'not present' : 'wrong'];
  // Deliberate: tshark reads only the IP header and 8 bytes of what a Redirect quotes (RFC 792's
  // minimum), so it checks a quoted UDP datagram only when it has no payload, and a quoted TCP
  // header ends before its checksum. Routers quote more (Linux up to 576 bytes); we check all that is there.
  if (ours.quotedBy === ICMP_REDIRECT && ours.kind === 'udp' && ours.status !== 'not present' && (ours.length ?? 0) > 8) return ['unverified'];
  if (ours.quotedBy === ICMP_REDIRECT && ours.kind === 'tcp') return [];
  // tshark is wrong: it checks a quoted TCP segment cut short as if the quote were all of it,
  // with the quote's length in the pseudo header. The bytes past the quote were not captured.
  const cutShort = ours.verdict.status === 'unverified' && /cut short/.test(ours.verdict.reason);
  if (quoted && ours.kind === 'tcp' && cutShort && !captureCut) return ['wrong', 'correct'];
  return [ours.status];
}

function compare(ours: readonly OurVerdict[], theirs: Verdicts, captureCut: boolean): string[] {
  const problems: string[] = [];
  for (const kind of KINDS) {
    const expected = ours.filter((verdict) => verdict.kind === kind).map((verdict) => tsharkView(verdict, captureCut)).filter((options) => options.length > 0);
    const same = expected.length === theirs[kind].length && expected.every((options, i) => options.includes(theirs[kind][i]));
    if (!same) problems.push(`${kind}: tshark [${theirs[kind].join(', ')}], expected [${expected.map((options) => options.join('|')).join(', ')}]`);
  }
  return problems;
}

// ---- The property ----

const directory = mkdtempSync(join(tmpdir(), 'verdicts-tshark-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Invariant: decode never throws, and bytes it cannot read are a marked 'malformed' layer. */
function decodeProblems(layers: readonly DecodedLayer[], bytes: Uint8Array): string[] {
  const problems: string[] = [];
  const walk = (list: readonly DecodedLayer[]) => {
    for (const layer of list) {
      if (layer.kind === 'malformed' && /internal decoder error/.test(layer.reason)) problems.push(layer.reason);
      if (layer.kind !== 'payload' && layer.kind !== 'malformed' && layer.quoted) walk(layer.quoted);
    }
  };
  walk(layers);
  const minimum = bytes[0] >> 4 === 6 ? 40 : 20;
  if (bytes.length < minimum && !layers.some((layer) => layer.kind === 'malformed')) problems.push(`a ${bytes.length}-byte IP header is not marked malformed`);
  return problems;
}

const title = hasTshark ? 'checksum verdicts match tshark' : 'checksum verdicts match tshark (skipped: tshark is not installed; scripts/install-test-deps.sh installs it)';

describe.skipIf(!hasTshark)(title, () => {
  it(`on ${PACKETS} random, cut and quoted packets (seed ${seed})`, () => {
    const samples = fc.sample(sample, { seed, numRuns: PACKETS });
    const file = join(directory, 'verdicts.pcap');
    writeFileSync(file, writePcap(samples));
    const theirs = tsharkVerdicts(file);
    expect(theirs).toHaveLength(samples.length);

    const disagreements = samples.flatMap((packet, i) => {
      let layers: DecodedLayer[];
      try {
        layers = decode(packet.bytes);
      } catch (error) {
        return [`#${i + 1} ${packet.description}: decode threw ${String(error)}\n    ${formatHex(packet.bytes)}`];
      }
      const captureCut = packet.bytes.length < packet.originalLength;
      return [...decodeProblems(layers, packet.bytes), ...compare(ourVerdicts(layers, packet.bytes.length), theirs[i], captureCut)].map(
        (problem) => `#${i + 1} ${packet.description}: ${problem}\n    ${formatHex(packet.bytes)}`,
      );
    });
    if (disagreements.length > 0) {
      throw new Error(`${disagreements.length} disagreements with tshark (reproduce with VERDICT_SEED=${seed}):\n${disagreements.slice(0, 15).join('\n')}`);
    }
  }, 20_000);
});
