// The Internet checksum (RFC 1071) and the pseudo headers that TCP, UDP and ICMPv6 include.

import { parseIpAddress } from './address';

/**
 * One's-complement checksum over several chunks treated as one buffer: a chunk of odd
 * length continues its last 16-bit word into the next chunk, so splitting never changes the result.
 */
export function internetChecksum(...chunks: readonly Uint8Array[]): number {
  let sum = 0;
  let highByte = true;
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      sum += highByte ? chunk[i] << 8 : chunk[i];
      highByte = !highByte;
    }
    // Fold now and then so the sum never leaves the safe integer range.
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Source and destination of the enclosing IP header, raw (4 or 16 bytes each). */
export interface IpEndpoints {
  readonly version: 4 | 6;
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
}

/** The pseudo header of RFC 768/793 (IPv4) or RFC 8200 section 8.1 (IPv6). */
export function pseudoHeader(ip: IpEndpoints, protocol: number, upperLayerLength: number): Uint8Array {
  if (ip.version === 4) {
    const header = new Uint8Array(12);
    header.set(ip.source, 0);
    header.set(ip.destination, 4);
    header[9] = protocol;
    header[10] = (upperLayerLength >> 8) & 0xff;
    header[11] = upperLayerLength & 0xff;
    return header;
  }
  const header = new Uint8Array(40);
  header.set(ip.source, 0);
  header.set(ip.destination, 16);
  new DataView(header.buffer).setUint32(32, upperLayerLength);
  header[39] = protocol;
  return header;
}

/** What a layer's checksum must be, or undefined when it needs a pseudo header and no addresses are known. */
export function expectedChecksum(
  rule: { readonly covers: 'header' | 'packet'; readonly pseudoHeaderProtocol?: number; readonly zeroMeansNone?: boolean },
  headerWithZeroChecksum: Uint8Array,
  payload: Uint8Array,
  ip: IpEndpoints | undefined,
): number | undefined {
  const chunks: Uint8Array[] = [];
  if (rule.pseudoHeaderProtocol !== undefined) {
    if (!ip) return undefined;
    chunks.push(pseudoHeader(ip, rule.pseudoHeaderProtocol, headerWithZeroChecksum.length + payload.length));
  }
  chunks.push(headerWithZeroChecksum);
  if (rule.covers === 'packet') chunks.push(payload);
  const checksum = internetChecksum(...chunks);
  // RFC 768: a computed 0 is sent as all ones, since 0 means "no checksum".
  return rule.zeroMeansNone && checksum === 0 ? 0xffff : checksum;
}

/** Pseudo-header endpoints from address text, when both are given. Throws on bad or mixed-family addresses. */
export function endpointsFromOptions(options: { readonly source?: string; readonly destination?: string }): IpEndpoints | undefined {
  if (options.source === undefined || options.destination === undefined) return undefined;
  const source = parseIpAddress(options.source);
  const destination = parseIpAddress(options.destination);
  if (source.length !== destination.length) throw new Error('source and destination must be of the same IP version');
  return { version: source.length === 4 ? 4 : 6, source, destination };
}
