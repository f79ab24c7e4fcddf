// The names a display filter may use: drawn from the layers' field descriptions (the editor's
// names, as `ip.ttl`, `ipv6.hopLimit`, `udp.srcPort`), plus the Wireshark spellings of the same
// fields (`ipv6.hlim`, `udp.srcport`, `icmp.seq`), either-direction fields (`udp.port`,
// `ip.addr`), flag bits (`tcp.flags.syn`), the layers themselves (`icmp`), and the log's own
// columns (`frame.len`, `frame.direction`, `match.rtt`).
import type { FieldDescription } from './fields';
import type { HeaderKind } from './layer';
import { layerKinds } from './registry';

export type DisplayFilterFieldType = 'protocol' | 'number' | 'flag' | 'ipv4' | 'ipv6' | 'string' | 'bytes';

/** One name for completion and help. */
export interface DisplayFilterField {
  readonly name: string;
  readonly label: string;
  readonly type: DisplayFilterFieldType;
  /** Set on Wireshark spellings: the name it stands for. */
  readonly aliasOf?: string;
}

/** How a name's values are read from a packet. */
export type FieldAccess =
  | { readonly kind: 'layer'; readonly layer: HeaderKind | 'data' }
  | { readonly kind: 'header'; readonly layer: HeaderKind; readonly fields: readonly FieldDescription[] }
  | { readonly kind: 'flag'; readonly layer: HeaderKind; readonly field: FieldDescription; readonly mask: number }
  /** Either of two fields: udp.port, ip.addr. */
  | { readonly kind: 'either'; readonly layer: HeaderKind; readonly fields: readonly [FieldDescription, FieldDescription] }
  | { readonly kind: 'frame'; readonly what: 'len' | 'number' | 'direction' | 'socket' }
  | { readonly kind: 'data-len' }
  | { readonly kind: 'match'; readonly what: 'rtt' | 'reply' | 'request' };

export interface ResolvedField extends DisplayFilterField {
  readonly access: FieldAccess;
}

/** Wireshark's protocol names; the model calls IPv4 'ipv4'. */
const prefixes: Record<HeaderKind, string> = { ipv4: 'ip', ipv6: 'ipv6', icmp: 'icmp', icmpv6: 'icmpv6', udp: 'udp', tcp: 'tcp' };
const layerTitles: Record<HeaderKind, string> = { ipv4: 'IPv4', ipv6: 'IPv6', icmp: 'ICMP', icmpv6: 'ICMPv6', udp: 'UDP', tcp: 'TCP' };

/** Wireshark spelling → the model's name (after the protocol prefix). */
const wiresharkNames: Record<string, Record<string, string>> = {
  ip: { len: 'totalLength', id: 'identification', proto: 'protocol', 'dsfield.dscp': 'dscp', 'dsfield.ecn': 'ecn', 'flags.rb': 'flags.reserved' },
  ipv6: { tclass: 'trafficClass', flow: 'flowLabel', plen: 'payloadLength', nxt: 'nextHeader', hlim: 'hopLimit' },
  icmp: { ident: 'identifier', seq: 'sequence', mtu: 'nextHopMtu', redir_gw: 'gateway' },
  icmpv6: { 'echo.identifier': 'identifier', 'echo.sequence_number': 'sequence' },
  udp: { srcport: 'srcPort', dstport: 'dstPort' },
  tcp: {
    srcport: 'srcPort',
    dstport: 'dstPort',
    seq_raw: 'seq',
    ack_raw: 'ack',
    window_size_value: 'window',
    urgent_pointer: 'urgentPointer',
    'flags.reset': 'flags.rst',
    'flags.push': 'flags.psh',
    'flags.ecn': 'flags.ece',
  },
};

function buildTable(): ResolvedField[] {
  const table: ResolvedField[] = [
    // Every packet has a frame: 'frame' alone is always true.
    { name: 'frame', label: 'Every logged packet', type: 'protocol', access: { kind: 'frame', what: 'len' } },
    { name: 'frame.number', label: 'Log number (No.)', type: 'number', access: { kind: 'frame', what: 'number' } },
    { name: 'frame.len', label: 'Length as logged, in bytes', type: 'number', access: { kind: 'frame', what: 'len' } },
    { name: 'frame.direction', label: 'Direction: "sent", "received" or "imported"', type: 'string', access: { kind: 'frame', what: 'direction' } },
    { name: 'frame.socket', label: 'Socket that logged it, e.g. "socket-1"', type: 'string', access: { kind: 'frame', what: 'socket' } },
  ];
  for (const [kind, definition] of Object.entries(layerKinds) as [HeaderKind, (typeof layerKinds)[HeaderKind]][]) {
    const prefix = prefixes[kind];
    table.push({ name: prefix, label: `${layerTitles[kind]} header present`, type: 'protocol', access: { kind: 'layer', layer: kind } });
    const byName = new Map<string, FieldDescription[]>();
    for (const field of definition.fields) byName.set(field.name, [...(byName.get(field.name) ?? []), field]);
    for (const [name, fields] of byName) {
      const field = fields[0];
      const type: DisplayFilterFieldType = field.type === 'ipv4' || field.type === 'ipv6' ? field.type : field.type === 'bytes' ? 'bytes' : 'number';
      table.push({ name: `${prefix}.${name}`, label: `${layerTitles[kind]} ${field.label.toLowerCase()}`, type, access: { kind: 'header', layer: kind, fields } });
      if (field.type === 'flags' && field.flagNames) {
        field.flagNames.forEach((flag, i) => {
          const mask = 2 ** (field.flagNames!.length - 1 - i);
          table.push({ name: `${prefix}.${name}.${flag.toLowerCase()}`, label: `${layerTitles[kind]} ${flag} flag (set)`, type: 'flag', access: { kind: 'flag', layer: kind, field, mask } });
        });
      }
    }
    const src = byName.get('src')?.[0];
    const dst = byName.get('dst')?.[0];
    if (src && dst) table.push({ name: `${prefix}.addr`, label: `${layerTitles[kind]} source or destination`, type: src.type as 'ipv4' | 'ipv6', access: { kind: 'either', layer: kind, fields: [src, dst] } });
    const srcPort = byName.get('srcPort')?.[0];
    const dstPort = byName.get('dstPort')?.[0];
    if (srcPort && dstPort) table.push({ name: `${prefix}.port`, label: `${layerTitles[kind]} source or destination port`, type: 'number', access: { kind: 'either', layer: kind, fields: [srcPort, dstPort] } });
  }
  table.push(
    { name: 'data', label: 'Payload bytes present', type: 'protocol', access: { kind: 'layer', layer: 'data' } },
    { name: 'data.len', label: 'Payload length in bytes', type: 'number', access: { kind: 'data-len' } },
    { name: 'match.rtt', label: 'Round trip in ms, on a reply matched to its request', type: 'number', access: { kind: 'match', what: 'rtt' } },
    { name: 'match.reply_in', label: 'No. of the reply, on a request', type: 'number', access: { kind: 'match', what: 'reply' } },
    { name: 'match.request_in', label: 'No. of the request, on a reply', type: 'number', access: { kind: 'match', what: 'request' } },
  );
  const canonical = new Map(table.map((entry) => [entry.name.toLowerCase(), entry]));
  const aliases: ResolvedField[] = [];
  for (const [prefix, names] of Object.entries(wiresharkNames)) {
    for (const [alias, target] of Object.entries(names)) {
      const entry = canonical.get(`${prefix}.${target}`.toLowerCase());
      if (entry) aliases.push({ ...entry, name: `${prefix}.${alias}`, aliasOf: entry.name });
    }
  }
  for (const [alias, target] of [['icmp.resptime', 'match.rtt'], ['icmp.resp_in', 'match.reply_in'], ['icmp.resp_to', 'match.request_in']]) {
    const entry = canonical.get(target) as ResolvedField;
    aliases.push({ ...entry, name: alias, aliasOf: entry.name });
  }
  return [...table, ...aliases];
}

const table = buildTable();
const byLowerName = new Map(table.map((entry) => [entry.name.toLowerCase(), entry]));

/** Every name a display filter knows, for completion: the model's names first, then Wireshark spellings. */
export function displayFilterFields(): DisplayFilterField[] {
  return table.map(({ name, label, type, aliasOf }) => (aliasOf ? { name, label, type, aliasOf } : { name, label, type }));
}

/** The field a name stands for (any case; `ipv4.` = `ip.`, `payload` = `data`), or undefined. */
export function resolveField(name: string): ResolvedField | undefined {
  let lower = name.toLowerCase();
  if (lower === 'ipv4' || lower.startsWith('ipv4.')) lower = 'ip' + lower.slice(4);
  if (lower === 'payload' || lower.startsWith('payload.')) lower = 'data' + lower.slice(7);
  return byLowerName.get(lower);
}

/** The known name closest to a misspelt one (`icmp.tpye` → `icmp.type`), if any is close. */
export function suggestField(name: string): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(3, Math.floor(lower.length / 4)));
  for (const entry of table) {
    const distance = editDistance(lower, entry.name.toLowerCase(), bestDistance);
    if (distance <= bestDistance && (best === undefined || distance < bestDistance)) {
      best = entry.name;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance (a swap of two neighbours counts one), giving up past `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, before[j - 2] + 1);
      current.push(value);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length];
}
