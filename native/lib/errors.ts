// Typed errors. Every system error carries code ('EPERM'), errno (positive, as in
// os.constants.errno) and syscall, and says what to do where there is a remedy.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { NativeIcmpError } from './binding';

export class RawSocketError extends Error {
  readonly code: string;
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  /** When a refused raw ICMP socket fell back to a datagram socket that was refused too: that errno. */
  datagramErrno?: number;

  constructor(message: string, code: string, errno?: number, syscall?: string) {
    super(message);
    this.name = 'RawSocketError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** The operation needs an open socket. code: 'ERR_SOCKET_CLOSED'. */
export class SocketClosedError extends RawSocketError {
  constructor(what: string) {
    super(`Cannot ${what}: the socket is closed`, 'ERR_SOCKET_CLOSED');
    this.name = 'SocketClosedError';
  }
}

const errnoNames = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value, name] as [number, string]),
);

export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** net.ipv4.ping_group_range as [low, high], or undefined where the OS has none. */
export function readPingGroupRange(): [number, number] | undefined {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().split(/\s+/).map(Number);
    return [low, high];
  } catch {
    return undefined;
  }
}

/** Whether this process's group is inside net.ipv4.ping_group_range. */
function groupMayPing(range: [number, number] | undefined): boolean {
  if (!range || typeof process.getgid !== 'function') return false;
  const groups = [process.getgid(), ...(process.getgroups?.() ?? [])];
  return groups.some((gid) => gid >= range[0] && gid <= range[1]);
}

export function permissionRemedy(icmp: boolean): string {
  const raw =
    'Raw sockets need the CAP_NET_RAW capability: run as root, or grant it to Node with ' +
    '`sudo setcap cap_net_raw+ep "$(readlink -f "$(which node)")"`.';
  if (!icmp) {
    return `${raw} Without it, only ICMP and ICMPv6 echo are possible, through an unprivileged datagram socket (mode 'datagram').`;
  }
  if (process.platform !== 'linux') return raw;
  const range = readPingGroupRange();
  if (groupMayPing(range)) {
    return `${raw} Your group may already open unprivileged ICMP datagram ("ping") sockets: use mode 'auto' or 'datagram'.`;
  }
  const now = range ? ` (now '${range[0]} ${range[1]}')` : '';
  return (
    `${raw} Or use an unprivileged ICMP datagram ("ping") socket: allow your group in net.ipv4.ping_group_range${now}, ` +
    `e.g. \`sudo sysctl -w net.ipv4.ping_group_range='0 2147483647'\`.`
  );
}

interface NativeSystemError extends Error {
  errno?: number;
  code?: string;
  syscall?: string;
}

/**
 * Turns an error thrown by the addon into a typed error. TypeError and RangeError
 * (bad arguments) pass through unchanged.
 */
export function fromNative(error: unknown, context: { icmp?: boolean; protocol?: number; descriptor?: number; packet?: boolean } = {}): Error {
  if (!(error instanceof Error) || error instanceof TypeError || error instanceof RangeError) return error as Error;
  const native = error as NativeSystemError;
  if (native.code === 'ERR_SOCKET_CLOSED') {
    const closed = new SocketClosedError(native.message.replace(/^Cannot (.*): the socket is closed$/, '$1'));
    return closed;
  }
  if (typeof native.errno !== 'number') return error;
  const code = native.code ?? errnoName(native.errno);
  let message = native.message;
  if (context.descriptor !== undefined) {
    // Adoption failed: the descriptor was not closed and is still the caller's.
    const what = code === 'ENOTSOCK' ? 'it is not a socket' : code === 'EBADF' ? 'it is not an open descriptor' : native.message;
    message = `Cannot adopt descriptor ${context.descriptor}: ${what} (${native.message}); it was not closed`;
  } else if (native.syscall === 'setns' && code === 'EPERM') {
    message =
      `${native.message}. Run as root (or with CAP_SYS_ADMIN), or have the socket helper open it: ` +
      'SocketHelperClient.openSocket with `namespace`, the helper started with --elevated --namespaces.';
  } else if (context.packet && native.syscall === 'socket' && (code === 'EPERM' || code === 'EACCES')) {
    message =
      `${native.message}. Packet sockets (capture) need the CAP_NET_RAW capability: run as root, or grant it to Node with ` +
      '`sudo setcap cap_net_raw+ep "$(readlink -f "$(which node)")"`. There is no unprivileged fallback.';
  } else if (native.syscall === 'socket' && (code === 'EPERM' || code === 'EACCES')) {
    message = `${native.message}. ${permissionRemedy(context.icmp ?? false)}`;
  } else if (native.syscall === 'socket' && code === 'EPROTONOSUPPORT' && context.protocol === 0) {
    message =
      `${native.message}. This OS has no raw socket for protocol 0 (Protocol.None): choose the protocol to ` +
      'send and receive (e.g. Protocol.ICMP), or 255 (IPPROTO_RAW) to send packets that carry their own IP header.';
  }
  const typed = new RawSocketError(message, code, native.errno, native.syscall);
  const datagramErrno = (native as NativeSystemError & { datagramErrno?: number }).datagramErrno;
  if (typeof datagramErrno === 'number') typed.datagramErrno = datagramErrno;
  return typed;
}

/** host, host:port or [v6 host]:port. */
export function formatDestination(address: string, port = 0): string {
  if (port === 0) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** A failed send, from the -errno the addon reports for one request. */
export function sendError(errno: number, address: string, port = 0): RawSocketError {
  const code = errnoName(errno);
  const hint = code === 'EMSGSIZE' ? ' (the packet is larger than the path allows)' : '';
  return new RawSocketError(`send to ${formatDestination(address, port)} failed: ${code}${hint}`, code, errno, 'sendmsg');
}

/** Who reported an error-queue entry (sock_extended_err's ee_origin). */
export type IcmpErrorOrigin = 'icmp' | 'icmp6' | 'local' | 'none' | 'other';

/**
 * An ICMP error (or a local error) about a packet this socket sent, read from the
 * socket's error queue (Linux: IP_RECVERR / IPV6_RECVERR, no privilege needed).
 * Sockets with `receiveErrors: true` emit one 'icmpError' per entry; probeConnect
 * returns one for its 'icmp-error' outcome.
 */
export interface IcmpError {
  /** The errno the kernel maps it to, by name: 'EHOSTUNREACH' (Time Exceeded), 'ECONNREFUSED' (port unreachable), 'EMSGSIZE', … */
  code: string;
  errno: number;
  origin: IcmpErrorOrigin;
  /** ICMP or ICMPv6 type (0 for local errors). */
  icmpType: number;
  icmpCode: number;
  /** The next-hop MTU for Fragmentation Needed / Packet Too Big, else 0. */
  info: number;
  /** Who sent the ICMP error (SO_EE_OFFENDER); null when none (a local error). */
  offender: string | null;
  /** The original destination of the packet the error is about. */
  address: string;
  /** Its destination port (0 where there is none: raw and ICMP sockets). */
  port: number;
  /**
   * What the kernel returned of the original packet, in memory of its own: UDP: the UDP
   * payload; ping sockets: the ICMP echo header and data (with the kernel's identifier);
   * raw sockets: the sent packet's payload after its IP header; TCP probes: the TCP header.
   */
  data: Buffer;
  /** Kernel receive time of the ICMP error, ns since the epoch, with timestamps on. */
  timestamp?: bigint;
}

const ORIGINS: Record<number, IcmpErrorOrigin> = { 0: 'none', 1: 'local', 2: 'icmp', 3: 'icmp6' };

export function icmpErrorFromNative(entry: NativeIcmpError): IcmpError {
  const [errno, origin, icmpType, icmpCode, info, offender, address, port, data, timestamp] = entry;
  const error: IcmpError = {
    code: errnoName(errno),
    errno,
    origin: ORIGINS[origin] ?? 'other',
    icmpType,
    icmpCode,
    info,
    offender,
    address,
    port,
    data,
  };
  if (timestamp !== undefined) error.timestamp = timestamp;
  return error;
}
