// The topology file format: the shipped files are valid, every bad file is refused
// with an error naming its place, auto routing finds equal-cost paths, and the
// firewall rules and impairments become the right nft and tc arguments. No root needed.
import { describe, expect, it } from 'vitest';
import { parseInterfaceAddress } from './addresses';
import { firewallRuleset } from './firewall';
import { netemArguments, tbfArguments } from './impairment';
import { loadTopology, shippedTopologies } from './topologies';
import { parseTopology, TopologyError, type TopologyFile } from './topology';
import { planTopology } from './topology-plan';

const end = (host: string, n: number, side: 1 | 2) => ({ host, addresses: [`198.18.${n}.${side}/24`, `fd42:0:0:${n}::${side}/64`] });

function good(): TopologyFile {
  return {
    name: 'two',
    hosts: [
      { name: 'client', role: 'host' },
      { name: 'r1', role: 'router' },
      { name: 'target', role: 'host' },
    ],
    links: [{ ends: [end('client', 1, 1), end('r1', 1, 2)] }, { ends: [end('r1', 2, 1), end('target', 2, 2)] }],
    routes: 'auto',
  };
}

function issuesOf(mutate: (file: any) => void): string {
  const file = good();
  mutate(file);
  try {
    parseTopology(JSON.stringify(file), 'bad.json');
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    return (error as Error).message;
  }
  throw new Error('parseTopology accepted the file');
}

describe('topology files', () => {
  it('the shipped topologies are valid and named after their files', () => {
    const shipped = shippedTopologies();
    expect(shipped.map((t) => t.name)).toEqual(['diamond', 'filtered', 'line', 'lossy', 'small-mtu']);
    for (const t of shipped) expect(t.file.endsWith(`${t.name}.json`)).toBe(true);
    expect(loadTopology('line').hosts.map((h) => h.name)).toEqual(['client', 'r1', 'r2', 'r3', 'target']);
  });

  it('a good file parses, with its ends parsed and the readiness hosts defaulted', () => {
    const topology = parseTopology(JSON.stringify(good()));
    expect(topology.endAddresses[0][1].map((a) => a.subnet)).toEqual(['198.18.1.0/24', 'fd42:0:0:1::/64']);
    expect([topology.readyFrom, topology.readyTo]).toEqual(['client', 'target']);
  });

  const bad: Array<[string, (file: any) => void, RegExp]> = [
    ['mtu too small', (f) => (f.links[1].mtu = 500), /^bad\.json: links\[1\]\.mtu: must be 576\.\.9000 \(line 1, column \d+\)$/],
    ['mtu too large', (f) => (f.links[0].mtu = 9001), /links\[0\]\.mtu: must be 576\.\.9000/],
    ['mtu below the IPv6 minimum', (f) => (f.links[0].mtu = 1000), /links\[0\]\.mtu: must be at least 1280 on a link with IPv6/],
    ['mtu not a number', (f) => (f.links[0].mtu = '1500'), /links\[0\]\.mtu: expected number, received string/],
    ['IPv4 outside the lab range', (f) => (f.links[0].ends[0].addresses[0] = '10.0.0.1/24'), /links\[0\]\.ends\[0\]\.addresses\[0\]: '10\.0\.0\.1\/24' is outside 198\.18\.0\.0\/15/],
    ['IPv6 outside the lab range', (f) => (f.links[1].ends[1].addresses[1] = '2001:db8::2/64'), /links\[1\]\.ends\[1\]\.addresses\[1\]: '2001:db8::2\/64' is outside fd42::\/16/],
    ['a prefix wider than the lab range', (f) => (f.links[0].ends[0].addresses[0] = '198.18.1.1/8'), /addresses\[0\]: '198\.18\.1\.1\/8': the prefix length must be 15\.\.30/],
    ['no prefix length', (f) => (f.links[0].ends[0].addresses[0] = '198.18.1.1'), /is not ADDRESS\/PREFIX/],
    ['not an address', (f) => (f.links[0].ends[0].addresses[0] = 'client/24'), /'client' is not an IPv4 or IPv6 address/],
    ['the network address', (f) => (f.links[0].ends[0].addresses[0] = '198.18.1.0/24'), /is the network address of 198\.18\.1\.0\/24/],
    ['ends on different subnets', (f) => (f.links[0].ends[1].addresses[0] = '198.18.9.2/24'), /links\[0\]\.ends: 198\.18\.1\.1 and 198\.18\.9\.2 are on different subnets/],
    ['one end without IPv6', (f) => (f.links[0].ends[1].addresses = ['198.18.1.2/24']), /links\[0\]\.ends: only one end has an ipv6 address/],
    ['two IPv4 addresses on one end', (f) => (f.links[0].ends[0].addresses = ['198.18.1.1/24', '198.18.1.3/24']), /links\[0\]\.ends\[0\]\.addresses: more than one ipv4 address/],
    ['a duplicate address', (f) => (f.links[1].ends[1].addresses[0] = '198.18.1.1/24'), /'198\.18\.1\.1' is also used at links\[0\]\.ends\[0\]\.addresses\[0\]/],
    ['an unknown host on a link', (f) => (f.links[1].ends[1].host = 'server'), /links\[1\]\.ends\[1\]\.host: unknown host 'server'/],
    ['a link to itself', (f) => (f.links[1].ends[1].host = 'r1'), /links\[1\]\.ends: both ends are on 'r1'/],
    ['two links between one pair', (f) => f.links.push({ ends: [end('r1', 3, 1), end('client', 3, 2)] }), /links\[2\]\.ends: 'r1' and 'client' are already linked/],
    ['a host name twice', (f) => f.hosts.push({ name: 'r1', role: 'router' }), /hosts\[3\]\.name: 'r1' is named twice/],
    ['a reserved host name', (f) => (f.hosts[1].name = 'lo'), /hosts\[1\]\.name: 'lo' is reserved/],
    ['a host name too long for an interface', (f) => (f.hosts[1].name = 'averyveryverylongname'), /hosts\[1\]\.name: must be a lowercase letter then up to 11/],
    ['a role that does not exist', (f) => (f.hosts[1].role = 'switch'), /hosts\[1\]\.role: /],
    ['a misspelt field', (f) => (f.links[0].mtuu = 1400), /links\[0\]: unknown field 'mtuu'/],
    ['a missing field', (f) => delete f.routes, /routes: required/],
    ['a host on no link', (f) => f.hosts.push({ name: 'spare', role: 'host' }), /hosts\[3\]: 'spare' is on no link/],
    ['loss over 100 %', (f) => (f.links[0].impairments = [{ lossPercent: 120 }]), /links\[0\]\.impairments\[0\]\.lossPercent: must be 0\.\.100 %/],
    ['an impairment from a host off the link', (f) => (f.links[0].impairments = [{ from: 'target', delayMs: 5 }]), /links\[0\]\.impairments\[0\]\.from: 'target' is not an end of this link/],
    ['one direction impaired twice', (f) => (f.links[0].impairments = [{ delayMs: 5 }, { from: 'r1', lossPercent: 1 }]), /links\[0\]\.impairments\[1\]: impairs a direction twice/],
    ['jitter without delay', (f) => (f.links[0].impairments = [{ jitterMs: 5, lossPercent: 1 }]), /impairments\[0\]\.jitterMs: needs a delayMs/],
    ['an impairment of nothing', (f) => (f.links[0].impairments = [{ from: 'r1' }]), /impairments\[0\]: impairs nothing/],
    ['a static route via an address off the host', (f) => (f.routes = [{ host: 'client', to: 'default', via: ['198.18.2.1'] }]), /routes\[0\]\.via\[0\]: '198\.18\.2\.1' is not on a subnet of client/],
    ['a static route to a subnet outside the range', (f) => (f.routes = [{ host: 'client', to: '10.0.0.0/8', via: ['198.18.1.2'] }]), /routes\[0\]\.to: '10\.0\.0\.0\/8' is outside 198\.18\.0\.0\/15/],
    ['a static route mixing families', (f) => (f.routes = [{ host: 'client', to: '198.18.2.0/24', via: ['fd42:0:0:1::2'] }]), /routes\[0\]\.via\[0\]: is ipv6 but the destination is ipv4/],
    ['routes that are neither auto nor a list', (f) => (f.routes = 'ospf'), /routes: must be "auto" or a list of routes/],
    ['an ICMP type without protocol icmp', (f) => (f.firewall = [{ host: 'r1', hook: 'output', match: { protocol: 'udp', icmpType: 'time-exceeded' }, action: 'drop' }]), /firewall\[0\]\.match\.icmpType: needs protocol "icmp"/],
    ['a reject code on a drop', (f) => (f.firewall = [{ host: 'r1', hook: 'forward', match: {}, action: 'drop', rejectWith: 'admin-prohibited' }]), /firewall\[0\]\.rejectWith: only with action "reject"/],
    ['a reject code that does not exist', (f) => (f.firewall = [{ host: 'r1', hook: 'forward', match: {}, action: 'reject', rejectWith: 'go-away' }]), /firewall\[0\]\.rejectWith: /],
    ['a firewall on an unknown host', (f) => (f.firewall = [{ host: 'r9', hook: 'forward', match: {}, action: 'drop' }]), /firewall\[0\]\.host: unknown host 'r9'/],
    ['an ICMP rate limit out of range', (f) => (f.hosts[1].icmpRateLimit = { intervalMs: -1 }), /hosts\[1\]\.icmpRateLimit\.intervalMs: must be 0\.\.60000 ms/],
    ['readiness between one host', (f) => (f.ready = { from: 'client', to: 'client' }), /ready: name two different hosts/],
    ['a bad lab name', (f) => (f.name = 'My Lab'), /name: must be a lowercase letter/],
  ];
  it.each(bad)('refuses %s, naming the place', (_what, mutate, expected) => {
    expect(issuesOf(mutate)).toMatch(expected);
  });

  it('names the line and column of a JSON syntax error', () => {
    const text = '{\n  "name": "x",\n  "hosts": [\n    { "name": "a" "role": "host" }\n  ]\n}';
    expect(() => parseTopology(text, 'broken.json')).toThrow(/^broken\.json: line 4, column 19: /);
    expect(() => parseTopology('{"name": ', 'cut.json')).toThrow(/^cut\.json: line 1, column \d+: /);
  });

  it('names the line and column of the value at fault, or of the nearest one that exists', () => {
    const file = good() as any;
    file.links[1].mtu = 500;
    file.links[0].colour = 'red';
    delete file.hosts[2].role;
    const text = JSON.stringify(file, null, 2);
    const lineOf = (needle: string) => text.split('\n').findIndex((line) => line.includes(needle)) + 1;
    const issues = (() => {
      try {
        parseTopology(text, 'pretty.json');
      } catch (error) {
        return (error as TopologyError).issues;
      }
      throw new Error('accepted');
    })();
    expect(issues).toContainEqual({ path: 'links[1].mtu', message: 'must be 576..9000', line: lineOf('"mtu": 500'), column: 14 });
    expect(issues).toContainEqual({ path: 'links[0]', message: "unknown field 'colour'", line: lineOf('"colour"'), column: 17 });
    // A missing field: the object that lacks it.
    expect(issues).toContainEqual(expect.objectContaining({ path: 'hosts[2].role', message: 'required', line: lineOf('"name": "target"') - 1 }));
  });

  it('names an unknown shipped topology and an unreadable file', () => {
    expect(() => loadTopology('triangle')).toThrow(/triangle: no shipped topology of that name \(shipped: diamond, filtered, line, lossy, small-mtu/);
    expect(() => loadTopology('/nonexistent/lab.json')).toThrow(/cannot read it: ENOENT/);
  });
});

describe('addresses', () => {
  it('parses both families to their subnets', () => {
    expect(parseInterfaceAddress('198.19.255.254/16').subnet).toBe('198.19.0.0/16');
    expect(parseInterfaceAddress('fd42:0:0:a::1/64').subnet).toBe('fd42:0:0:a::/64');
    expect(parseInterfaceAddress('fd42::ffff:198.18.0.1/112').subnet).toBe('fd42::ffff:c612:0/112');
    expect(() => parseInterfaceAddress('198.20.0.1/24')).toThrow(/outside 198\.18\.0\.0\/15/);
    expect(() => parseInterfaceAddress('fd43::1/64')).toThrow(/outside fd42::\/16/);
  });
});

describe('planning', () => {
  it('auto routing gives the diamond equal-cost multipath routes at both forks', () => {
    const plan = planTopology(loadTopology('diamond'));
    const host = (name: string) => plan.hosts.find((h) => h.name === name)!;
    const toTarget = host('r1').routes.find((r) => r.family === 'ipv4' && r.destination === '198.18.6.0/24')!;
    expect(toTarget.nextHops).toEqual([
      { via: '198.18.2.2', device: 'r2' },
      { via: '198.18.3.2', device: 'r3' },
    ]);
    const back = host('r4').routes.find((r) => r.family === 'ipv6' && r.destination === 'fd42:0:0:1::/64')!;
    expect(back.nextHops.map((h) => h.device)).toEqual(['r2', 'r3']);
    // The client has one way out; the layer-4 hash is on everywhere.
    expect(host('client').routes.every((r) => r.nextHops.length === 1 && r.nextHops[0].device === 'r1')).toBe(true);
    expect(host('r1').sysctls['net.ipv4.fib_multipath_hash_policy']).toBe(1);
    // Hosts never forward, routers do.
    expect(host('client').sysctls['net.ipv4.ip_forward']).toBeUndefined();
    expect(host('r2').sysctls['net.ipv4.ip_forward']).toBe(1);
  });

  it('a host is never a transit node', () => {
    const file = good();
    // client also links straight to target: still, r1 cannot route through a host.
    file.links.push({ ends: [end('client', 3, 1), end('target', 3, 2)] });
    const plan = planTopology(parseTopology(JSON.stringify(file)));
    const r1 = plan.hosts.find((h) => h.name === 'r1')!;
    expect(r1.routes.find((r) => r.destination === '198.18.3.0/24')).toBeUndefined();
  });

  it('impairments become one direction each, named from and to', () => {
    const plan = planTopology(loadTopology('lossy'));
    expect(plan.links[1].impairments).toEqual([{ from: 'r1', to: 'r2', delayMs: 40, lossPercent: 20 }]);
  });
});

describe('firewall and tc arguments', () => {
  it('the filtered topology drops Time Exceeded on r1 and rejects UDP with admin-prohibited on r2', () => {
    const topology = loadTopology('filtered');
    const r1 = firewallRuleset(topology.firewall!.filter((r) => r.host === 'r1'));
    expect(r1).toContain('type filter hook output priority 0; policy accept;');
    expect(r1).toContain('icmp type time-exceeded drop');
    expect(r1).toContain('icmpv6 type time-exceeded drop');
    const r2 = firewallRuleset(topology.firewall!.filter((r) => r.host === 'r2'));
    expect(r2).toContain('meta l4proto udp reject with icmpx type admin-prohibited');
    expect(firewallRuleset([])).toBe('');
  });

  it('netem and tbf arguments', () => {
    expect(netemArguments({ delayMs: 40, jitterMs: 5, lossPercent: 20, rateKbit: 1000 })).toEqual(['delay', '40ms', '5ms', 'loss', '20%', 'rate', '1000kbit']);
    expect(tbfArguments(1000)).toEqual(['rate', '1000kbit', 'burst', '3200', 'latency', '100ms']);
  });
});
