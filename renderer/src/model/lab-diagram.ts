// A lab's map as a diagram and in words: hosts and routers in columns by their distance
// from the first host (a line stays a line, a diamond opens into two rows), links with
// their end addresses, MTU and impairments. Pure, so the layout is tested without a page.
import type { LabMap, LabMapFirewallRule, LabMapImpairment } from '../../../common/contract';

export const NODE_WIDTH = 92;
export const NODE_HEIGHT = 34;
/** Height of a line of words on the diagram. */
export const LINE_HEIGHT = 13;
/** Characters per line of a link's notes: about the room between two columns. */
export const NOTE_WIDTH = 28;
const COLUMN_GAP = 260;
const ROW_GAP = 150;
const MARGIN_X = 24;
/** Room above the top row for the first end's addresses (two lines). */
const MARGIN_TOP = 46;
/** Below the last row: "acting from here", the second end's addresses, then the notes. */
const MARGIN_BOTTOM = 52;

export interface DiagramNode {
  name: string;
  role: 'host' | 'router';
  addresses: string[];
  /** Centre. */
  x: number;
  y: number;
}

export interface DiagramLink {
  /** The left end first (text on the link then reads left to right). */
  ends: [LabMap['links'][number]['ends'][number], LabMap['links'][number]['ends'][number]];
  /** Where the line leaves the first node's box and enters the second's. */
  from: { x: number; y: number };
  to: { x: number; y: number };
  /** Degrees, -90..90. */
  angle: number;
  length: number;
  /** Lines of words under the link's middle: the MTU when not 1500, then each impairment, wrapped. */
  notes: string[];
}

export interface LabDiagram {
  width: number;
  height: number;
  nodes: DiagramNode[];
  links: DiagramLink[];
  /** Lines under the drawing, one per host rule: "r1: Time Exceeded dropped (silent hop)". */
  rules: string[];
  /** Where the first of them sits (its baseline). */
  rulesTop: number;
}

const HOW_WORDS: Record<LabMapImpairment['how'], string> = {
  netem: 'tc netem',
  tbf: 'tc tbf',
  emulator: 'userspace emulator',
  unsupported: 'not applied',
};

/** A number and its unit, never wrapped apart. */
const unit = (value: number, name: string) => `${value}\u00a0${name}`;

/** "r1→r2: loss 20 %, delay 40 ms ±5 ms, rate 1000 kbit/s (userspace emulator)" (a no-break space before each unit) */
export function impairmentWords(impairment: LabMapImpairment): string {
  const parts: string[] = [];
  if (impairment.lossPercent !== undefined) parts.push(`loss ${unit(impairment.lossPercent, '%')}`);
  if (impairment.delayMs !== undefined) parts.push(`delay ${unit(impairment.delayMs, 'ms')}${impairment.jitterMs ? ` ±${unit(impairment.jitterMs, 'ms')}` : ''}`);
  if (impairment.rateKbit !== undefined) parts.push(`rate ${unit(impairment.rateKbit, 'kbit/s')}`);
  const how = impairment.how === 'unsupported' ? `not applied: ${impairment.reason}` : HOW_WORDS[impairment.how];
  return `${impairment.from}→${impairment.to}: ${parts.join(', ') || 'none'} (${how})`;
}

/** What a link carries besides its addresses, in words: "MTU 1280", one line per impaired direction. */
export function linkNotes(link: LabMap['links'][number]): string[] {
  return [...(link.mtu !== 1500 ? [`MTU\u00a0${link.mtu}`] : []), ...link.impairments.map(impairmentWords)];
}

const ICMP_TYPE_WORDS: Record<NonNullable<LabMapFirewallRule['match']['icmpType']>, string> = {
  'echo-request': 'Echo Request',
  'echo-reply': 'Echo Reply',
  'time-exceeded': 'Time Exceeded',
  'destination-unreachable': 'Destination Unreachable',
};

/** How traceroute marks a hop that answers with this reject. */
const REJECT_MARK: Record<NonNullable<LabMapFirewallRule['rejectWith']>, string> = {
  'admin-prohibited': ' (!X)',
  'host-unreachable': ' (!H)',
  'no-route': ' (!N)',
  'port-unreachable': '',
  'tcp-reset': '',
};

/** "rejects UDP with admin-prohibited (!X)", "Time Exceeded dropped (silent hop)", "TCP to port 9 dropped". */
export function firewallWords(rule: LabMapFirewallRule): string {
  const { protocol, icmpType, dport } = rule.match;
  const what = icmpType ? ICMP_TYPE_WORDS[icmpType] : protocol ? `${protocol.toUpperCase()}${dport !== undefined ? ` to port ${dport}` : ''}` : 'every packet';
  // Only the hook says whether the host's own packets or the ones it forwards are meant.
  const where = rule.hook === 'output' ? (icmpType ? '' : ' it sends') : rule.hook === 'input' ? ' addressed to it' : '';
  if (rule.action === 'drop') return `${what}${where} dropped${icmpType === 'time-exceeded' ? ' (silent hop)' : ''}`;
  const code = rule.rejectWith ?? 'port-unreachable';
  return `rejects ${what}${where} with ${code === 'tcp-reset' ? 'a TCP reset' : code}${REJECT_MARK[code]}`;
}

/** "ICMP rate limit 10/s" (one error per intervalMs), with the ICMPv4 types it covers when the topology names them. */
export function rateLimitWords(limit: NonNullable<LabMap['hosts'][number]['icmpRateLimit']>): string | undefined {
  if (limit.intervalMs === 0) return undefined;
  const perSecond = 1000 / limit.intervalMs;
  const rate = Number.isInteger(perSecond) ? `${perSecond}/s` : `1 per ${limit.intervalMs} ms`;
  return `ICMP rate limit ${rate}${limit.types?.length ? ` (${limit.types.join(', ')})` : ''}`;
}

/** A host's rules in words, each line starting with its name. */
export function hostRuleWords(host: LabMap['hosts'][number]): string[] {
  const rate = host.icmpRateLimit && rateLimitWords(host.icmpRateLimit);
  return [...(host.firewall ?? []).map(firewallWords), ...(rate ? [rate] : [])].map((words) => `${host.name}: ${words}`);
}

/** Splits words into lines of at most `width` characters (a longer word keeps its own line). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Column of each host: hops from the first host (role 'host'), breadth first; unreachable ones after the rest. */
function columns(map: LabMap): Map<string, number> {
  const neighbours = new Map<string, string[]>(map.hosts.map((h) => [h.name, []]));
  for (const link of map.links) {
    const [a, b] = link.ends;
    neighbours.get(a.host)?.push(b.host);
    neighbours.get(b.host)?.push(a.host);
  }
  const column = new Map<string, number>();
  let next = 0;
  const start = map.hosts.find((h) => h.role === 'host') ?? map.hosts[0];
  for (const root of [start, ...map.hosts]) {
    if (!root || column.has(root.name)) continue;
    const queue = [root.name];
    column.set(root.name, next);
    let deepest = next;
    while (queue.length > 0) {
      const name = queue.shift() as string;
      for (const neighbour of neighbours.get(name) ?? []) {
        if (column.has(neighbour)) continue;
        const depth = (column.get(name) as number) + 1;
        column.set(neighbour, depth);
        deepest = Math.max(deepest, depth);
        queue.push(neighbour);
      }
    }
    next = deepest + 1;
  }
  return column;
}

/** Where the segment from a box's centre toward (dx, dy) leaves the box. */
function boxExit(x: number, y: number, dx: number, dy: number): { x: number; y: number } {
  const scale = Math.min(dx === 0 ? Infinity : NODE_WIDTH / 2 / Math.abs(dx), dy === 0 ? Infinity : NODE_HEIGHT / 2 / Math.abs(dy));
  return { x: x + dx * scale, y: y + dy * scale };
}

export function layoutLab(map: LabMap): LabDiagram {
  const column = columns(map);
  const byColumn = new Map<number, string[]>();
  for (const host of map.hosts) {
    const c = column.get(host.name) as number;
    byColumn.set(c, [...(byColumn.get(c) ?? []), host.name]);
  }
  const rows = Math.max(1, ...[...byColumn.values()].map((names) => names.length));
  const columnCount = Math.max(1, byColumn.size === 0 ? 1 : Math.max(...byColumn.keys()) + 1);
  const middle = MARGIN_TOP + NODE_HEIGHT / 2 + ((rows - 1) * ROW_GAP) / 2;
  const nodes: DiagramNode[] = map.hosts.map((host) => {
    const c = column.get(host.name) as number;
    const inColumn = byColumn.get(c) as string[];
    const row = inColumn.indexOf(host.name);
    return {
      name: host.name,
      role: host.role,
      addresses: host.addresses,
      x: MARGIN_X + NODE_WIDTH / 2 + c * COLUMN_GAP,
      y: middle + (row - (inColumn.length - 1) / 2) * ROW_GAP,
    };
  });
  const at = new Map(nodes.map((node) => [node.name, node]));
  const links: DiagramLink[] = [];
  for (const link of map.links) {
    const [first, second] = link.ends;
    const a = at.get(first.host);
    const b = at.get(second.host);
    if (!a || !b) continue;
    // Left to right, so the words along the line stay upright.
    const swap = b.x < a.x || (b.x === a.x && b.y < a.y);
    const [left, right] = swap ? [b, a] : [a, b];
    const dx = right.x - left.x;
    const dy = right.y - left.y;
    const from = boxExit(left.x, left.y, dx, dy);
    const to = boxExit(right.x, right.y, -dx, -dy);
    links.push({
      ends: swap ? [second, first] : [first, second],
      from,
      to,
      angle: (Math.atan2(dy, dx) * 180) / Math.PI,
      length: Math.hypot(to.x - from.x, to.y - from.y),
      notes: linkNotes(link).flatMap((note) => wrapWords(note, NOTE_WIDTH)),
    });
  }
  const noteLines = Math.max(0, ...links.map((link) => link.notes.length));
  const drawn = MARGIN_TOP + NODE_HEIGHT + (rows - 1) * ROW_GAP + MARGIN_BOTTOM + noteLines * LINE_HEIGHT;
  const rules = map.hosts.flatMap(hostRuleWords);
  return {
    width: 2 * MARGIN_X + NODE_WIDTH + (columnCount - 1) * COLUMN_GAP,
    height: drawn + (rules.length > 0 ? (rules.length + 0.5) * LINE_HEIGHT : 0),
    nodes,
    links,
    rules,
    rulesTop: drawn + LINE_HEIGHT / 2,
  };
}
