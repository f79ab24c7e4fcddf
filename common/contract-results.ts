// The contract's result shapes: what the engine's methods return and its events carry.
// TypeScript only (the engine produces them; nothing validates them at run time). Part of
// the contract: import them from './contract', which re-exports this file.


/** How a socket or an experiment gets what it needs. */
export type Via =
  /** a raw socket this process may open itself (root or CAP_NET_RAW) */
  | 'raw'
  /** a raw socket opened by the socket helper and handed over */
  | 'helper'
  /** an unprivileged ICMP datagram ("ping") socket */
  | 'datagram'
  /** ordinary UDP/TCP/ping sockets that read ICMP errors from the kernel's error queue (IP_RECVERR) */
  | 'error-queue';

export const HelperStates = ['not-started', 'asking', 'running', 'refused', 'failed', 'stopped'] as const;
export type HelperState = (typeof HelperStates)[number];

/** The socket helper: a small privileged program that opens raw sockets for the unprivileged workbench. */
export interface HelperStatus {
  state: HelperState;
  /**
   * How it holds (or would hold) privilege: 'capability' (installed with cap_net_raw, never asks for a
   * password), or the launcher that elevates it on demand: 'pkexec', 'sudo'. null before a start was tried.
   */
  via: 'capability' | 'pkexec' | 'sudo' | null;
  /** The helper program in use or found; null when none was found. */
  path: string | null;
  /** The helper's process id while it runs. */
  pid: number | null;
  /** Capabilities it keeps while running, e.g. ['net_raw']. */
  capabilities: string[];
  /** Why it is not running (refused, failed, stopped) or what it waits for (asking), in words for a user. */
  reason: string | null;
  /** The command run (or to run by hand) to start it, as an argument vector. */
  command: string[] | null;
  /** Ways to start it on this machine: an installed helper with its capability, pkexec, sudo. */
  launchers: { installed: boolean; pkexec: boolean; sudo: boolean };
}

export const ExperimentNames = ['ping', 'traceroute-icmp', 'traceroute-udp', 'traceroute-tcp', 'send-raw', 'capture', 'socket-options'] as const;
export type ExperimentName = (typeof ExperimentNames)[number];

/** Whether one experiment works now, how, and what would make it work (better). */
export interface ExperimentCapability {
  experiment: ExperimentName;
  /** For people: 'Ping', 'Traceroute (UDP)', 'Send a crafted packet'… */
  label: string;
  works: boolean;
  /** How it works now; null when it does not. */
  via: Via | null;
  /** The exact remedy where it does not work, or how to get the raw path where it works without it; null when nothing is missing. */
  remedy: string | null;
}

export interface Capabilities {
  platform: string;
  uid: number | null;
  /** Raw sockets can be opened by this process itself (root or CAP_NET_RAW). */
  raw: boolean;
  /** Unprivileged ICMP datagram sockets can be opened. */
  datagram: { ipv4: boolean; ipv6: boolean };
  /** net.ipv4.ping_group_range, where the OS has one. */
  pingGroupRange: [number, number] | null;
  /** Socket kinds available now: raw (own or through the running helper) and datagram. */
  modes: ('raw' | 'datagram')[];
  /** What to do to get what is missing; null when nothing is. */
  remedy: string | null;
  /** The socket helper's state. */
  helper: HelperStatus;
  /** Per experiment: works now, how, and the remedy. */
  experiments: ExperimentCapability[];
}

export interface SocketCounters {
  sent: number;
  received: number;
  sendErrors: number;
  bytesSent: number;
  bytesReceived: number;
  /** Packets the kernel dropped because the socket's receive buffer was full (SO_RXQ_OVFL), since it opened. */
  drops?: number;
}

export interface SocketInfo {
  socketId: string;
  family: 'ipv4' | 'ipv6';
  protocol: number;
  mode: 'raw' | 'datagram';
  /** Where the socket came from: this process ('raw' or 'datagram') or the socket helper. */
  via: 'raw' | 'helper' | 'datagram';
  receivePaused: boolean;
  closed: boolean;
  counters: SocketCounters;
  /** The capture filter (tcpdump's syntax) the kernel runs on the socket, as the user gave it; null: none. */
  filter: string | null;
  /**
   * The engine's own traffic the kernel also filters out of this socket (ANDed onto `filter`),
   * e.g. 'tcp port 47801 and host 127.0.0.1' for the browser host's WebSocket; absent when none.
   */
  excludedTraffic?: string;
  /** The lab host whose network namespace the socket was opened in (see startLab); absent: the workbench's own. */
  host?: string;
}

export interface OptionReading {
  name: string;
  /** number for int/bool/timeval (ms), string for text and bytes (hex); null when unreadable. */
  value: number | string | null;
  error?: { code: string; message: string };
}

/** One packet of a send job (a stream has several): how many went out and how many were answered. */
export interface StreamCounters {
  /** Words for people: 'ICMP echo request to 127.0.0.1 (sequence +1)'. */
  description: string;
  total: number;
  sent: number;
  /** Requests with a matched answer (echo reply, ICMP error quoting it, SYN-ACK/RST: the log's request/response links). */
  answered: number;
  /** Requests whose answer window (answers.timeoutMs, else 2000 ms) passed without an answer. */
  lost: number;
  /** Over answered requests; null before the first answer. */
  rttMs: { min: number; avg: number; max: number } | null;
}

export interface SendJobInfo {
  jobId: string;
  socketId: string;
  address: string;
  total: number;
  sent: number;
  errors: number;
  /** 'waiting': started with `answers`, every packet sent, the answer window still open. */
  state: 'running' | 'waiting' | 'done' | 'cancelled' | 'failed';
  error?: { code: string; message: string };
  startedAt: number;
  finishedAt?: number;
  // The engine always fills the fields below; they are optional only so that older literals still typecheck.
  /** 'ICMP echo request ×50 to 127.0.0.1, sequence +1' / 'stream of 3 packets (interleaved) to ::1'. */
  description?: string;
  /** One entry per packet of the stream (one for a single packet). */
  packets?: StreamCounters[];
  /** Sums over packets. */
  answered?: number;
  lost?: number;
  /** true when started with `answers` (results through sendResults). */
  matching?: boolean;
}

/** The answered and unanswered requests of a send-and-match job (Scapy's sr()); ids are log row ids. */
export interface SendResults {
  jobId: string;
  /** The answer window closed (state done/cancelled/failed): nothing changes any more. */
  final: boolean;
  answeredTotal: number;
  /** Sent and not (yet, if !final) answered. */
  unansweredTotal: number;
  /** Pairs in send order, a page: [offset, offset+limit) over answered. */
  answered: { packetIndex: number; requestId: number; replyId: number; rttMs: number; summary: string }[];
  /** A page over unanswered, in send order. */
  unanswered: { packetIndex: number; requestId: number; summary: string }[];
}

export interface LogRow {
  /** Increases by one per packet logged, never reused. */
  id: number;
  /** ms since the epoch (sub-ms precision). */
  time: number;
  direction: 'sent' | 'received' | 'imported';
  socketId: string | null;
  family: 'ipv4' | 'ipv6';
  source: string;
  destination: string;
  /** 'ICMP', 'ICMPv6', 'UDP', 'TCP' or the protocol number. */
  protocol: string;
  length: number;
  /** A short description read without a full decode, e.g. 'Echo request id=0x1a2b seq=3'. */
  info: string;
  /**
   * Request/response link (main/engine/matching.ts): on a request the row of its reply ("reply in #N"),
   * on a reply (echo reply, ICMP error quoting a probe, SYN-ACK/RST) its request ("request in #M")
   * and the round trip in ms between the two rows' kernel timestamps. A request row sent to clients
   * before its reply arrived learns its replyId from the reply row's requestId.
   */
  match?: { requestId?: number; replyId?: number; rttMs?: number };
  /** The network interface it was captured on (packet-socket captures, imported files that name one). */
  interface?: string;
  /** Imported from a file that gave its direction (direction is then 'sent' or 'received'). */
  imported?: true;
  /** The lab host it was seen on (its socket's or capture's host); absent: the workbench's own namespace. */
  host?: string;
}

/** A whole-packet capture: a packet socket on one interface or all, both directions (see startCapture). */
export interface CaptureInfo {
  /** Also the socketId of its log rows. */
  captureId: string;
  /** null: every interface. */
  interface: string | null;
  protocol: 'ip' | 'ipv4' | 'ipv6';
  /** The capture filter (tcpdump's syntax) the kernel runs, as given; null: none. */
  filter: string | null;
  /** The engine's own traffic also filtered out (ANDed onto `filter`), as for sockets; absent when none. */
  excludedTraffic?: string;
  state: 'running' | 'stopped' | 'failed';
  error?: { code: string; message: string };
  counters: {
    /** Packets the kernel delivered as received (inbound). */
    received: number;
    /** Packets it delivered as sent by this host (outbound). */
    sent: number;
    bytes: number;
    /** Packets the kernel dropped because the receive buffer was full (SO_RXQ_OVFL). */
    kernelDrops: number;
  };
  startedAt: number;
  stoppedAt?: number;
  /** The lab host it captures in (interface names are that host's); absent: the workbench's own namespace. */
  host?: string;
}

/** What the log kept and lost: the GUI's status bar. */
export interface LogStatus {
  capacity: number;
  /** Rows in the log now. */
  kept: number;
  /** Rows logged since the engine started (or the log was cleared). */
  logged: number;
  /** Rows removed from the full log before any client received them (ring overflow). */
  overflowed: number;
  /** Packets the kernel dropped on every socket and capture, open or closed (SO_RXQ_OVFL). */
  kernelDrops: number;
}

/** Rows of the log that pass a display filter (filterLog). */
export interface DisplayFilterPage {
  /** Ids of the matching rows among those scanned, oldest first. */
  ids: number[];
  /** The first id not scanned yet: call again from here for the rest (and for rows logged later). */
  nextId: number;
}

export interface LogPage {
  /** Rows in the ring that match the filter. */
  total: number;
  rows: LogRow[];
  capacity: number;
}

/** A decoded layer made JSON-safe: byte values as hex strings. */
export interface DecodedLayerJson {
  kind: string;
  name?: string;
  range: { start: number; end: number };
  fields?: {
    name: string;
    label: string;
    type: string;
    value: number | string;
    display: string;
    range: { start: number; end: number };
    bits?: { start: number; end: number };
  }[];
  checksum?: { status: 'correct' | 'wrong' | 'unverified'; value: number; expected?: number; reason?: string };
  problems?: string[];
  quoted?: DecodedLayerJson[];
  reason?: string;
  data?: string;
  note?: string;
}

export interface DecodedEntry {
  row: LogRow;
  hex: string;
  summary: string;
  layers: DecodedLayerJson[];
}

export interface PingReply {
  sequence: number;
  status: 'reply' | 'timeout' | 'error';
  from?: string;
  /** Round trip in ms. */
  rtt?: number;
  ttl?: number;
  bytes?: number;
  /** ICMP error that answered instead, e.g. 'Time to live exceeded'. */
  error?: string;
}

export interface PingStatistics {
  transmitted: number;
  received: number;
  errors: number;
  loss: number;
  min: number | null;
  avg: number | null;
  max: number | null;
  mdev: number | null;
}

export interface HopProbe {
  responder?: string;
  rtt?: number;
  status: 'reply' | 'timeout';
  /**
   * What answered: 'time-exceeded', 'echo-reply', 'port-unreachable', 'tcp-synack', 'tcp-rst', 'packet-too-big',
   * 'parameter-problem', or which Destination Unreachable (traceroute(8)'s mark): 'unreachable-net' (!N),
   * 'unreachable-host' (!H), 'unreachable-scope' (ICMPv6 beyond scope, !H), 'unreachable-protocol' (!P),
   * 'unreachable-fragmentation' (!F), 'unreachable-source-route' (!S), 'unreachable-prohibited' (!X),
   * 'unreachable-precedence' (!V), 'unreachable-precedence-cutoff' (!C), 'unreachable-code-N' for other
   * codes (!<N>). Every kind starting with 'unreachable' ends the trace; engines before these were told
   * apart reported plain 'unreachable' for all of them. A probe that could not be sent: 'send failed: CODE'.
   */
  kind?: string;
}

export interface Hop {
  ttl: number;
  probes: HopProbe[];
}

/** One hop of an mtr run, as mtr's report columns: Loss%, Snt, Last, Avg, Best, Wrst, StDev. */
export interface MtrHop {
  ttl: number;
  /** The first responder seen at this TTL; addresses lists every one (ECMP paths show several). */
  address?: string;
  addresses: string[];
  /** Probes sent at this TTL (a stopped run leaves out the ones still waiting). */
  sent: number;
  received: number;
  /** Of the probes whose wait is over: lost / judged × 100. */
  lossPercent: number;
  lastMs?: number;
  avgMs?: number;
  bestMs?: number;
  worstMs?: number;
  /** Sample standard deviation of the RTTs (0 with one reply), as mtr's StDev. */
  stdevMs?: number;
}

/** One line of a path-MTU run, as tracepath prints it. */
export interface PmtuHop {
  ttl: number;
  /** Who answered; absent for the local interface's MTU and for a hop that never answered. */
  address?: string;
  /** The size (bytes, IP header included) of the probe that reached this hop; with a note, the MTU reported. */
  mtu?: number;
  rttMs?: number;
  /** 'local interface MTU', 'Fragmentation Needed', 'Packet Too Big', 'reached', 'no reply'. */
  note?: string;
}

export interface ExperimentRun {
  runId: string;
  kind: 'ping' | 'traceroute' | 'mtr' | 'pmtu';
  target: string;
  family: 'ipv4' | 'ipv6';
  params: Record<string, unknown>;
  state: 'running' | 'done' | 'stopped' | 'failed';
  error?: { code: string; message: string };
  startedAt: number;
  finishedAt?: number;
  mode: 'raw' | 'datagram' | 'error-queue';
  /** How the run got its sockets (see Via). */
  via: Via;
  ping?: { replies: PingReply[]; statistics: PingStatistics };
  traceroute?: { hops: Hop[]; reached: boolean };
  /** mtr: per-hop statistics over `cycles` completed cycles (every TTL up to the target's hop each cycle). */
  mtr?: { cycles: number; hops: MtrHop[]; reached: boolean };
  /** Path-MTU discovery (tracepath): each hop with the packet size that reached it, and where the path shrinks. */
  pmtu?: { hops: PmtuHop[]; pathMtu?: number; reached: boolean };
  /** The lab host whose namespace its sockets were opened in; absent: the workbench's own. */
  host?: string;
}

// ---- labs (startLab) ------------------------------------------------------------

/** A shipped topology (main/lab/topologies). */
export interface LabTopologySummary {
  name: string;
  description: string;
  hosts: string[];
}

/** An impairment on a lab link, and how this machine applies it (main/lab/impairment.ts). */
export interface LabMapImpairment {
  from: string;
  to: string;
  delayMs?: number;
  jitterMs?: number;
  lossPercent?: number;
  rateKbit?: number;
  /** tc netem, tc tbf, the userspace emulator, or not at all. */
  how: 'netem' | 'tbf' | 'emulator' | 'unsupported';
  reason: string;
}

/** What a lab built: hosts with their addresses, links with their ends, MTU and impairments. */
export interface LabMap {
  name: string;
  description?: string;
  hosts: Array<{
    name: string;
    role: 'host' | 'router';
    addresses: string[];
    namespace?: string;
    /** Its firewall rules (drop or reject), as the topology file has them. */
    firewall?: LabMapFirewallRule[];
    /** Its ICMP error rate limit (one per intervalMs), when the topology sets one. */
    icmpRateLimit?: { intervalMs: number; types?: string[] };
  }>;
  links: Array<{
    ends: Array<{ host: string; interface: string; addresses: string[] }>;
    mtu: number;
    impairments: LabMapImpairment[];
  }>;
}

/** A lab host's firewall rule (main/lab/topology.ts, loaded with nft: main/lab/firewall.ts). */
export interface LabMapFirewallRule {
  hook: 'prerouting' | 'input' | 'forward' | 'output';
  /** icmp means ICMP and ICMPv6; nothing: every packet. */
  match: { protocol?: 'icmp' | 'udp' | 'tcp'; icmpType?: 'echo-request' | 'echo-reply' | 'time-exceeded' | 'destination-unreachable'; dport?: number };
  action: 'drop' | 'reject';
  /** For reject: the ICMP error (admin-prohibited is traceroute's !X) or a TCP reset; port-unreachable when absent. */
  rejectWith?: 'admin-prohibited' | 'host-unreachable' | 'no-route' | 'port-unreachable' | 'tcp-reset';
}

/** The engine's lab (one at a time) and its state. */
export interface LabInfo {
  state: 'down' | 'starting' | 'up' | 'stopping' | 'failed';
  /** The topology's name. */
  topology?: string;
  map?: LabMap;
  startedAt?: number;
  error?: { code: string; message: string };
}

/** A shipped lesson in the list (main/lessons/shipped). */
export interface LessonSummary {
  name: string;
  title: string;
  summary: string;
  /** The shipped topology it runs in. */
  topology: string;
  steps: number;
  checks: number;
}

/** Which logged packets a lesson check looks at: every given condition holds (main/lessons/README.md). */
export interface LessonMatch {
  protocol?: 'icmp' | 'icmpv6' | 'udp' | 'tcp';
  family?: 'ipv4' | 'ipv6';
  /** A name ('echo-request', 'time-exceeded', 'fragmentation-needed' …: both families) or the ICMP/ICMPv6 type number. */
  icmpType?: string | number;
  icmpCode?: number;
  direction?: 'sent' | 'received' | 'imported';
  /** A host of the lesson's topology, or an address. */
  from?: string;
  to?: string;
  /** The lab host it was seen on (LogRow.host). */
  seenOn?: string;
  /** A display filter. */
  filter?: string;
  checksum?: 'correct' | 'wrong';
  answered?: boolean;
}

export type LessonCheck = { id: string; text: string } & (
  | { kind: 'count'; match: LessonMatch; atLeast?: number; atMost?: number }
  | { kind: 'order'; first: LessonMatch; then: LessonMatch }
  | { kind: 'no-reply'; match: LessonMatch; reply?: LessonMatch; seconds: number }
);

/** A lesson: steps with the concept, an experiment or packet to load (a contract method and its parameters), and checks. */
export interface Lesson {
  name: string;
  title: string;
  summary?: string;
  topology: string;
  steps: Array<{
    title: string;
    text: string;
    /** ping / traceroute / mtr / pmtu: the method's parameters; send: its parameters without socketId. host: the lab host to act from. */
    prepare?: { method: 'ping' | 'traceroute' | 'mtr' | 'pmtu' | 'send'; host?: string; params: Record<string, unknown> };
    checks: LessonCheck[];
  }>;
}

export interface LessonCheckVerdict {
  id: string;
  text: string;
  passed: boolean;
  /** Log row ids that show it (the first 20), or the nearest miss. */
  evidence: number[];
  /** Why it has not passed. */
  reason?: string;
}

/** A lesson's checks evaluated over a log (checkLesson) or a capture file (`lesson check`). */
export interface LessonVerdict {
  lesson: string;
  steps: Array<{ title: string; checks: LessonCheckVerdict[] }>;
}

/** One field the kernel changed between the socket and the first link (packets/differences.ts). */
export interface PacketFieldDifference {
  /** 'IPv4', 'ICMP'…; the field's decoder name ('src', 'identification'), 'header' for a whole header. */
  layer: string;
  field: string;
  label: string;
  /** Both values as displayed; '(none)' where the sent packet had no such header. */
  sent: string;
  wire: string;
  sentRange?: { start: number; end: number };
  wireRange?: { start: number; end: number };
  /** What the kernel did, in words. */
  why: string;
}

/** A packet sent from a lab host next to its copy captured at the far end of its first link (packetOnWire). */
export interface PacketOnWire {
  rowId: number;
  /** The lab host that sent it. */
  host: string;
  /** Where the copy was captured: the neighbour and its interface facing the sender. */
  capturedOn: { host: string; interface: string };
  /** When the copy arrived there (ms since the epoch). */
  time: number;
  sentHex: string;
  wireHex: string;
  differences: PacketFieldDifference[];
  /** True things that are no difference (the TTL on arrival, as sent). */
  notes: string[];
}
