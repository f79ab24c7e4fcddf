// Interface addresses of lab topologies: parsing "198.18.1.1/24" and "fd42:0:0:1::1/64",
// the subnet they lie on, and the only ranges a lab may use: 198.18.0.0/15
// (benchmarking, RFC 2544) and fd42::/16 (unique local). Pure functions.
import { isIPv4, isIPv6 } from 'node:net';
import { formatIpAddress, parseIpAddress } from '../../packets/address';

export type AddressFamily = 'ipv4' | 'ipv6';

export const LAB_RANGES: Record<AddressFamily, string> = { ipv4: '198.18.0.0/15', ipv6: 'fd42::/16' };

export interface InterfaceAddress {
  family: AddressFamily;
  /** The address as written, without the prefix length. */
  address: string;
  prefixLength: number;
  /** The subnet in canonical CIDR form, e.g. "198.18.1.0/24", "fd42:0:0:1::/64". */
  subnet: string;
  /** The address as a number, for comparisons. */
  value: bigint;
}

const BITS: Record<AddressFamily, number> = { ipv4: 32, ipv6: 128 };

/** The address as a number (packets/address parses it). */
function valueOf(address: string): bigint {
  return parseIpAddress(address).reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
}

/** The number as an address, in packets/address's canonical form (RFC 5952 for IPv6). */
function formatValue(family: AddressFamily, value: bigint): string {
  const bytes = new Uint8Array(BITS[family] / 8);
  for (let i = bytes.length - 1; i >= 0; i--, value >>= 8n) bytes[i] = Number(value & 0xffn);
  return formatIpAddress(bytes);
}

function networkOf(family: AddressFamily, value: bigint, prefixLength: number): bigint {
  const bits = BigInt(BITS[family]);
  const hostBits = bits - BigInt(prefixLength);
  return (value >> hostBits) << hostBits;
}

/** Parses "ADDRESS/PREFIX"; throws a RangeError saying what is wrong. */
export function parseInterfaceAddress(text: string): InterfaceAddress {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!match) throw new RangeError(`'${text}' is not ADDRESS/PREFIX (e.g. 198.18.1.1/24 or fd42:0:0:1::1/64)`);
  const [, address, prefix] = match;
  const family: AddressFamily | undefined = isIPv4(address) ? 'ipv4' : isIPv6(address) && !address.includes('%') ? 'ipv6' : undefined;
  if (!family) throw new RangeError(`'${address}' is not an IPv4 or IPv6 address`);
  const prefixLength = Number(prefix);
  const value = valueOf(address);
  const range = parseRange(LAB_RANGES[family]);
  // Prefixes shorter than the lab range would reach outside it; /31-/32 and /127-/128 leave no room for two ends.
  const longest = BITS[family] - 2;
  if (networkOf(family, value, range.prefixLength) !== range.value) {
    throw new RangeError(`'${text}' is outside ${LAB_RANGES[family]}: lab addresses must be in ${LAB_RANGES.ipv4} or ${LAB_RANGES.ipv6}`);
  }
  if (prefixLength < range.prefixLength || prefixLength > longest) {
    throw new RangeError(`'${text}': the prefix length must be ${range.prefixLength}..${longest}`);
  }
  const network = networkOf(family, value, prefixLength);
  const broadcast = network + (1n << BigInt(BITS[family] - prefixLength)) - 1n;
  if (value === network || (family === 'ipv4' && value === broadcast)) {
    throw new RangeError(`'${text}' is the ${value === network ? 'network' : 'broadcast'} address of ${formatValue(family, network)}/${prefixLength}, not a host address`);
  }
  return { family, address, prefixLength, subnet: `${formatValue(family, network)}/${prefixLength}`, value };
}

function parseRange(cidr: string): { value: bigint; prefixLength: number } {
  const [address, prefix] = cidr.split('/');
  const family: AddressFamily = isIPv4(address) ? 'ipv4' : 'ipv6';
  const value = valueOf(address);
  return { value, prefixLength: Number(prefix) };
}

/** Parses a route destination: "default" or a subnet inside the lab ranges, e.g. "198.18.4.0/24". */
export function parseDestination(text: string): { family: AddressFamily | 'any'; subnet: string } {
  if (text === 'default') return { family: 'any', subnet: 'default' };
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  const address = match?.[1] ?? '';
  const family: AddressFamily | undefined = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (!match || !family) throw new RangeError(`'${text}' is not "default" or a subnet (e.g. 198.18.4.0/24)`);
  const prefixLength = Number(match[2]);
  const range = parseRange(LAB_RANGES[family]);
  const value = valueOf(address);
  if (networkOf(family, value, range.prefixLength) !== range.value) throw new RangeError(`'${text}' is outside ${LAB_RANGES[family]}`);
  if (prefixLength < range.prefixLength || prefixLength > BITS[family]) throw new RangeError(`'${text}': the prefix length must be ${range.prefixLength}..${BITS[family]}`);
  if (networkOf(family, value, prefixLength) !== value) throw new RangeError(`'${text}' has host bits set (the subnet is ${formatValue(family, networkOf(family, value, prefixLength))}/${prefixLength})`);
  return { family, subnet: `${formatValue(family, value)}/${prefixLength}` };
}

/** A plain address (a route's next hop) inside the lab ranges. */
export function parseHostAddress(text: string): { family: AddressFamily; address: string; value: bigint } {
  const family: AddressFamily | undefined = isIPv4(text) ? 'ipv4' : isIPv6(text) ? 'ipv6' : undefined;
  if (!family) throw new RangeError(`'${text}' is not an IPv4 or IPv6 address`);
  const value = valueOf(text);
  const range = parseRange(LAB_RANGES[family]);
  if (networkOf(family, value, range.prefixLength) !== range.value) throw new RangeError(`'${text}' is outside ${LAB_RANGES[family]}`);
  return { family, address: text, value };
}
