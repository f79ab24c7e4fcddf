// The lab topology file: a small JSON document naming hosts and routers, the links
// between them with their addresses, MTU and impairments, routing, ICMP rate limits
// and firewall rules (see topologies/README.md). parseTopology() checks the shape with
// zod, then the meaning (hosts exist, addresses in 198.18.0.0/15 and fd42::/16, both
// ends on one subnet, …); every error names its place: `links[2].mtu: must be 576..9000`,
// or the line and column of a JSON syntax error.
import { z } from 'zod';
import { parseDestination, parseHostAddress, parseInterfaceAddress, type AddressFamily, type InterfaceAddress } from './addresses';
import { positionOf, valueOffsets } from './json-locate';
import { formatPath } from './json-path';

// A host name becomes an interface name on its neighbours (at most 15 bytes) and part of namespace names.
const HOST_NAME = /^[a-z][a-z0-9]{0,11}$/;
// Interface names that already mean something inside a namespace.
const RESERVED_NAMES = new Set(['lo', 'all', 'default']);
const LAB_NAME = /^[a-z][a-z0-9-]{0,23}$/;

const bounded = (min: number, max: number, unit = '') => z.number().min(min, `must be ${min}..${max}${unit}`).max(max, `must be ${min}..${max}${unit}`);
const boundedInt = (min: number, max: number, unit = '') => bounded(min, max, unit).int(`must be a whole number ${min}..${max}${unit}`);

const hostName = z.string().regex(HOST_NAME, 'must be a lowercase letter then up to 11 lowercase letters or digits');

export const ICMP_RATE_TYPES = ['echo-reply', 'destination-unreachable', 'source-quench', 'redirect', 'echo-request', 'time-exceeded', 'parameter-problem'] as const;

const hostSchema = z.strictObject({
  name: hostName,
  role: z.enum(['host', 'router']),
  /** net.ipv4.icmp_ratelimit / net.ipv6.icmp.ratelimit in ms; 0 (the lab default) answers every probe. */
  icmpRateLimit: z
    .strictObject({
      intervalMs: boundedInt(0, 60_000, ' ms'),
      /** Which ICMPv4 types the limit applies to (net.ipv4.icmp_ratemask); the kernel's default when absent. */
      types: z.array(z.enum(ICMP_RATE_TYPES)).max(ICMP_RATE_TYPES.length).optional(),
    })
    .optional(),
});

const endSchema = z.strictObject({
  host: hostName,
  /** One IPv4 and/or one IPv6 address with its prefix length. */
  addresses: z.array(z.string()).min(1, 'needs at least one address').max(2, 'at most one IPv4 and one IPv6 address'),
});

const impairmentSchema = z.strictObject({
  /** The direction: traffic leaving this end of the link. Both directions when absent. */
  from: hostName.optional(),
  delayMs: bounded(0, 60_000, ' ms').optional(),
  jitterMs: bounded(0, 60_000, ' ms').optional(),
  lossPercent: bounded(0, 100, ' %').optional(),
  rateKbit: boundedInt(8, 100_000_000, ' kbit/s').optional(),
});

const linkSchema = z.strictObject({
  ends: z.tuple([endSchema, endSchema], { error: 'must be two ends' }),
  mtu: boundedInt(576, 9000).optional(),
  impairments: z.array(impairmentSchema).max(2).optional(),
});

const routeSchema = z.strictObject({
  host: hostName,
  /** "default" or a subnet. */
  to: z.string(),
  /** One next hop, or several for an equal-cost multipath route. */
  via: z.array(z.string()).min(1).max(8),
});

export const FIREWALL_HOOKS = ['prerouting', 'input', 'forward', 'output'] as const;
export const REJECT_CODES = ['admin-prohibited', 'host-unreachable', 'no-route', 'port-unreachable', 'tcp-reset'] as const;
export const ICMP_MATCH_TYPES = ['echo-request', 'echo-reply', 'time-exceeded', 'destination-unreachable'] as const;

const firewallSchema = z.strictObject({
  host: hostName,
  hook: z.enum(FIREWALL_HOOKS),
  match: z.strictObject({
    /** icmp means ICMP and ICMPv6; absent: every packet. */
    protocol: z.enum(['icmp', 'udp', 'tcp']).optional(),
    icmpType: z.enum(ICMP_MATCH_TYPES).optional(),
    dport: boundedInt(1, 65535).optional(),
  }),
  action: z.enum(['drop', 'reject']),
  /** For reject: the ICMP error (ICMPv6 for IPv6) or a TCP reset; default port-unreachable. */
  rejectWith: z.enum(REJECT_CODES).optional(),
});

export const topologySchema = z.strictObject({
  name: z.string().regex(LAB_NAME, 'must be a lowercase letter then up to 23 lowercase letters, digits or -'),
  description: z.string().max(300).optional(),
  hosts: z.array(hostSchema).min(2, 'needs at least two hosts').max(32, 'at most 32 hosts'),
  links: z.array(linkSchema).min(1, 'needs at least one link').max(64, 'at most 64 links'),
  /** "auto": shortest paths over routers, equal-cost multipath where paths tie; or a list of static routes. */
  routes: z.union([z.literal('auto'), z.array(routeSchema).max(512)], { error: 'must be "auto" or a list of routes' }),
  firewall: z.array(firewallSchema).max(64).optional(),
  /** The readiness check: `from` pings `to` over both families before the lab counts as up. */
  ready: z.strictObject({ from: hostName, to: hostName }).optional(),
});

export type TopologyFile = z.infer<typeof topologySchema>;
export type TopologyHost = TopologyFile['hosts'][number];
export type TopologyLink = TopologyFile['links'][number];
export type TopologyImpairment = NonNullable<TopologyLink['impairments']>[number];
export type FirewallRule = NonNullable<TopologyFile['firewall']>[number];

/** A checked topology: the file plus the parsed addresses of every link end. */
export interface Topology extends TopologyFile {
  /** links[i].ends[j] parsed, same order as in the file. */
  endAddresses: InterfaceAddress[][][];
  /** The hosts the readiness check pings between. */
  readyFrom: string;
  readyTo: string;
}

export interface TopologyIssue {
  /** e.g. "links[2].mtu", "" for the whole document. */
  path: string;
  message: string;
  /** Where in the text (the value at the path, or the nearest enclosing one that exists). */
  line?: number;
  column?: number;
}

export class TopologyError extends Error {
  readonly issues: TopologyIssue[];

  constructor(source: string, issues: TopologyIssue[]) {
    const where = (issue: TopologyIssue) => (issue.line !== undefined ? ` (line ${issue.line}, column ${issue.column})` : '');
    super(`${source}: ${issues.map((issue) => `${issue.path ? `${issue.path}: ` : ''}${issue.message}${where(issue)}`).join('; ')}`);
    this.name = 'TopologyError';
    this.issues = issues;
  }
}

export { formatPath };

function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let value = json;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

function zodIssues(error: z.ZodError, json: unknown): Array<TopologyIssue & { at?: string }> {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      // Located at the (first) unknown field itself.
      return { path, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`, at: formatPath([...issue.path, issue.keys[0]]) };
    }
    if (issue.path.length > 0 && valueAt(json, issue.path) === undefined) return { path, message: 'required' };
    return { path, message: issue.message.replace(/^Invalid (input|option): /, '') };
  });
}

/** Parses and checks topology text; `source` names it in errors (a file name). Throws TopologyError. */
export function parseTopology(text: string, source = 'topology'): Topology {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const { line, column } = positionOf(text, position ? Number(position[1]) : text.length);
    throw new TopologyError(source, [{ path: '', message: `line ${line}, column ${column}: ${message.replace(/ in JSON at position \d+.*$/, '')}` }]);
  }
  const parsed = topologySchema.safeParse(json);
  const issues: Array<TopologyIssue & { at?: string }> = parsed.success ? [] : zodIssues(parsed.error, json);
  const topology = parsed.success ? checkMeaning(parsed.data, issues) : undefined;
  if (issues.length > 0 || !topology) throw new TopologyError(source, locate(text, issues));
  return topology;
}

/** Adds the line and column of each issue's value (or of the nearest enclosing value that exists). */
function locate(text: string, issues: Array<TopologyIssue & { at?: string }>): TopologyIssue[] {
  const offsets = valueOffsets(text);
  return issues.map(({ at, ...issue }) => {
    let path = at ?? issue.path;
    for (let depth = 0; depth < 64 && !offsets.has(path) && path !== ''; depth++) path = path.replace(/(?:\.?[^.[\]]+|\[\d+\])$/, '');
    const offset = offsets.get(path);
    return offset === undefined ? issue : { ...issue, ...positionOf(text, offset) };
  });
}

function checkMeaning(file: TopologyFile, issues: TopologyIssue[]): Topology | undefined {
  const problem = (path: string, message: string): void => {
    issues.push({ path, message });
  };
  const hosts = new Map<string, TopologyHost>();
  file.hosts.forEach((host, i) => {
    if (RESERVED_NAMES.has(host.name)) problem(`hosts[${i}].name`, `'${host.name}' is reserved (it names an interface or sysctl folder already)`);
    if (hosts.has(host.name)) problem(`hosts[${i}].name`, `'${host.name}' is named twice`);
    hosts.set(host.name, host);
  });
  const known = (name: string, path: string): boolean => {
    if (hosts.has(name)) return true;
    problem(path, `unknown host '${name}' (hosts: ${[...hosts.keys()].join(', ')})`);
    return false;
  };

  const seenAddresses = new Map<string, string>();
  const pairs = new Set<string>();
  const endAddresses: InterfaceAddress[][][] = file.links.map((link, l) => {
    const [a, b] = link.ends;
    link.ends.forEach((end, e) => known(end.host, `links[${l}].ends[${e}].host`));
    if (a.host === b.host) problem(`links[${l}].ends`, `both ends are on '${a.host}'`);
    const pair = [a.host, b.host].sort().join(' ');
    if (pairs.has(pair)) problem(`links[${l}].ends`, `'${a.host}' and '${b.host}' are already linked (one link per pair: interfaces are named after the peer)`);
    pairs.add(pair);

    const parsed = link.ends.map((end, e) =>
      end.addresses.flatMap((text, k) => {
        const path = `links[${l}].ends[${e}].addresses[${k}]`;
        try {
          const address = parseInterfaceAddress(text);
          const key = `${address.family} ${address.value}`;
          if (seenAddresses.has(key)) problem(path, `'${address.address}' is also used at ${seenAddresses.get(key)}`);
          seenAddresses.set(key, path);
          return [address];
        } catch (error) {
          problem(path, (error as Error).message);
          return [];
        }
      }),
    );
    parsed.forEach((addresses, e) => {
      for (const family of ['ipv4', 'ipv6'] as const) {
        if (addresses.filter((x) => x.family === family).length > 1) problem(`links[${l}].ends[${e}].addresses`, `more than one ${family} address`);
      }
    });
    for (const family of ['ipv4', 'ipv6'] as const) {
      const left = parsed[0].find((x) => x.family === family);
      const right = parsed[1].find((x) => x.family === family);
      if (Boolean(left) !== Boolean(right)) problem(`links[${l}].ends`, `only one end has an ${family} address`);
      else if (left && right && left.subnet !== right.subnet) problem(`links[${l}].ends`, `${left.address} and ${right.address} are on different subnets (${left.subnet}, ${right.subnet})`);
    }
    if (link.mtu !== undefined && link.mtu < 1280 && parsed.flat().some((x) => x.family === 'ipv6')) {
      problem(`links[${l}].mtu`, 'must be at least 1280 on a link with IPv6 addresses');
    }
    const directions = new Set<string>();
    (link.impairments ?? []).forEach((impairment, i) => {
      const path = `links[${l}].impairments[${i}]`;
      if (impairment.from !== undefined && impairment.from !== a.host && impairment.from !== b.host) problem(`${path}.from`, `'${impairment.from}' is not an end of this link (${a.host}, ${b.host})`);
      const direction = impairment.from ?? 'both';
      if (directions.has(direction) || (directions.size > 0 && (direction === 'both' || directions.has('both')))) problem(path, 'impairs a direction twice');
      directions.add(direction);
      if (impairment.jitterMs !== undefined && !impairment.delayMs) problem(`${path}.jitterMs`, 'needs a delayMs');
      if (![impairment.delayMs, impairment.lossPercent, impairment.rateKbit].some((v) => v !== undefined)) problem(path, 'impairs nothing (give delayMs, lossPercent or rateKbit)');
    });
    return parsed;
  });

  const subnets = new Set(endAddresses.flat(2).map((x) => x.subnet));
  const attached = (host: string, family: AddressFamily): InterfaceAddress[] =>
    file.links.flatMap((link, l) => link.ends.flatMap((end, e) => (end.host === host ? endAddresses[l][e].filter((x) => x.family === family) : [])));
  if (file.routes !== 'auto') {
    file.routes.forEach((route, r) => {
      const path = `routes[${r}]`;
      if (!known(route.host, `${path}.host`)) return;
      let family: AddressFamily | 'any' = 'any';
      try {
        family = parseDestination(route.to).family;
      } catch (error) {
        problem(`${path}.to`, (error as Error).message);
      }
      route.via.forEach((via, v) => {
        try {
          const hop = parseHostAddress(via);
          if (family !== 'any' && hop.family !== family) problem(`${path}.via[${v}]`, `is ${hop.family} but the destination is ${family}`);
          // The next hop must be on a subnet the host is attached to, and not the host itself.
          const own = attached(route.host, hop.family);
          if (own.some((x) => x.value === hop.value)) problem(`${path}.via[${v}]`, `'${via}' is ${route.host}'s own address`);
          else if (!own.some((x) => onSubnet(hop.value, x))) problem(`${path}.via[${v}]`, `'${via}' is not on a subnet of ${route.host} (${own.map((x) => x.subnet).join(', ') || 'none'})`);
        } catch (error) {
          problem(`${path}.via[${v}]`, (error as Error).message);
        }
      });
    });
  }
  (file.firewall ?? []).forEach((rule, r) => {
    const path = `firewall[${r}]`;
    known(rule.host, `${path}.host`);
    if (rule.match.icmpType && rule.match.protocol !== 'icmp') problem(`${path}.match.icmpType`, 'needs protocol "icmp"');
    if (rule.match.dport !== undefined && rule.match.protocol !== 'udp' && rule.match.protocol !== 'tcp') problem(`${path}.match.dport`, 'needs protocol "udp" or "tcp"');
    if (rule.rejectWith && rule.action !== 'reject') problem(`${path}.rejectWith`, 'only with action "reject"');
    if (rule.rejectWith === 'tcp-reset' && rule.match.protocol !== 'tcp') problem(`${path}.rejectWith`, 'tcp-reset needs protocol "tcp"');
  });

  const endpoints = file.hosts.filter((h) => h.role === 'host').map((h) => h.name);
  const readyFrom = file.ready?.from ?? (hosts.has('client') ? 'client' : endpoints[0]);
  const readyTo = file.ready?.to ?? (hosts.has('target') ? 'target' : endpoints[endpoints.length - 1]);
  if (file.ready) {
    known(file.ready.from, 'ready.from');
    known(file.ready.to, 'ready.to');
  }
  if (!readyFrom || !readyTo || readyFrom === readyTo) problem('ready', 'name two different hosts to ping between (no "client" and "target" hosts to default to)');
  else if (hosts.has(readyTo) && subnets.size > 0 && attached(readyTo, 'ipv4').length + attached(readyTo, 'ipv6').length === 0) problem('ready.to', `'${readyTo}' has no address`);
  file.hosts.forEach((host, i) => {
    if (!file.links.some((link) => link.ends.some((end) => end.host === host.name))) problem(`hosts[${i}]`, `'${host.name}' is on no link`);
  });

  if (issues.length > 0) return undefined;
  return { ...file, endAddresses, readyFrom, readyTo };
}

function onSubnet(value: bigint, address: InterfaceAddress): boolean {
  const bits = BigInt((address.family === 'ipv4' ? 32 : 128) - address.prefixLength);
  return value >> bits === address.value >> bits;
}
