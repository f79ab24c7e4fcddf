// Firewall rules of a lab host as an nftables ruleset (one `inet` table, so each
// rule covers IPv4 and IPv6), loaded with `nft -f -` inside the host's namespace.
import type { FirewallRule } from './topology';

export const FIREWALL_TABLE = 'pwlab';

// ICMP types whose names differ between ICMP and ICMPv6.
const ICMPV6_TYPE: Record<string, string> = {
  'echo-request': 'echo-request',
  'echo-reply': 'echo-reply',
  'time-exceeded': 'time-exceeded',
  'destination-unreachable': 'destination-unreachable',
};

function verdict(rule: FirewallRule): string {
  if (rule.action === 'drop') return 'drop';
  if (rule.rejectWith === 'tcp-reset') return 'reject with tcp reset';
  // icmpx: the ICMP code for IPv4 and its ICMPv6 counterpart (admin-prohibited is !X in traceroute).
  return `reject with icmpx type ${rule.rejectWith ?? 'port-unreachable'}`;
}

/** The nft statements of one rule (an ICMP type match needs one per family). */
export function ruleStatements(rule: FirewallRule): string[] {
  const { protocol, icmpType, dport } = rule.match;
  const action = verdict(rule);
  if (protocol === 'icmp') {
    if (icmpType) return [`icmp type ${icmpType} ${action}`, `icmpv6 type ${ICMPV6_TYPE[icmpType]} ${action}`];
    return [`meta l4proto { icmp, ipv6-icmp } ${action}`];
  }
  if (protocol === 'udp' || protocol === 'tcp') return [`meta l4proto ${protocol}${dport !== undefined ? ` ${protocol} dport ${dport}` : ''} ${action}`];
  return [action];
}

/** The whole ruleset for one host, or '' when it has no rules. */
export function firewallRuleset(rules: readonly FirewallRule[]): string {
  if (rules.length === 0) return '';
  const hooks = [...new Set(rules.map((rule) => rule.hook))];
  const chains = hooks.map((hook) => {
    const statements = rules.filter((rule) => rule.hook === hook).flatMap(ruleStatements);
    // Chain names avoid nft keywords (a chain called "forward" is a syntax error).
    return [`  chain pw_${hook} {`, `    type filter hook ${hook} priority 0; policy accept;`, ...statements.map((s) => `    ${s}`), '  }'].join('\n');
  });
  return `table inet ${FIREWALL_TABLE} {\n${chains.join('\n')}\n}\n`;
}
