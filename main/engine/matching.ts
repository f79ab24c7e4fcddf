// Request/response matching for the log, as Wireshark's ICMP "Response frame" / "Response time":
// an ICMP/ICMPv6 echo request and its echo reply (identifier, sequence, the far address), a probe
// (echo request, UDP datagram, TCP SYN) and the ICMP error that quotes it, a TCP SYN and the
// SYN-ACK or RST that acknowledges it. A reply travels the other way than its request (a sent
// request takes a received reply) when there is such a request, so the copy of a request a raw
// socket sees on loopback does not take the reply; a packet socket on lo sees both ways as sent,
// and there a request that travelled the same way takes it.
//
// Bounded and O(1) per packet at flood rate: pending requests sit in a 4-way set-associative table
// of typed arrays keyed by a 64-bit hash of (direction, family, kind, far address, identifiers);
// a full set evicts its oldest request, a request older than EXPIRY_MS is not matched, and the
// first reply takes the request (duplicates stay unmatched). Nothing is allocated per packet
// except the parse of a headerless packet's far address, cached per address.
import type { LogRow } from '../../common/contract';
import { parseIpAddress } from '../../packets/address';
import { DIRECTION_RECEIVED, DIRECTION_SENT, type DirectionCode, type PacketFacts, type PacketRing } from './ring';

const SETS = 16384;
const WAYS = 4;
/** A reply later than this after its request is not matched (identifiers wrap and are reused). */
export const EXPIRY_MS = 60_000;
const EMPTY = -1;

const KIND_ECHO = 1;
const KIND_UDP = 2;
const KIND_TCP = 3;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

const ROLE_REQUEST = 1;
const ROLE_REPLY = 2;

export type MatchLink = NonNullable<LogRow['match']>;

export class RequestMatcher {
  private readonly keyA = new Int32Array(SETS * WAYS);
  private readonly keyB = new Int32Array(SETS * WAYS);
  private readonly requestIds = new Float64Array(SETS * WAYS).fill(EMPTY);
  private readonly requestTimes = new Float64Array(SETS * WAYS);
  private readonly addressCache = new Map<string, Uint8Array | null>();
  private links: RowLinks;
  private readonly facts: PacketFacts = { time: 0, direction: DIRECTION_SENT as DirectionCode, socket: -1, family: 4, withIpHeader: false, protocol: 0, peer: null, local: null };
  /**
   * Ring socket indexes of ICMP datagram ("ping") sockets: the kernel writes its own echo
   * identifier (the socket's port) into what they send, and only that socket receives the
   * replies, so their echoes are keyed by socket instead of by the identifier logged.
   */
  private readonly kernelEchoIds = new Set<number>();
  /**
   * Ring socket indexes of captures: each pairs only its own rows (as Wireshark pairs within one
   * file), so a captured reply takes the request that capture saw, not a raw socket's copy of it.
   */
  private readonly ownViews = new Set<number>();
  /** The view of the packet being looked at: a capture's socket index + 1, or 0 for the sockets. */
  private view = 0;
  /** The key of the packet being looked at, without and with its direction. */
  private baseA = 0;
  private baseB = 0;
  private a = 0;
  private b = 0;

  /** Told of every request that got its answer (send jobs count theirs); null: nobody listens. */
  onAnswer: ((requestId: number, replyId: number, rttMs: number) => void) | null = null;

  /** `logged(id)`: the log still holds the row (the request side of a link is written only then). */
  constructor(
    capacity: number,
    private readonly logged: (id: number) => boolean,
  ) {
    this.links = new RowLinks(capacity);
  }

  /** Echoes of this ring socket index carry an identifier the kernel chose (an ICMP datagram socket). */
  kernelChoosesEchoIds(socketIndex: number): void {
    if (socketIndex >= 0) this.kernelEchoIds.add(socketIndex);
  }

  /** Rows of this ring socket index (a capture) pair only with each other. */
  matchWithin(socketIndex: number): void {
    if (socketIndex >= 0) this.ownViews.add(socketIndex);
  }

  /** The links of a logged row, or undefined. */
  linkOf(id: number): MatchLink | undefined {
    return this.links.of(id);
  }

  clear(): void {
    this.requestIds.fill(EMPTY);
    this.links = new RowLinks(this.links.capacity);
  }

  /** The log ring changed capacity: keep the links of the rows it kept. */
  resize(capacity: number, oldestId: number, nextId: number): void {
    const links = new RowLinks(capacity);
    for (let id = Math.max(oldestId, nextId - capacity); id < nextId; id++) links.copyFrom(this.links, id);
    this.links = links;
  }

  /** Looks at a packet the ring just logged. */
  observeLogged(ring: PacketRing, id: number): void {
    const bytes = ring.bytes(id);
    if (!bytes) return;
    const facts = this.facts;
    facts.time = ring.timeOf(id);
    facts.direction = ring.directionOf(id);
    facts.family = ring.familyOf(id);
    facts.withIpHeader = ring.startsWithIpHeader(id);
    facts.protocol = ring.protocolOf(id);
    facts.socket = ring.socketOf(id);
    if (!facts.withIpHeader) {
      const { source, destination } = ring.addresses(id);
      facts.peer = (facts.direction === DIRECTION_SENT ? destination : source) || null;
    }
    this.observe(id, bytes, facts);
  }

  /** Looks at one logged packet (bytes as logged, the facts the ring was given, its ring id). */
  observe(id: number, bytes: Uint8Array, facts: PacketFacts): void {
    this.links.reset(id);
    this.view = this.ownViews.size > 0 && this.ownViews.has(facts.socket) ? facts.socket + 1 : 0;
    const outbound = facts.direction === DIRECTION_SENT ? 1 : facts.direction === DIRECTION_RECEIVED ? 2 : 0;
    let family = facts.family;
    let protocol = facts.protocol;
    let at = 0;
    // The far end: the destination of a request, the source of a reply.
    let source: Uint8Array | null = null;
    let sourceAt = 0;
    let destination: Uint8Array | null = null;
    let destinationAt = 0;
    const length = bytes.length;
    if (facts.withIpHeader) {
      const version = length > 0 ? bytes[0] >> 4 : 0;
      if (version === 4 && length >= 20) {
        if (((bytes[6] & 0x1f) << 8) | bytes[7]) return; // not the first fragment: no transport header
        family = 4;
        protocol = bytes[9];
        at = (bytes[0] & 0x0f) * 4;
        source = destination = bytes;
        sourceAt = 12;
        destinationAt = 16;
      } else if (version === 6 && length >= 40) {
        family = 6;
        protocol = bytes[6];
        at = 40;
        source = destination = bytes;
        sourceAt = 8;
        destinationAt = 24;
      } else return;
    } else {
      const peer = facts.peer === null ? null : this.address(facts.peer);
      if (facts.direction === DIRECTION_SENT) destination = peer;
      else source = peer;
    }
    if (length - at < 4) return;
    const time = facts.time;

    if (protocol === 1 || protocol === 58) {
      if ((protocol === 1) !== (family === 4)) return;
      const type = bytes[at];
      const echoRequest = family === 4 ? 8 : 128;
      const echoReply = family === 4 ? 0 : 129;
      if ((type === echoRequest || type === echoReply) && length - at >= 8) {
        const request = type === echoRequest;
        const far = request ? destination : source;
        if (!far) return;
        // Beyond 16 bits: a ping socket's key never meets an identifier from the wire.
        const identifier = this.kernelEchoIds.size > 0 && this.kernelEchoIds.has(facts.socket) ? 0x10000 + facts.socket : word(bytes, at + 4);
        this.key(family, KIND_ECHO, far, request ? destinationAt : sourceAt, identifier, word(bytes, at + 6), 0);
        if (request) this.remember(id, time, outbound);
        else this.answer(id, time, outbound);
        return;
      }
      if (isError(type, family)) this.answerQuoted(id, time, bytes, at + 8, family, outbound);
      return;
    }
    if (protocol === 17) {
      if (!destination) return;
      // Any UDP datagram may be a probe; only an ICMP error quoting it answers it.
      this.key(family, KIND_UDP, destination, destinationAt, word(bytes, at), word(bytes, at + 2), 0);
      this.remember(id, time, outbound);
      return;
    }
    if (protocol === 6 && length - at >= 14) {
      const flags = bytes[at + 13];
      if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN) {
        if (!destination) return;
        this.key(family, KIND_TCP, destination, destinationAt, word(bytes, at), word(bytes, at + 2), long(bytes, at + 4));
        this.remember(id, time, outbound);
      } else if (flags & TCP_ACK && flags & (TCP_SYN | TCP_RST) && length - at >= 12 && source) {
        // SYN-ACK or RST: acknowledges the SYN's sequence number + 1, ports swapped.
        this.key(family, KIND_TCP, source, sourceAt, word(bytes, at + 2), word(bytes, at), (long(bytes, at + 8) - 1) >>> 0);
        this.answer(id, time, outbound);
      }
    }
  }

  /** An ICMP error: the quoted IP header names the far end, the quoted transport header the probe. */
  private answerQuoted(id: number, time: number, bytes: Uint8Array, at: number, family: 4 | 6, direction: number): void {
    const length = bytes.length;
    let transport: number;
    let protocol: number;
    if (family === 4) {
      if (length - at < 20 || bytes[at] >> 4 !== 4) return;
      transport = at + (bytes[at] & 0x0f) * 4;
      protocol = bytes[at + 9];
    } else {
      if (length - at < 40 || bytes[at] >> 4 !== 6) return;
      transport = at + 40;
      protocol = bytes[at + 6];
    }
    const destinationAt = at + (family === 4 ? 16 : 24);
    if (length - transport < 8) return;
    if (protocol === (family === 4 ? 1 : 58)) {
      if (bytes[transport] !== (family === 4 ? 8 : 128)) return;
      this.key(family, KIND_ECHO, bytes, destinationAt, word(bytes, transport + 4), word(bytes, transport + 6), 0);
    } else if (protocol === 17) {
      this.key(family, KIND_UDP, bytes, destinationAt, word(bytes, transport), word(bytes, transport + 2), 0);
    } else if (protocol === 6) {
      this.key(family, KIND_TCP, bytes, destinationAt, word(bytes, transport), word(bytes, transport + 2), long(bytes, transport + 4));
    } else return;
    this.answer(id, time, direction);
  }

  /** Hashes the key, all but the direction, into this.baseA / this.baseB. */
  private key(family: number, kind: number, address: Uint8Array, addressAt: number, x: number, y: number, z: number): void {
    hashA = 0x811c9dc5 | 0;
    hashB = 0x5bd1e995;
    mix((family << 8) | kind);
    mix(this.view);
    const end = addressAt + (family === 4 ? 4 : 16);
    for (let i = addressAt; i < end; i++) mix(address[i]);
    mix(x);
    mix(y);
    mix(z & 0xffff);
    mix(z >>> 16);
    this.baseA = hashA;
    this.baseB = hashB;
  }

  /** The key for a request that travelled this way (1 sent, 2 received, 0 unknown) into this.a / this.b. */
  private finish(direction: number): void {
    hashA = this.baseA;
    hashB = this.baseB;
    mix(direction);
    this.a = hashA ^ (hashA >>> 15);
    this.b = hashB;
  }

  private remember(id: number, time: number, direction: number): void {
    this.finish(direction);
    const base = (this.a & (SETS - 1)) * WAYS;
    let slot = base;
    for (let way = 0; way < WAYS; way++) {
      const candidate = base + way;
      const held = this.requestIds[candidate];
      if (held === EMPTY || time - this.requestTimes[candidate] > EXPIRY_MS) {
        slot = candidate;
        break;
      }
      if (held < this.requestIds[slot]) slot = candidate;
    }
    this.keyA[slot] = this.a;
    this.keyB[slot] = this.b;
    this.requestIds[slot] = id;
    this.requestTimes[slot] = time;
  }

  /**
   * The oldest pending request with this key takes the reply: one that travelled the other way if
   * any (a sent request, not the copy of it a raw socket received on loopback), else one that
   * travelled the same way (a packet socket on lo sees both as sent).
   */
  private answer(id: number, time: number, direction: number): void {
    this.finish(direction === 1 ? 2 : direction === 2 ? 1 : 0);
    if (this.take(id, time) || direction === 0) return;
    this.finish(direction);
    this.take(id, time);
  }

  private take(id: number, time: number): boolean {
    const base = (this.a & (SETS - 1)) * WAYS;
    let slot = -1;
    for (let way = 0; way < WAYS; way++) {
      const candidate = base + way;
      const held = this.requestIds[candidate];
      if (held === EMPTY || this.keyA[candidate] !== this.a || this.keyB[candidate] !== this.b) continue;
      if (time - this.requestTimes[candidate] > EXPIRY_MS || held >= id) continue;
      if (slot < 0 || held < this.requestIds[slot]) slot = candidate;
    }
    if (slot < 0) return false;
    const requestId = this.requestIds[slot];
    this.requestIds[slot] = EMPTY;
    const rttMs = Math.round((time - this.requestTimes[slot]) * 1000) / 1000;
    this.links.set(id, ROLE_REPLY, requestId, rttMs);
    if (this.logged(requestId)) this.links.set(requestId, ROLE_REQUEST, id, rttMs);
    if (this.onAnswer) this.onAnswer(requestId, id, rttMs);
    return true;
  }

  private address(text: string): Uint8Array | null {
    let bytes = this.addressCache.get(text);
    if (bytes === undefined) {
      try {
        bytes = parseIpAddress(text);
      } catch {
        bytes = null;
      }
      if (this.addressCache.size >= 1024) this.addressCache.clear();
      this.addressCache.set(text, bytes);
    }
    return bytes;
  }
}

/** Per log slot (id % capacity): which row the link is for, the other row, the RTT. */
class RowLinks {
  private readonly owner: Float64Array;
  private readonly other: Float64Array;
  private readonly rtt: Float64Array;
  private readonly role: Uint8Array;

  constructor(readonly capacity: number) {
    this.owner = new Float64Array(capacity).fill(EMPTY);
    this.other = new Float64Array(capacity);
    this.rtt = new Float64Array(capacity);
    this.role = new Uint8Array(capacity);
  }

  reset(id: number): void {
    const slot = id % this.capacity;
    this.owner[slot] = id;
    this.role[slot] = 0;
  }

  set(id: number, role: number, other: number, rtt: number): void {
    const slot = id % this.capacity;
    this.owner[slot] = id;
    this.role[slot] = role;
    this.other[slot] = other;
    this.rtt[slot] = rtt;
  }

  of(id: number): MatchLink | undefined {
    const slot = id % this.capacity;
    if (this.owner[slot] !== id || this.role[slot] === 0) return undefined;
    return this.role[slot] === ROLE_REQUEST ? { replyId: this.other[slot] } : { requestId: this.other[slot], rttMs: this.rtt[slot] };
  }

  copyFrom(source: RowLinks, id: number): void {
    const from = id % source.capacity;
    if (source.owner[from] !== id) return;
    this.set(id, source.role[from], source.other[from], source.rtt[from]);
  }
}

// Two FNV-1a-like lanes with different primes: 64 bits of key, so distinct keys do not collide in practice.
let hashA = 0;
let hashB = 0;
function mix(value: number): void {
  hashA = Math.imul(hashA ^ value, 0x01000193);
  hashB = Math.imul(hashB ^ value, 0x5bd1e995);
  hashB ^= hashB >>> 13;
}

function isError(type: number, family: 4 | 6): boolean {
  return family === 4 ? type === 3 || type === 4 || type === 5 || type === 11 || type === 12 : type >= 1 && type <= 4;
}

function word(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

function long(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}
