// Interface addresses of lab topologies: parsing "198.18.1.1/24" and "fd42:0:0:1::1/64",
// the subnet they lie on, and the only ranges a lab may use: 198.18.0.0/15
// (benchmarking, RFC 2544) and fd42::/16 (unique local). Pure functions.
import { isIPv4, isIPv6 } from 'node:net';

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

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Value(address: string): bigint {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const groups = (text: string | undefined): string[] => (text ? text.split(':') : []);
  // An embedded IPv4 tail ("::ffff:1.2.3.4") counts as two groups.
  const expand = (parts: string[]): number[] =>
    parts.flatMap((part) => (part.includes('.') ? [Number(ipv4Value(part) >> 16n), Number(ipv4Value(part) & 0xffffn)] : [parseInt(part, 16)]));
  const left = expand(groups(head));
  const right = expand(groups(tail));
  const all = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return all.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

function formatValue(family: AddressFamily, value: bigint): string {
  if (family === 'ipv4') return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => Number((value >> shift) & 0xffffn));
  // Compress the longest run of zero groups (two or more), as RFC 5952 does.
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length && j - i >= 2) best = { start: i, length: j - i };
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
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
  const value = family === 'ipv4' ? ipv4Value(address) : ipv6Value(address);
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
  const value = family === 'ipv4' ? ipv4Value(address) : ipv6Value(address);
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
  const value = family === 'ipv4' ? ipv4Value(address) : ipv6Value(address);
  if (networkOf(family, value, range.prefixLength) !== range.value) throw new RangeError(`'${text}' is outside ${LAB_RANGES[family]}`);
  if (prefixLength < range.prefixLength || prefixLength > BITS[family]) throw new RangeError(`'${text}': the prefix length must be ${range.prefixLength}..${BITS[family]}`);
  if (networkOf(family, value, prefixLength) !== value) throw new RangeError(`'${text}' has host bits set (the subnet is ${formatValue(family, networkOf(family, value, prefixLength))}/${prefixLength})`);
  return { family, subnet: `${formatValue(family, value)}/${prefixLength}` };
}

/** A plain address (a route's next hop) inside the lab ranges. */
export function parseHostAddress(text: string): { family: AddressFamily; address: string; value: bigint } {
  const family: AddressFamily | undefined = isIPv4(text) ? 'ipv4' : isIPv6(text) ? 'ipv6' : undefined;
  if (!family) throw new RangeError(`'${text}' is not an IPv4 or IPv6 address`);
  const value = family === 'ipv4' ? ipv4Value(text) : ipv6Value(text);
  const range = parseRange(LAB_RANGES[family]);
  if (networkOf(family, value, range.prefixLength) !== range.value) throw new RangeError(`'${text}' is outside ${LAB_RANGES[family]}`);
  return { family, address: text, value };
}
