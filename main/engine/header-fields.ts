// The IP header fields of a layer stack that a socket without IP_HDRINCL / IPV6_HDRINCL
// cannot carry itself (IPv4 and IPv6 datagram sockets): the kernel writes that header, so
// the hop limit and traffic class go with each packet as ancillary data (IP_TTL/IP_TOS,
// IPV6_HOPLIMIT/IPV6_TCLASS), and any other field that differs from what the kernel will
// write is refused, naming the field, instead of being dropped without a word.
import { WorkbenchError } from '../../common/validate';
import { formatIpAddress, parseIpAddress } from '../../packets/address';

/** Per-packet fields the library sends as ancillary data (its Destination's hopLimit / trafficClass). */
export interface KernelHeaderFields {
  hopLimit: number;
  trafficClass: number;
}

export interface KernelHeaderContext {
  /** The socket's protocol: the header's protocol / next header must be it. */
  protocol: number;
  /** Where the packet goes: the header's destination must be it. */
  destination: string;
  /** The source the kernel will pick (null when unknown): a source set by hand must be it. */
  source: string | null;
}

/**
 * The ancillary fields for an IP header the kernel will rebuild, or a WorkbenchError naming
 * the first field it cannot honour. `packet` is the built header followed by the rest of
 * the packet (its length checks the payload length field).
 */
export function kernelHeaderFields(packet: Uint8Array, context: KernelHeaderContext): KernelHeaderFields {
  return packet[0] >> 4 === 6 ? ipv6Fields(packet, context) : ipv4Fields(packet, context);
}

function refuse(field: string, why: string): never {
  throw new WorkbenchError('INVALID_ARGUMENT', `packet.layers.0.${field}: ${why}`, 'packet');
}

const DATAGRAM = 'this socket sends without its own IP header (the kernel writes it), so';
const OR_RAW = 'or send from a raw socket, which sends the header as built';

function checkCommon(field: 'protocol' | 'nextHeader', value: number, src: string, dst: string, context: KernelHeaderContext): void {
  if (value !== context.protocol) refuse(field, `${DATAGRAM} it is always ${context.protocol}, the socket's protocol; got ${value}`);
  if (canonical(dst) !== canonical(context.destination)) refuse('dst', `${DATAGRAM} it is the send target ${context.destination}; got ${dst}`);
  const unspecified = src === '0.0.0.0' || src === '::';
  if (!unspecified && context.source !== null && canonical(src) !== canonical(context.source)) {
    refuse('src', `${DATAGRAM} the kernel picks the source (${context.source} for this target); got ${src}: leave it unset, ${OR_RAW}`);
  }
}

function ipv6Fields(packet: Uint8Array, context: KernelHeaderContext): KernelHeaderFields {
  const trafficClass = ((packet[0] & 0x0f) << 4) | (packet[1] >> 4);
  const flowLabel = ((packet[1] & 0x0f) << 16) | (packet[2] << 8) | packet[3];
  const payloadLength = (packet[4] << 8) | packet[5];
  if (flowLabel !== 0) refuse('flowLabel', `${DATAGRAM} it cannot carry a flow label per packet; set it to 0, ${OR_RAW}`);
  if (payloadLength !== packet.length - 40) refuse('payloadLength', `${DATAGRAM} it is always the real length ${packet.length - 40}; got ${payloadLength}`);
  checkCommon('nextHeader', packet[6], formatIpAddress(packet.subarray(8, 24)), formatIpAddress(packet.subarray(24, 40)), context);
  return { hopLimit: packet[7], trafficClass };
}

function ipv4Fields(packet: Uint8Array, context: KernelHeaderContext): KernelHeaderFields {
  const headerLength = (packet[0] & 0x0f) * 4;
  if (headerLength !== 20) refuse('options', `${DATAGRAM} it cannot carry IPv4 options; remove them, ${OR_RAW}`);
  const totalLength = (packet[2] << 8) | packet[3];
  if (totalLength !== packet.length) refuse('totalLength', `${DATAGRAM} it is always the real length ${packet.length}; got ${totalLength}`);
  const identification = (packet[4] << 8) | packet[5];
  if (identification !== 0) refuse('identification', `${DATAGRAM} the kernel numbers its datagrams; set it to 0, ${OR_RAW}`);
  const flags = packet[6] >> 5;
  const fragmentOffset = ((packet[6] & 0x1f) << 8) | packet[7];
  // DF is the kernel's to set (path MTU discovery, IP_MTU_DISCOVER); MF, the reserved bit and an offset are not possible.
  if ((flags & 0b101) !== 0) refuse('flags', `${DATAGRAM} it sends whole datagrams: only DF may be set (the kernel decides it by path MTU discovery), ${OR_RAW}`);
  if (fragmentOffset !== 0) refuse('fragmentOffset', `${DATAGRAM} it sends whole datagrams (offset 0); got ${fragmentOffset}, ${OR_RAW}`);
  checkCommon('protocol', packet[9], formatIpAddress(packet.subarray(12, 16)), formatIpAddress(packet.subarray(16, 20)), context);
  if (packet[8] === 0) refuse('ttl', `${DATAGRAM} the TTL must be 1 to 255; got 0`);
  return { hopLimit: packet[8], trafficClass: packet[1] };
}

function canonical(address: string): string {
  return formatIpAddress(parseIpAddress(address));
}
