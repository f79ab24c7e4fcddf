// The map of a topology lab as text: hosts with their addresses, links with MTU and
// impairments (and how each is applied here), and the commands to use it.
import type { LabMap } from '../lab/topology-lab';
import { describeImpairment } from '../lab/impairment';

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => `  ${row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ')}`.trimEnd());
}

export function formatLabMap(map: LabMap, cli: string): string[] {
  const lines: string[] = [`${map.name}: ${map.description ?? ''}`.trimEnd(), '', 'Hosts'];
  lines.push(...table(map.hosts.map((host) => [host.name, host.role, host.addresses.join('  ')])));
  lines.push('', 'Links');
  const linkRows = map.links.map((link) => {
    const [a, b] = link.ends;
    return [`${a.host} — ${b.host}`, `mtu ${link.mtu}`, `${a.host} ${a.addresses.join(' ')}`, `${b.host} ${b.addresses.join(' ')}`];
  });
  lines.push(...table(linkRows));
  const impairments = map.links.flatMap((link) => link.impairments);
  if (impairments.length > 0) {
    lines.push('', 'Impairments');
    lines.push(...table(impairments.map((i) => [`${i.from} → ${i.to}`, describeImpairment(i), i.how === 'unsupported' ? `NOT APPLIED: ${i.reason}` : i.reason])));
  }
  const target = map.hosts.find((h) => h.name === 'target') ?? map.hosts[map.hosts.length - 1];
  const from = map.hosts.find((h) => h.name === 'client') ?? map.hosts[0];
  const address = target.addresses[0]?.replace(/\/\d+$/, '') ?? '';
  lines.push(
    '',
    `Run a command on a host:  ${cli} lab exec ${from.name} -- ping -c 3 ${address}`,
    `                          ${cli} lab exec ${from.name} -- ${cli} traceroute ${address}`,
    `Take it down:             ${cli} lab down ${map.name}`,
  );
  return lines;
}
