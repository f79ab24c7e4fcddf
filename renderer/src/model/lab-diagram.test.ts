// The lab diagram's layout and words, from maps shaped like the shipped topologies'.
import { describe, expect, it } from 'vitest';
import type { LabMap } from '../../../common/contract';
import { firewallWords, hostRuleWords, impairmentWords, layoutLab, LINE_HEIGHT, linkNotes, NODE_HEIGHT, NODE_WIDTH, rateLimitWords, wrapWords } from './lab-diagram';

type Link = LabMap['links'][number];

function mapOf(name: string, hosts: Array<[string, 'host' | 'router']>, pairs: Array<[string, string, Partial<Link>?]>): LabMap {
  return {
    name,
    hosts: hosts.map(([host, role]) => ({ name: host, role, addresses: [] })),
    links: pairs.map(([a, b, extra], i) => ({
      ends: [
        { host: a, interface: b, addresses: [`198.18.${i + 1}.1/24`] },
        { host: b, interface: a, addresses: [`198.18.${i + 1}.2/24`] },
      ],
      mtu: 1500,
      impairments: [],
      ...extra,
    })),
  };
}

const line = mapOf(
  'line',
  [['client', 'host'], ['r1', 'router'], ['r2', 'router'], ['r3', 'router'], ['target', 'host']],
  [['client', 'r1'], ['r1', 'r2'], ['r2', 'r3'], ['r3', 'target']],
);

describe('layoutLab', () => {
  it('lays a line out left to right on one row, each link between neighbouring boxes', () => {
    const diagram = layoutLab(line);
    const xs = diagram.nodes.map((node) => node.x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(new Set(diagram.nodes.map((node) => node.y)).size).toBe(1);
    for (const [i, link] of diagram.links.entries()) {
      expect(link.angle).toBe(0);
      expect(link.from.x).toBe(diagram.nodes[i].x + NODE_WIDTH / 2);
      expect(link.to.x).toBe(diagram.nodes[i + 1].x - NODE_WIDTH / 2);
      expect(link.ends[0].host).toBe(diagram.nodes[i].name);
    }
    const right = Math.max(...xs) + NODE_WIDTH / 2;
    expect(diagram.width).toBeGreaterThan(right);
    expect(diagram.height).toBeGreaterThan(NODE_HEIGHT);
  });

  it('opens a diamond into two rows between r1 and r4, links drawn left to right whatever their order in the file', () => {
    const diamond = mapOf(
      'diamond',
      [['client', 'host'], ['r1', 'router'], ['r2', 'router'], ['r3', 'router'], ['r4', 'router'], ['target', 'host']],
      [['client', 'r1'], ['r1', 'r2'], ['r1', 'r3'], ['r4', 'r2'], ['r3', 'r4'], ['r4', 'target']],
    );
    const { nodes, links } = layoutLab(diamond);
    const node = (name: string) => nodes.find((n) => n.name === name)!;
    expect(node('r2').x).toBe(node('r3').x);
    expect(node('r2').y).toBeLessThan(node('r3').y);
    expect(node('r1').y).toBe(node('target').y);
    expect(node('r4').x).toBeGreaterThan(node('r2').x);
    // r4—r2 was written right to left: drawn from r2, going down toward r4.
    const r2r4 = links[3];
    expect(r2r4.ends.map((end) => end.host)).toEqual(['r2', 'r4']);
    expect(r2r4.angle).toBeGreaterThan(0);
    expect(r2r4.angle).toBeLessThan(90);
    expect(links[1].angle).toBeLessThan(0);
  });

  it('puts a host no link reaches in a column of its own, after the rest', () => {
    const map = mapOf('islands', [['a', 'host'], ['b', 'host'], ['c', 'host']], [['a', 'b']]);
    const { nodes } = layoutLab(map);
    expect(nodes.map((n) => n.x)).toEqual([...new Set(nodes.map((n) => n.x))]);
    expect(nodes[2].x).toBeGreaterThan(nodes[1].x);
  });
});

/** The words with their no-break spaces shown as spaces. */
const plain = (text: string) => text.replace(/\u00a0/g, ' ');

describe('words', () => {
  it('says an impairment as loss, delay, jitter and rate, and how it is applied', () => {
    expect(plain(impairmentWords({ from: 'r1', to: 'r2', lossPercent: 20, delayMs: 40, how: 'emulator', reason: 'userspace emulator' }))).toBe(
      'r1→r2: loss 20 %, delay 40 ms (userspace emulator)',
    );
    expect(plain(impairmentWords({ from: 'a', to: 'b', delayMs: 10, jitterMs: 2, rateKbit: 1000, how: 'netem', reason: 'tc netem' }))).toBe('a→b: delay 10 ms ±2 ms, rate 1000 kbit/s (tc netem)');
    expect(plain(impairmentWords({ from: 'a', to: 'b', lossPercent: 5, how: 'unsupported', reason: 'needs netem' }))).toBe('a→b: loss 5 % (not applied: needs netem)');
  });

  it('names the MTU only when it is not 1500', () => {
    expect(linkNotes(line.links[0])).toEqual([]);
    expect(linkNotes({ ...line.links[0], mtu: 1280 }).map(plain)).toEqual(['MTU 1280']);
  });

  it('wraps words into lines no longer than asked, a long word alone, a number with its unit', () => {
    expect(wrapWords('r1→r2: loss 20 %, delay 40 ms (userspace emulator)', 24)).toEqual(['r1→r2: loss 20 %, delay', '40 ms (userspace', 'emulator)']);
    const impaired = impairmentWords({ from: 'r1', to: 'r2', lossPercent: 20, delayMs: 40, how: 'emulator', reason: '' });
    expect(wrapWords(impaired, 28).map(plain)).toEqual(['r1→r2: loss 20 %, delay', '40 ms (userspace emulator)']);
    expect(wrapWords('averyveryverylongword x', 5)).toEqual(['averyveryverylongword', 'x']);
  });
});

describe('host rules', () => {
  // The shipped 'filtered' topology's map: r1 sends no Time Exceeded, r2 rejects UDP with admin-prohibited.
  const filtered: LabMap = {
    ...mapOf('filtered', [['client', 'host'], ['r1', 'router'], ['r2', 'router'], ['r3', 'router'], ['target', 'host']], [['client', 'r1'], ['r1', 'r2'], ['r2', 'r3'], ['r3', 'target']]),
  };
  filtered.hosts[1].firewall = [{ hook: 'output', match: { protocol: 'icmp', icmpType: 'time-exceeded' }, action: 'drop' }];
  filtered.hosts[2].firewall = [{ hook: 'prerouting', match: { protocol: 'udp' }, action: 'reject', rejectWith: 'admin-prohibited' }];

  it("says the filtered lab's silent hop and rejecting router in words, under the drawing", () => {
    const diagram = layoutLab(filtered);
    expect(diagram.rules).toEqual(['r1: Time Exceeded dropped (silent hop)', 'r2: rejects UDP with admin-prohibited (!X)']);
    expect(diagram.rulesTop).toBeGreaterThan(Math.max(...diagram.nodes.map((n) => n.y)) + NODE_HEIGHT);
    expect(diagram.height).toBeGreaterThan(diagram.rulesTop + LINE_HEIGHT);
    expect(layoutLab(line).rules).toEqual([]);
    expect(layoutLab(line).height).toBeLessThan(diagram.height);
  });

  it('says other rules and an ICMP rate limit', () => {
    expect(firewallWords({ hook: 'forward', match: { protocol: 'tcp', dport: 9 }, action: 'reject', rejectWith: 'tcp-reset' })).toBe('rejects TCP to port 9 with a TCP reset');
    expect(firewallWords({ hook: 'input', match: {}, action: 'drop' })).toBe('every packet addressed to it dropped');
    expect(firewallWords({ hook: 'forward', match: { protocol: 'udp' }, action: 'reject', rejectWith: 'host-unreachable' })).toBe('rejects UDP with host-unreachable (!H)');
    expect(rateLimitWords({ intervalMs: 100 })).toBe('ICMP rate limit 10/s');
    expect(rateLimitWords({ intervalMs: 300, types: ['time-exceeded'] })).toBe('ICMP rate limit 1 per 300 ms (time-exceeded)');
    expect(rateLimitWords({ intervalMs: 0 })).toBeUndefined();
    expect(hostRuleWords({ name: 'r3', role: 'router', addresses: [], icmpRateLimit: { intervalMs: 100 } })).toEqual(['r3: ICMP rate limit 10/s']);
  });
});
