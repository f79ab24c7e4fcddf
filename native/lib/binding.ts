// Loads the compiled addon and describes it. The binding is internal: lib/socket.ts
// and lib/checksum.ts are its only users. They check arguments first for clear
// messages; the addon checks them again and never trusts its caller.
import * as path from 'node:path';

export interface SendRequestFields {
  buffer: Uint8Array;
  offset: number;
  length: number;
  address: string;
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
];

export interface NativeHandlers {
  onMessages(batch: ReceivedBatch): void;
  onWritable(): void;
  onError(error: Error): void;
  onClose(): void;
}

export interface NativeSocketOptions {
  bufferSize: number;
  /** 0 auto (raw, then ICMP datagram when refused), 1 raw only, 2 datagram only. */
  mode: 0 | 1 | 2;
  timestamps: boolean;
  /** IP_RECVTTL / IPV6_RECVHOPLIMIT: each message's arrival TTL or hop limit. */
  receiveTtl: boolean;
}

export interface NativeRawSocket {
  sendBatch(requests: readonly SendRequestFields[], start: number, count: number, results: Int32Array, sentAt?: BigInt64Array): number;
  /** sendBatch on the thread pool; one batch at a time. */
  sendBatchAsync(
    requests: readonly SendRequestFields[],
    start: number,
    count: number,
    results: Int32Array,
    done: (processed: number, sentAt: bigint) => void,
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
}

export interface NativeBinding {
  RawSocket: new (family: number, protocol: number, options: NativeSocketOptions, handlers: NativeHandlers) => NativeRawSocket;
  checksumSum(buffer: Uint8Array, offset: number, length: number): number;
  SocketLevel: Record<string, number>;
  SocketOption: Record<string, number>;
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

function candidates(): string[] {
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
