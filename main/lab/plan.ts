// The address plan of a linear lab: client — router1 — … — routerN — target.
// Pure data, no side effects: lab.ts turns it into namespaces, veths and routes.
//
// Link k (1-based) joins host k-1 (its "left" end, nearer the client) and host k
// (its "right" end). Its subnets are 198.18.k.0/24 and fd42:0:0:k::/64 (k in hex),
// the left end takes .1 / ::1 and the right end .2 / ::2. Every address lies in
// 198.18.0.0/15 (benchmarking) and fd42::/16 (unique local).

export type LabFamily = 'ipv4' | 'ipv6';
export type LabRole = 'client' | 'router' | 'target';

export const DEFAULT_ROUTERS = 2;
export const MAX_ROUTERS = 64;
export const IPV4_PREFIX_LENGTH = 24;
export const IPV6_PREFIX_LENGTH = 64;

export interface LabInterfacePlan {
  /** Interface name inside the host's namespace: the name of the host at the other end. */
  name: string;
  /** The host at the other end of the link. */
  peer: string;
  /** 1-based link number. */
  link: number;
  /** 'left' faces the client, 'right' faces the target. */
  side: 'left' | 'right';
  ipv4: string;
  ipv6: string;
}

export interface LabRoutePlan {
  family: LabFamily;
  /** 'default' or a subnet in CIDR notation. */
  destination: string;
  via: string;
}

export interface LabHostPlan {
  /** 'client', 'router1' … 'routerN', 'target'. */
  name: string;
  role: LabRole;
  /** Position on the line: client 0, routerK K, target N+1. */
  index: number;
  /** Toward the client first (absent on the client), then toward the target (absent on the target). */
  interfaces: LabInterfacePlan[];
  routes: LabRoutePlan[];
  addresses: Record<LabFamily, string[]>;
  /** Only routers forward. */
  forwarding: boolean;
}

export interface LabLinkPlan {
  link: number;
  left: string;
  right: string;
  ipv4Subnet: string;
  ipv6Subnet: string;
}

export interface LabPlan {
  routers: number;
  hosts: LabHostPlan[];
  links: LabLinkPlan[];
  /**
   * Who answers a probe from the client to the target sent with TTL / hop limit
   * 1, 2, …: each router's address facing the client, then the target's address.
   */
  expectedHops: Record<LabFamily, string[]>;
}

export interface LabPlanOptions {
  /** Routers between client and target: 0 to MAX_ROUTERS, default 2. */
  routers?: number;
}

export function hostName(index: number, routers: number): string {
  if (index === 0) return 'client';
  if (index === routers + 1) return 'target';
  return `router${index}`;
}

export function ipv4Subnet(link: number): string {
  return `198.18.${link}.0/${IPV4_PREFIX_LENGTH}`;
}

export function ipv6Subnet(link: number): string {
  return `fd42:0:0:${link.toString(16)}::/${IPV6_PREFIX_LENGTH}`;
}

/** The address of one end of a link: 'left' (nearer the client) or 'right'. */
export function linkAddress(family: LabFamily, link: number, side: 'left' | 'right'): string {
  const host = side === 'left' ? 1 : 2;
  return family === 'ipv4' ? `198.18.${link}.${host}` : `fd42:0:0:${link.toString(16)}::${host}`;
}

export function checkRouters(routers: unknown): number {
  if (routers === undefined) return DEFAULT_ROUTERS;
  if (typeof routers !== 'number' || !Number.isInteger(routers) || routers < 0 || routers > MAX_ROUTERS) {
    throw new RangeError(`The "routers" option must be an integer from 0 to ${MAX_ROUTERS}, got ${String(routers)}`);
  }
  return routers;
}

export function planLab(options: LabPlanOptions = {}): LabPlan {
  const routers = checkRouters(options.routers);
  const linkCount = routers + 1;
  const links: LabLinkPlan[] = [];
  for (let link = 1; link <= linkCount; link++) {
    links.push({
      link,
      left: hostName(link - 1, routers),
      right: hostName(link, routers),
      ipv4Subnet: ipv4Subnet(link),
      ipv6Subnet: ipv6Subnet(link),
    });
  }

  const hosts: LabHostPlan[] = [];
  for (let index = 0; index <= routers + 1; index++) {
    const name = hostName(index, routers);
    const role: LabRole = index === 0 ? 'client' : index === routers + 1 ? 'target' : 'router';
    const interfaces: LabInterfacePlan[] = [];
    // Host index is the right end of link `index` and the left end of link `index + 1`.
    if (index > 0) {
      interfaces.push({
        name: hostName(index - 1, routers),
        peer: hostName(index - 1, routers),
        link: index,
        side: 'right',
        ipv4: linkAddress('ipv4', index, 'right'),
        ipv6: linkAddress('ipv6', index, 'right'),
      });
    }
    if (index <= routers) {
      interfaces.push({
        name: hostName(index + 1, routers),
        peer: hostName(index + 1, routers),
        link: index + 1,
        side: 'left',
        ipv4: linkAddress('ipv4', index + 1, 'left'),
        ipv6: linkAddress('ipv6', index + 1, 'left'),
      });
    }

    const routes: LabRoutePlan[] = [];
    for (const family of ['ipv4', 'ipv6'] as const) {
      // Toward the target: the next host's address on the link to the right (for
      // the last router, the target itself). Without routers nothing is needed.
      if (index <= routers && routers > 0) {
        routes.push({ family, destination: 'default', via: linkAddress(family, index + 1, 'right') });
      }
      // Back toward the client: the target's default route, and each router's
      // routes to the subnets behind its left neighbour.
      if (index === routers + 1 && routers > 0) {
        routes.push({ family, destination: 'default', via: linkAddress(family, index, 'left') });
      } else if (role === 'router') {
        for (let link = 1; link < index; link++) {
          const destination = family === 'ipv4' ? ipv4Subnet(link) : ipv6Subnet(link);
          routes.push({ family, destination, via: linkAddress(family, index, 'left') });
        }
      }
    }

    hosts.push({
      name,
      role,
      index,
      interfaces,
      routes,
      addresses: { ipv4: interfaces.map((i) => i.ipv4), ipv6: interfaces.map((i) => i.ipv6) },
      forwarding: role === 'router',
    });
  }

  const expectedHops: Record<LabFamily, string[]> = { ipv4: [], ipv6: [] };
  for (const family of ['ipv4', 'ipv6'] as const) {
    // Router k and the target answer from their address on the link to their left.
    for (let index = 1; index <= routers + 1; index++) expectedHops[family].push(linkAddress(family, index, 'right'));
  }
  return { routers, hosts, links, expectedHops };
}
