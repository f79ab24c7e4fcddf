import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTERS, MAX_ROUTERS, ipv6Subnet, linkAddress, planLab } from './plan';

function inBenchmarkRange(address: string): boolean {
  const [a, b] = address.split('.').map(Number);
  return a === 198 && (b === 18 || b === 19);
}

describe('planLab', () => {
  it('defaults to client — router1 — router2 — target', () => {
    const plan = planLab();
    expect(plan.routers).toBe(DEFAULT_ROUTERS);
    expect(plan.hosts.map((h) => h.name)).toEqual(['client', 'router1', 'router2', 'target']);
    expect(plan.hosts.map((h) => h.role)).toEqual(['client', 'router', 'router', 'target']);
    expect(plan.hosts.map((h) => h.forwarding)).toEqual([false, true, true, false]);
    expect(plan.links).toEqual([
      { link: 1, left: 'client', right: 'router1', ipv4Subnet: '198.18.1.0/24', ipv6Subnet: 'fd42:0:0:1::/64' },
      { link: 2, left: 'router1', right: 'router2', ipv4Subnet: '198.18.2.0/24', ipv6Subnet: 'fd42:0:0:2::/64' },
      { link: 3, left: 'router2', right: 'target', ipv4Subnet: '198.18.3.0/24', ipv6Subnet: 'fd42:0:0:3::/64' },
    ]);
  });

  it('gives each host its addresses per family, toward the client first', () => {
    const hosts = Object.fromEntries(planLab().hosts.map((h) => [h.name, h]));
    expect(hosts.client.addresses).toEqual({ ipv4: ['198.18.1.1'], ipv6: ['fd42:0:0:1::1'] });
    expect(hosts.router1.addresses).toEqual({ ipv4: ['198.18.1.2', '198.18.2.1'], ipv6: ['fd42:0:0:1::2', 'fd42:0:0:2::1'] });
    expect(hosts.router2.addresses).toEqual({ ipv4: ['198.18.2.2', '198.18.3.1'], ipv6: ['fd42:0:0:2::2', 'fd42:0:0:3::1'] });
    expect(hosts.target.addresses).toEqual({ ipv4: ['198.18.3.2'], ipv6: ['fd42:0:0:3::2'] });
    // Interfaces are named after the host at the other end.
    expect(hosts.router1.interfaces.map((i) => i.name)).toEqual(['client', 'router2']);
    expect(hosts.client.interfaces.map((i) => i.name)).toEqual(['router1']);
  });

  it('expects router addresses facing the client, then the target', () => {
    expect(planLab().expectedHops).toEqual({
      ipv4: ['198.18.1.2', '198.18.2.2', '198.18.3.2'],
      ipv6: ['fd42:0:0:1::2', 'fd42:0:0:2::2', 'fd42:0:0:3::2'],
    });
    expect(planLab({ routers: 0 }).expectedHops).toEqual({ ipv4: ['198.18.1.2'], ipv6: ['fd42:0:0:1::2'] });
  });

  it('routes toward the target by default and back toward the client', () => {
    const hosts = Object.fromEntries(planLab().hosts.map((h) => [h.name, h]));
    expect(hosts.client.routes).toEqual([
      { family: 'ipv4', destination: 'default', via: '198.18.1.2' },
      { family: 'ipv6', destination: 'default', via: 'fd42:0:0:1::2' },
    ]);
    expect(hosts.router1.routes).toEqual([
      { family: 'ipv4', destination: 'default', via: '198.18.2.2' },
      { family: 'ipv6', destination: 'default', via: 'fd42:0:0:2::2' },
    ]);
    expect(hosts.router2.routes).toEqual([
      { family: 'ipv4', destination: 'default', via: '198.18.3.2' },
      { family: 'ipv4', destination: '198.18.1.0/24', via: '198.18.2.1' },
      { family: 'ipv6', destination: 'default', via: 'fd42:0:0:3::2' },
      { family: 'ipv6', destination: 'fd42:0:0:1::/64', via: 'fd42:0:0:2::1' },
    ]);
    expect(hosts.target.routes).toEqual([
      { family: 'ipv4', destination: 'default', via: '198.18.3.1' },
      { family: 'ipv6', destination: 'default', via: 'fd42:0:0:3::1' },
    ]);
  });

  it('needs no routes without routers', () => {
    const plan = planLab({ routers: 0 });
    expect(plan.hosts.map((h) => h.name)).toEqual(['client', 'target']);
    expect(plan.hosts.every((h) => h.routes.length === 0)).toBe(true);
  });

  it('every route goes via a directly connected neighbour', () => {
    const plan = planLab({ routers: 5 });
    for (const host of plan.hosts) {
      const neighbours = plan.hosts
        .filter((h) => Math.abs(h.index - host.index) === 1)
        .flatMap((h) => [...h.addresses.ipv4, ...h.addresses.ipv6]);
      for (const route of host.routes) expect(neighbours).toContain(route.via);
    }
  });

  it('stays inside 198.18.0.0/15 and fd42::/16 up to the maximum size', () => {
    const plan = planLab({ routers: MAX_ROUTERS });
    expect(plan.expectedHops.ipv4).toHaveLength(MAX_ROUTERS + 1);
    const all = plan.hosts.flatMap((h) => [...h.addresses.ipv4, ...h.addresses.ipv6]);
    expect(new Set(all).size).toBe(all.length);
    for (const host of plan.hosts) {
      for (const address of host.addresses.ipv4) expect(inBenchmarkRange(address), address).toBe(true);
      for (const address of host.addresses.ipv6) expect(address.startsWith('fd42:'), address).toBe(true);
      for (const iface of host.interfaces) expect(iface.name.length).toBeLessThanOrEqual(15);
    }
    expect(ipv6Subnet(10)).toBe('fd42:0:0:a::/64');
    expect(linkAddress('ipv6', 64, 'right')).toBe('fd42:0:0:40::2');
  });

  it('rejects bad router counts', () => {
    for (const routers of [-1, 1.5, MAX_ROUTERS + 1, Number.NaN, '2' as unknown as number]) {
      expect(() => planLab({ routers })).toThrow(RangeError);
    }
  });
});
