// Packet sockets: whole-packet capture (Linux AF_PACKET, SOCK_DGRAM). Every IP packet an
// interface (or every interface) sends or receives, from its IP header on, with the
// direction the kernel saw: what tcpdump reads, without the link-layer header.
import { Socket } from './socket';

export type PacketProtocol = 'ip' | 'ipv4' | 'ipv6';

export interface PacketSocketOptions {
  /** The interface's name ('lo', 'eth0'); every interface of the network namespace when absent. */
  interface?: string;
  /** 'ip' (default): IPv4 and IPv6; 'ipv4' or 'ipv6': only that one. */
  protocol?: PacketProtocol;
  /** Kernel receive timestamps (SO_TIMESTAMPNS) in info.timestamp. */
  timestamps?: boolean;
  /** Bytes read per packet (longer ones are cut and marked truncated); default 65536. */
  bufferSize?: number;
  /** A capture filter in tcpdump's syntax (see Socket.setFilter). */
  filter?: string | null;
  /** Capture inside this network namespace (/run/netns/NAME, see SocketOptions.namespace); `interface` is then its interface. */
  namespace?: string;
}

const ETHER_TYPES: Record<PacketProtocol, number> = { ip: 0, ipv4: 0x0800, ipv6: 0x86dd };
const OPTIONS = new Set(['interface', 'protocol', 'timestamps', 'bufferSize', 'filter', 'namespace']);

/**
 * Opens a packet socket (needs CAP_NET_RAW): a Socket with mode 'packet' that only
 * receives. 'message' (buffer, address, info): buffer starts at the IP header, address is
 * the IP source, info has direction, packetType, interfaceIndex, interface, protocol
 * (EtherType), drops and, with timestamps, timestamp. send() fails with ERR_SOCKET_CAPTURE_ONLY.
 */
export function createPacketSocket(options: PacketSocketOptions = {}): Socket<'packet'> {
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  for (const key of Object.keys(options)) {
    if (!OPTIONS.has(key)) throw new TypeError(`Unknown packet socket option "${key}" (known: ${[...OPTIONS].join(', ')})`);
  }
  const name = options.interface;
  if (name !== undefined) {
    if (typeof name !== 'string') throw new TypeError(`The "interface" option must be a string, got ${typeof name}`);
    // IFNAMSIZ is 16 with its NUL; '/' and NUL never appear in a Linux interface name.
    if (name.length === 0 || Buffer.byteLength(name) > 15 || /[\0/]/.test(name)) {
      throw new RangeError(`The "interface" option must be an interface name of 1 to 15 bytes, got '${name}'`);
    }
  }
  const protocol = options.protocol ?? 'ip';
  if (typeof protocol !== 'string' || !Object.hasOwn(ETHER_TYPES, protocol)) {
    throw new RangeError(`The "protocol" option must be 'ip', 'ipv4' or 'ipv6', got ${String(protocol)}`);
  }
  return new Socket<'packet'>(
    { bufferSize: options.bufferSize ?? 65536, timestamps: options.timestamps, filter: options.filter, namespace: options.namespace },
    { etherType: ETHER_TYPES[protocol], interface: name },
  );
}
