// A check's `match`: which logged packets it looks at. Compiled once per lesson against
// its topology (host names become address sets, display filters are compiled, so an
// unknown field is an error at load time naming it), then tested on each packet.
// Protocol and ICMP type/code read the packet's own headers, never the packet an ICMP
// error quotes (a display filter's `icmp.type == 8` also matches a Time Exceeded that
// quotes an echo request: Wireshark's semantics, not a lesson's).
import type { LogRow } from '../../common/contract';
import { formatIpAddress, isIpv4, isIpv6, parseIpAddress } from '../../packets/address';
import { internetChecksum } from '../../packets/checksum';
import { decode } from '../../packets/decode';
import { compileDisplayFilter, type FilterPacket } from '../../packets/display-filter';
import type { HeaderKind } from '../../packets/layer';
import type { Topology } from '../lab/topology';
import { planTopology } from '../lab/topology-plan';
import type { LessonMatch } from './lesson';

/** A logged packet as lessons see it: the display filter's view of its bytes plus its log row. */
export interface LessonPacket extends FilterPacket {
  readonly row: LogRow & { host?: string };
}

export interface Predicate {
  test(packet: LessonPacket): boolean;
}

/** ICMP types by name: [ICMPv4 type, code], [ICMPv6 type, code]; a code only where the name implies one. */
const ICMP_TYPES = {
  'echo-reply': [[0], [129]],
  'echo-request': [[8], [128]],
  'destination-unreachable': [[3], [1]],
  'port-unreachable': [[3, 3], [1, 4]],
  'admin-prohibited': [[3, 13], [1, 1]],
  'time-exceeded': [[11], [3]],
  /** Fragmentation Needed (ICMP 3/4) or Packet Too Big (ICMPv6 2): what path-MTU discovery waits for. */
  'fragmentation-needed': [[3, 4], [2]],
  'packet-too-big': [[3, 4], [2]],
  'parameter-problem': [[12], [4]],
} as const satisfies Record<string, readonly [readonly number[], readonly number[]]>;

export const ICMP_TYPE_NAMES = Object.keys(ICMP_TYPES) as [keyof typeof ICMP_TYPES, ...(keyof typeof ICMP_TYPES)[]];

/** A compile error naming the match's field it is about. */
export class PredicateError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'PredicateError';
  }
}

interface OuterHeaders {
  transport: HeaderKind | null;
  /** Where the transport header starts. */
  at: number;
}

const IPV6_EXTENSIONS = new Set([0, 43, 60]);
const PROTOCOL_KINDS: Record<number, HeaderKind> = { 1: 'icmp', 58: 'icmpv6', 17: 'udp', 6: 'tcp' };

/** The packet's own transport header: after its IP header (and IPv6 extension headers), or first. */
export function outerHeaders(packet: FilterPacket): OuterHeaders {
  const bytes = packet.bytes;
  if (packet.first !== 'auto') return { transport: packet.first === 'payload' || packet.first === 'ipv4' || packet.first === 'ipv6' ? null : packet.first, at: 0 };
  const version = bytes.length > 0 ? bytes[0] >> 4 : 0;
  if (version === 4 && bytes.length >= 20) {
    // A later fragment carries no transport header.
    if (((bytes[6] & 0x1f) << 8) | bytes[7]) return { transport: null, at: 0 };
    return { transport: PROTOCOL_KINDS[bytes[9]] ?? null, at: (bytes[0] & 0x0f) * 4 };
  }
  if (version === 6 && bytes.length >= 40) {
    let next = bytes[6];
    let at = 40;
    for (let hops = 0; hops < 8 && IPV6_EXTENSIONS.has(next) && bytes.length >= at + 8; hops++) {
      next = bytes[at];
      at += (bytes[at + 1] + 1) * 8;
    }
    // A fragment header: only the first fragment has the transport header.
    if (next === 44 && bytes.length >= at + 8) {
      if (((bytes[at + 2] << 8) | (bytes[at + 3] & 0xf8)) !== 0) return { transport: null, at: 0 };
      next = bytes[at];
      at += 8;
    }
    return { transport: PROTOCOL_KINDS[next] ?? null, at };
  }
  return { transport: null, at: 0 };
}

function familyOf(packet: LessonPacket): 'ipv4' | 'ipv6' {
  return packet.row.family;
}

type ChecksumVerdict = 'correct' | 'wrong' | 'unverified';

/**
 * What a packet's predicates read more than once (several checks test one packet), kept while the
 * packet object lives: each evaluation reads the log afresh.
 */
const memo = new WeakMap<LessonPacket, { outer?: OuterHeaders; checksum?: ChecksumVerdict }>();

function memoOf(packet: LessonPacket): { outer?: OuterHeaders; checksum?: ChecksumVerdict } {
  let facts = memo.get(packet);
  if (!facts) memo.set(packet, (facts = {}));
  return facts;
}

function outerOf(packet: LessonPacket): OuterHeaders {
  const facts = memoOf(packet);
  return (facts.outer ??= outerHeaders(packet));
}

/**
 * An unfragmented IPv4 ICMP packet (or a headerless ICMP one): its checksums summed directly, as the
 * decoder would judge them, 50 times faster than a decode (checksum checks run over whole logs).
 * Anything else: undefined, the decoder decides.
 */
function icmpv4Verdict(packet: LessonPacket): ChecksumVerdict | undefined {
  const bytes = packet.bytes;
  if (packet.first === 'icmp') return bytes.length >= 8 ? (internetChecksum(bytes) === 0 ? 'correct' : 'wrong') : undefined;
  if (packet.first !== 'auto' || bytes.length < 28 || bytes[0] >> 4 !== 4 || bytes[9] !== 1) return undefined;
  const headerLength = (bytes[0] & 0x0f) * 4;
  const total = (bytes[2] << 8) | bytes[3];
  // More fragments or an offset: the ICMP checksum covers bytes this packet lacks.
  if (total !== bytes.length || headerLength < 20 || total < headerLength + 8 || (((bytes[6] & 0x3f) << 8) | bytes[7]) !== 0) return undefined;
  if (internetChecksum(bytes.subarray(0, headerLength)) !== 0) return 'wrong';
  return internetChecksum(bytes.subarray(headerLength)) === 0 ? 'correct' : 'wrong';
}

/** The decoder's verdict on the packet's own checksums: wrong if any is wrong, correct if one is verified and none wrong. */
export function checksumVerdict(packet: LessonPacket): ChecksumVerdict {
  const facts = memoOf(packet);
  return (facts.checksum ??= icmpv4Verdict(packet) ?? decodedVerdict(packet));
}

function decodedVerdict(packet: LessonPacket): ChecksumVerdict {
  const addresses = packet.source && packet.destination ? { source: packet.source, destination: packet.destination } : {};
  const layers = packet.first === 'auto' ? decode(packet.bytes) : packet.first === 'payload' ? [] : decode(packet.bytes, { first: packet.first, ...addresses });
  let verdict: ChecksumVerdict = 'unverified';
  for (const layer of layers) {
    if (layer.kind === 'payload' || layer.kind === 'malformed' || !layer.checksum) continue;
    if (layer.checksum.status === 'wrong') return 'wrong';
    if (layer.checksum.status === 'correct') verdict = 'correct';
  }
  return verdict;
}

const canonical = (address: string): string => formatIpAddress(parseIpAddress(address));

/** Every address of each host of the topology, canonical. */
export function hostAddresses(topology: Topology): Map<string, Set<string>> {
  const plan = planTopology(topology);
  return new Map(plan.hosts.map((host) => [host.name, new Set(host.interfaces.flatMap((iface) => iface.addresses.map((a) => canonical(a.address))))]));
}

/** `from`/`to`: a host by its addresses (by LogRow.host when the row has no address), or one address. */
function endpoint(field: 'from' | 'to', value: string, hosts: Map<string, Set<string>>): (packet: LessonPacket) => boolean {
  const ownDirection = field === 'from' ? 'sent' : 'received';
  const addressOf = (packet: LessonPacket) => (field === 'from' ? packet.row.source : packet.row.destination);
  if (isIpv4(value) || isIpv6(value)) {
    const address = canonical(value);
    return (packet) => addressOf(packet) === address;
  }
  const addresses = hosts.get(value);
  if (!addresses) throw new PredicateError(field, `unknown host '${value}' (hosts: ${[...hosts.keys()].join(', ')}; or give an address)`);
  return (packet) => {
    const address = addressOf(packet);
    if (address && address !== '0.0.0.0' && address !== '::') return addresses.has(address);
    // Logged without the address (a datagram socket's packet): the host whose socket sent or received it.
    return packet.row.host === value && packet.row.direction === ownDirection;
  };
}

export function compilePredicate(match: LessonMatch, topology: Topology): Predicate {
  const tests: Array<(packet: LessonPacket) => boolean> = [];
  const hosts = hostAddresses(topology);
  if (match.family) tests.push((packet) => familyOf(packet) === match.family);
  if (match.direction) tests.push((packet) => packet.row.direction === match.direction);
  if (match.protocol) tests.push((packet) => outerOf(packet).transport === match.protocol);
  if (match.icmpType !== undefined || match.icmpCode !== undefined) {
    const named = typeof match.icmpType === 'string' ? ICMP_TYPES[match.icmpType] : undefined;
    if (match.icmpCode !== undefined && named && named[0].length > 1) throw new PredicateError('icmpCode', `'${match.icmpType}' already names its code`);
    tests.push((packet) => {
      const { transport, at } = outerOf(packet);
      if ((transport !== 'icmp' && transport !== 'icmpv6') || packet.bytes.length < at + 2) return false;
      const type = packet.bytes[at];
      const code = packet.bytes[at + 1];
      if (named) {
        const [wantType, wantCode] = named[transport === 'icmp' ? 0 : 1];
        if (type !== wantType || (wantCode !== undefined && code !== wantCode)) return false;
      } else if (typeof match.icmpType === 'number' && type !== match.icmpType) return false;
      return match.icmpCode === undefined || code === match.icmpCode;
    });
  }
  if (match.from) tests.push(endpoint('from', match.from, hosts));
  if (match.to) tests.push(endpoint('to', match.to, hosts));
  if (match.seenOn) {
    const host = match.seenOn;
    if (!hosts.has(host)) throw new PredicateError('seenOn', `unknown host '${host}' (hosts: ${[...hosts.keys()].join(', ')})`);
    tests.push((packet) => packet.row.host === host);
  }
  if (match.filter) {
    let filter;
    try {
      filter = compileDisplayFilter(match.filter);
    } catch (error) {
      throw new PredicateError('filter', `display filter: ${(error as Error).message}`);
    }
    tests.push((packet) => filter.test(packet));
  }
  if (match.checksum) tests.push((packet) => checksumVerdict(packet) === match.checksum);
  if (match.answered !== undefined) tests.push((packet) => (packet.row.match?.replyId !== undefined) === match.answered);
  return { test: (packet) => tests.every((test) => test(packet)) };
}
