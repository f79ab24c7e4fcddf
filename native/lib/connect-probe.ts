// TCP connect probes for unprivileged TCP traceroute (Linux): one non-blocking
// connect() per probe with the probe's TTL and the error queue on. No privilege is
// needed: a router where the TTL runs out sends Time Exceeded, which the kernel
// hands to the socket that sent the SYN; the target answers SYN-ACK or RST.
import { isIP } from 'node:net';
import { binding, type NativeConnectProbeResult } from './binding';
import { fromNative, icmpErrorFromNative, type IcmpError } from './errors';

export interface ConnectProbeOptions {
  /** IPv4 or IPv6 literal; the family follows from it. */
  address: string;
  /** 1-65535. */
  port: number;
  /** 1-255: IP_TTL / IPV6_UNICAST_HOPS of the SYN (and its retransmissions). */
  ttl: number;
  /** ms, more than 0 and at most 60 000 (rounded up to a whole ms). */
  timeout: number;
  /** Kernel receive timestamp of the ICMP error in answeredAt; default true. */
  timestamps?: boolean;
}

export type ConnectProbeOutcome = 'open' | 'refused' | 'icmp-error' | 'timeout';

export interface ConnectProbeResult {
  /**
   * 'open': the target answered SYN-ACK (the connection is then reset, never used);
   * 'refused': the target answered RST; 'icmp-error': an ICMP error came back (Time
   * Exceeded from a router, or an unreachable), see icmpError; 'timeout': nothing.
   */
  outcome: ConnectProbeOutcome;
  icmpError?: IcmpError;
  /** Realtime ns (since the epoch) just before connect(). */
  sentAt: bigint;
  /** Kernel receive time of the ICMP error (with timestamps), else realtime ns when the result was seen; none for 'timeout'. */
  answeredAt?: bigint;
  /** The probe's source port. */
  localPort: number;
}

const OUTCOMES: readonly ConnectProbeOutcome[] = ['open', 'refused', 'icmp-error', 'timeout'];
const MAX_TIMEOUT_MS = 60_000;

function checkOptions(options: ConnectProbeOptions): { address: string; port: number; ttl: number; timeout: number; timestamps: boolean } {
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  const { address, port, ttl, timeout } = options;
  const timestamps = options.timestamps ?? true;
  if (typeof address !== 'string') throw new TypeError(`The "address" option must be a string, got ${typeof address}`);
  if (isIP(address) === 0) throw new RangeError(`The "address" option must be an IPv4 or IPv6 address, got '${address}'`);
  if (typeof port !== 'number') throw new TypeError(`The "port" option must be a number, got ${typeof port}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`The "port" option must be an integer from 1 to 65535, got ${port}`);
  if (typeof ttl !== 'number') throw new TypeError(`The "ttl" option must be a number, got ${typeof ttl}`);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw new RangeError(`The "ttl" option must be an integer from 1 to 255, got ${ttl}`);
  if (typeof timeout !== 'number') throw new TypeError(`The "timeout" option must be a number, got ${typeof timeout}`);
  if (!(timeout > 0) || timeout > MAX_TIMEOUT_MS) {
    throw new RangeError(`The "timeout" option must be a number of milliseconds above 0 and at most ${MAX_TIMEOUT_MS}, got ${timeout}`);
  }
  if (typeof timestamps !== 'boolean') throw new TypeError(`The "timestamps" option must be a boolean, got ${typeof timestamps}`);
  return { address, port, ttl, timeout: Math.ceil(timeout), timestamps };
}

/**
 * Probes address:port with a TCP connect() whose SYN has the given TTL (Linux, no
 * privilege). Resolves once with the outcome; rejects with a TypeError/RangeError for
 * bad options, or a RawSocketError when the connect fails locally (e.g. ENETUNREACH:
 * no route). The probe's socket is always closed when it settles. Each probe has a
 * socket of its own, so probes may run concurrently.
 */
export function probeConnect(options: ConnectProbeOptions): Promise<ConnectProbeResult> {
  return new Promise((resolve, reject) => {
    const checked = checkOptions(options);
    try {
      binding.connectProbe(checked, (error, result) => {
        if (error) {
          reject(fromNative(error));
          return;
        }
        const [outcome, sentAt, answeredAt, localPort, icmpError] = result as NativeConnectProbeResult;
        const value: ConnectProbeResult = { outcome: OUTCOMES[outcome], sentAt, localPort };
        if (answeredAt !== undefined) value.answeredAt = answeredAt;
        if (icmpError !== undefined) value.icmpError = icmpErrorFromNative(icmpError);
        resolve(value);
      });
    } catch (error) {
      reject(fromNative(error));
    }
  });
}
