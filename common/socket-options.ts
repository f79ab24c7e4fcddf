// Every socket option the library offers, described once for the engine (how to
// read and write it) and the options panel (how to show and edit it).

export type OptionLevelName = 'SOL_SOCKET' | 'IPPROTO_IP' | 'IPPROTO_IPV6';
/** int: a 32-bit integer; bool: 0/1; timeval: milliseconds as struct timeval; text: bytes as text (device names); bytes: hex. */
export type OptionValueType = 'int' | 'bool' | 'timeval' | 'text' | 'bytes';

export interface SocketOptionDescription {
  readonly name: string;
  readonly level: OptionLevelName;
  readonly type: OptionValueType;
  readonly families: readonly ('ipv4' | 'ipv6')[];
  readonly label: string;
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  /** Largest value the kernel returns, for bytes/text options. */
  readonly maxBytes?: number;
  readonly help: string;
}

const both = ['ipv4', 'ipv6'] as const;

export const socketOptions: readonly SocketOptionDescription[] = [
  { name: 'SO_RCVBUF', level: 'SOL_SOCKET', type: 'int', families: both, label: 'Receive buffer', unit: 'bytes', min: 0, max: 2147483647, help: 'Kernel receive buffer; Linux doubles what you set. Raise it against loss under load.' },
  { name: 'SO_SNDBUF', level: 'SOL_SOCKET', type: 'int', families: both, label: 'Send buffer', unit: 'bytes', min: 0, max: 2147483647, help: 'Kernel send buffer; Linux doubles what you set.' },
  { name: 'SO_RCVTIMEO', level: 'SOL_SOCKET', type: 'timeval', families: both, label: 'Receive timeout', unit: 'ms', min: 0, max: 2147483647, help: 'Timeout of blocking receives (the library never blocks).' },
  { name: 'SO_SNDTIMEO', level: 'SOL_SOCKET', type: 'timeval', families: both, label: 'Send timeout', unit: 'ms', min: 0, max: 2147483647, help: 'Timeout of blocking sends (the library never blocks).' },
  { name: 'SO_BINDTODEVICE', level: 'SOL_SOCKET', type: 'text', families: both, label: 'Bind to device', maxBytes: 16, help: 'Send and receive only through this interface (Linux); empty to unbind.' },
  { name: 'IP_HDRINCL', level: 'IPPROTO_IP', type: 'bool', families: ['ipv4'], label: 'Header included', min: 0, max: 1, help: 'Sent buffers start with your own IPv4 header.' },
  { name: 'IP_TTL', level: 'IPPROTO_IP', type: 'int', families: ['ipv4'], label: 'Time to live', unit: 'hops', min: 1, max: 255, help: 'TTL of IPv4 packets the kernel builds.' },
  { name: 'IP_TOS', level: 'IPPROTO_IP', type: 'int', families: ['ipv4'], label: 'Type of service', min: 0, max: 255, help: 'DSCP and ECN bits of IPv4 packets the kernel builds.' },
  { name: 'IP_OPTIONS', level: 'IPPROTO_IP', type: 'bytes', families: ['ipv4'], label: 'IP options', maxBytes: 40, help: 'Raw IPv4 options added to each packet (hex, up to 40 bytes).' },
  { name: 'IPV6_HDRINCL', level: 'IPPROTO_IPV6', type: 'bool', families: ['ipv6'], label: 'Header included', min: 0, max: 1, help: 'Sent buffers start with your own IPv6 header (Linux 4.5 and later).' },
  { name: 'IPV6_UNICAST_HOPS', level: 'IPPROTO_IPV6', type: 'int', families: ['ipv6'], label: 'Hop limit', unit: 'hops', min: -1, max: 255, help: 'Hop limit of unicast IPv6 packets; -1 restores the default.' },
  { name: 'IPV6_V6ONLY', level: 'IPPROTO_IPV6', type: 'bool', families: ['ipv6'], label: 'IPv6 only', min: 0, max: 1, help: 'Refuse IPv4-mapped traffic (settable only on protocol 0 raw sockets on Linux).' },
];

export const socketOptionNames = socketOptions.map((option) => option.name) as [string, ...string[]];

export function findSocketOption(name: string): SocketOptionDescription | undefined {
  return socketOptions.find((option) => option.name === name);
}
