// The API contract: every method (parameters and result) and every event of the
// workbench, described once. Validators come from the same schemas; the engine,
// the IPC and WebSocket transports, the preload bridge and the renderer's client
// all derive from this file, so nothing is written twice.
import { z } from 'zod';
import { isIpv4, isIpv6 } from '../packets/address';
import type { Capabilities, CaptureInfo, DecodedEntry, DisplayFilterPage, ExperimentRun, HelperStatus, Hop, LabInfo, LabTopologySummary, LogPage, LogRow, LogStatus, OptionReading, PingReply, PingStatistics, SendJobInfo, SendResults, SocketInfo } from './contract-results';
import { socketOptionNames } from './socket-options';
import type { Lesson, LessonSummary, LessonVerdict } from './contract-results';
import type { PacketOnWire } from './contract-results';
import { WorkspaceClientPart, type Workspace } from './workspace';

// ---- building blocks ---------------------------------------------------------

const MAX_PACKET = 65535;

export const Family = z.enum(['ipv4', 'ipv6']);
export const SocketMode = z.enum(['auto', 'raw', 'datagram']);
export const ProbeKind = z.enum(['icmp', 'udp', 'tcp']);

const identifier = z.string().min(1).max(64);
const ipAddress = z
  .string()
  .max(100)
  .refine((text) => isIpv4(text) || isIpv6(text), { message: 'must be an IPv4 or IPv6 address' });

/** Field values as a user types them: numbers, addresses, hex for byte fields. */
const fieldValue = z.union([z.number(), z.string().max(2 * MAX_PACKET)]);

export const LayerSpec = z.strictObject({
  kind: z.enum(['ipv4', 'ipv6', 'icmp', 'icmpv6', 'udp', 'tcp', 'payload']),
  fields: z.record(z.string().max(64), fieldValue).optional(),
  /** Payload bytes as hex. */
  data: z.string().max(3 * MAX_PACKET).optional(),
});

/** A packet as hex bytes or as a layer stack built by packets/. */
export const PacketSpec = z.union([
  z.strictObject({ hex: z.string().max(3 * MAX_PACKET) }),
  z.strictObject({ layers: z.array(LayerSpec).min(1).max(16) }),
]);

export const SocketRef = z.strictObject({ socketId: identifier });
/** A host of the running lab (startLab): the socket, capture or experiment acts from its network namespace. */
export const LabHostName = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be a lab host name (lowercase letters, digits and -)');
const Empty = z.strictObject({});

// ---- results: the shapes in contract-results.ts ---------------------------------
export * from './contract-results';

// ---- method parameters -------------------------------------------------------

/** A capture filter in tcpdump's syntax (pcap-filter(7)); '' or null: none. */
const CaptureFilter = z.string().max(10_000);
const OpenSocketParams = z.strictObject({
  family: Family,
  protocol: z.number().int().min(0).max(255),
  mode: SocketMode.default('auto'),
  /** Deliver only what this capture filter matches (compiled by libpcap, run by the kernel). */
  filter: CaptureFilter.optional(),
  /** Log the engine's own transports too (the browser host's WebSocket), which are filtered out by default. */
  includeOwnTraffic: z.boolean().default(false),
  host: LabHostName.optional(),
});
const SetSocketFilterParams = z.strictObject({ socketId: identifier, filter: CaptureFilter.nullable() });
const SetSocketOptionParams = z.strictObject({
  socketId: identifier,
  name: z.enum(socketOptionNames),
  value: z.union([z.number().int(), z.string().max(200)]),
});
/** A field that changes from packet to packet (Ostinato's "variable fields"). */
export const Variation = z
  .strictObject({
    /** Index of the layer in packet.layers. */
    layer: z.number().int().min(0).max(15),
    /** A numeric (uint/enum/flags) or address field of that layer, as in LayerSpec.fields ('sequence', 'ttl', 'src'…). */
    field: z.string().min(1).max(64),
    mode: z.enum(['increment', 'decrement', 'random', 'list']),
    /** increment/decrement: added/subtracted per packet (wraps at the field's width); default 1. */
    step: z.number().int().min(1).max(4294967295).optional(),
    /** increment/decrement: values before it starts over at the packet's own value; random: values drawn from [start, start + count). */
    count: z.number().int().min(1).max(4294967296).optional(),
    /** list: the values in turn (numbers, or addresses for address fields). IPv6 address fields vary their low 32 bits. */
    values: z.array(z.union([z.number(), z.string().max(64)])).min(1).max(4096).optional(),
  })
  .refine((v) => (v.mode === 'list') === (v.values !== undefined), { message: "values go with mode 'list', and 'list' needs values", path: ['values'] })
  .refine((v) => v.step === undefined || v.mode === 'increment' || v.mode === 'decrement', { message: 'step goes with increment or decrement', path: ['step'] });

/** One packet of a stream. */
export const StreamPacket = z.strictObject({
  packet: PacketSpec,
  variations: z.array(Variation).max(16).optional(),
  /** Default 1. */
  count: z.number().int().min(1).max(10_000_000).optional(),
});

const SendParams = z
  .strictObject({
    socketId: identifier,
    address: ipAddress,
    /** One packet… */
    packet: PacketSpec.optional(),
    /** …with variable fields (layer stacks only). An ICMP/ICMPv6 echo request sent more than once varies its sequence unless this is given ([]: identical packets). */
    variations: z.array(Variation).max(16).optional(),
    /** …sent count times (default 1). */
    count: z.number().int().min(1).max(10_000_000).optional(),
    /** Or a stream: several packets, each with its own count and variations. */
    packets: z.array(StreamPacket).min(1).max(64).optional(),
    /** Stream only: all of packet 1 then packet 2… (sequential, the default), or 1,2,3,1,2,3… (interleaved). */
    order: z.enum(['sequential', 'interleaved']).optional(),
    /** Pause between packets in ms (0: as fast as possible). */
    intervalMs: z.number().min(0).max(3_600_000).optional(),
    /** Packets per second; instead of intervalMs. */
    rate: z.number().min(0.001).max(10_000_000).optional(),
    /** Instead of intervalMs/rate: `size` packets back to back, then a gap. */
    burst: z.strictObject({ size: z.number().int().min(1).max(100_000), gapMs: z.number().min(0).max(3_600_000) }).optional(),
    /** Send-and-match (Scapy's sr()): after the last packet wait timeoutMs for answers (state 'waiting'), then results are final (sendResults). */
    answers: z.strictObject({ timeoutMs: z.number().int().min(0).max(60_000) }).optional(),
  })
  .refine((p) => p.intervalMs === undefined || p.rate === undefined, {
    message: 'give intervalMs or rate, not both',
    path: ['rate'],
  })
  .refine((p) => (p.packet === undefined) !== (p.packets === undefined), {
    message: 'give packet (one packet) or packets (a stream), exactly one of them',
    path: ['packets'],
  })
  .refine((p) => p.packets === undefined || (p.variations === undefined && p.count === undefined), {
    message: 'variations and count go with packet; in a stream each of packets has its own',
    path: ['packets'],
  })
  .refine((p) => p.order === undefined || p.packets !== undefined, { message: 'order goes with packets (a stream)', path: ['order'] })
  .refine((p) => p.burst === undefined || (p.intervalMs === undefined && p.rate === undefined), {
    message: 'give burst or intervalMs/rate, not both',
    path: ['burst'],
  });
const SendResultsParams = z.strictObject({
  jobId: identifier,
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(100_000).default(1000),
});
const JobRef = z.strictObject({ jobId: identifier });
const RunRef = z.strictObject({ runId: identifier });
/** A host name as the resolver takes it (letters, digits, '-', '_', dots), or an address literal. */
const ResolveHostParams = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(253)
    .refine((text) => isIpv4(text) || isIpv6(text) || /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/.test(text), {
      message: 'must be a host name (such as localhost) or an IPv4 or IPv6 address',
    }),
  family: Family.optional(),
});
const LogFilter = z.strictObject({
  protocol: z.string().max(16).optional(),
  address: z.string().max(100).optional(),
  direction: z.enum(['sent', 'received', 'imported']).optional(),
  text: z.string().max(200).optional(),
  /** A display filter over the packets' fields, e.g. 'icmp.type == 0 && ip.src == 198.18.1.1' (see README). */
  display: z.string().max(2000).optional(),
});
const QueryLogParams = z.strictObject({
  /** Index into the (filtered) log, 0 = oldest kept. */
  start: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(5000).default(500),
  filter: LogFilter.optional(),
});
const FilterLogParams = z.strictObject({
  /** The display filter. */
  expression: z.string().max(2000),
  /** Scan from this id on (older ids than the log holds start at its oldest). */
  fromId: z.number().int().min(0).default(0),
  /** Rows to scan at most in this call (each call holds the engine for under 1 µs per row). */
  limit: z.number().int().min(1).max(200_000).default(50_000),
});
const LogEntryRef = z.strictObject({ id: z.number().int().min(0) });
const ConfigureLogParams = z.strictObject({ capacity: z.number().int().min(100).max(5_000_000) });
const ExportParams = z.strictObject({
  ids: z.array(z.number().int().min(0)).max(5_000_000).optional(),
  /** 'pcap': classic pcap, LINKTYPE_RAW (no direction, interfaces or comments). */
  format: z.enum(['pcapng', 'pcap']).default('pcapng'),
});
const StartCaptureParams = z.strictObject({
  /** A network interface name (IFNAMSIZ: at most 15 characters); every interface when left out. */
  interface: z
    .string()
    .min(1)
    .max(15)
    .regex(/^[^\s/:]+$/, 'must be an interface name (no spaces, / or :)')
    .optional(),
  protocol: z.enum(['ip', 'ipv4', 'ipv6']).default('ip'),
  /** Capture only what this capture filter matches (tcpdump's syntax, run by the kernel). */
  filter: CaptureFilter.optional(),
  /** Capture the engine's own transports too (the browser host's WebSocket), filtered out by default. */
  includeOwnTraffic: z.boolean().default(false),
  host: LabHostName.optional(),
});
const CaptureRef = z.strictObject({ captureId: identifier });
/** Largest file exportPcapng / importPcapng move in one call; larger ones go in pieces (openExport, openImport). */
export const WHOLE_TRANSFER_BYTES = 8 * 1024 * 1024;
/** File bytes one writeImport piece holds at most. */
export const IMPORT_PIECE_BYTES = 2 * 1024 * 1024;
const base64Length = (bytes: number) => 4 * Math.ceil(bytes / 3);
const ImportParams = z.strictObject({ pcapng: z.string().min(1).max(base64Length(WHOLE_TRANSFER_BYTES)) });
const ExportRef = z.strictObject({ exportId: identifier });
const WriteImportParams = z.strictObject({
  importId: identifier,
  /** The next bytes of the file, base64 (any split: a block may span pieces). */
  data: z.string().max(base64Length(IMPORT_PIECE_BYTES)),
  /** The file ends with this piece: the import closes. */
  end: z.boolean().default(false),
});
const PingParams = z.strictObject({
  target: ipAddress,
  count: z.number().int().min(1).max(100_000).default(4),
  intervalMs: z.number().int().min(10).max(60_000).default(1000),
  size: z.number().int().min(0).max(65_000).default(56),
  ttl: z.number().int().min(1).max(255).default(64),
  timeoutMs: z.number().int().min(10).max(60_000).default(2000),
  mode: SocketMode.default('auto'),
  host: LabHostName.optional(),
});
const TracerouteParams = z.strictObject({
  target: ipAddress,
  probe: ProbeKind.default('icmp'),
  firstHop: z.number().int().min(1).max(255).default(1),
  maxHops: z.number().int().min(1).max(255).default(30),
  probesPerHop: z.number().int().min(1).max(10).default(3),
  timeoutMs: z.number().int().min(10).max(30_000).default(1000),
  /** Destination port of UDP (default 33434, incremented per probe) and TCP (default 80) probes. */
  port: z.number().int().min(1).max(65535).optional(),
  /**
   * 'auto': raw sockets (this process's or the helper's) where available, else the unprivileged error-queue
   * path. 'raw': raw sockets only. 'error-queue': the unprivileged path even where raw sockets are available.
   */
  mode: z.enum(['auto', 'raw', 'error-queue']).default('auto'),
  host: LabHostName.optional(),
});
/** mtr: traceroute in cycles, every TTL up to the target's hop per cycle, with per-hop statistics. */
const MtrParams = z.strictObject({
  target: ipAddress,
  probe: ProbeKind.default('icmp'),
  maxHops: z.number().int().min(1).max(64).default(30),
  cycles: z.number().int().min(1).max(1000).default(10),
  /** From the start of one cycle to the start of the next; cycles overlap, each waiting timeoutMs for its own answers. */
  intervalMs: z.number().int().min(100).max(10_000).default(1000),
  timeoutMs: z.number().int().min(10).max(30_000).default(1000),
  port: z.number().int().min(1).max(65535).optional(),
  mode: z.enum(['auto', 'raw', 'error-queue']).default('auto'),
  host: LabHostName.optional(),
});
/** Path-MTU discovery as tracepath does it: UDP probes with DF set, unprivileged (the error queue). */
const PmtuParams = z.strictObject({
  target: ipAddress,
  maxHops: z.number().int().min(1).max(64).default(30),
  timeoutMs: z.number().int().min(10).max(30_000).default(1000),
  host: LabHostName.optional(),
});
/** A shipped lesson by name (main/lessons/shipped). */
const LessonRef = z.strictObject({ name: z.string().min(1).max(64) });
const StartHelperParams = z.strictObject({
  /**
   * 'auto': an installed helper with its capability if there is one, else launch it elevated (pkexec, then sudo).
   * 'installed': only the installed helper (never asks for a password). 'elevated': only the elevated launch.
   */
  how: z.enum(['auto', 'installed', 'elevated']).default('auto'),
  /** Keep CAP_SYS_ADMIN so sockets can be opened inside lab network namespaces (elevated launch only). */
  namespaces: z.boolean().default(false),
});


// ---- methods -------------------------------------------------------------------

/** A method: its parameter schema, a line for documentation, and its result type. */
function method<R>() {
  return <P extends z.ZodType>(params: P, summary: string) => ({ params, summary, result: undefined as unknown as R });
}

export const methods = {
  capabilities: method<Capabilities>()(Empty, 'What this process may do, and the remedy for what it may not'),

  openSocket: method<SocketInfo>()(
    OpenSocketParams,
    'Open a raw (or unprivileged ICMP datagram) socket',
  ),
  closeSocket: method<SocketInfo>()(SocketRef, 'Close a socket; its running send jobs are cancelled'),
  listSockets: method<SocketInfo[]>()(Empty, 'Every socket the workbench holds'),
  pauseReceive: method<SocketInfo>()(SocketRef, 'Stop reading from a socket'),
  resumeReceive: method<SocketInfo>()(SocketRef, 'Read from a socket again'),
  readSocketOptions: method<OptionReading[]>()(SocketRef, 'Read every option of a socket with getsockopt'),
  setSocketFilter: method<SocketInfo>()(
    SetSocketFilterParams,
    "Set (or, with null or '', remove) a socket's capture filter; packets already queued are discarded",
  ),
  setSocketOption: method<OptionReading>()(
    SetSocketOptionParams,
    'Set one option and read it back',
  ),

  send: method<SendJobInfo>()(
    SendParams,
    'Send a packet once or N times (with variable fields), or a stream of packets, at an interval, rate or in bursts; with answers, wait for and match the answers',
  ),
  cancelSend: method<SendJobInfo>()(JobRef, 'Stop a running send job'),
  listSendJobs: method<SendJobInfo[]>()(Empty, 'Send jobs, running and finished'),
  sendResults: method<SendResults>()(
    SendResultsParams,
    'The answered and unanswered requests of a send-and-match job (send with answers)',
  ),

  queryLog: method<LogPage>()(QueryLogParams, 'A page of the receive/send log, optionally filtered'),
  filterLog: method<DisplayFilterPage>()(
    FilterLogParams,
    'Ids of the logged packets from fromId on that pass a display filter (an error names the bad part and its position)',
  ),
  decodeLogEntry: method<DecodedEntry>()(LogEntryRef, 'Decode one logged packet'),
  clearLog: method<null>()(Empty, 'Empty the log'),
  undoClearLog: method<{ restored: number }>()(Empty, 'Show again what the last clearLog hid (until the next clear; rows the ring overwrote since are gone)'),
  configureLog: method<{ capacity: number }>()(
    ConfigureLogParams,
    'Set how many packets the log ring keeps',
  ),
  exportPcapng: method<{ pcapng: string; count: number }>()(
    ExportParams,
    'The log, or the given entries, as a pcapng (or, with format, classic pcap) file (base64)',
  ),
  importPcapng: method<{ imported: number }>()(
    ImportParams,
    'Append the packets of a pcapng (or pcap) file (base64) to the log',
  ),
  openExport: method<{ exportId: string; packets: number }>()(
    ExportParams,
    'Start an export of the log, or the given entries, read in pieces with readExport (any size; exportPcapng takes files up to 8 MiB)',
  ),
  readExport: method<{ data: string; done: boolean; count: number }>()(
    ExportRef,
    'The next piece of an open export (at most 1 MiB of file, base64; concatenated they are the file); done: the last piece, the export is closed',
  ),
  openImport: method<{ importId: string }>()(Empty, 'Start an import of a pcapng (or pcap) file written in pieces with writeImport'),
  writeImport: method<{ imported: number; done: boolean }>()(
    WriteImportParams,
    'The next piece of an open import (at most 2 MiB of file, base64): its complete packets are appended to the log; end: the file ends here',
  ),
  closeTransfer: method<null>()(z.strictObject({ transferId: identifier }), 'Abandon an open export or import (idle ones close after 60 s)'),
  saveWorkspace: method<{ exportId: string; packets: number }>()(
    WorkspaceClientPart,
    'Start writing a workspace file (pcapng: the session as JSON in a custom block, then the log), read in pieces with readExport; the parameters are what the client holds',
  ),
  loadWorkspace: method<{ workspace: Workspace; imported: number }>()(
    z.strictObject({ data: z.string().min(1).max(base64Length(WHOLE_TRANSFER_BYTES)) }),
    'Open a workspace file (base64, up to 8 MiB): checked whole first (a refused file changes nothing), then it replaces the log (undoClearLog brings the old one back) and the experiments, and returns the session for the client',
  ),

  ping: method<ExperimentRun>()(PingParams, 'Start a ping run'),
  traceroute: method<ExperimentRun>()(
    TracerouteParams,
    'Start a traceroute run',
  ),
  mtr: method<ExperimentRun>()(MtrParams, 'Start an mtr run'),
  pmtu: method<ExperimentRun>()(PmtuParams, 'Start a path-MTU discovery run'),
  stopExperiment: method<ExperimentRun>()(RunRef, 'Stop a running ping or traceroute'),
  resolveHost: method<{ name: string; address: string; family: 'ipv4' | 'ipv6' }>()(
    ResolveHostParams,
    'The address of a host name (the system resolver: /etc/hosts, DNS; at most 5 s); a literal comes back as it is',
  ),

  helperStatus: method<HelperStatus>()(Empty, 'The socket helper\'s state'),
  startHelper: method<HelperStatus>()(
    StartHelperParams,
    'Start the socket helper (installed, or elevated through pkexec/sudo); resolves when it runs, was refused or failed',
  ),
  stopHelper: method<HelperStatus>()(Empty, 'Stop the socket helper; sockets it opened close'),
  listExperiments: method<ExperimentRun[]>()(Empty, 'Ping and traceroute runs, newest last'),

  startCapture: method<CaptureInfo>()(
    StartCaptureParams,
    'Capture whole packets, both directions, on one interface or all (a packet socket; CAP_NET_RAW)',
  ),
  stopCapture: method<CaptureInfo>()(CaptureRef, 'Stop a capture; its packets stay in the log'),
  listCaptures: method<CaptureInfo[]>()(Empty, 'Captures, running and stopped'),
  logStatus: method<LogStatus>()(Empty, 'What the log kept and lost: capacity, rows, ring overflows, kernel drops'),

  labTopologies: method<LabTopologySummary[]>()(Empty, 'The shipped topologies'),
  startLab: method<LabInfo>()(z.strictObject({ topology: z.string().min(1).max(64) }), 'Start a shipped topology (one lab per engine)'),
  stopLab: method<LabInfo>()(Empty, 'Stop the running lab (state down); no lab: state down too'),
  labStatus: method<LabInfo>()(Empty, 'The lab and its state'),

  lessons: method<LessonSummary[]>()(Empty, 'The shipped lessons'),
  lesson: method<Lesson>()(LessonRef, 'One lesson: its steps, what each prepares, its checks'),
  checkLesson: method<LessonVerdict>()(LessonRef, "Evaluate a lesson's checks against the current log: each passed with its evidence (log row ids) or why not"),

  packetOnWire: method<PacketOnWire>()(LogEntryRef, 'A packet sent from a lab host as it crossed its first link (captured at the far end), with what the kernel changed'),
};

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export const methodNames = Object.keys(methods) as MethodName[];
/** What a caller passes (defaults may be left out). */
export type ParamsIn<M extends MethodName> = z.input<Methods[M]['params']>;
/** What the engine receives after validation (defaults filled in). */
export type Params<M extends MethodName> = z.output<Methods[M]['params']>;
export type Result<M extends MethodName> = Methods[M]['result'];

/** The workbench as every client sees it: one async function per method. */
export type WorkbenchApi = { [M in MethodName]: (params: ParamsIn<M>) => Promise<Result<M>> };
/** The engine's side: it receives validated parameters. */
export type WorkbenchHandlers = { [M in MethodName]: (params: Params<M>) => Promise<Result<M>> };

// ---- events --------------------------------------------------------------------

export type WorkbenchEvent =
  | { type: 'log'; rows: LogRow[] }
  | { type: 'logCleared' }
  | { type: 'socket'; socket: SocketInfo }
  | { type: 'sendJob'; job: SendJobInfo }
  | { type: 'pingReply'; runId: string; reply: PingReply; statistics: PingStatistics }
  | { type: 'tracerouteHop'; runId: string; hop: Hop }
  | { type: 'experiment'; run: ExperimentRun }
  | { type: 'helper'; helper: HelperStatus }
  | { type: 'capture'; capture: CaptureInfo }
  | { type: 'logStatus'; status: LogStatus }
  /** Log rows [fromId, toId] (`count` of them) this client was not sent (a flood beyond its row budget, or a
   *  client that reads slowly): the engine's log still has them while its ring keeps them (queryLog). */
  | { type: 'logSkipped'; fromId: number; toId: number; count: number }
  /** The lab's state changed (starting → up, failed, down). */
  | { type: 'lab'; lab: LabInfo };

/** Events reach clients in batches: at most one batch per 16 ms per client. */
export type EventBatch = WorkbenchEvent[];
export const EVENT_BATCH_INTERVAL_MS = 16;
