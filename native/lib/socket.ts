// The Socket class: raw-socket's documented behaviour on a batched core.
// Receive: the addon drains every ready datagram per wake-up and hands them over
// in one call. Send: requests queue in order and are flushed at the end of the
// current tick in sendmmsg batches; the writable watcher is used only when the
// kernel says the socket would block.
// Errors: with receiveErrors, the ICMP errors about the socket's own packets come from
// the kernel's error queue as 'icmpError' events, in order with the messages; with
// txTimestamps, the kernel's transmit timestamps come from it as 'sent' events.
import { EventEmitter } from 'node:events';
import { isIPv4, isIPv6 } from 'node:net';
import { binding, type NativeIcmpError, type NativeRawSocket, type ReceivedBatch, type SendRequestFields } from './binding';
import { AddressFamily, Protocol } from './constants';
import { fromNative, icmpErrorFromNative, type IcmpError, RawSocketError, sendError, SocketClosedError } from './errors';
import { type MessageInfo, messageInfo } from './message-info';
import { attachProgram, compileFilter, type CompiledFilter, socketProgram } from './filter';

export type SocketMode = 'auto' | 'raw' | 'datagram';

export interface SocketOptions {
  /** AddressFamily.IPv4 (default) or AddressFamily.IPv6. */
  addressFamily?: number;
  /** A Protocol constant or any protocol number 0-255; default Protocol.None. */
  protocol?: number;
  /** Bytes read per datagram (longer ones are truncated and marked); default 4096. */
  bufferSize?: number;
  /** Compute a checksum over each sent buffer and write it at checksumOffset; default false. */
  generateChecksums?: boolean;
  checksumOffset?: number;
  /**
   * 'auto' (default): a raw socket, or, when the OS refuses one for ICMP/ICMPv6, an
   * unprivileged ICMP datagram ("ping") socket. 'raw': never fall back. 'datagram':
   * only the ping socket (the kernel then owns the echo identifier and checksum, and
   * IPv4 messages arrive without their IP header); with Protocol.UDP, an ordinary UDP
   * socket (no privilege needed): sends go to a `{ address, port }` Destination, the
   * kernel writes the UDP header, and messages are UDP payloads with info.port.
   */
  mode?: SocketMode;
  /** Kernel receive timestamps (SO_TIMESTAMPNS) in each message's info.timestamp. */
  timestamps?: boolean;
  /**
   * The TTL (IPv4) or hop limit (IPv6) each datagram arrived with, in info.ttl
   * (IP_RECVTTL / IPV6_RECVHOPLIMIT): what ping prints. IPv4 raw sockets also have
   * it in the IP header; IPv6 and datagram sockets have it only this way.
   */
  receiveTtl?: boolean;
  /** Deliver only these ICMP (IPv4: 0-31) or ICMPv6 types, filtered by the kernel. */
  icmpTypes?: readonly number[] | null;
  /**
   * Linux: read the ICMP errors about this socket's own packets from the kernel's error
   * queue (IP_RECVERR / IPV6_RECVERR), one 'icmpError' event (an IcmpError) each: Time
   * Exceeded from a router with its address as `offender`, port unreachable, Packet Too
   * Big with the MTU in `info`… No privilege needed: with a UDP or ICMP datagram socket
   * this is unprivileged traceroute. Errors wait while receiving is paused. With
   * `timestamps`, each has the kernel receive time. Default false.
   */
  receiveErrors?: boolean;
  /**
   * Adopt this open descriptor (e.g. a raw socket a privileged helper opened and passed
   * over a Unix socket) instead of opening one. It must be an IPv4 or IPv6 SOCK_RAW or
   * SOCK_DGRAM (ICMP/ICMPv6 ping, or UDP) socket; addressFamily, protocol and mode are
   * read from it (given ones must match). It is made non-blocking and close-on-exec.
   * On success the Socket owns it and closes it on close(); when createSocket throws,
   * it is not closed and is still the caller's.
   */
  descriptor?: number;
  /**
   * Each message's info gets the address it was sent to (`localAddress`, IP_PKTINFO /
   * IPV6_PKTINFO), `interfaceIndex`, and the `hopLimit` (TTL) and `trafficClass` (TOS) it
   * arrived with: what IPv6 and datagram sockets, which deliver no IP header, otherwise
   * lose. Default: on for those, off for IPv4 raw sockets (their messages start with the
   * IP header, which has all of it but the interface; it costs ~0.35 µs a message).
   */
  packetInfo?: boolean;
  /**
   * Linux: kernel software transmit timestamps (SO_TIMESTAMPING). Each successful send
   * gets a sequence number (0, 1, 2, … in send order: afterCallback's fourth argument,
   * `nextSendSequence` before it) and the socket emits 'sent' `{ sequence, timestamp }`
   * when the packet left for the device. Read from the error queue; needs no
   * receiveErrors, never comes as an 'icmpError', and waits (like those) while receiving
   * is paused. Default false.
   */
  txTimestamps?: boolean;
  /**
   * A capture filter in tcpdump's syntax (pcap-filter(7)), e.g. 'udp port 53': the kernel
   * delivers only what it matches (see setFilter). A bad expression throws before any
   * socket is opened or adopted.
   */
  filter?: string | null;
  /**
   * Linux: open the socket inside this network namespace (a name in /run/netns, e.g. a lab
   * host's 'pwl-line-1234-0a1b2-client'): the calling thread enters it (setns) for the socket()
   * call only. The socket stays that namespace's: its routes, addresses and interfaces. Needs
   * root or CAP_SYS_ADMIN (EPERM otherwise; the socket helper's `namespace` is the way
   * without). Not with `descriptor`.
   */
  namespace?: string;
}

/** Where a send goes: an address and, for UDP datagram sockets (required there), a port. */
export interface Destination {
  address: string;
  /** 1-65535; required on a UDP datagram socket, absent (or 0) on any other. */
  port?: number;
  /**
   * This packet's hop limit (IPv6, 0-255, IPV6_HOPLIMIT) or TTL (IPv4, 1-255, IP_TTL),
   * sent as ancillary data; the socket's own value when absent. Refused (an error to the
   * afterCallback) on a socket whose packets carry their own IP header.
   */
  hopLimit?: number;
  /** This packet's traffic class (IPv6, IPV6_TCLASS) or TOS byte (IPv4, IP_TOS), 0-255. */
  trafficClass?: number;
}

export type { MessageInfo, PacketDirection, PacketType } from './message-info';

/** A kernel transmit timestamp ('sent' event, sockets with txTimestamps). */
export interface SentTimestamp {
  /** The send's sequence number: 0 for the socket's first successful send, then 1, 2, … */
  sequence: number;
  /** When the packet was handed to the device, ns since the epoch (CLOCK_REALTIME, like info.timestamp). */
  timestamp: bigint;
}

/** Internal: what makes a Socket a packet socket (createPacketSocket builds it). */
export interface PacketTarget {
  /** 0 both, 0x0800 IPv4, 0x86dd IPv6. */
  etherType: number;
  interface: string | undefined;
}

export interface Message {
  buffer: Buffer;
  address: string;
  info: MessageInfo;
}

export type BeforeSend = () => void;
/**
 * Called with `this` the socket; sentAt is when the batch left, ns since the epoch;
 * sequence is the send's number for 'sent' events (sockets with txTimestamps).
 */
export type AfterSend = (this: Socket<SocketKind>, error: Error | null, bytes: number, sentAt?: bigint, sequence?: number) => void;

interface SendRequest extends SendRequestFields {
  before: BeforeSend | undefined;
  after: AfterSend;
  beforeCalled: boolean;
}

/** A received batch (messages, or error-queue entries) being delivered, and how far delivery has got. */
interface Delivery {
  batch: ReceivedBatch | undefined;
  errors: IcmpError[] | undefined;
  truncated: Set<number> | undefined;
  index: number;
}

const MODES: Record<SocketMode, 0 | 1 | 2> = { auto: 0, raw: 1, datagram: 2 };
// The addon's family number for AF_PACKET, and the EtherTypes a packet socket captures.
const PACKET_FAMILY = 3;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
// Requests per sendBatch call: bounds the time between afterCallbacks.
const MAX_SEND_BATCH = 4096;
// Batches at least this large are sent on the thread pool: the kernel's work for
// them then runs beside the JS thread instead of blocking it. Smaller ones (a ping)
// go out synchronously, which is faster for one packet.
const ASYNC_SEND_MIN = 64;
// The addon's send results for a request whose buffer changed after it was queued, whose
// hopLimit or trafficClass is out of range, or that sets them on a socket whose packets
// carry their own IP header.
const INVALID_REQUEST = -0x80000000;
const INVALID_HOP_LIMIT = -0x7fffffff;
const INVALID_TRAFFIC_CLASS = -0x7ffffffe;
const HEADER_INCLUDED = -0x7ffffffd;
// 'sent' timestamps kept while their send has not yet completed (its sequence is unknown to listeners).
const MAX_HELD_TIMESTAMPS = 4096;
// setTimeout's largest delay.
const MAX_TIMEOUT = 0x7fffffff;
// The async iterator pauses receiving when this many messages wait unread.
const ITERATOR_HIGH_WATER = 10_000;
// ICMP errors kept while receiving is paused; later ones are dropped (the kernel's own
// error queue is bounded by the receive buffer in the same way).
const MAX_PENDING_ERRORS = 10_000;

/** The error for a failed send result: -errno, or one of the addon's own codes. */
function requestError(result: number, request: SendRequestFields): Error {
  if (result === INVALID_REQUEST) return new RangeError('The buffer of this send request was detached or shrunk before it was sent');
  if (result === INVALID_HOP_LIMIT || result === INVALID_TRAFFIC_CLASS) {
    const name = result === INVALID_HOP_LIMIT ? 'hopLimit' : 'trafficClass';
    const error = new RangeError(`The "address.${name}" of this send request was out of range when it was sent`);
    (error as RangeError & { code: string }).code = 'ERR_OUT_OF_RANGE';
    return error;
  }
  if (result === HEADER_INCLUDED) {
    return new RawSocketError(
      'hopLimit and trafficClass cannot apply: this socket sends packets that carry their own IP header ' +
        '(IP_HDRINCL / IPV6_HDRINCL); set the TTL / hop limit and TOS / traffic class in that header',
      'ERR_HEADER_INCLUDED',
    );
  }
  return sendError(-result, request.address, request.port);
}

// Resolved once: flushes are chained onto it as microtasks.
const FLUSH_LATER = Promise.resolve();

/**
 * A listener's or callback's error, thrown again from a callback of Node's own so that it is
 * an uncaught exception like any EventEmitter listener's. Not process.nextTick: ticks run
 * inside the addon's Node-API callback, which would swallow the error.
 */
function rethrowLater(error: unknown): void {
  setImmediate(() => {
    throw error;
  });
}

function integerOption(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`The "${name}" option must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`The "${name}" option must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`The "${name}" option must be a boolean, got ${typeof value}`);
  return value;
}

/**
 * Events: 'message' (buffer, address, info: MessageInfo); 'icmpError' (error: IcmpError),
 * with receiveErrors; 'sent' (stamp: SentTimestamp), with txTimestamps; 'error' (error),
 * after which the socket closes; 'close'.
 */
/** What a socket is: createSocket gives 'raw' or 'datagram' ones, createPacketSocket 'packet' ones. */
export type SocketKind = 'raw' | 'datagram' | 'packet';

export class Socket<Kind extends SocketKind = 'raw' | 'datagram'> extends EventEmitter {
  /** The receive watcher is stopped: no 'message' events, and it does not keep the process alive. */
  recvPaused = false;
  /** The send watcher is stopped; send() resumes it. */
  sendPaused = true;
  /** AddressFamily.IPv4 or IPv6; packet sockets: 1 or 2 when they capture one family, 0 when both. */
  readonly addressFamily: number;
  /** The IP protocol; packet sockets: the EtherType captured (0x0800, 0x86dd), 0 when both. */
  readonly protocol: number;
  /** 'raw'; 'datagram' for an unprivileged ICMP socket or a UDP socket; 'packet' (createPacketSocket). */
  readonly mode: Kind;
  /** The error queue is on: 'icmpError' events. */
  readonly receiveErrors: boolean;
  /** Kernel transmit timestamps are on: 'sent' events. */
  readonly txTimestamps: boolean;

  private readonly wrap: NativeRawSocket;
  private closed = false;
  private closeEmitted = false;
  private queue: SendRequest[] = [];
  private head = 0;
  private flushScheduled = false;
  private awaitingWritable = false;
  /** Requests from `head` on that a thread-pool batch is sending now. */
  private inFlight = 0;
  private watchingReadable = false;
  private closeWaitsForBatch = false;
  private watchingWritable = false;
  /** Send results, grown to the largest batch yet (a socket that sends one packet at a time keeps 8). */
  private results = new Int32Array(8);
  private readonly sentAt = new BigInt64Array(1);
  private pending: Delivery[] = [];
  private userSpaceIcmpTypes: Set<number> | null = null;
  /** The capture filter attached (setFilter) and the program the kernel runs for it. */
  private capture: { filter: CompiledFilter; program: Uint8Array } | null = null;
  /** An ordinary UDP socket: sends need a port. */
  private readonly udp: boolean;
  /** The highest drop count the kernel has reported. */
  private knownDrops = 0;
  /** The last destination address that passed validation (checkRequest). */
  private lastValidAddress: string | null = null;
  /** A queued request carried hopLimit or trafficClass: the addon reads those fields from then on. */
  private headerFields = false;
  /** The sequence number of the next successful send. */
  private sequence = 0;
  private heldTimestamps: SentTimestamp[] = [];

  /** `packet` is internal: createPacketSocket's. */
  constructor(options: SocketOptions = {}, packet?: PacketTarget) {
    super();
    if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
    const family = integerOption(options.addressFamily, 'addressFamily', AddressFamily.IPv4, 1, 2);
    const protocol = integerOption(options.protocol, 'protocol', Protocol.None, 0, 255);
    const bufferSize = integerOption(options.bufferSize, 'bufferSize', 4096, 1, 1 << 20);
    const generate = booleanOption(options.generateChecksums, 'generateChecksums', false);
    const checksumOffset = integerOption(options.checksumOffset, 'checksumOffset', 0, 0, 65533);
    const timestamps = booleanOption(options.timestamps, 'timestamps', false);
    const receiveTtl = booleanOption(options.receiveTtl, 'receiveTtl', false);
    const receiveErrors = booleanOption(options.receiveErrors, 'receiveErrors', false);
    // Absent: the addon decides once the socket is open (on unless it delivers the IP header).
    const packetInfo = options.packetInfo === undefined ? undefined : booleanOption(options.packetInfo, 'packetInfo', false);
    const txTimestamps = booleanOption(options.txTimestamps, 'txTimestamps', false);
    const descriptor = options.descriptor;
    if (descriptor !== undefined) {
      if (typeof descriptor !== 'number') throw new TypeError(`The "descriptor" option must be a number, got ${typeof descriptor}`);
      if (!Number.isInteger(descriptor) || descriptor < 0 || descriptor > 0x7fffffff) {
        throw new RangeError(`The "descriptor" option must be an open descriptor, an integer from 0 to ${0x7fffffff}, got ${descriptor}`);
      }
    }
    const namespace = namespaceOption(options.namespace);
    if (namespace !== undefined && descriptor !== undefined) throw new TypeError('The "namespace" and "descriptor" options exclude each other (an adopted socket is already in its namespace)');
    const mode = options.mode ?? 'auto';
    if (typeof mode !== 'string' || !Object.hasOwn(MODES, mode)) throw new RangeError(`The "mode" option must be 'auto', 'raw' or 'datagram', got ${String(mode)}`);
    const icmp = (family === AddressFamily.IPv4 && protocol === Protocol.ICMP) || (family === AddressFamily.IPv6 && protocol === Protocol.ICMPv6);

    // An adopted descriptor is what it is: family and protocol are checked against it
    // when given (0 and -1 tell the addon to take the descriptor's).
    const adopt = descriptor !== undefined;
    const filter = options.filter === undefined || options.filter === null ? null : compileFilter(options.filter);
    const nativeFamily = packet !== undefined ? PACKET_FAMILY : adopt && options.addressFamily === undefined ? 0 : family;
    const nativeProtocol = packet !== undefined ? packet.etherType : adopt && options.protocol === undefined ? -1 : protocol;
    try {
      this.wrap = new binding.RawSocket(
        nativeFamily,
        nativeProtocol,
        { bufferSize, mode: MODES[mode], timestamps, receiveTtl, receiveErrors, descriptor, packetInfo, txTimestamps, interface: packet?.interface, namespace },
        {
          onMessages: (batch) => this.onMessages(batch),
          onWritable: () => this.onWritable(),
          onError: (error) => this.onError(fromNative(error)),
          onClose: () => this.onClose(),
          onIcmpErrors: (errors) => this.onIcmpErrors(errors),
          onSent: (stamps) => this.onSent(stamps),
        },
      );
    } catch (error) {
      throw fromNative(error, adopt ? { descriptor } : packet !== undefined ? { packet: true } : { icmp, protocol });
    }
    const [actualFamily, actualProtocol, datagram] = this.wrap.describe();
    if (actualFamily === PACKET_FAMILY) {
      this.addressFamily = actualProtocol === ETHERTYPE_IPV4 ? AddressFamily.IPv4 : actualProtocol === ETHERTYPE_IPV6 ? AddressFamily.IPv6 : 0;
      this.mode = 'packet' as Kind;
    } else {
      this.addressFamily = actualFamily;
      this.mode = (datagram ? 'datagram' : 'raw') as Kind;
    }
    this.protocol = actualProtocol;
    this.receiveErrors = receiveErrors;
    this.txTimestamps = txTimestamps;
    this.udp = datagram && actualProtocol === Protocol.UDP;
    try {
      if (generate) this.wrap.setChecksum(true, checksumOffset);
      if (options.icmpTypes !== undefined && options.icmpTypes !== null) this.setIcmpFilter(options.icmpTypes);
      if (filter !== null) this.applyFilter(filter);
    } catch (error) {
      this.wrap.close();
      throw error;
    }
    this.updateWatch();
  }

  // ---- receive ------------------------------------------------------------

  private onMessages(batch: ReceivedBatch): void {
    if (this.closed) return;
    const drops = batch[6];
    // Cumulative counts: the batch's last is its highest.
    if (drops !== undefined && drops[drops.length - 1] > this.knownDrops) this.knownDrops = drops[drops.length - 1];
    const delivery: Delivery = { batch, errors: undefined, truncated: batch[3] && new Set(batch[3]), index: 0 };
    if (this.recvPaused || this.pending.length > 0) {
      this.pending.push(delivery);
      return;
    }
    this.deliver(delivery);
  }

  /** Error-queue entries from the poll watcher: delivered like messages, in order with them. */
  private onIcmpErrors(entries: NativeIcmpError[]): void {
    if (this.closed) return;
    const delivery = this.errorDelivery(entries);
    if (delivery === undefined) return;
    if (this.recvPaused || this.pending.length > 0) {
      this.pending.push(delivery);
      return;
    }
    this.deliver(delivery);
  }

  private errorDelivery(entries: NativeIcmpError[]): Delivery | undefined {
    // While paused, a bounded number wait; the rest are dropped.
    let room = entries.length;
    if (this.recvPaused) {
      let waiting = 0;
      for (const delivery of this.pending) if (delivery.errors !== undefined) waiting += delivery.errors.length - delivery.index;
      room = Math.min(room, MAX_PENDING_ERRORS - waiting);
    }
    if (room <= 0) return undefined;
    const errors = (room < entries.length ? entries.slice(0, room) : entries).map(icmpErrorFromNative);
    return { batch: undefined, errors, truncated: undefined, index: 0 };
  }

  /**
   * Reads the error queue right before a send: its entries' pending errno would
   * otherwise fail that send. They are delivered later through the pending queue,
   * never from inside the flush.
   */
  private drainErrorQueue(): void {
    const drained = this.wrap.drainErrors();
    if (drained === undefined) return;
    const [entries, stamps] = drained;
    // Never from inside the flush: listeners run on the next tick.
    if (stamps !== undefined) process.nextTick(() => this.onSent(stamps));
    if (entries === undefined) return;
    const delivery = this.errorDelivery(entries);
    if (delivery === undefined) return;
    this.pending.push(delivery);
    if (!this.recvPaused) process.nextTick(this.deliverPending);
  }

  /** Emits a batch from where it stands; keeps the rest when a listener pauses or closes. */
  private deliver(delivery: Delivery): boolean {
    if (delivery.errors !== undefined) return this.deliverErrors(delivery, delivery.errors);
    const batch = delivery.batch as ReceivedBatch;
    const [buffers, sources] = batch;
    const filter = this.userSpaceIcmpTypes;
    while (delivery.index < buffers.length) {
      if (this.recvPaused || this.closed) {
        if (!this.closed && !this.pending.includes(delivery)) this.pending.unshift(delivery);
        return false;
      }
      const i = delivery.index++;
      const buffer = buffers[i];
      if (filter !== null && !filter.has(buffer[0])) continue;
      const info = messageInfo(batch, i, delivery.truncated !== undefined && delivery.truncated.has(i));
      try {
        this.emit('message', buffer, sources[i], info);
      } catch (error) {
        rethrowLater(error);
      }
    }
    return true;
  }

  private deliverErrors(delivery: Delivery, errors: IcmpError[]): boolean {
    while (delivery.index < errors.length) {
      if (this.recvPaused || this.closed) {
        if (!this.closed && !this.pending.includes(delivery)) this.pending.unshift(delivery);
        return false;
      }
      const error = errors[delivery.index++];
      try {
        this.emit('icmpError', error);
      } catch (thrown) {
        rethrowLater(thrown);
      }
    }
    return true;
  }

  private deliverPending = (): void => {
    while (this.pending.length > 0 && !this.recvPaused && !this.closed) {
      const delivery = this.pending.shift() as Delivery;
      if (!this.deliver(delivery)) return;
    }
  };

  /**
   * Transmit timestamps from the error queue, [sequence, ns, …]. A send's 'sent' never
   * comes before its afterCallback (which tells its sequence): earlier ones wait.
   */
  private onSent(stamps: (number | bigint)[]): void {
    for (let i = 0; i + 1 < stamps.length && !this.closed; i += 2) {
      const stamp: SentTimestamp = { sequence: stamps[i] as number, timestamp: stamps[i + 1] as bigint };
      if (stamp.sequence < this.sequence) this.emitSent(stamp);
      else if (this.heldTimestamps.length < MAX_HELD_TIMESTAMPS) this.heldTimestamps.push(stamp);
    }
  }

  private releaseTimestamps(): void {
    const held = this.heldTimestamps;
    let kept = 0;
    for (const stamp of held) {
      if (stamp.sequence < this.sequence && !this.closed) this.emitSent(stamp);
      else held[kept++] = stamp;
    }
    held.length = this.closed ? 0 : kept;
  }

  private emitSent(stamp: SentTimestamp): void {
    try {
      this.emit('sent', stamp);
    } catch (error) {
      rethrowLater(error);
    }
  }

  /**
   * Packets the kernel dropped for this socket because its receive buffer was full, since
   * it opened (SO_MEMINFO now; else the highest SO_RXQ_OVFL count a message brought).
   */
  get drops(): number {
    if (!this.closed) {
      const now = this.wrap.drops();
      if (now > this.knownDrops) this.knownDrops = now;
    }
    return this.knownDrops;
  }

  /**
   * The sequence number the next successful send gets (its 'sent' event has it): exact
   * inside a beforeCallback, or when no send is pending.
   */
  get nextSendSequence(): number {
    return this.sequence;
  }

  pauseRecv(): this {
    this.recvPaused = true;
    this.updateWatch();
    return this;
  }

  resumeRecv(): this {
    this.recvPaused = false;
    this.updateWatch();
    if (this.pending.length > 0) process.nextTick(this.deliverPending);
    return this;
  }

  // ---- send ---------------------------------------------------------------

  /**
   * raw-socket's send: requests go out in order; beforeCallback runs right before
   * its request's system call, afterCallback(error, bytes) after it, with `this`
   * the socket. Without callbacks it returns a Promise of the bytes sent.
   * Requests without a beforeCallback are sent in batches; one with a
   * beforeCallback goes alone, after the afterCallbacks of all before it.
   * address: an IP address string, or a Destination `{ address, port }`; a UDP
   * datagram socket needs the port, every other socket takes none.
   */
  send(buffer: Uint8Array, offset: number, length: number, address: string | Destination, afterCallback: AfterSend): this;
  send(
    buffer: Uint8Array,
    offset: number,
    length: number,
    address: string | Destination,
    beforeCallback: BeforeSend | null | undefined,
    afterCallback: AfterSend,
  ): this;
  send(buffer: Uint8Array, offset: number, length: number, address: string | Destination): Promise<number>;
  send(
    buffer: Uint8Array,
    offset: number,
    length: number,
    address: string | Destination,
    beforeCallback?: BeforeSend | AfterSend | null,
    afterCallback?: AfterSend,
  ): this | Promise<number> {
    let before = beforeCallback as BeforeSend | null | undefined;
    let after = afterCallback;
    if (after === undefined) {
      after = before as AfterSend | undefined;
      before = undefined;
    }
    if (after !== undefined && typeof after !== 'function') throw new TypeError('The "afterCallback" argument must be a function');
    if (before !== undefined && before !== null && typeof before !== 'function') {
      throw new TypeError('The "beforeCallback" argument must be a function');
    }
    if (!(buffer instanceof Uint8Array)) throw new TypeError('The "buffer" argument must be a Buffer or Uint8Array');
    if (typeof offset !== 'number') throw new TypeError(`The "offset" argument must be a number, got ${typeof offset}`);
    if (typeof length !== 'number') throw new TypeError(`The "length" argument must be a number, got ${typeof length}`);
    let host: string;
    let port: number | undefined;
    let hopLimit: number | undefined;
    let trafficClass: number | undefined;
    if (typeof address === 'string') {
      host = address;
    } else if (typeof address === 'object' && address !== null) {
      host = address.address;
      port = address.port;
      hopLimit = address.hopLimit;
      trafficClass = address.trafficClass;
      if (typeof host !== 'string') throw new TypeError(`The "address.address" property must be a string, got ${typeof host}`);
      if (port !== undefined && typeof port !== 'number') throw new TypeError(`The "address.port" property must be a number, got ${typeof port}`);
      if (hopLimit !== undefined && typeof hopLimit !== 'number') throw new TypeError(`The "address.hopLimit" property must be a number, got ${typeof hopLimit}`);
      if (trafficClass !== undefined && typeof trafficClass !== 'number') {
        throw new TypeError(`The "address.trafficClass" property must be a number, got ${typeof trafficClass}`);
      }
    } else {
      throw new TypeError(`The "address" argument must be a string or a { address, port } object, got ${address === null ? 'null' : typeof address}`);
    }

    let promise: Promise<number> | undefined;
    if (after === undefined) {
      promise = new Promise<number>((resolve, reject) => {
        after = (error, bytes) => (error ? reject(error) : resolve(bytes));
      });
    }
    const done = after as AfterSend;
    const problem = this.checkRequest(buffer, offset, length, host, port) ?? this.checkHeaderFields(hopLimit, trafficClass);
    if (problem !== null) {
      if (this.closed || this.head === this.queue.length) {
        process.nextTick(() => this.complete(done, problem, 0));
        return promise ?? this;
      }
      // Behind queued requests the refusal waits its turn, so afterCallbacks keep the order
      // of the send() calls (raw-socket's did): a beforeCallback that throws goes alone, unsent.
      before = () => {
        throw problem;
      };
    } else if (hopLimit !== undefined || trafficClass !== undefined) this.headerFields = true;
    // Every request has the same shape (port 0, -1 when none): the addon reads them fastest so.
    this.queue.push({
      buffer,
      offset,
      length,
      address: host,
      port: port ?? 0,
      hopLimit: hopLimit ?? -1,
      trafficClass: trafficClass ?? -1,
      before: before ?? undefined,
      after: done,
      beforeCalled: false,
    });
    if (this.sendPaused) this.resumeSend();
    else this.scheduleFlush();
    return promise ?? this;
  }

  /** Per-packet header fields: IPv4 TTL 1-255 (the kernel refuses 0), IPv6 hop limit 0-255, class 0-255. */
  private checkHeaderFields(hopLimit: number | undefined, trafficClass: number | undefined): Error | null {
    if (hopLimit === undefined && trafficClass === undefined) return null; // the common case, without the table below
    const v4 = this.addressFamily === AddressFamily.IPv4;
    const fields: [string, number | undefined, number][] = [
      ['hopLimit', hopLimit, v4 ? 1 : 0],
      ['trafficClass', trafficClass, 0],
    ];
    for (const [name, value, min] of fields) {
      if (value === undefined || (Number.isInteger(value) && value >= min && value <= 255)) continue;
      const what = name === 'hopLimit' ? (v4 ? 'an IPv4 TTL' : 'an IPv6 hop limit') : v4 ? 'an IPv4 TOS byte' : 'an IPv6 traffic class';
      const error = new RangeError(`The "address.${name}" property must be an integer from ${min} to 255 (${what}), got ${value}`);
      (error as RangeError & { code: string }).code = 'ERR_OUT_OF_RANGE';
      return error;
    }
    return null;
  }

  private checkRequest(buffer: Uint8Array, offset: number, length: number, address: string, port: number | undefined): Error | null {
    if (this.closed) return new SocketClosedError('send');
    if (this.mode === 'packet') {
      return new RawSocketError('Cannot send on a packet socket: it captures only (send through a raw or datagram socket)', 'ERR_SOCKET_CAPTURE_ONLY');
    }
    if (!Number.isInteger(offset) || offset < 0) return new RangeError(`The "offset" argument must be a non-negative integer, got ${offset}`);
    if (!Number.isInteger(length) || length < 0) return new RangeError(`The "length" argument must be a non-negative integer, got ${length}`);
    if (offset + length > buffer.length) {
      return new RangeError(
        `Buffer length '${buffer.length}' is not large enough for the specified offset '${offset}' plus length '${length}'`,
      );
    }
    // Most sends go where the last one went: parse an address once, not per packet.
    const valid = address === this.lastValidAddress || (this.addressFamily === AddressFamily.IPv4 ? isIPv4(address) : isIPv6(address));
    if (valid) this.lastValidAddress = address;
    if (!valid) {
      const error = new TypeError(`Invalid IP${this.addressFamily === AddressFamily.IPv4 ? 'v4' : 'v6'} address '${address}'`);
      (error as TypeError & { code: string }).code = 'ERR_INVALID_IP_ADDRESS';
      return error;
    }
    if (this.udp) {
      if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
        const error = new RangeError(
          `A UDP datagram socket sends to a { address, port } destination with a port from 1 to 65535, got ${port === undefined ? 'no port' : `port ${port}`}`,
        );
        (error as RangeError & { code: string }).code = 'ERR_SOCKET_BAD_PORT';
        return error;
      }
    } else if (port !== undefined && port !== 0) {
      const error = new RangeError(
        `Only UDP datagram sockets take a destination port; this ${this.mode} socket (protocol ${this.protocol}) got port ${port}`,
      );
      (error as RangeError & { code: string }).code = 'ERR_SOCKET_BAD_PORT';
      return error;
    }
    return null;
  }

  pauseSend(): this {
    this.sendPaused = true;
    this.updateWatch();
    return this;
  }

  resumeSend(): this {
    this.sendPaused = false;
    this.updateWatch();
    this.scheduleFlush();
    return this;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.awaitingWritable || this.inFlight > 0 || this.closed) return;
    this.flushScheduled = true;
    // A microtask, not process.nextTick: every send from a callback would otherwise make
    // Node run its tick queue in JS, which costs a cold process more than the send itself
    // (bench:native's cold RTT: 48 -> 40 µs). Sends queued in this run still go out together.
    // With the error queue on, the flush stays a tick: the errors it drains are emitted on
    // the next tick, before the promises of the sends that follow them resolve.
    if (this.receiveErrors) process.nextTick(this.flush);
    else FLUSH_LATER.then(this.flush);
  }

  private onWritable(): void {
    this.awaitingWritable = false;
    this.updateWatch();
    this.flush();
  }

  private flush = (): void => {
    this.flushScheduled = false;
    while (this.head < this.queue.length) {
      if (this.closed || this.sendPaused || this.awaitingWritable || this.inFlight > 0) return;
      if (this.head >= 4096) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      const queue = this.queue;
      const start = this.head;
      const first = queue[start];
      let count = 1;
      if (first.before !== undefined) {
        if (!first.beforeCalled) {
          first.beforeCalled = true;
          try {
            first.before();
          } catch (error) {
            this.head++;
            this.complete(first.after, error as Error, 0);
            continue;
          }
          if (this.closed) return;
        }
      } else {
        const limit = Math.min(queue.length, start + MAX_SEND_BATCH);
        while (start + count < limit && queue[start + count].before === undefined) count++;
      }
      if (this.receiveErrors) this.drainErrorQueue();
      if (this.results.length < count) this.results = new Int32Array(Math.min(MAX_SEND_BATCH, Math.max(count, 2 * this.results.length)));
      if (count >= ASYNC_SEND_MIN) {
        try {
          this.wrap.sendBatchAsync(
            queue,
            start,
            count,
            this.results,
            (processed, sentAt) => this.onBatchSent(queue, start, count, processed, sentAt),
            this.headerFields,
          );
          this.inFlight = count;
          return;
        } catch (error) {
          this.head += count;
          const failure = fromNative(error);
          for (let i = 0; i < count; i++) this.complete(queue[start + i].after, failure, 0);
          continue;
        }
      }
      let sent: number;
      try {
        sent = this.wrap.sendBatch(queue, start, count, this.results, this.sentAt, this.headerFields);
      } catch (error) {
        this.head += count;
        const failure = fromNative(error);
        for (let i = 0; i < count; i++) this.complete(queue[start + i].after, failure, 0);
        continue;
      }
      this.head += sent;
      this.completeBatch(queue, start, sent, this.sentAt[0]);
      if (sent < count) {
        this.waitForWritable();
        return;
      }
    }
    this.queue = [];
    this.head = 0;
    // Like raw-socket, an idle send watcher pauses itself.
    if (!this.sendPaused && !this.closed) this.pauseSend();
    // Replies already queued (loopback) are read by the poll watcher, which runs before
    // the next check phase anyway: an extra read from setImmediate only cost time.
  };

  private onBatchSent(queue: SendRequest[], start: number, count: number, processed: number, sentAt: bigint): void {
    this.inFlight = 0;
    if (queue === this.queue) this.head = start + processed;
    this.completeBatch(queue, start, processed, sentAt);
    if (this.closed) {
      // Closed while the batch was out: what it did not send fails like any pending send.
      for (let i = processed; i < count; i++) this.complete(queue[start + i].after, new SocketClosedError('send'), 0);
      if (this.closeWaitsForBatch) {
        this.closeWaitsForBatch = false;
        this.onClose();
      }
      return;
    }
    if (processed < count) this.waitForWritable();
    else this.flush();
  }

  private completeBatch(queue: SendRequest[], start: number, count: number, sentAt: bigint): void {
    for (let i = 0; i < count; i++) {
      const request = queue[start + i];
      const result = this.results[i];
      if (result >= 0) {
        // The kernel numbers successful sends the same way (SOF_TIMESTAMPING_OPT_ID).
        const sequence = this.sequence++;
        this.complete(request.after, null, result, sentAt, this.txTimestamps ? sequence : undefined);
      } else {
        this.complete(request.after, requestError(result, request), 0);
      }
    }
    if (this.heldTimestamps.length > 0) this.releaseTimestamps();
  }

  /** The kernel's send buffer is full: continue when the socket is writable. */
  private waitForWritable(): void {
    this.awaitingWritable = true;
    this.updateWatch();
  }

  private complete(after: AfterSend, error: Error | null, bytes: number, sentAt?: bigint, sequence?: number): void {
    try {
      after.call(this, error, bytes, sentAt, sequence);
    } catch (thrown) {
      rethrowLater(thrown);
    }
  }

  // ---- options --------------------------------------------------------------

  /** getsockopt into buffer; returns the number of bytes written. */
  getOption(level: number, option: number, buffer: Uint8Array, length: number): number {
    try {
      return this.wrap.getOption(level, option, buffer, length);
    } catch (error) {
      throw fromNative(error);
    }
  }

  /** setsockopt from buffer[0, length), or, with three arguments, a 32-bit unsigned value. */
  setOption(level: number, option: number, buffer: Uint8Array, length: number): this;
  setOption(level: number, option: number, value: number): this;
  setOption(level: number, option: number, value: Uint8Array | number, length?: number): this {
    try {
      if (arguments.length > 3) this.wrap.setOption(level, option, value as Uint8Array, length as number);
      else this.wrap.setOption(level, option, value as number);
    } catch (error) {
      throw fromNative(error);
    }
    return this;
  }

  /** Compute and write a checksum at offset into every buffer sent from now on. */
  generateChecksums(generate: boolean, offset = 0): this {
    this.wrap.setChecksum(generate, offset);
    return this;
  }

  /** Deliver only these ICMP/ICMPv6 types (null: all). Raw sockets filter in the kernel. */
  setIcmpFilter(types: readonly number[] | null): this {
    if (types !== null && !Array.isArray(types)) throw new TypeError('The "types" argument must be an array of numbers or null');
    const icmp = (this.addressFamily === AddressFamily.IPv4 && this.protocol === Protocol.ICMP) ||
      (this.addressFamily === AddressFamily.IPv6 && this.protocol === Protocol.ICMPv6);
    if (!icmp) throw new RangeError('ICMP type filters apply only to ICMP (IPv4) and ICMPv6 (IPv6) sockets');
    const max = this.addressFamily === AddressFamily.IPv4 && this.mode === 'raw' ? 31 : 255;
    for (const type of types ?? []) {
      if (typeof type !== 'number') throw new TypeError(`ICMP types must be numbers, got ${typeof type}`);
      if (!Number.isInteger(type) || type < 0 || type > max) throw new RangeError(`ICMP type ${type} is outside 0-${max}`);
    }
    if (this.mode === 'datagram') {
      // Ping sockets take no kernel filter (they only ever see echo replies).
      this.userSpaceIcmpTypes = types === null ? null : new Set(types);
      return this;
    }
    try {
      this.wrap.setIcmpFilter(types);
    } catch (error) {
      throw fromNative(error);
    }
    return this;
  }

  /** The capture filter the kernel runs on this socket (setFilter), or null. */
  get filter(): string | null {
    return this.capture === null ? null : this.capture.filter.expression;
  }

  /**
   * Attaches a capture filter in tcpdump's syntax (compiled by libpcap), or removes it
   * (null). Packets already queued are discarded, so every message from here on passed
   * the new filter. Throws FilterSyntaxError (with the position), FilterError, or
   * FilterCompilerMissingError when libpcap is not installed.
   */
  setFilter(expression: string | null): this {
    if (this.closed) throw new SocketClosedError('set a filter');
    if (expression === null) {
      try {
        attachProgram(this.descriptor, null, this.capture?.program ?? null);
      } catch (error) {
        throw fromNative(error);
      }
      this.capture = null;
      return this;
    }
    return this.applyFilter(compileFilter(expression));
  }

  private applyFilter(filter: CompiledFilter): this {
    // IPv4 raw (and packet) sockets get the IP header; the others have had it taken off.
    const atIpHeader = this.addressFamily === AddressFamily.IPv4 && this.mode === 'raw';
    const name = this.addressFamily === AddressFamily.IPv6 && this.mode === 'raw' ? 'an IPv6 raw socket' : `a ${this.mode} socket`;
    const program = socketProgram(filter, atIpHeader || (this.mode as string) === 'packet' ? 'ip-header' : 'after-ip-header', name);
    try {
      attachProgram(this.descriptor, program, this.capture?.program ?? null);
    } catch (error) {
      throw fromNative(error);
    }
    this.capture = { filter, program };
    return this;
  }

  // ---- lifetime ---------------------------------------------------------------

  /** Stop or start keeping the process alive while the socket is open. */
  ref(): this {
    this.wrap.setRef(true);
    return this;
  }

  unref(): this {
    this.wrap.setRef(false);
    return this;
  }

  /** Closes the socket; pending sends fail with ERR_SOCKET_CLOSED; 'close' follows. */
  close(): this {
    if (this.closed) return this;
    // The count as the socket closes stays readable.
    const drops = this.wrap.drops();
    if (drops > this.knownDrops) this.knownDrops = drops;
    this.closed = true;
    this.heldTimestamps = [];
    this.wrap.close();
    // A batch on the thread pool reports its own requests when it returns.
    const unsent = this.queue.slice(this.head + this.inFlight);
    this.queue = [];
    this.head = 0;
    this.pending = [];
    if (unsent.length > 0) {
      process.nextTick(() => {
        for (const request of unsent) this.complete(request.after, new SocketClosedError('send'), 0);
      });
    }
    return this;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * The operating-system descriptor, -1 once closed: to pass the socket to another
   * process (which may adopt it with the descriptor option). The Socket still owns it:
   * never close it yourself.
   */
  get descriptor(): number {
    return this.wrap.descriptor();
  }

  /** close(), resolved once the 'close' event has been emitted. */
  closeAsync(): Promise<void> {
    if (this.closeEmitted) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.once('close', () => resolve()));
    this.close();
    return closed;
  }

  private onClose(): void {
    // A batch still on the thread pool reports its sends first: 'close' comes last.
    if (this.inFlight > 0) {
      this.closeWaitsForBatch = true;
      return;
    }
    this.closeEmitted = true;
    try {
      this.emit('close');
    } catch (error) {
      rethrowLater(error);
    }
  }

  private onError(error: Error): void {
    try {
      this.emit('error', error);
    } catch (thrown) {
      rethrowLater(thrown);
    }
    this.close();
  }

  private updateWatch(): void {
    if (this.closed) return;
    const readable = !this.recvPaused;
    const writable = !this.sendPaused && this.awaitingWritable;
    if (readable === this.watchingReadable && writable === this.watchingWritable) return;
    this.watchingReadable = readable;
    this.watchingWritable = writable;
    this.wrap.setWatch(readable, writable);
  }

  // ---- promises ---------------------------------------------------------------

  /** The next message; rejects on close, on timeout (ms) or when the signal aborts. */
  receive(options: { timeout?: number; signal?: AbortSignal } = {}): Promise<Message> {
    let timeout = options.timeout;
    if (timeout === Infinity) timeout = undefined;
    if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0) || timeout > MAX_TIMEOUT)) {
      return Promise.reject(
        new RangeError(`The "timeout" option must be a number of milliseconds from 0 to ${MAX_TIMEOUT}, or Infinity`),
      );
    }
    if (this.closed) return Promise.reject(new SocketClosedError('receive'));
    return new Promise<Message>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        this.off('message', onMessage);
        this.off('close', onClose);
        options.signal?.removeEventListener('abort', onAbort);
        if (timer) clearTimeout(timer);
      };
      const onMessage = (buffer: Buffer, address: string, info: MessageInfo): void => {
        cleanup();
        resolve({ buffer, address, info });
      };
      const onClose = (): void => {
        cleanup();
        reject(new SocketClosedError('receive'));
      };
      const onAbort = (): void => {
        cleanup();
        reject(options.signal?.reason ?? new Error('aborted'));
      };
      if (options.signal?.aborted) return onAbort();
      this.on('message', onMessage);
      this.on('close', onClose);
      options.signal?.addEventListener('abort', onAbort);
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(new RawSocketError(`No message within ${timeout} ms`, 'ETIMEDOUT'));
        }, timeout);
      }
    });
  }

  /** for await (const {buffer, address} of socket): ends when the socket closes. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    const waiting: Message[] = [];
    let wake: (() => void) | undefined;
    let ended = this.closed;
    let pausedByUs = false;
    const onMessage = (buffer: Buffer, address: string, info: MessageInfo): void => {
      waiting.push({ buffer, address, info });
      if (waiting.length >= ITERATOR_HIGH_WATER && !this.recvPaused) {
        pausedByUs = true;
        this.pauseRecv();
      }
      wake?.();
    };
    const onClose = (): void => {
      ended = true;
      wake?.();
    };
    const stop = (): void => {
      ended = true;
      this.off('message', onMessage);
      this.off('close', onClose);
      if (pausedByUs && !this.closed) this.resumeRecv();
    };
    this.on('message', onMessage);
    this.on('close', onClose);
    const iterator: AsyncIterableIterator<Message> = {
      next: async () => {
        while (waiting.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        const message = waiting.shift();
        if (pausedByUs && waiting.length < ITERATOR_HIGH_WATER / 2 && !this.closed) {
          pausedByUs = false;
          this.resumeRecv();
        }
        if (message) return { value: message, done: false };
        stop();
        return { value: undefined, done: true };
      },
      return: async () => {
        stop();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}

/** A network namespace's name in /run/netns: 1 to 64 of A-Z a-z 0-9 _ . -, not starting with '.'. */
export const NAMESPACE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/;

function namespaceOption(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new TypeError(`The "namespace" option must be a string, got ${typeof value}`);
  if (!NAMESPACE_NAME.test(value)) {
    throw new RangeError(`The "namespace" option must be a network namespace name in /run/netns (1 to 64 of A-Z a-z 0-9 _ . -, not starting with '.'), got ${JSON.stringify(value.slice(0, 80))}`);
  }
  return value;
}

export function createSocket(options?: SocketOptions): Socket {
  return new Socket(options ?? {});
}
