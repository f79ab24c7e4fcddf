// mtr's report (mtr --report) and tracepath's lines, from the engine's mtr and pmtu runs.
//   Start: 2026-12-03T18:40:00.000Z
//   HOST: lab-client                  Loss%   Snt   Last   Avg  Best  Wrst StDev
//     1.|-- 198.18.1.2                 0.0%     5    0.1   0.1   0.1   0.1   0.0
// Columns as mtr's: Loss% right-aligned in 6, Snt in 6, Last in 7, the rest in 6, times in ms with one decimal.
import type { MtrHop, PmtuHop } from '../../common/contract';

/** mtr's host column: 33 wide, wider for long (IPv6) addresses so the numbers stay aligned. */
const HOST_COLUMN = 33;
const COLUMNS: [title: string, width: number][] = [
  ['Loss%', 6],
  ['Snt', 6],
  ['Last', 7],
  ['Avg', 6],
  ['Best', 6],
  ['Wrst', 6],
  ['StDev', 6],
];

function hostCell(hop: MtrHop): string {
  return `${String(hop.ttl).padStart(3)}.|-- ${hop.address ?? '???'}`;
}

function hostWidth(hops: MtrHop[]): number {
  return Math.max(HOST_COLUMN, ...hops.map((hop) => hostCell(hop).length + 1));
}

const ms = (value: number | undefined): string => (value ?? 0).toFixed(1);

/** The header line: `HOST: NAME` then the column titles. */
export function mtrReportHeader(localName: string, hops: MtrHop[]): string {
  const width = hostWidth(hops);
  return `HOST: ${localName}`.padEnd(width) + COLUMNS.map(([title, columnWidth]) => title.padStart(columnWidth)).join('');
}

/** One hop's line; a hop that never answered shows ??? and zeros, as mtr does. */
export function mtrReportLine(hop: MtrHop, width: number): string {
  const cells = [`${hop.lossPercent.toFixed(1)}%`, String(hop.sent), ms(hop.lastMs), ms(hop.avgMs), ms(hop.bestMs), ms(hop.worstMs), ms(hop.stdevMs)];
  return hostCell(hop).padEnd(width) + cells.map((cell, i) => cell.padStart(COLUMNS[i][1])).join('');
}

/** The whole report, as mtr --report prints it. Extra responders of a hop (ECMP) follow on their own lines. */
export function mtrReport(localName: string, startedAt: number, hops: MtrHop[]): string[] {
  const width = hostWidth(hops);
  const lines = [`Start: ${new Date(startedAt).toISOString()}`, mtrReportHeader(localName, hops)];
  for (const hop of hops) {
    lines.push(mtrReportLine(hop, width));
    for (const other of hop.addresses.slice(1)) lines.push(`       ${other}`);
  }
  return lines;
}

// ---- pmtu (tracepath) -----------------------------------------------------------------------------

const PMTU_COLUMN = 50;

/** ` 1?: [LOCALHOST]   pmtu 1500`, ` 2:  198.18.1.2   0.061ms pmtu 1280`, ` 3:  198.18.3.2   0.090ms reached`. */
export function pmtuHopLine(hop: PmtuHop): string {
  const ttl = String(hop.ttl).padStart(2);
  if (hop.address === undefined) {
    if (hop.note === 'no reply') return `${ttl}:  no reply`;
    return `${ttl}?: [LOCALHOST]`.padEnd(PMTU_COLUMN) + `pmtu ${hop.mtu}`;
  }
  const rtt = hop.rttMs === undefined ? '' : `${hop.rttMs.toFixed(3)}ms`;
  const tooBig = hop.note === 'Fragmentation Needed' || hop.note === 'Packet Too Big';
  const tail = tooBig ? ` pmtu ${hop.mtu}` : hop.note === 'reached' ? ' reached' : hop.note ? ` ${hop.note}` : '';
  return `${ttl}:  ${hop.address}`.padEnd(PMTU_COLUMN) + rtt + tail;
}

/** The closing line: the hops and, last, the path MTU (`pmtu 1280`). */
export function pmtuSummary(hops: PmtuHop[], pathMtu: number | undefined, reached: boolean): string {
  const last = hops.length ? hops[hops.length - 1].ttl : 0;
  const mtu = pathMtu === undefined ? 'pmtu unknown' : `pmtu ${pathMtu}`;
  return reached ? `     Resume: hops ${last}, ${mtu}` : `     Not reached after ${last} hops: ${mtu}`;
}
