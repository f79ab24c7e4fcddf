// What works now, in words for people: per experiment from the engine's capabilities, the
// way each works ("via"), whether a chosen probe or packet can be sent, and the remedy.
// Pure: the banner and the panels read the same answers.
import type { Capabilities, ExperimentCapability, ExperimentName, HelperStatus, Via } from '../../../common/contract';

/** How something works, as the banner and the panels say it. */
export function viaWords(via: Via | 'capability' | 'pkexec' | 'sudo' | null | undefined): string {
  switch (via) {
    case 'raw':
      return 'raw socket';
    case 'helper':
      return 'socket helper';
    case 'datagram':
      return 'ping socket';
    case 'error-queue':
      return 'error queue (no privileges)';
    case 'capability':
      return 'installed helper (file capability)';
    case 'pkexec':
      return 'pkexec';
    case 'sudo':
      return 'sudo';
    default:
      return 'unknown';
  }
}

const LABELS: Record<ExperimentName, string> = {
  ping: 'Ping',
  'traceroute-icmp': 'Traceroute (ICMP)',
  'traceroute-udp': 'Traceroute (UDP)',
  'traceroute-tcp': 'Traceroute (TCP)',
  'send-raw': 'Send a crafted packet',
  capture: 'Capture',
  'socket-options': 'Socket options',
};

const FALLBACK_REMEDY = 'Raw sockets need root or CAP_NET_RAW, or the socket helper: choose “Allow raw sockets”.';

/**
 * The per-experiment list. An engine from before the socket helper sends none: it is derived
 * from raw/datagram then, so the banner never shows more than the engine said.
 */
export function experimentsOf(capabilities: Capabilities): ExperimentCapability[] {
  if (Array.isArray(capabilities.experiments)) return capabilities.experiments;
  const anyDatagram = Boolean(capabilities.datagram?.ipv4 || capabilities.datagram?.ipv6);
  const remedy = capabilities.remedy ?? FALLBACK_REMEDY;
  return (Object.keys(LABELS) as ExperimentName[]).map((experiment) => {
    const datagramOk = anyDatagram && (experiment === 'ping' || experiment === 'socket-options');
    const via: Via | null = capabilities.raw ? 'raw' : datagramOk ? 'datagram' : null;
    return { experiment, label: LABELS[experiment], works: via !== null, via, remedy: via === 'raw' ? null : remedy };
  });
}

export function experiment(capabilities: Capabilities, name: ExperimentName): ExperimentCapability {
  return (
    experimentsOf(capabilities).find((entry) => entry.experiment === name) ?? {
      experiment: name,
      label: LABELS[name],
      works: false,
      via: null,
      remedy: capabilities.remedy ?? FALLBACK_REMEDY,
    }
  );
}

/** Raw sockets can be had now: this process's own, or the running helper's. */
export function rawAvailable(capabilities: Capabilities, helper: HelperStatus | null): boolean {
  if (capabilities.raw) return true;
  // The helper's own state is fresher than the capabilities read before its last change.
  if (helper) return helper.state === 'running';
  return (capabilities.modes ?? []).includes('raw');
}

/** Whether "Allow raw sockets" is worth offering: no raw sockets now, and a helper can exist here. */
export function canAllowRaw(capabilities: Capabilities, helper: HelperStatus | null): boolean {
  return !rawAvailable(capabilities, helper) && helper !== null;
}

export type Level = 'ok' | 'warn' | 'error';

export interface Summary {
  level: Level;
  /** The one line the banner shows. */
  text: string;
  works: ExperimentCapability[];
  missing: ExperimentCapability[];
  /** Working experiments grouped by how they work, in first-seen order. */
  byVia: { via: Via; labels: string[] }[];
}

export function summarize(capabilities: Capabilities, helper: HelperStatus | null): Summary {
  const list = experimentsOf(capabilities);
  const works = list.filter((entry) => entry.works);
  const missing = list.filter((entry) => !entry.works);
  const byVia: Summary['byVia'] = [];
  for (const entry of works) {
    const via = entry.via ?? 'raw';
    const group = byVia.find((candidate) => candidate.via === via);
    if (group) group.labels.push(entry.label);
    else byVia.push({ via, labels: [entry.label] });
  }
  const level: Level = missing.length === 0 ? 'ok' : works.length > 0 ? 'warn' : 'error';
  let text: string;
  if (missing.length === 0) {
    const throughHelper = !capabilities.raw && (helper?.state === 'running' || works.some((entry) => entry.via === 'helper'));
    text = throughHelper ? 'Raw sockets through the socket helper: every experiment works.' : 'Raw sockets available: every experiment works.';
  } else if (works.length === 0) {
    text = 'No raw sockets and no unprivileged way: no experiment works now.';
  } else {
    text = `No raw sockets: ${works.length} of ${list.length} experiments work without them.`;
  }
  return { level, text, works, missing, byVia };
}

/** Whether a traceroute with this probe and mode can start now, and what to do if not. */
export function tracerouteAvailability(
  capabilities: Capabilities,
  helper: HelperStatus | null,
  probe: 'icmp' | 'udp' | 'tcp',
  mode: 'auto' | 'raw' | 'error-queue',
  family: 'ipv4' | 'ipv6',
): { works: boolean; via: Via | null; remedy: string | null; needsRaw: boolean } {
  const entry = experiment(capabilities, `traceroute-${probe}`);
  const raw = rawAvailable(capabilities, helper);
  const rawVia: Via = capabilities.raw ? 'raw' : 'helper';
  const rawRemedy = experiment(capabilities, 'send-raw').remedy ?? entry.remedy;
  if (mode === 'raw') return raw ? { works: true, via: rawVia, remedy: null, needsRaw: true } : { works: false, via: null, remedy: rawRemedy, needsRaw: true };
  const linux = capabilities.platform === 'linux';
  const datagram = family === 'ipv4' ? capabilities.datagram?.ipv4 : capabilities.datagram?.ipv6;
  const errorQueue = linux && (probe !== 'icmp' || Boolean(datagram));
  if (mode === 'error-queue') {
    if (errorQueue) return { works: true, via: 'error-queue', remedy: null, needsRaw: false };
    const remedy = !linux
      ? `The unprivileged traceroute reads the kernel's error queue, which only Linux offers (this is ${capabilities.platform}).`
      : `ICMP probes without privileges need a ping socket: sudo sysctl -w net.ipv4.ping_group_range='0 2147483647'`;
    return { works: false, via: null, remedy, needsRaw: false };
  }
  if (raw) return { works: true, via: rawVia, remedy: null, needsRaw: false };
  if (errorQueue) return { works: true, via: 'error-queue', remedy: null, needsRaw: false };
  return { works: false, via: null, remedy: entry.remedy ?? rawRemedy, needsRaw: true };
}

/** Whether ping in this mode can run now. */
export function pingAvailability(
  capabilities: Capabilities,
  helper: HelperStatus | null,
  mode: 'auto' | 'raw' | 'datagram',
  family: 'ipv4' | 'ipv6',
): { works: boolean; remedy: string | null; needsRaw: boolean } {
  const raw = rawAvailable(capabilities, helper);
  const datagram = Boolean(family === 'ipv4' ? capabilities.datagram?.ipv4 : capabilities.datagram?.ipv6);
  const pingRemedy = experiment(capabilities, 'ping').remedy;
  if (mode === 'raw') return { works: raw, remedy: raw ? null : experiment(capabilities, 'send-raw').remedy, needsRaw: true };
  if (mode === 'datagram') {
    return { works: datagram, remedy: datagram ? null : "Ping sockets are not allowed for your group: sudo sysctl -w net.ipv4.ping_group_range='0 2147483647'", needsRaw: false };
  }
  return { works: raw || datagram, remedy: raw || datagram ? null : pingRemedy, needsRaw: !datagram };
}

/**
 * Whether a packet with these needs can be sent through a new socket now: raw sockets, or for
 * an ICMP/ICMPv6 echo request a ping socket (the engine strips the IP header; the kernel sets
 * the identifier).
 */
export function sendAvailability(
  capabilities: Capabilities,
  helper: HelperStatus | null,
  needs: { family: 'ipv4' | 'ipv6'; protocol: number; echoRequest: boolean },
): { works: boolean; via: Via | null; remedy: string | null } {
  if (rawAvailable(capabilities, helper)) return { works: true, via: capabilities.raw ? 'raw' : 'helper', remedy: null };
  const icmp = (needs.family === 'ipv4' && needs.protocol === 1) || (needs.family === 'ipv6' && needs.protocol === 58);
  const datagram = needs.family === 'ipv4' ? capabilities.datagram?.ipv4 : capabilities.datagram?.ipv6;
  if (icmp && needs.echoRequest && datagram) return { works: true, via: 'datagram', remedy: null };
  return { works: false, via: null, remedy: experiment(capabilities, 'send-raw').remedy ?? capabilities.remedy ?? FALLBACK_REMEDY };
}

/** An argument vector as one line a user can paste into a shell. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}
