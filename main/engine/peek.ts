// A log row's columns read from fixed offsets, without a full decode: addresses,
// protocol, and one line of info (ICMP type, ports, TCP flags). The hot receive
// path calls nothing here; rows are built when somebody looks at them.
import { formatIpv6 } from '../../packets/address';

const icmpNames: Record<number, string> = {
  0: 'Echo reply',
  3: 'Destination unreachable',
  4: 'Source quench',
  5: 'Redirect',
  8: 'Echo request',
  9: 'Router advertisement',
  10: 'Router solicitation',
  11: 'Time exceeded',
  12: 'Parameter problem',
  13: 'Timestamp request',
  14: 'Timestamp reply',
};

const icmpv6Names: Record<number, string> = {
  1: 'Destination unreachable',
  2: 'Packet too big',
  3: 'Time exceeded',
  4: 'Parameter problem',
  128: 'Echo request',
  129: 'Echo reply',
  133: 'Router solicitation',
  134: 'Router advertisement',
  135: 'Neighbor solicitation',
  136: 'Neighbor advertisement',
  137: 'Redirect',
};

/** From the low bit up, as Wireshark's Info column lists them: "[SYN, ACK]", "[RST, ACK]". */
const tcpFlagNames = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];

export function protocolLabel(protocol: number): string {
  switch (protocol) {
    case 1:
      return 'ICMP';
    case 6:
      return 'TCP';
    case 17:
      return 'UDP';
    case 58:
      return 'ICMPv6';
    default:
      return String(protocol);
  }
}

function hex4(value: number): string {
  return '0x' + value.toString(16).padStart(4, '0');
}

/** One line about the transport header at bytes[start..end). */
export function transportInfo(protocol: number, bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (protocol === 1 || protocol === 58) {
    if (length < 4) return `${protocol === 1 ? 'ICMP' : 'ICMPv6'} cut short (${length} bytes)`;
    const type = bytes[start];
    const code = bytes[start + 1];
    const names = protocol === 1 ? icmpNames : icmpv6Names;
    const name = names[type] ?? `Type ${type}`;
    const echo = protocol === 1 ? type === 0 || type === 8 : type === 128 || type === 129;
    if (echo && length >= 8) {
      const id = (bytes[start + 4] << 8) | bytes[start + 5];
      const seq = (bytes[start + 6] << 8) | bytes[start + 7];
      return `${name} id=${hex4(id)} seq=${seq}`;
    }
    return code === 0 ? name : `${name} code=${code}`;
  }
  if (protocol === 17) {
    if (length < 8) return `UDP cut short (${length} bytes)`;
    const src = (bytes[start] << 8) | bytes[start + 1];
    const dst = (bytes[start + 2] << 8) | bytes[start + 3];
    return `${src} → ${dst} len=${length - 8}`;
  }
  if (protocol === 6) {
    if (length < 20) return `TCP cut short (${length} bytes)`;
    const src = (bytes[start] << 8) | bytes[start + 1];
    const dst = (bytes[start + 2] << 8) | bytes[start + 3];
    const seq = ((bytes[start + 4] << 24) | (bytes[start + 5] << 16) | (bytes[start + 6] << 8) | bytes[start + 7]) >>> 0;
    const flags = bytes[start + 13];
    const set: string[] = [];
    for (let i = 0; i < 8; i++) if ((flags >> i) & 1) set.push(tcpFlagNames[i]);
    const headerLength = (bytes[start + 12] >> 4) * 4;
    const data = length - headerLength;
    return `${src} → ${dst} [${set.join(', ')}] seq=${seq}${data > 0 ? ` len=${data}` : ''}`;
  }
  return `${length} bytes`;
}

export function formatIpv4At(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/** RFC 5952 text of the 16 bytes at `at` (packets/ formats it; subarray copies nothing). */
export function formatIpv6At(bytes: Uint8Array, at: number): string {
  return formatIpv6(bytes.subarray(at, at + 16));
}

/** Where the transport header starts in a packet that begins with an IP header, and its protocol. */
export function ipHeaderFacts(bytes: Uint8Array): { version: 4 | 6; headerLength: number; protocol: number } | null {
  if (bytes.length < 1) return null;
  const version = bytes[0] >> 4;
  if (version === 4 && bytes.length >= 20) {
    const headerLength = Math.max(20, (bytes[0] & 0x0f) * 4);
    return { version: 4, headerLength: Math.min(headerLength, bytes.length), protocol: bytes[9] };
  }
  if (version === 6 && bytes.length >= 40) return { version: 6, headerLength: 40, protocol: bytes[6] };
  return null;
}
