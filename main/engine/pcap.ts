// The log as a capture file and back. pcapng with LINKTYPE_RAW wants every packet
// to start with its IP header; packets logged without one (IPv6 raw sockets, ICMP
// datagram sockets, sends without IP_HDRINCL) get a header synthesized from what the
// kernel said about them: the addresses (IPV6_PKTINFO's local address), the TTL /
// hop limit they were sent with or arrived with, and a comment saying so.
import { internetChecksum } from '../../packets/checksum';
import { parseIpAddress } from '../../packets/address';

/** TTL / hop limit written when the real one is not known (the comment says so). */
export const UNKNOWN_HOP_LIMIT = 64;

/** An IPv4 or IPv6 header for a packet logged without one. Unknown addresses are 0.0.0.0 / ::. */
export function synthesizeIpHeader(
  family: 4 | 6,
  protocol: number,
  source: string,
  destination: string,
  payloadLength: number,
  hopLimit: number = UNKNOWN_HOP_LIMIT,
): Uint8Array {
  const address = (text: string, size: 4 | 16): Uint8Array => {
    if (!text) return new Uint8Array(size);
    try {
      const bytes = parseIpAddress(text);
      return bytes.length === size ? bytes : new Uint8Array(size);
    } catch {
      return new Uint8Array(size);
    }
  };
  if (family === 4) {
    const header = new Uint8Array(20);
    const total = Math.min(0xffff, 20 + payloadLength);
    header[0] = 0x45;
    header[2] = total >> 8;
    header[3] = total & 0xff;
    header[8] = hopLimit;
    header[9] = protocol;
    header.set(address(source, 4), 12);
    header.set(address(destination, 4), 16);
    const checksum = internetChecksum(header);
    header[10] = checksum >> 8;
    header[11] = checksum & 0xff;
    return header;
  }
  const header = new Uint8Array(40);
  header[0] = 0x60;
  const length = Math.min(0xffff, payloadLength);
  header[4] = length >> 8;
  header[5] = length & 0xff;
  header[6] = protocol;
  header[7] = hopLimit;
  header.set(address(source, 16), 8);
  header.set(address(destination, 16), 24);
  return header;
}

export function concatBytes(first: Uint8Array, second: Uint8Array): Uint8Array {
  const out = new Uint8Array(first.length + second.length);
  out.set(first, 0);
  out.set(second, first.length);
  return out;
}

/** ms since the epoch (sub-ms) to ns, at µs precision. */
export function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1000)) * 1000n;
}
