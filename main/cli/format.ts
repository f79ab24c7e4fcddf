// Text output in the style of iputils ping(8), traceroute(8) and tshark's one-line
// summary. Pure functions of the engine's results, unit-tested on their own.
import type { Hop, LogRow, PingReply, PingStatistics } from '../../common/contract';

// ---- ping -------------------------------------------------------------------------

/** `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.` (IPv6: `PING ::1 (::1) 56 data bytes`, as iputils prints it). */
export function pingHeader(name: string, address: string, family: 4 | 6, size: number): string {
  return family === 4 ? `PING ${name} (${address}) ${size}(${size + 28}) bytes of data.` : `PING ${name} (${address}) ${size} data bytes`;
}

/** iputils' precision: 3 decimals below 1 ms, 2 below 10, 1 below 100, none above. */
export function pingTime(ms: number): string {
  if (ms >= 100 - 0.05) return String(Math.round(ms));
  if (ms >= 10 - 0.005) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** One reply line, or null for a timeout (ping(8) prints nothing for those). */
export function pingReplyLine(reply: PingReply): string | null {
  if (reply.status === 'reply') {
    const ttl = reply.ttl !== undefined ? ` ttl=${reply.ttl}` : '';
    return `${reply.bytes ?? 0} bytes from ${reply.from}: icmp_seq=${reply.sequence}${ttl} time=${pingTime(reply.rtt ?? 0)} ms`;
  }
  if (reply.status === 'error') {
    return reply.from ? `From ${reply.from} icmp_seq=${reply.sequence} ${reply.error ?? 'error'}` : `ping: icmp_seq=${reply.sequence}: ${reply.error ?? 'send failed'}`;
  }
  return null;
}

/** printf's %g: at most 6 significant digits, no trailing zeros. */
export function percentG(value: number): string {
  return String(Number(value.toPrecision(6)));
}

/** The two (or three) closing lines of ping(8). */
export function pingStatisticsLines(name: string, statistics: PingStatistics, elapsedMs: number): string[] {
  const { transmitted, received, errors } = statistics;
  const loss = transmitted > 0 ? (100 * (transmitted - received)) / transmitted : 0;
  const lines = [
    `--- ${name} ping statistics ---`,
    `${transmitted} packets transmitted, ${received} received, ${errors > 0 ? `+${errors} errors, ` : ''}${percentG(loss)}% packet loss, time ${Math.round(elapsedMs)}ms`,
  ];
  if (received > 0 && statistics.min !== null) {
    const f = (value: number | null) => (value ?? 0).toFixed(3);
    lines.push(`rtt min/avg/max/mdev = ${f(statistics.min)}/${f(statistics.avg)}/${f(statistics.max)}/${f(statistics.mdev)} ms`);
  }
  return lines;
}

// ---- traceroute ---------------------------------------------------------------------

/** Bytes of one probe on the wire, IP header included, as traceroute(8) counts them. */
export function probeSize(family: 4 | 6, probe: 'icmp' | 'udp' | 'tcp'): number {
  const ip = family === 4 ? 20 : 40;
  // The engine's probes: 32 payload bytes after an 8-byte ICMP or UDP header; a bare 20-byte TCP SYN.
  return probe === 'tcp' ? ip + 20 : ip + 8 + 32;
}

export function tracerouteHeader(name: string, address: string, maxHops: number, packetBytes: number): string {
  return `traceroute to ${name} (${address}), ${maxHops} hops max, ${packetBytes} byte packets`;
}

/** traceroute(8)'s marks after the time, by HopProbe.kind. */
const annotations: Record<string, string> = {
  'unreachable-net': ' !N',
  'unreachable-host': ' !H',
  'unreachable-scope': ' !H',
  'unreachable-protocol': ' !P',
  'unreachable-fragmentation': ' !F',
  'unreachable-source-route': ' !S',
  'unreachable-prohibited': ' !X',
  'unreachable-precedence': ' !V',
  'unreachable-precedence-cutoff': ' !C',
  // What engines before the codes were told apart reported for every unreachable.
  unreachable: ' !H',
  'packet-too-big': ' !F',
};

function annotation(kind: string | undefined): string {
  if (kind === undefined) return '';
  const mark = annotations[kind];
  if (mark !== undefined) return mark;
  // Codes traceroute(8) has no letter for: !<code>.
  const code = /^unreachable-code-(\d+)$/.exec(kind);
  return code ? ` !<${code[1]}>` : '';
}

/** ` 1  198.18.1.2  0.123 ms  0.098 ms  0.101 ms`; `*` for a probe without an answer; the address again when it changes. */
export function tracerouteHopLine(hop: Hop): string {
  let line = `${String(hop.ttl).padStart(2)} `;
  let last: string | undefined;
  for (const probe of hop.probes) {
    if (probe.status !== 'reply' || probe.responder === undefined) {
      line += ' *';
      continue;
    }
    if (probe.responder !== last) {
      line += ` ${probe.responder}`;
      last = probe.responder;
    }
    line += `  ${(probe.rtt ?? 0).toFixed(3)} ms${annotation(probe.kind)}`;
  }
  return line;
}

// ---- capture -------------------------------------------------------------------------------

/** tshark's one-line form: number, seconds since the first packet, source → destination, protocol, length, info. */
export function packetLine(number: number, row: LogRow, firstTime: number): string {
  const seconds = ((row.time - firstTime) / 1000).toFixed(6);
  const source = row.source || '?';
  const destination = row.destination || '?';
  return `${String(number).padStart(5)} ${seconds.padStart(11)} ${source} → ${destination} ${row.protocol} ${row.length} ${row.info}`;
}
