// From a checked topology to what the builder does: interfaces (named after the
// host at the other end), routes ("auto": shortest paths that transit only
// routers, several next hops where paths tie: equal-cost multipath), and
// per-host sysctls. Pure data, no side effects.
import { parseHostAddress, type AddressFamily, type InterfaceAddress } from './addresses';
import { ICMP_RATE_TYPES, type Topology, type TopologyImpairment } from './topology';

export interface PlannedInterface {
  /** The interface name inside the host: the peer's host name. */
  name: string;
  peer: string;
  /** Index of the link in the file. */
  link: number;
  addresses: InterfaceAddress[];
}

export interface PlannedNextHop {
  via: string;
  device: string;
}

export interface PlannedRoute {
  family: AddressFamily;
  /** 'default' or a subnet. */
  destination: string;
  /** More than one: an equal-cost multipath route. */
  nextHops: PlannedNextHop[];
}

export interface PlannedHost {
  name: string;
  role: 'host' | 'router';
  interfaces: PlannedInterface[];
  routes: PlannedRoute[];
  sysctls: Record<string, string | number>;
}

export interface PlannedDirection extends Omit<TopologyImpairment, 'from'> {
  from: string;
  to: string;
}

export interface PlannedLink {
  index: number;
  ends: [{ host: string; addresses: InterfaceAddress[] }, { host: string; addresses: InterfaceAddress[] }];
  mtu?: number;
  /** One entry per impaired direction. */
  impairments: PlannedDirection[];
}

export interface TopologyPlan {
  name: string;
  hosts: PlannedHost[];
  links: PlannedLink[];
  readyFrom: string;
  readyTo: string;
}

const FAMILIES: AddressFamily[] = ['ipv4', 'ipv6'];

/** icmp_ratemask: bit N set limits ICMP type N. */
function ratemask(types: readonly string[]): number {
  const numbers: Record<(typeof ICMP_RATE_TYPES)[number], number> = {
    'echo-reply': 0,
    'destination-unreachable': 3,
    'source-quench': 4,
    redirect: 5,
    'echo-request': 8,
    'time-exceeded': 11,
    'parameter-problem': 12,
  };
  return types.reduce((mask, type) => mask | (1 << numbers[type as keyof typeof numbers]), 0);
}

export function planTopology(topology: Topology): TopologyPlan {
  const hosts: PlannedHost[] = topology.hosts.map((host) => {
    const sysctls: Record<string, string | number> = {};
    if (host.role === 'router') {
      sysctls['net.ipv4.ip_forward'] = 1;
      sysctls['net.ipv6.conf.all.forwarding'] = 1;
    }
    // Every probe answered unless the file asks for a limit (the kernel default is 1000 ms).
    sysctls['net.ipv4.icmp_ratelimit'] = host.icmpRateLimit?.intervalMs ?? 0;
    sysctls['net.ipv6.icmp.ratelimit'] = host.icmpRateLimit?.intervalMs ?? 0;
    if (host.icmpRateLimit?.types) sysctls['net.ipv4.icmp_ratemask'] = ratemask(host.icmpRateLimit.types);
    if (topology.routes === 'auto') {
      // Layer-4 hashing: flows that differ in ports may take different equal-cost paths.
      sysctls['net.ipv4.fib_multipath_hash_policy'] = 1;
      sysctls['net.ipv6.fib_multipath_hash_policy'] = 1;
    }
    return { name: host.name, role: host.role, interfaces: [], routes: [], sysctls };
  });
  const byName = new Map(hosts.map((host) => [host.name, host]));

  const links: PlannedLink[] = topology.links.map((link, l) => {
    const ends = link.ends.map((end, e) => ({ host: end.host, addresses: topology.endAddresses[l][e] })) as PlannedLink['ends'];
    ends.forEach((end, e) => {
      const peer = ends[1 - e].host;
      byName.get(end.host)?.interfaces.push({ name: peer, peer, link: l, addresses: end.addresses });
    });
    const impairments: PlannedDirection[] = [];
    for (const impairment of link.impairments ?? []) {
      const { from, ...rest } = impairment;
      const directions: Array<[string, string]> = from === undefined ? [[ends[0].host, ends[1].host], [ends[1].host, ends[0].host]] : [[from, from === ends[0].host ? ends[1].host : ends[0].host]];
      for (const [a, b] of directions) impairments.push({ ...rest, from: a, to: b });
    }
    return { index: l, ends, mtu: link.mtu, impairments };
  });

  if (topology.routes === 'auto') {
    for (const host of hosts) host.routes = autoRoutes(host, hosts);
  } else {
    for (const route of topology.routes) {
      const host = byName.get(route.host) as PlannedHost;
      const nextHops = route.via.map((via) => ({ via, device: deviceFor(host, via) }));
      const family = parseHostAddress(route.via[0]).family;
      host.routes.push({ family, destination: route.to, nextHops });
    }
  }
  return { name: topology.name, hosts, links, readyFrom: topology.readyFrom, readyTo: topology.readyTo };
}

/** The interface whose subnet holds `via` (checked to exist by parseTopology). */
function deviceFor(host: PlannedHost, via: string): string {
  const hop = parseHostAddress(via);
  const match = host.interfaces.find((i) => i.addresses.some((a) => a.family === hop.family && sameSubnet(a, hop.value)));
  return match?.name ?? host.interfaces[0].name;
}

function sameSubnet(address: InterfaceAddress, value: bigint): boolean {
  const bits = BigInt((address.family === 'ipv4' ? 32 : 128) - address.prefixLength);
  return address.value >> bits === value >> bits;
}

/**
 * Routes from `host` to every subnet it is not on. Distance counts links; only
 * routers forward, so a path may pass through routers only. Every neighbour on a
 * shortest path becomes a next hop.
 */
function autoRoutes(host: PlannedHost, hosts: PlannedHost[]): PlannedRoute[] {
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const routes: PlannedRoute[] = [];
  for (const family of FAMILIES) {
    const subnets = new Set(hosts.flatMap((h) => h.interfaces.flatMap((i) => i.addresses.filter((a) => a.family === family).map((a) => a.subnet))));
    for (const subnet of subnets) {
      if (host.interfaces.some((i) => i.addresses.some((a) => a.subnet === subnet))) continue;
      const distance = distancesTo(subnet, hosts);
      const best = Math.min(...host.interfaces.map((i) => viaNeighbour(i, byName, distance)));
      if (!Number.isFinite(best)) continue;
      const nextHops: PlannedNextHop[] = [];
      for (const i of host.interfaces) {
        if (viaNeighbour(i, byName, distance) !== best) continue;
        const peer = byName.get(i.peer) as PlannedHost;
        const peerAddress = peer.interfaces.find((p) => p.link === i.link)?.addresses.find((a) => a.family === family);
        if (peerAddress) nextHops.push({ via: peerAddress.address, device: i.name });
      }
      if (nextHops.length > 0) routes.push({ family, destination: subnet, nextHops });
    }
  }
  return routes;
}

/** Links from the neighbour behind interface `i` to the subnet, plus one; Infinity unless that neighbour forwards. */
function viaNeighbour(i: PlannedInterface, byName: Map<string, PlannedHost>, distance: Map<string, number>): number {
  const peer = byName.get(i.peer) as PlannedHost;
  return peer.role === 'router' ? (distance.get(peer.name) ?? Infinity) + 1 : Infinity;
}

/** Breadth-first from the hosts on the subnet (distance 0), expanding only from routers (hosts do not forward). */
function distancesTo(subnet: string, hosts: PlannedHost[]): Map<string, number> {
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const distance = new Map<string, number>();
  let frontier = hosts.filter((h) => h.interfaces.some((i) => i.addresses.some((a) => a.subnet === subnet)));
  for (const h of frontier) distance.set(h.name, 0);
  for (let step = 1; frontier.length > 0 && step <= hosts.length; step++) {
    const next: PlannedHost[] = [];
    for (const h of frontier.filter((f) => f.role === 'router')) {
      for (const i of h.interfaces) {
        if (distance.has(i.peer)) continue;
        distance.set(i.peer, step);
        next.push(byName.get(i.peer) as PlannedHost);
      }
    }
    frontier = next;
  }
  return distance;
}
