// Loads the compiled addon and describes it. The binding is internal: lib/socket.ts
// and lib/checksum.ts are its only users. They check arguments first for clear
// messages; the addon checks them again and never trusts its caller.
import * as path from 'node:path';

export interface SendRequestFields {
  buffer: Uint8Array;
  offset: number;
  length: number;
  address: string;
  /** Destination port: 1-65535 on a UDP datagram socket, 0 on any other. */
  port: number;
  /** This packet's TTL / hop limit (IP_TTL / IPV6_HOPLIMIT control message); -1: the socket's. */
  hopLimit: number;
  /** This packet's TOS / traffic class (IP_TOS / IPV6_TCLASS control message); -1: the socket's. */
  trafficClass: number;
}

/**
 * One wake-up's datagrams: a Buffer each, their source addresses, kernel
 * timestamps (ns, when asked for), the indices of those cut short by bufferSize,
 * and their arrival TTL / hop limit (when asked for).
 */
export type ReceivedBatch = [
  buffers: Buffer[],
  sources: string[],
  timestamps: (bigint | undefined)[] | undefined,
  truncated: number[] | undefined,
  ttls: (number | undefined)[] | undefined,
  /** Source ports, on UDP datagram sockets. */
  ports: number[] | undefined,
  /** SO_RXQ_OVFL: packets the socket had dropped when each was queued; undefined when all say 0. */
  drops: number[] | undefined,
  /** With packetInfo: local (destination) addresses, and [interface index, hop limit, traffic class] per message (-1: none). */
  ipInfo: [localAddresses: (string | undefined)[], fields: Int32Array] | undefined,
  /** Packet sockets: interface names, and [sll_pkttype, interface index, EtherType] per message. */
  linkInfo: [interfaces: string[], fields: Int32Array] | undefined,
];

/**
 * One error-queue entry (recvmsg MSG_ERRQUEUE): sock_extended_err's fields, the
 * offender (SO_EE_OFFENDER) or null, the original destination and port, the bytes of
 * the original packet the kernel returned, and the ICMP error's kernel receive time.
 */
export type NativeIcmpError = [
  errno: number,
  origin: number,
  icmpType: number,
  icmpCode: number,
  info: number,
  offender: string | null,
  address: string,
  port: number,
  data: Buffer,
  timestamp: bigint | undefined,
];

export interface NativeHandlers {
  onMessages(batch: ReceivedBatch): void;
  onWritable(): void;
  onError(error: Error): void;
  onClose(): void;
  /** One wake-up's error-queue entries (sockets with receiveErrors). */
  onIcmpErrors(errors: NativeIcmpError[]): void;
  /** Transmit timestamps (sockets with txTimestamps): [sequence, ns since the epoch, sequence, ns, …]. */
  onSent?(stamps: (number | bigint)[]): void;
}

export interface NativeSocketOptions {
  bufferSize: number;
  /** 0 auto (raw, then ICMP datagram when refused), 1 raw only, 2 datagram only. */
  mode: 0 | 1 | 2;
  timestamps: boolean;
  /** IP_RECVTTL / IPV6_RECVHOPLIMIT: each message's arrival TTL or hop limit. */
  receiveTtl: boolean;
  /** IP_RECVERR / IPV6_RECVERR (+ SO_SELECT_ERR_QUEUE): ICMP errors through onIcmpErrors. */
  receiveErrors: boolean;
  /** Adopt this open socket instead of opening one (family 0 / protocol -1: take the descriptor's). */
  descriptor: number | undefined;
  /** IP_PKTINFO, IP_RECVTTL, IP_RECVTOS (IPv6: IPV6_RECVPKTINFO, _RECVHOPLIMIT, _RECVTCLASS): ReceivedBatch ipInfo. Absent: on unless an IPv4 raw socket. */
  packetInfo?: boolean;
  /** SO_TIMESTAMPING software transmit timestamps, numbered per send (OPT_ID): handlers.onSent. */
  txTimestamps?: boolean;
  /** Packet sockets (family 3): the interface's name; every interface when absent. */
  interface?: string;
  /** Open the socket inside this network namespace (/run/netns/NAME; setns around socket()). */
  namespace?: string;
}

export interface NativeRawSocket {
  /** headerFields: some request sets hopLimit or trafficClass (only then are they read). */
  sendBatch(
    requests: readonly SendRequestFields[],
    start: number,
    count: number,
    results: Int32Array,
    sentAt?: BigInt64Array,
    headerFields?: boolean,
  ): number;
  /** sendBatch on the thread pool; one batch at a time. */
  sendBatchAsync(
    requests: readonly SendRequestFields[],
    start: number,
    count: number,
    results: Int32Array,
    done: (processed: number, sentAt: bigint) => void,
    headerFields?: boolean,
  ): void;
  /** Reads what is ready now, without waiting for the poll watcher. */
  receiveNow(): ReceivedBatch | undefined;
  setWatch(readable: boolean, writable: boolean): void;
  setChecksum(generate: boolean, offset: number): void;
  setIcmpFilter(types: readonly number[] | null): void;
  getOption(level: number, option: number, buffer: Uint8Array, length: number): number;
  setOption(level: number, option: number, buffer: Uint8Array, length: number): void;
  setOption(level: number, option: number, value: number): void;
  close(): void;
  setRef(ref: boolean): void;
  isDatagram(): boolean;
  /** [addressFamily 1|2 (3: packet socket), protocol (packet: EtherType, 0 for both), datagram]. */
  describe(): [number, number, boolean];
  /** The descriptor number, -1 once closed. */
  descriptor(): number;
  /** Reads the error queue now (receiveErrors / txTimestamps sockets): [ICMP errors, transmit timestamps]; undefined when it is empty. */
  drainErrors(): [NativeIcmpError[] | undefined, (number | bigint)[] | undefined] | undefined;
  /** Packets the kernel has dropped for this socket so far (SO_MEMINFO); -1 when unknown or closed. */
  drops(): number;
}

export interface NativeConnectProbeOptions {
  address: string;
  port: number;
  ttl: number;
  /** ms, integer 1-60000. */
  timeout: number;
  timestamps: boolean;
}

/** [outcome 0 open|1 refused|2 icmp-error|3 timeout, sentAt, answeredAt, localPort, icmpError]. */
export type NativeConnectProbeResult = [
  outcome: 0 | 1 | 2 | 3,
  sentAt: bigint,
  answeredAt: bigint | undefined,
  localPort: number,
  icmpError: NativeIcmpError | undefined,
];

export interface NativeBinding {
  RawSocket: new (family: number, protocol: number, options: NativeSocketOptions, handlers: NativeHandlers) => NativeRawSocket;
  checksumSum(buffer: Uint8Array, offset: number, length: number): number;
  SocketLevel: Record<string, number>;
  SocketOption: Record<string, number>;
  /** Starts a TCP connect probe; done is called once, on a later turn of the loop. */
  connectProbe(options: NativeConnectProbeOptions, done: (error: Error | null, result?: NativeConnectProbeResult) => void): void;
  /** AF_UNIX SOCK_SEQPACKET pair, both close-on-exec (the socket helper's control channel). */
  socketPair(): [number, number];
  /** Owns fd (an AF_UNIX SOCK_SEQPACKET socket) once constructed; see src/descriptor_channel.h. */
  DescriptorChannel: new (fd: number, handlers: NativeChannelHandlers) => NativeDescriptorChannel;
}

export interface NativeChannelHandlers {
  /** descriptor: -1 when none (the receiver owns it); problem: 0, EMSGSIZE (text cut at 4096 bytes) or EPROTO (more than one descriptor: the first is passed, the rest closed). */
  onMessage(text: Buffer, descriptor: number, problem: number): void;
  /** Once: 0 at end of channel or after close(), else the errno that ended it. */
  onClose(errno: number): void;
}

export interface NativeDescriptorChannel {
  /** Sends one message; throws a system error (EPIPE once the peer is gone). */
  send(buffer: Uint8Array): number;
  close(): void;
  ref(): void;
  unref(): void;
}

/** Loads this addon file instead of build/Release's (an instrumented build: native/asan/). */
export const ADDON_PATH_ENV = 'PACKET_WORKBENCH_ADDON';

function candidates(): string[] {
  const override = process.env[ADDON_PATH_ENV];
  if (override !== undefined && override !== '') {
    if (!path.isAbsolute(override) || !override.endsWith('.node')) {
      throw new Error(`${ADDON_PATH_ENV} must be an absolute path to a .node file, not ${JSON.stringify(override.slice(0, 200))}`);
    }
    return [override];
  }
  // Inside an Electron asar archive the addon is unpacked beside it.
  const root = path.join(__dirname, '..').replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
  return ['Release', 'Debug'].map((kind) => path.join(root, 'build', kind, 'raw_socket.node'));
}

function load(): NativeBinding {
  const failures: string[] = [];
  for (const file of candidates()) {
    try {
      return require(file) as NativeBinding;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      failures.push(`${file}: ${code === 'MODULE_NOT_FOUND' ? 'not built' : (error as Error).message}`);
    }
  }
  throw new Error(
    `The raw socket addon could not be loaded (${failures.join('; ')}). ` +
      'Build it with `npm run build:native` (needs python3, make and a C++ compiler).',
  );
}

export const binding: NativeBinding = load();
