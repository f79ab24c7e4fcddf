// The Workbench: every method of the contract on real sockets, plus a batched event
// stream. It knows no transport: Electron IPC, the browser host's WebSocket and the
// CLI all hand it calls through dispatchCall (main/engine/dispatch.ts), which
// validates the parameters with common/validate.ts first.
import { createSocket, permissionRemedy, readPingGroupRange, type Socket } from '@packet-workbench/raw-socket';
import type {
  Capabilities,
  CaptureInfo,
  DecodedEntry,
  DecodedLayerJson,
  DisplayFilterPage,
  ExperimentRun,
  HelperStatus,
  LogPage,
  LogRow,
  LogStatus,
  OptionReading,
  Params,
  SendJobInfo,
  SocketInfo,
  WorkbenchHandlers,
} from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { formatIpAddress, isIpv4, isIpv6, parseIpAddress } from '../../packets/address';
import { build } from '../../packets/build';
import { decode } from '../../packets/decode';
import type { DisplayFilter } from '../../packets/display-filter';
import { formatHex, parseHex } from '../../packets/hex';
import type { DecodedLayer, LayerSpec as PacketLayerSpec } from '../../packets/layer';
import { ipHeaderOffset, PcapEncoder, PcapngEncoder, readCapture } from '../../packets/pcapng';
import { layerKindForProtocol } from '../../packets/protocols';
import { summarize } from '../../packets/summary';
import { describeCapabilities } from './capabilities';
import { LogCaptureWriter, readSocketOf } from './capture-export';
import type { CaptureFile } from './capture-file';
import { PacketCapture } from './capture-socket';
import { DuplicateFilter } from './dedup';
import { compileLogFilter, filterRing, RingRowPacket } from './log-display-filter';
import { RequestMatcher } from './matching';
import { asFilterError, checkFilter, kernelFilter, OwnTraffic, type OwnEndpoint } from './filters';
import { EventHub, type BatchListener } from './events';
import { type Experiment, type ExperimentHost, type LoggedPacket, nsToMs, nowMs, snapshot, toWorkbenchError } from './experiment';
import { HelperSupervisor } from './helper';
import { optionsFor, readIntOption, readOption, setIntOption, writeOption } from './options';
import { protocolLabel } from './peek';
import { PingRun } from './ping';
import { DIRECTION_IMPORTED, DIRECTION_RECEIVED, DIRECTION_SENT, PacketRing, type PacketFacts } from './ring';
import { sourceAddressFor } from './route';
import { SendJob, type SendJobHost } from './send-job';
import { SocketSource, type SocketVia } from './socket-source';
import { TracerouteRun } from './traceroute';

export const DEFAULT_LOG_CAPACITY = 100_000;
const MAX_PACKET = 65535;
/** Rows one 'log' event carries at most; the rest follow in the next batches (while the ring still has them). */
export const MAX_LOG_ROWS_PER_BATCH = 10_000;
/** Finished send jobs and experiments kept for listSendJobs / listExperiments. */
const HISTORY = 1000;

/** A capture file fed as packets are logged (recordCapture). */
export interface CaptureRecording {
  /** Packets counted (and written, with a file). */
  readonly count: number;
  /** Stops adding packets; the file stays open for its owner to close. */
  stop(): void;
}

export interface RecordCaptureOptions {
  /** Where packets go; without one they are only counted. */
  file?: CaptureFile;
  /** Only packets logged under these socket or capture ids (default: every packet). */
  socketIds?: readonly string[];
  /** Stop after this many packets, and call onLimit. */
  limit?: number;
  onLimit?: () => void;
}

export interface WorkbenchOptions {
  /** Packets the log keeps (default 100 000). */
  logCapacity?: number;
  /** Minimum ms between event batches (default EVENT_BATCH_INTERVAL_MS, 16). */
  eventIntervalMs?: number;
  /** Called when a subscriber throws (the others still get their batch). */
  onListenerError?: (error: unknown) => void;
  /** The socket helper (one per process; tests pass their own). */
  helper?: HelperSupervisor;
}

interface SocketEntry {
  id: string;
  socket: Socket;
  /** The user's capture filter (SocketInfo.filter); the kernel's has the engine's own traffic taken out too. */
  filter: string | null;
  includeOwnTraffic: boolean;
  family: 'ipv4' | 'ipv6';
  protocol: number;
  mode: 'raw' | 'datagram';
  via: SocketVia;
  paused: boolean;
  closed: boolean;
  counters: SocketInfo['counters'];
  ringIndex: number;
  /** IPv4 raw socket whose sends start with an IP header (IP_HDRINCL, or protocol 255). */
  headerIncluded: boolean;
  /**
   * Who turned IP_HDRINCL on: 'engine' for a layer stack that starts with an IPv4
   * header (turned off again for the next packet without one), 'user' through
   * setSocketOption (respected: packets without a header are refused), null when off
   * or when protocol 255 implies it.
   */
  headerIncludedBy: 'engine' | 'user' | null;
  jobs: Set<SendJob>;
  facts: PacketFacts;
  /** A 'socket' event is waiting for the next batch. */
  announced: boolean;
}

export class Workbench implements WorkbenchHandlers {
  private readonly ring: PacketRing;
  private readonly duplicates = new DuplicateFilter();
  /** Request/response links between log rows (LogRow.match). */
  private readonly matcher: RequestMatcher;
  private readonly events: EventHub;
  private readonly sockets = new Map<string, SocketEntry>();
  private readonly jobs = new Map<string, SendJob>();
  private readonly runs = new Map<string, ExperimentRun>();
  private readonly running = new Map<string, Experiment>();
  private readonly echoIds = new Set<number>();
  private readonly ports = new Set<number>();
  private nextEchoId = 1 + Math.floor(Math.random() * 0xfffe);
  private nextPort = 40000 + Math.floor(Math.random() * 20000);
  private serial = 0;
  private logCursor = 0;
  private closed = false;
  private readonly experimentHost: ExperimentHost;
  private readonly helper: HelperSupervisor;
  private readonly source: SocketSource;
  /** The engine's own transports, kept out of the log (excludeOwnTraffic). */
  private readonly ownTraffic = new OwnTraffic();
  private readonly stopWatchingHelper: () => void;
  private readonly experimentFacts: PacketFacts = { time: 0, direction: DIRECTION_SENT, socket: -1, family: 4, withIpHeader: false, protocol: 0, peer: null, local: null };
  private readonly captures = new Map<string, PacketCapture>();
  /** Called with each new log id, at once (recordCapture). */
  private readonly packetListeners = new Set<(id: number) => void>();
  /** What each socket and capture was, for capture files' interface blocks (kept after it closes). */
  private readonly socketDescriptions = new Map<string, string>();
  /** Kernel drops per socket and capture id, kept after they close. */
  private readonly kernelDrops = new Map<string, number>();
  /** Log rows overwritten before any client received them. */
  private overflowed = 0;
  /** The first id since the log was last cleared. */
  private firstIdSinceClear = 0;

  constructor(options: WorkbenchOptions = {}) {
    this.ring = new PacketRing({ capacity: options.logCapacity ?? DEFAULT_LOG_CAPACITY });
    this.matcher = new RequestMatcher(this.ring.capacity, (id) => this.ring.has(id));
    this.events = new EventHub({
      intervalMs: options.eventIntervalMs,
      collectLogRows: () => this.collectLogRows(),
      discardLogRows: () => {
        this.logCursor = this.ring.nextId;
      },
      onListenerError: options.onListenerError,
    });
    this.helper = options.helper ?? new HelperSupervisor();
    this.source = new SocketSource(this.helper);
    this.stopWatchingHelper = this.helper.onChange((status) => this.helperChanged(status));
    this.experimentHost = this.createExperimentHost();
  }

  // ---- events and lifetime ----------------------------------------------------------

  /** Receives event batches (at most one per 16 ms); returns the unsubscribe function. */
  subscribe(listener: BatchListener): () => void {
    return this.events.subscribe(listener);
  }

  /** Delivers pending events now instead of at the next batch time. */
  flushEvents(): void {
    this.events.flush();
  }

  /** Stops experiments and send jobs, closes every socket, clears every timer. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const experiment of [...this.running.values()]) experiment.stop();
    for (const job of this.jobs.values()) job.cancel();
    const closing: Promise<void>[] = [...this.captures.values()].map((capture) => capture.stop());
    this.packetListeners.clear();
    for (const entry of this.sockets.values()) {
      entry.closed = true;
      closing.push(closeWithin(entry.socket, 1000));
    }
    this.sockets.clear();
    await Promise.all(closing);
    this.stopWatchingHelper();
    await this.helper.stop().catch(() => undefined);
    this.events.close();
  }

  // ---- capabilities ------------------------------------------------------------------

  async capabilities(): Promise<Capabilities> {
    this.alive();
    const probe = (options: Parameters<typeof createSocket>[0]): boolean => {
      try {
        createSocket(options).close();
        return true;
      } catch {
        return false;
      }
    };
    return describeCapabilities({
      platform: process.platform,
      uid: typeof process.getuid === 'function' ? process.getuid() : null,
      raw: probe({ addressFamily: 1, protocol: 1, mode: 'raw' }),
      datagram: {
        ipv4: probe({ addressFamily: 1, protocol: 1, mode: 'datagram' }),
        ipv6: probe({ addressFamily: 2, protocol: 58, mode: 'datagram' }),
      },
      pingGroupRange: readPingGroupRange() ?? null,
      helper: this.helper.status(),
      libraryRemedy: permissionRemedy(true),
    });
  }

  // ---- the socket helper -------------------------------------------------------------

  async helperStatus(): Promise<HelperStatus> {
    this.alive();
    return this.helper.status();
  }

  async startHelper(params: Params<'startHelper'>): Promise<HelperStatus> {
    this.alive();
    return this.helper.start(params);
  }

  async stopHelper(): Promise<HelperStatus> {
    this.alive();
    return this.helper.stop();
  }

  /**
   * The helper's state for every client; when it stops or dies, the sockets it opened are
   * taken away: they close, their jobs and the experiments using them end with the reason.
   * The log keeps everything they sent and received.
   */
  private helperChanged(status: HelperStatus): void {
    this.events.coalesce('helper', () => ({ type: 'helper', helper: this.helper.status() }));
    if (status.state === 'running' || status.state === 'asking') return;
    const failure = { code: 'EHELPER', message: `The socket helper stopped${status.reason ? ` (${status.reason})` : ''}; sockets it opened were closed` };
    for (const entry of [...this.sockets.values()]) {
      if (entry.via !== 'helper' || entry.closed) continue;
      for (const job of [...entry.jobs]) job.fail(failure);
      entry.closed = true;
      this.sockets.delete(entry.id);
      void closeWithin(entry.socket, 1000);
      this.announceSocket(entry);
    }
    for (const experiment of [...this.running.values()]) {
      if (experiment.run.via === 'helper') experiment.abort(new WorkbenchError(failure.code, failure.message));
    }
  }

  // ---- sockets ----------------------------------------------------------------------

  async openSocket(params: Params<'openSocket'>): Promise<SocketInfo> {
    this.alive();
    const filter = checkFilter(params.filter);
    const excluded = params.includeOwnTraffic ? null : this.ownTraffic.excludedFrom({ family: params.family, protocol: params.protocol, mode: params.mode === 'datagram' ? 'datagram' : 'raw' });
    const { socket, via } = await this.source
      .open({
        addressFamily: params.family === 'ipv4' ? 1 : 2,
        protocol: params.protocol,
        mode: params.mode,
        timestamps: true,
        // The hop limit a headerless packet arrived with, for capture files (IPV6_RECVHOPLIMIT / IP_RECVTTL).
        receiveTtl: true,
        bufferSize: 65536,
        filter: kernelFilter(filter, excluded),
      })
      .catch((error: unknown) => {
        throw asFilterError(error);
      });
    if (this.closed) {
      socket.close();
      this.alive();
    }
    const id = `socket-${++this.serial}`;
    const entry: SocketEntry = {
      id,
      socket,
      filter,
      includeOwnTraffic: params.includeOwnTraffic,
      family: params.family,
      protocol: params.protocol,
      mode: socket.mode,
      via,
      paused: false,
      closed: false,
      counters: { sent: 0, received: 0, sendErrors: 0, bytesSent: 0, bytesReceived: 0 },
      ringIndex: this.ring.socketIndex(id),
      headerIncluded: params.family === 'ipv4' && socket.mode === 'raw' && params.protocol === 255,
      headerIncludedBy: null,
      jobs: new Set(),
      announced: false,
      facts: {
        time: 0,
        direction: DIRECTION_RECEIVED,
        socket: 0,
        family: params.family === 'ipv4' ? 4 : 6,
        withIpHeader: false,
        protocol: params.protocol,
        peer: null,
        local: null,
      },
    };
    entry.facts.socket = entry.ringIndex;
    this.socketDescriptions.set(id, `${params.family === 'ipv4' ? 'IPv4' : 'IPv6'} ${socket.mode} socket, protocol ${params.protocol} (${protocolLabel(params.protocol)})`);
    // IPv4 raw sockets deliver the IP header; IPv6 raw and ICMP datagram sockets do not.
    const receivedWithHeader = params.family === 'ipv4' && socket.mode === 'raw';
    socket.on('message', (buffer: Buffer, address: string, info: ReceivedInfo) => {
      const facts = entry.facts;
      facts.time = nsToMs(info.timestamp);
      facts.direction = DIRECTION_RECEIVED;
      facts.withIpHeader = receivedWithHeader;
      facts.peer = receivedWithHeader ? null : address;
      // IPV6_PKTINFO / IP_PKTINFO and IPV6_RECVHOPLIMIT / IP_RECVTTL: what a synthesized header needs.
      facts.local = receivedWithHeader ? null : (info.localAddress ?? null);
      facts.hopLimit = info.hopLimit ?? info.ttl;
      this.logReceived(buffer, facts, info.timestamp);
      entry.counters.received++;
      entry.counters.bytesReceived += buffer.length;
      if (info.drops !== undefined && info.drops !== entry.counters.drops) {
        entry.counters.drops = info.drops;
        this.countKernelDrops(entry.id, info.drops);
      }
      this.announceSocket(entry);
    });
    socket.on('error', (error: Error) => {
      // The library closes the socket after this: its jobs end now, not packet by packet.
      entry.closed = true;
      const code = (error as { code?: unknown }).code;
      const failure = { code: typeof code === 'string' ? code : 'INTERNAL', message: `Socket ${entry.id} failed: ${error.message}` };
      for (const job of [...entry.jobs]) job.fail(failure);
      this.announceSocket(entry);
    });
    this.sockets.set(id, entry);
    this.announceSocket(entry);
    return this.socketInfo(entry);
  }

  async closeSocket(params: Params<'closeSocket'>): Promise<SocketInfo> {
    const entry = this.entry(params.socketId);
    for (const job of entry.jobs) job.cancel();
    const drops = (entry.socket as unknown as { drops?: number }).drops;
    if (drops !== undefined) {
      entry.counters.drops = drops;
      this.countKernelDrops(entry.id, drops);
    }
    entry.closed = true;
    this.sockets.delete(entry.id);
    await closeWithin(entry.socket, 1000);
    this.announceSocket(entry);
    return this.socketInfo(entry);
  }

  async listSockets(): Promise<SocketInfo[]> {
    this.alive();
    return [...this.sockets.values()].map((entry) => this.socketInfo(entry));
  }

  async pauseReceive(params: Params<'pauseReceive'>): Promise<SocketInfo> {
    const entry = this.entry(params.socketId);
    entry.socket.pauseRecv();
    entry.paused = true;
    this.announceSocket(entry);
    return this.socketInfo(entry);
  }

  async resumeReceive(params: Params<'resumeReceive'>): Promise<SocketInfo> {
    const entry = this.entry(params.socketId);
    entry.socket.resumeRecv();
    entry.paused = false;
    this.announceSocket(entry);
    return this.socketInfo(entry);
  }

  async setSocketFilter(params: Params<'setSocketFilter'>): Promise<SocketInfo> {
    const entry = this.entry(params.socketId);
    const filter = checkFilter(params.filter);
    try {
      entry.socket.setFilter(kernelFilter(filter, this.excludedFrom(entry)));
    } catch (error) {
      throw asFilterError(error);
    }
    entry.filter = filter;
    this.announceSocket(entry);
    return this.socketInfo(entry);
  }

  /**
   * A transport of the engine's own (the browser host's listening socket): raw sockets and
   * captures that would see its traffic get it filtered out in the kernel, those open now
   * included. Returns the function that lets it back in.
   */
  excludeOwnTraffic(endpoint: OwnEndpoint): () => void {
    const remove = this.ownTraffic.add(endpoint);
    this.refilterSockets();
    return () => {
      remove();
      if (!this.closed) this.refilterSockets();
    };
  }

  private excludedFrom(entry: SocketEntry): string | null {
    return entry.includeOwnTraffic ? null : this.ownTraffic.excludedFrom({ family: entry.family, protocol: entry.protocol, mode: entry.mode });
  }

  private refilterSockets(): void {
    for (const capture of this.captures.values()) {
      if (capture.info.state !== 'running' || capture.includeOwnTraffic) continue;
      const excluded = this.ownTraffic.excludedFrom({ family: 'ipv4', protocol: 0, mode: 'packet' });
      try {
        capture.setKernelFilter(kernelFilter(capture.info.filter, excluded));
        if (excluded === null) delete capture.info.excludedTraffic;
        else capture.info.excludedTraffic = excluded;
      } catch {
        // As for sockets: the capture keeps its filter.
      }
    }
    for (const entry of this.sockets.values()) {
      const wanted = kernelFilter(entry.filter, this.excludedFrom(entry));
      if (entry.closed || entry.socket.filter === wanted) continue;
      try {
        entry.socket.setFilter(wanted);
      } catch {
        // The user's filter was accepted with the old exclusion; it stays (the socket then shows our traffic).
      }
      this.announceSocket(entry);
    }
  }

  async readSocketOptions(params: Params<'readSocketOptions'>): Promise<OptionReading[]> {
    const entry = this.entry(params.socketId);
    return optionsFor(entry.family).map((option) => readOption(entry.socket, option));
  }

  async setSocketOption(params: Params<'setSocketOption'>): Promise<OptionReading> {
    const entry = this.entry(params.socketId);
    const reading = writeOption(entry.socket, entry.family, params.name, params.value);
    if (params.name === 'IP_HDRINCL' && typeof reading.value === 'number') {
      entry.headerIncluded = reading.value === 1 || entry.protocol === 255;
      entry.headerIncludedBy = reading.value === 1 && entry.protocol !== 255 ? 'user' : null;
    }
    return reading;
  }

  // ---- send jobs ------------------------------------------------------------------------

  async send(params: Params<'send'>): Promise<SendJobInfo> {
    const entry = this.entry(params.socketId);
    const address = params.address;
    if ((entry.family === 'ipv4') !== isIpv4(address)) {
      throw new WorkbenchError('INVALID_ARGUMENT', `${address} is not an ${entry.family === 'ipv4' ? 'IPv4' : 'IPv6'} address, as socket ${entry.id} needs`, 'address');
    }
    const { bytes: packet, header, source } = await this.packetBytes(entry, params);
    const headerGoesOut = header === 'with' && entry.family === 'ipv4' && entry.mode === 'raw';
    const local = headerGoesOut ? null : await sourceAddressFor(address).catch(() => null);
    // closeSocket (or close) may have run during either await: start nothing on a closed socket.
    this.alive();
    if (entry.closed) throw new WorkbenchError('NOT_FOUND', `Socket ${entry.id} was closed`, 'socketId');
    // After the last await, so that no other send switches IP_HDRINCL between here and the job's start.
    this.headerMode(entry, header, source);
    const intervalMs = params.rate !== undefined ? 1000 / params.rate : (params.intervalMs ?? 0);
    const jobId = `job-${++this.serial}`;
    // The TTL / hop limit the kernel writes into a header it builds, for capture files.
    let hopLimit: number | undefined;
    if (!entry.headerIncluded) {
      try {
        hopLimit = readIntOption(entry.socket, entry.family === 'ipv4' ? 'IP_TTL' : 'IPV6_UNICAST_HOPS') ?? undefined;
      } catch {
        hopLimit = undefined;
      }
      if (hopLimit !== undefined && (hopLimit < 0 || hopLimit > 255)) hopLimit = undefined;
    }
    const facts: PacketFacts = {
      time: 0,
      direction: DIRECTION_SENT,
      socket: entry.ringIndex,
      family: entry.family === 'ipv4' ? 4 : 6,
      withIpHeader: entry.headerIncluded,
      protocol: entry.protocol,
      peer: canonical(address),
      local,
      hopLimit,
    };
    const host: SendJobHost = {
      events: this.events,
      sent: (bytes, sentAtNs) => {
        facts.time = nsToMs(sentAtNs);
        this.logged(this.ring.append(bytes, 0, bytes.length, facts));
        entry.counters.sent++;
        entry.counters.bytesSent += bytes.length;
        this.events.logAppended();
        this.announceSocket(entry);
      },
      failed: () => {
        entry.counters.sendErrors++;
        this.announceSocket(entry);
      },
      ended: (job) => {
        entry.jobs.delete(job);
        this.trimHistory(this.jobs, (candidate) => !candidate.running);
      },
    };
    const job = new SendJob(host, jobId, entry.id, entry.socket, address, packet, params.count, intervalMs);
    this.jobs.set(jobId, job);
    entry.jobs.add(job);
    job.start();
    return job.snapshot();
  }

  async cancelSend(params: Params<'cancelSend'>): Promise<SendJobInfo> {
    this.alive();
    const job = this.jobs.get(params.jobId);
    if (!job) throw new WorkbenchError('NOT_FOUND', `No send job ${params.jobId}`, 'jobId');
    job.cancel();
    return job.snapshot();
  }

  async listSendJobs(): Promise<SendJobInfo[]> {
    this.alive();
    return [...this.jobs.values()].map((job) => job.snapshot());
  }

  /**
   * The bytes to send. Hex is sent as given. A layer stack is built; when it starts
   * with an IP header the socket cannot take (IPv6 raw sockets and ICMP datagram
   * sockets never take one), that header is stripped after the inner checksums were
   * computed with its addresses. An IPv4 header on an IPv4 raw socket turns
   * IP_HDRINCL on, so the fields the user set (TTL, TOS, options…) are sent as given;
   * the next packet without one turns it off again (see headerMode).
   */
  private async packetBytes(entry: SocketEntry, params: Params<'send'>): Promise<{ bytes: Uint8Array; header: 'with' | 'without'; source: 'hex' | 'layers' }> {
    const invalid = (message: string): WorkbenchError => new WorkbenchError('INVALID_ARGUMENT', message, 'packet');
    let bytes: Uint8Array;
    if ('hex' in params.packet) {
      try {
        bytes = parseHex(params.packet.hex);
      } catch (error) {
        throw invalid(`packet.hex: ${(error as Error).message}`);
      }
    } else {
      const specs = params.packet.layers;
      const stack: PacketLayerSpec[] = specs.map((spec, index) => {
        if (spec.kind === 'payload') {
          if (spec.fields && Object.keys(spec.fields).length > 0) throw invalid(`packet.layers.${index}: a payload layer has data, not fields`);
          return { kind: 'payload', data: spec.data ?? '' };
        }
        if (spec.data !== undefined) throw invalid(`packet.layers.${index}: only payload layers take data; add a payload layer after it`);
        return { kind: spec.kind, ...(spec.fields ? { fields: spec.fields } : {}) };
      });
      const first = stack[0].kind;
      const ipFamily = first === 'ipv4' ? 'ipv4' : first === 'ipv6' ? 'ipv6' : null;
      if (ipFamily && ipFamily !== entry.family) throw invalid(`packet.layers.0: an ${first} header cannot go out of an ${entry.family} socket`);
      let local: string | null = null;
      try {
        local = await sourceAddressFor(params.address);
      } catch {
        local = null;
      }
      if (ipFamily) {
        const fields: Record<string, number | string> = { ...((stack[0] as { fields?: Record<string, number | string> }).fields ?? {}) };
        if (fields.dst === undefined) fields.dst = params.address;
        if (fields.src === undefined && local) fields.src = local;
        stack[0] = { kind: stack[0].kind as 'ipv4' | 'ipv6', fields };
      }
      try {
        bytes = build(stack, ipFamily || !local ? {} : { source: local, destination: params.address });
      } catch (error) {
        throw invalid(`packet.layers: ${(error as Error).message}`);
      }
      const keepHeader = ipFamily === 'ipv4' && entry.mode === 'raw';
      if (ipFamily && !keepHeader) bytes = bytes.subarray(ipFamily === 'ipv4' ? (bytes[0] & 0x0f) * 4 : 40);
      if (bytes.length > MAX_PACKET) throw invalid(`The packet is ${bytes.length} bytes, more than the ${MAX_PACKET} an IP packet can hold`);
      return { bytes, header: keepHeader ? 'with' : 'without', source: 'layers' };
    }
    if (bytes.length > MAX_PACKET) throw invalid(`The packet is ${bytes.length} bytes, more than the ${MAX_PACKET} an IP packet can hold`);
    // Hex is sent as given. With IP_HDRINCL on by hand (or protocol 255) it is taken to
    // start with its IPv4 header, and must; otherwise the kernel writes one in front of it.
    const userHeader = entry.headerIncluded && entry.headerIncludedBy !== 'engine' && startsWithIpv4Header(bytes);
    return { bytes, header: userHeader ? 'with' : 'without', source: 'hex' };
  }

  /**
   * Makes an IPv4 raw socket's IP_HDRINCL fit the next packet: on for one that starts
   * with its own IPv4 header, off for one without. The engine switches only what it
   * switched itself; IP_HDRINCL set by hand (or implied by protocol 255) is respected
   * and a packet without a header refused. It never switches under a running job of
   * the socket (its queued packets would go out the other way).
   */
  private headerMode(entry: SocketEntry, header: 'with' | 'without', source: 'hex' | 'layers'): void {
    if (entry.family !== 'ipv4' || entry.mode !== 'raw') return;
    const want = header === 'with';
    if (entry.headerIncluded === want) return;
    const fail = (code: string, message: string): never => {
      throw new WorkbenchError(code, message, 'packet');
    };
    const what = source === 'hex' ? 'The hex packet does not start with an IPv4 header' : 'The layer stack does not start with an ipv4 layer';
    const fix = source === 'hex' ? 'start the hex with an IPv4 header' : 'start the stack with an ipv4 layer';
    if (!want && entry.protocol === 255) {
      fail('INVALID_ARGUMENT', `${what}, but socket ${entry.id} is protocol 255 (IPPROTO_RAW), which always sends the IPv4 header it is given: ${fix}`);
    }
    if (!want && entry.headerIncludedBy === 'user') {
      fail('INVALID_ARGUMENT', `${what}, but IP_HDRINCL is on for socket ${entry.id} (set by hand): ${fix}, or set IP_HDRINCL to 0`);
    }
    if ([...entry.jobs].some((job) => job.running)) {
      fail('EBUSY', `Socket ${entry.id} has a running send job ${want ? 'without' : 'with'} an IPv4 header; sending this packet needs IP_HDRINCL ${want ? 'on' : 'off'}: wait for the job, cancel it, or use another socket`);
    }
    try {
      setIntOption(entry.socket, 'IP_HDRINCL', want ? 1 : 0);
    } catch (error) {
      throw toWorkbenchError(error, 'packet');
    }
    entry.headerIncluded = want;
    entry.headerIncludedBy = want ? 'engine' : null;
  }

  // ---- the log ------------------------------------------------------------------------

  async queryLog(params: Params<'queryLog'>): Promise<LogPage> {
    this.alive();
    const ring = this.ring;
    const filter = params.filter;
    const active = filter && (filter.protocol || filter.address || filter.direction || filter.text || filter.display?.trim());
    const rows: LogRow[] = [];
    if (!active) {
      const first = ring.oldestId + params.start;
      for (let id = first; id < ring.nextId && rows.length < params.limit; id++) rows.push(this.row(id) as LogRow);
      return { total: ring.count, rows, capacity: ring.capacity };
    }
    const protocol = filter.protocol?.toLowerCase();
    const address = filter.address ? canonicalOrText(filter.address) : undefined;
    const text = filter.text?.toLowerCase();
    const display = filter.display?.trim() ? compileLogFilter(filter.display, 'filter.display') : null;
    const packet = display ? new RingRowPacket(ring, (id) => this.matcher.linkOf(id)) : null;
    const directionCode = filter.direction === 'sent' ? DIRECTION_SENT : filter.direction === 'received' ? DIRECTION_RECEIVED : DIRECTION_IMPORTED;
    let total = 0;
    for (let id = ring.oldestId; id < ring.nextId; id++) {
      // Imported rows whose file gave a direction match 'imported' and their direction.
      if (filter.direction && ring.directionOf(id) !== directionCode && !(directionCode === DIRECTION_IMPORTED && ring.isImported(id))) continue;
      if (protocol) {
        const number = ring.protocolOf(id);
        if (protocolLabel(number).toLowerCase() !== protocol && String(number) !== protocol) continue;
      }
      if (address) {
        const { source, destination } = ring.addresses(id);
        if (source !== address && destination !== address) continue;
      }
      if (display && !(packet!.at(id) && display.test(packet!))) continue;
      let row: LogRow | null = null;
      if (text) {
        row = this.row(id) as LogRow;
        const haystack = `${row.direction} ${row.socketId ?? ''} ${row.source} ${row.destination} ${row.protocol} ${row.info}`.toLowerCase();
        if (!haystack.includes(text)) continue;
      }
      if (total >= params.start && rows.length < params.limit) rows.push(row ?? (this.row(id) as LogRow));
      total++;
    }
    return { total, rows, capacity: ring.capacity };
  }

  async filterLog(params: Params<'filterLog'>): Promise<DisplayFilterPage> {
    this.alive();
    const filter = compileLogFilter(params.expression, 'expression');
    return filterRing(this.ring, (id) => this.matcher.linkOf(id), filter, params.fromId, params.limit);
  }

  /** A compiled display filter's verdict on one logged row (false once the ring dropped it): for the CLI. */
  passesDisplayFilter(filter: DisplayFilter, id: number): boolean {
    return filterRing(this.ring, (other) => this.matcher.linkOf(other), filter, id, 1).ids.length === 1;
  }

  /** A log row with its request/response link. */
  private row(id: number): LogRow | null {
    const row = this.ring.row(id);
    const match = row ? this.matcher.linkOf(id) : undefined;
    if (match) row!.match = match;
    return row;
  }

  async decodeLogEntry(params: Params<'decodeLogEntry'>): Promise<DecodedEntry> {
    this.alive();
    const row = this.row(params.id);
    const bytes = this.ring.bytes(params.id);
    if (!row || !bytes) throw new WorkbenchError('NOT_FOUND', `Log entry ${params.id} is not in the log (the oldest kept is ${this.ring.oldestId})`, 'id');
    let layers: DecodedLayer[];
    if (this.ring.startsWithIpHeader(params.id)) {
      layers = decode(bytes);
    } else {
      const kind = layerKindForProtocol(this.ring.protocolOf(params.id));
      const addresses = row.source && row.destination ? { source: row.source, destination: row.destination } : {};
      layers =
        kind === 'payload' || bytes.length === 0
          ? [{ kind: 'payload', range: { start: 0, end: bytes.length }, data: bytes.slice() }]
          : decode(bytes, { first: kind, ...addresses });
    }
    return { row, hex: formatHex(bytes), summary: summarize(layers), layers: layers.map(layerToJson) };
  }

  async clearLog(): Promise<null> {
    this.alive();
    this.ring.clear();
    this.matcher.clear();
    this.logCursor = this.ring.nextId;
    this.firstIdSinceClear = this.ring.nextId;
    this.overflowed = 0;
    this.events.logWasCleared();
    this.announceLogStatus();
    return null;
  }

  async configureLog(params: Params<'configureLog'>): Promise<{ capacity: number }> {
    this.alive();
    this.ring.resize(params.capacity);
    this.matcher.resize(this.ring.capacity, this.ring.oldestId, this.ring.nextId);
    return { capacity: this.ring.capacity };
  }

  async exportPcapng(params: Params<'exportPcapng'>): Promise<{ pcapng: string; count: number }> {
    this.alive();
    const ring = this.ring;
    const ids = params.ids ?? rangeOf(ring.oldestId, ring.nextId);
    const encoder = params.format === 'pcap' ? new PcapEncoder() : new PcapngEncoder({ application: 'Packet Workbench' });
    const writer = new LogCaptureWriter(ring, encoder, this.describeSocket);
    for (const id of ids) writer.add(id);
    const file = encoder.take();
    return { pcapng: Buffer.from(file.buffer, file.byteOffset, file.byteLength).toString('base64'), count: writer.count };
  }

  async importPcapng(params: Params<'importPcapng'>): Promise<{ imported: number }> {
    this.alive();
    const bytes = Buffer.from(params.pcapng, 'base64');
    let capture;
    try {
      capture = readCapture(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (error) {
      throw new WorkbenchError('INVALID_ARGUMENT', `pcapng: ${(error as Error).message}`, 'pcapng');
    }
    let imported = 0;
    const facts: PacketFacts = { time: 0, direction: DIRECTION_IMPORTED, socket: -1, family: 4, withIpHeader: true, protocol: 0, peer: null, local: null };
    // The socket and network interface each of the file's interface blocks names (ours carry the socket id).
    const origins = capture.interfaces.map((iface) => {
      const { socketId, networkInterface } = readSocketOf(iface);
      return { socket: this.ring.socketIndex(socketId), networkInterface };
    });
    for (const packet of capture.packets) {
      const offset = ipHeaderOffset(packet.data, packet.linkType);
      if (offset === undefined) continue;
      const origin = origins[packet.interfaceId];
      facts.time = Number(packet.timestampNs / 1000n) / 1000;
      facts.family = packet.data[offset] >> 4 === 6 ? 6 : 4;
      facts.direction = packet.direction === 'inbound' ? DIRECTION_RECEIVED : packet.direction === 'outbound' ? DIRECTION_SENT : DIRECTION_IMPORTED;
      facts.imported = packet.direction !== undefined;
      facts.socket = origin?.socket ?? -1;
      facts.interface = origin?.networkInterface ?? null;
      this.logged(this.ring.append(packet.data, offset, packet.data.length, facts));
      imported++;
    }
    if (imported > 0) this.events.logAppended();
    return { imported };
  }

  /**
   * Logs a received packet, unless another of the engine's sockets already logged this very
   * packet (same bytes, same kernel receive stamp): each raw socket gets its own copy of
   * every packet of its protocol, the log shows it once, under the socket that logged it first.
   */
  private logReceived(bytes: Uint8Array, facts: PacketFacts, stampNs: bigint | undefined): void {
    if (this.duplicates.find(bytes, facts.family, stampNs, facts.time, this.ring) >= 0) return;
    const id = this.ring.append(bytes, 0, bytes.length, facts);
    this.duplicates.remember(id);
    this.logged(id);
  }

  /** A packet was appended to the log: tell the next batch, and every recording at once. */
  private logged(id: number): void {
    this.matcher.observeLogged(this.ring, id);
    this.events.logAppended();
    if (this.packetListeners.size > 0) for (const listener of this.packetListeners) listener(id);
  }

  private collectLogRows(): LogRow[] {
    const ring = this.ring;
    // Rows the ring has already overwritten are gone; clients see the gap in the ids, the status bar the count.
    if (this.logCursor < ring.oldestId) {
      this.overflowed += ring.oldestId - this.logCursor;
      this.announceLogStatus();
    }
    const from = Math.max(this.logCursor, ring.oldestId);
    const to = Math.min(ring.nextId, from + MAX_LOG_ROWS_PER_BATCH);
    const rows: LogRow[] = [];
    for (let id = from; id < to; id++) rows.push(this.row(id) as LogRow);
    this.logCursor = to;
    if (to < ring.nextId) this.events.logAppended(); // the rest follow in the next batch
    return rows;
  }

  // ---- experiments ---------------------------------------------------------------------

  async ping(params: Params<'ping'>): Promise<ExperimentRun> {
    this.alive();
    const run = new PingRun(this.experimentHost, `run-${++this.serial}`, params);
    await run.start();
    return this.registerStarted(run);
  }

  async traceroute(params: Params<'traceroute'>): Promise<ExperimentRun> {
    this.alive();
    const run = new TracerouteRun(this.experimentHost, `run-${++this.serial}`, params);
    await run.start();
    return this.registerStarted(run);
  }

  async stopExperiment(params: Params<'stopExperiment'>): Promise<ExperimentRun> {
    this.alive();
    const run = this.runs.get(params.runId);
    if (!run) throw new WorkbenchError('NOT_FOUND', `No experiment ${params.runId}`, 'runId');
    this.running.get(params.runId)?.stop();
    return snapshot(run);
  }

  async listExperiments(): Promise<ExperimentRun[]> {
    this.alive();
    return [...this.runs.values()].map(snapshot);
  }

  private registerStarted(experiment: Experiment): ExperimentRun {
    // close() may have run while the experiment was starting.
    if (this.closed) {
      experiment.stop();
      this.alive();
    }
    const run = experiment.run;
    this.runs.set(run.runId, run);
    if (run.state === 'running') this.running.set(run.runId, experiment);
    this.trimHistory(this.runs, (candidate) => candidate.state !== 'running');
    return snapshot(run);
  }

  private createExperimentHost(): ExperimentHost {
    return {
      events: this.events,
      openSocket: (options, extra) => this.source.open(options, extra),
      log: (packet: LoggedPacket) => {
        if (this.closed) return;
        const facts = this.experimentFacts;
        facts.time = nsToMs(packet.timestampNs);
        facts.direction = packet.direction;
        facts.family = packet.family;
        facts.withIpHeader = packet.withIpHeader;
        facts.protocol = packet.protocol;
        facts.peer = packet.withIpHeader ? null : packet.peer;
        facts.local = packet.withIpHeader ? null : packet.local;
        facts.hopLimit = packet.hopLimit;
        if (packet.direction === DIRECTION_RECEIVED) {
          this.logReceived(packet.bytes, facts, packet.timestampNs);
          return;
        }
        this.logged(this.ring.append(packet.bytes, 0, packet.bytes.length, facts));
      },
      takeEchoId: () => {
        for (let i = 0; i < 0x10000; i++) {
          const id = this.nextEchoId;
          this.nextEchoId = (this.nextEchoId % 0xffff) + 1;
          if (!this.echoIds.has(id)) {
            this.echoIds.add(id);
            return id;
          }
        }
        throw new WorkbenchError('EBUSY', 'Every ICMP echo identifier is taken by a running experiment');
      },
      releaseEchoId: (id) => {
        this.echoIds.delete(id);
      },
      takePort: () => {
        for (let i = 0; i < 20000; i++) {
          const port = this.nextPort;
          this.nextPort = this.nextPort >= 59999 ? 40000 : this.nextPort + 1;
          if (!this.ports.has(port)) {
            this.ports.add(port);
            return port;
          }
        }
        throw new WorkbenchError('EBUSY', 'Every probe source port is taken by a running experiment');
      },
      releasePort: (port) => {
        this.ports.delete(port);
      },
      ended: (run) => {
        this.running.delete(run.runId);
      },
    };
  }

  // ---- captures (packet sockets) and capture files ----------------------------------------

  async startCapture(params: Params<'startCapture'>): Promise<CaptureInfo> {
    this.alive();
    const filter = checkFilter(params.filter);
    const excluded = params.includeOwnTraffic ? null : this.ownTraffic.excludedFrom({ family: 'ipv4', protocol: 0, mode: 'packet' });
    const captureId = `capture-${++this.serial}`;
    const capture = new PacketCapture(
      {
        log: (bytes, facts) => {
          if (this.closed) return;
          // A packet socket's copy is the packet as the kernel saw it: no other socket's copy hides it.
          this.logged(this.ring.append(bytes, 0, bytes.length, facts));
        },
        changed: (changed) => {
          if (changed.kernelDrops > 0) this.countKernelDrops(captureId, changed.kernelDrops);
          this.events.coalesce(`capture:${captureId}`, () => ({ type: 'capture', capture: structuredClone(changed.info) }));
        },
      },
      captureId,
      this.ring.socketIndex(captureId),
      { ...params, filter: filter ?? undefined },
    );
    capture.start(kernelFilter(filter, excluded));
    if (excluded !== null) capture.info.excludedTraffic = excluded;
    this.socketDescriptions.set(captureId, `packet socket (${params.protocol === 'ip' ? 'IPv4 and IPv6' : params.protocol === 'ipv4' ? 'IPv4' : 'IPv6'}, ${params.interface ?? 'every interface'})`);
    this.captures.set(captureId, capture);
    this.trimHistory(this.captures, (candidate) => candidate.info.state !== 'running');
    this.events.coalesce(`capture:${captureId}`, () => ({ type: 'capture', capture: structuredClone(capture.info) }));
    return structuredClone(capture.info);
  }

  async stopCapture(params: Params<'stopCapture'>): Promise<CaptureInfo> {
    this.alive();
    const capture = this.captures.get(params.captureId);
    if (!capture) throw new WorkbenchError('NOT_FOUND', `No capture ${params.captureId}; listCaptures shows them`, 'captureId');
    await capture.stop();
    return structuredClone(capture.info);
  }

  async listCaptures(): Promise<CaptureInfo[]> {
    this.alive();
    return [...this.captures.values()].map((capture) => structuredClone(capture.info));
  }

  async logStatus(): Promise<LogStatus> {
    this.alive();
    return this.currentLogStatus();
  }

  /**
   * Feeds a capture file (or a counter) with every packet as it is logged, independent of
   * the log's capacity: the command line's `capture -w`. In-process only (not in the contract).
   */
  recordCapture(options: RecordCaptureOptions): CaptureRecording {
    this.alive();
    const ring = this.ring;
    const sockets = options.socketIds ? new Set(options.socketIds.map((id) => ring.socketIndex(id))) : null;
    const limit = options.limit ?? Infinity;
    const file = options.file;
    const writer = file ? new LogCaptureWriter(ring, file.encoder, this.describeSocket) : null;
    let count = 0;
    const listener = (id: number): void => {
      if (sockets && !sockets.has(ring.socketOf(id))) return;
      if (writer && file) {
        if (file.closed) return;
        writer.add(id);
        file.maybeFlush();
      }
      count++;
      if (count >= limit) {
        this.packetListeners.delete(listener);
        options.onLimit?.();
      }
    };
    this.packetListeners.add(listener);
    return {
      get count() {
        return count;
      },
      stop: () => {
        this.packetListeners.delete(listener);
      },
    };
  }

  private readonly describeSocket = (socketId: string): string => this.socketDescriptions.get(socketId) ?? 'socket';

  private countKernelDrops(id: string, drops: number): void {
    if (this.kernelDrops.get(id) === drops) return;
    this.kernelDrops.set(id, drops);
    this.announceLogStatus();
  }

  private currentLogStatus(): LogStatus {
    let kernelDrops = 0;
    for (const drops of this.kernelDrops.values()) kernelDrops += drops;
    return {
      capacity: this.ring.capacity,
      kept: this.ring.count,
      logged: this.ring.nextId - this.firstIdSinceClear,
      overflowed: this.overflowed,
      kernelDrops,
    };
  }

  private announceLogStatus(): void {
    this.events.coalesce('logStatus', () => ({ type: 'logStatus', status: this.currentLogStatus() }));
  }

  // ---- helpers ------------------------------------------------------------------------------

  private alive(): void {
    if (this.closed) throw new WorkbenchError('CLOSED', 'The workbench is closed');
  }

  private entry(socketId: string): SocketEntry {
    this.alive();
    const entry = this.sockets.get(socketId);
    if (!entry) throw new WorkbenchError('NOT_FOUND', `No socket ${socketId}; listSockets shows the open ones`, 'socketId');
    return entry;
  }

  private socketInfo(entry: SocketEntry): SocketInfo {
    return {
      socketId: entry.id,
      family: entry.family,
      protocol: entry.protocol,
      mode: entry.mode,
      via: entry.via,
      receivePaused: entry.paused,
      closed: entry.closed,
      counters: { ...entry.counters },
      filter: entry.filter,
      ...(this.excludedFrom(entry) !== null ? { excludedTraffic: this.excludedFrom(entry) as string } : {}),
    };
  }

  /** A 'socket' event with the socket's state at delivery time; once per batch however many packets passed. */
  private announceSocket(entry: SocketEntry): void {
    if (entry.announced) return;
    entry.announced = true;
    this.events.coalesce(`socket:${entry.id}`, () => {
      entry.announced = false;
      return { type: 'socket', socket: this.socketInfo(entry) };
    });
  }

  private trimHistory<V>(map: Map<string, V>, finished: (value: V) => boolean): void {
    if (map.size <= HISTORY) return;
    for (const [key, value] of map) {
      if (map.size <= HISTORY) break;
      if (finished(value)) map.delete(key);
    }
  }
}

/** What the engine reads from a message's info (kernel drops, IPV6_PKTINFO and hop limit where the library gives them). */
interface ReceivedInfo {
  timestamp?: bigint;
  ttl?: number;
  hopLimit?: number;
  localAddress?: string;
  drops?: number;
}

function closeWithin(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    socket.closeAsync().then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

/** Hex that can go out with IP_HDRINCL: version 4 and a header length that fits. */
function startsWithIpv4Header(bytes: Uint8Array): boolean {
  return bytes.length >= 20 && bytes[0] >> 4 === 4 && (bytes[0] & 0x0f) >= 5 && (bytes[0] & 0x0f) * 4 <= bytes.length;
}

function canonical(address: string): string {
  return formatIpAddress(parseIpAddress(address));
}

function canonicalOrText(address: string): string {
  return isIpv4(address) || isIpv6(address) ? canonical(address) : address;
}

function rangeOf(from: number, to: number): number[] {
  const ids: number[] = [];
  for (let id = from; id < to; id++) ids.push(id);
  return ids;
}

function layerToJson(layer: DecodedLayer): DecodedLayerJson {
  const base = { kind: layer.kind, range: { start: layer.range.start, end: layer.range.end } };
  if (layer.kind === 'payload') return { ...base, data: formatHex(layer.data), ...(layer.note ? { note: layer.note } : {}) };
  if (layer.kind === 'malformed') return { ...base, reason: layer.reason, data: formatHex(layer.data) };
  return {
    ...base,
    name: layer.name,
    fields: layer.fields.map((field) => ({
      name: field.name,
      label: field.label,
      type: field.type,
      value: field.value instanceof Uint8Array ? formatHex(field.value) : field.value,
      display: field.display,
      range: { start: field.range.start, end: field.range.end },
      ...(field.bits ? { bits: { start: field.bits.start, end: field.bits.end } } : {}),
    })),
    ...(layer.checksum
      ? {
          checksum: {
            status: layer.checksum.status,
            value: layer.checksum.value,
            ...(layer.checksum.status === 'wrong' ? { expected: layer.checksum.expected } : {}),
            ...(layer.checksum.status === 'unverified' ? { reason: layer.checksum.reason } : {}),
          },
        }
      : {}),
    ...(layer.problems.length > 0 ? { problems: [...layer.problems] } : {}),
    ...(layer.quoted ? { quoted: layer.quoted.map(layerToJson) } : {}),
  };
}
