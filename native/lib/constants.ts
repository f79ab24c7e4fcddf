// raw-socket's constants, unchanged: AddressFamily and Protocol are the library's
// own numbers; SocketLevel and SocketOption come from this OS's headers.
import { binding } from './binding';

export const AddressFamily = Object.freeze({ IPv4: 1, IPv6: 2 } as const);
export type AddressFamilyValue = (typeof AddressFamily)[keyof typeof AddressFamily];

export const Protocol = Object.freeze({ None: 0, ICMP: 1, TCP: 6, UDP: 17, ICMPv6: 58 } as const);

export interface SocketLevels {
  readonly SOL_SOCKET: number;
  readonly IPPROTO_IP: number;
  readonly IPPROTO_IPV6: number;
}

export interface SocketOptions {
  readonly SO_RCVBUF: number;
  readonly SO_RCVTIMEO: number;
  readonly SO_SNDBUF: number;
  readonly SO_SNDTIMEO: number;
  readonly IP_HDRINCL: number;
  readonly IP_OPTIONS: number;
  readonly IP_TOS: number;
  readonly IP_TTL: number;
  /** No OS defines it: a synonym of IPV6_UNICAST_HOPS, as in raw-socket. */
  readonly IPV6_TTL: number;
  readonly IPV6_UNICAST_HOPS: number;
  readonly IPV6_V6ONLY: number;
  /** Linux only. */
  readonly SO_BINDTODEVICE?: number;
  /** Windows and Linux: an IPv6 raw socket's packets carry their own IPv6 header (set it to 1). */
  readonly IPV6_HDRINCL?: number;
}

export const SocketLevel: SocketLevels = Object.freeze(binding.SocketLevel as unknown as SocketLevels);
export const SocketOption: SocketOptions = Object.freeze(binding.SocketOption as unknown as SocketOptions);
