// What a 'message' listener learns besides the bytes and the source: MessageInfo, built
// from the per-datagram arrays of a received batch. One object shape per kind of socket
// (plain, with packet info, packet socket), so listeners stay monomorphic.
import type { ReceivedBatch } from './binding';

/** From the kernel's sll_pkttype: 'outgoing' is a packet this host sent; every other type came in. */
export type PacketType = 'host' | 'broadcast' | 'multicast' | 'otherhost' | 'outgoing';
export type PacketDirection = 'inbound' | 'outbound';

export interface MessageInfo {
  /** Kernel receive time, ns since the epoch, when the socket has timestamps on. */
  timestamp?: bigint;
  /** The datagram was longer than bufferSize and was cut. */
  truncated: boolean;
  /**
   * Packets the kernel had dropped for this socket (its receive buffer was full) when this
   * one was queued, counted since the socket opened (SO_RXQ_OVFL); 0 when none.
   */
  drops: number;
  /** Arrival TTL / hop limit, when the socket has receiveTtl on. */
  ttl?: number;
  /** Source port, on UDP datagram sockets. */
  port?: number;
  /** With packetInfo (IP sockets): the address the datagram was sent to (IP_PKTINFO / IPV6_PKTINFO). */
  localAddress?: string;
  /** The interface it arrived on (IP sockets with packetInfo, and packet sockets). */
  interfaceIndex?: number;
  /** With packetInfo: its TTL (IPv4) or hop limit (IPv6) on arrival. */
  hopLimit?: number;
  /** With packetInfo: its TOS byte (IPv4) or traffic class (IPv6), ECN bits included. */
  trafficClass?: number;
  /** Packet sockets: 'outbound' for what this host sent (PACKET_OUTGOING), else 'inbound'. */
  direction?: PacketDirection;
  /** Packet sockets: the kernel's packet type. */
  packetType?: PacketType;
  /** Packet sockets: the interface's name ('' when it has gone). */
  interface?: string;
  /** Packet sockets: the EtherType, 0x0800 (IPv4) or 0x86dd (IPv6). */
  protocol?: number;
}

const PACKET_TYPES: readonly PacketType[] = ['host', 'broadcast', 'multicast', 'otherhost', 'outgoing'];
const PACKET_OUTGOING = 4;

/** Messages without a timestamp, truncation or drops share one frozen info object. */
export const PLAIN_INFO: MessageInfo = Object.freeze({ timestamp: undefined, truncated: false, drops: 0 });

const orUndefined = (value: number): number | undefined => (value < 0 ? undefined : value);

/** The info of message i of a batch; cut: it was truncated. */
export function messageInfo(batch: ReceivedBatch, i: number, cut: boolean): MessageInfo {
  const timestamp = batch[2]?.[i];
  const drops = batch[6]?.[i] ?? 0;
  const link = batch[8];
  if (link !== undefined) {
    const fields = link[1];
    const type = fields[3 * i];
    return {
      timestamp,
      truncated: cut,
      drops,
      direction: type === PACKET_OUTGOING ? 'outbound' : 'inbound',
      packetType: PACKET_TYPES[type] ?? 'host',
      interfaceIndex: fields[3 * i + 1],
      interface: link[0][i],
      protocol: fields[3 * i + 2],
    };
  }
  const ttl = batch[4]?.[i];
  const ports = batch[5];
  const ip = batch[7];
  if (ip !== undefined) {
    const fields = ip[1];
    return {
      timestamp,
      truncated: cut,
      drops,
      ttl,
      port: ports?.[i],
      localAddress: ip[0][i],
      interfaceIndex: orUndefined(fields[3 * i]),
      hopLimit: orUndefined(fields[3 * i + 1]),
      trafficClass: orUndefined(fields[3 * i + 2]),
    };
  }
  if (ports !== undefined) return { timestamp, truncated: cut, drops, ttl, port: ports[i] };
  if (timestamp === undefined && ttl === undefined && !cut && drops === 0) return PLAIN_INFO;
  return { timestamp, truncated: cut, drops, ttl };
}
