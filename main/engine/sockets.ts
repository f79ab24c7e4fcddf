// The sockets a user opened (openSocket): their entries, counters and filters, and the
// engine's own traffic kept out of them in the kernel. What they receive goes to the log;
// send jobs (jobs.ts) send through them.
import type { Socket } from '@packet-workbench/raw-socket';
import type { OptionReading, Params, SocketInfo } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { checkBound, type Bound } from './engine-limits';
import type { EventHub } from './events';
import type { LabHost, LabHosts } from './labs';
import { nsToMs } from './experiment';
import { asFilterError, checkFilter, kernelFilter, type OwnTraffic } from './filters';
import type { NewId } from './history';
import type { Lifetime } from './lifetime';
import { optionsFor, readOption, writeOption } from './options';
import type { PacketLog } from './packet-log';
import { protocolLabel } from './peek';
import { sourceAddressFor } from './route';
import { DIRECTION_RECEIVED, type PacketFacts } from './ring';
import type { SendJob } from './send-job';
import type { SocketSource, SocketVia } from './socket-source';

export interface SocketEntry {
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
  /** The lab host whose namespace it was opened in. */
  lab?: LabHost;
}

/** A job's or socket's end, as SendJob.fail takes it. */
export interface Failure {
  code: string;
  message: string;
}

export class Sockets {
  private readonly entries = new Map<string, SocketEntry>();
  /** Sockets being opened (an await away from entries): counted against the limit too. */
  private opening = 0;

  constructor(
    private readonly events: EventHub,
    private readonly log: PacketLog,
    private readonly source: SocketSource,
    private readonly ownTraffic: OwnTraffic,
    private readonly lifetime: Lifetime,
    private readonly newId: NewId,
    private readonly labs: LabHosts,
    /** maxOpenSockets, counting these sockets (open) and the running captures. */
    private readonly limit: Bound,
  ) {}

  /** Sockets holding a descriptor: open, or being opened. */
  get holding(): number {
    let open = this.opening;
    for (const entry of this.entries.values()) if (!entry.closed) open++;
    return open;
  }

  async open(params: Params<'openSocket'>): Promise<SocketInfo> {
    this.lifetime.alive();
    checkBound(this.limit, 'sockets and captures are open', 'close some in the Sockets panel (closeSocket, stopCapture)');
    this.opening++;
    try {
      return await this.openSocket(params);
    } finally {
      this.opening--;
    }
  }

  private async openSocket(params: Params<'openSocket'>): Promise<SocketInfo> {
    const lab = params.host === undefined ? undefined : this.labs.host(params.host);
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
        ...(lab ? { namespace: lab.namespace } : {}),
      })
      .catch((error: unknown) => {
        throw asFilterError(error);
      });
    if (this.lifetime.closed) {
      socket.close();
      this.lifetime.alive();
    }
    const id = this.newId('socket');
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
      ringIndex: this.log.socketIndex(id),
      // Protocol 255 (IPPROTO_RAW) sockets always send the header they are given, IPv4 and IPv6.
      headerIncluded: socket.mode === 'raw' && params.protocol === 255,
      headerIncludedBy: null,
      jobs: new Set(),
      announced: false,
      ...(lab ? { lab } : {}),
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
    if (socket.mode === 'datagram' && (params.protocol === 1 || params.protocol === 58)) this.log.kernelChoosesEchoIds(entry.ringIndex);
    this.log.describe(id, `${params.family === 'ipv4' ? 'IPv4' : 'IPv6'} ${socket.mode} socket, protocol ${params.protocol} (${protocolLabel(params.protocol)})`, lab?.host);
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
      this.log.appendReceived(buffer, facts, info.timestamp);
      entry.counters.received++;
      entry.counters.bytesReceived += buffer.length;
      if (info.drops !== undefined && info.drops !== entry.counters.drops) {
        entry.counters.drops = info.drops;
        this.log.countKernelDrops(entry.id, info.drops);
      }
      this.announce(entry);
    });
    socket.on('error', (error: Error) => {
      // The library closes the socket after this: its jobs end now, not packet by packet.
      entry.closed = true;
      const code = (error as { code?: unknown }).code;
      const failure = { code: typeof code === 'string' ? code : 'INTERNAL', message: `Socket ${entry.id} failed: ${error.message}` };
      for (const job of [...entry.jobs]) job.fail(failure);
      this.announce(entry);
    });
    this.entries.set(id, entry);
    this.announce(entry);
    return this.info(entry);
  }

  async close(params: Params<'closeSocket'>): Promise<SocketInfo> {
    const entry = this.entry(params.socketId);
    for (const job of entry.jobs) job.cancel();
    const drops = (entry.socket as unknown as { drops?: number }).drops;
    if (drops !== undefined) {
      entry.counters.drops = drops;
      this.log.countKernelDrops(entry.id, drops);
    }
    entry.closed = true;
    this.entries.delete(entry.id);
    await closeWithin(entry.socket, 1000);
    this.announce(entry);
    return this.info(entry);
  }

  async list(): Promise<SocketInfo[]> {
    this.lifetime.alive();
    return [...this.entries.values()].map((entry) => this.info(entry));
  }

  async pauseReceive(params: Params<'pauseReceive'>): Promise<SocketInfo> {
    const entry = this.entry(params.socketId);
    entry.socket.pauseRecv();
    entry.paused = true;
    this.announce(entry);
    return this.info(entry);
  }

  async resumeReceive(params: Params<'resumeReceive'>): Promise<SocketInfo> {
    const entry = this.entry(params.socketId);
    entry.socket.resumeRecv();
    entry.paused = false;
    this.announce(entry);
    return this.info(entry);
  }

  async setFilter(params: Params<'setSocketFilter'>): Promise<SocketInfo> {
    const entry = this.entry(params.socketId);
    const filter = checkFilter(params.filter);
    try {
      entry.socket.setFilter(kernelFilter(filter, this.excludedFrom(entry)));
    } catch (error) {
      throw asFilterError(error);
    }
    entry.filter = filter;
    this.announce(entry);
    return this.info(entry);
  }

  async readOptions(params: Params<'readSocketOptions'>): Promise<OptionReading[]> {
    const entry = this.entry(params.socketId);
    return optionsFor(entry.family).map((option) => readOption(entry.socket, option));
  }

  async setOption(params: Params<'setSocketOption'>): Promise<OptionReading> {
    const entry = this.entry(params.socketId);
    const reading = writeOption(entry.socket, entry.family, params.name, params.value);
    if ((params.name === 'IP_HDRINCL' || params.name === 'IPV6_HDRINCL') && typeof reading.value === 'number') {
      entry.headerIncluded = reading.value === 1 || entry.protocol === 255;
      entry.headerIncludedBy = reading.value === 1 && entry.protocol !== 255 ? 'user' : null;
    }
    return reading;
  }

  /** The open socket with this id, or NOT_FOUND (CLOSED once the workbench is). */
  entry(socketId: string): SocketEntry {
    this.lifetime.alive();
    const entry = this.entries.get(socketId);
    if (!entry) throw new WorkbenchError('NOT_FOUND', `No socket ${socketId}; listSockets shows the open ones`, 'socketId');
    return entry;
  }

  /** The open socket with this id, if any. */
  get(socketId: string): SocketEntry | undefined {
    return this.entries.get(socketId);
  }

  /** A 'socket' event with the socket's state at delivery time; once per batch however many packets passed. */
  announce(entry: SocketEntry): void {
    if (entry.announced) return;
    entry.announced = true;
    this.events.coalesce(`socket:${entry.id}`, () => {
      entry.announced = false;
      return { type: 'socket', socket: this.info(entry) };
    });
  }

  /** Applies the engine's own traffic (excludeOwnTraffic) to the kernel filters of the open sockets. */
  refilter(): void {
    for (const entry of this.entries.values()) {
      const wanted = kernelFilter(entry.filter, this.excludedFrom(entry));
      if (entry.closed || entry.socket.filter === wanted) continue;
      try {
        entry.socket.setFilter(wanted);
      } catch {
        // The user's filter was accepted with the old exclusion; it stays (the socket then shows our traffic).
      }
      this.announce(entry);
    }
  }

  /** The helper stopped: the sockets it opened close, their jobs fail with the reason. */
  closeHelperSockets(failure: Failure): void {
    this.takeAway((entry) => entry.via === 'helper', failure);
  }

  /** The lab is going down: sockets opened in its hosts close (they would keep its namespaces alive), their jobs fail. */
  closeLabSockets(failure: Failure): void {
    this.takeAway((entry) => entry.lab !== undefined, failure);
  }

  private takeAway(which: (entry: SocketEntry) => boolean, failure: Failure): void {
    for (const entry of [...this.entries.values()]) {
      if (!which(entry) || entry.closed) continue;
      for (const job of [...entry.jobs]) job.fail(failure);
      entry.closed = true;
      this.entries.delete(entry.id);
      void closeWithin(entry.socket, 1000);
      this.announce(entry);
    }
  }

  /** Closes every socket (close()): resolves when all are closed, or after a second. */
  closeAll(): Promise<void>[] {
    const closing: Promise<void>[] = [];
    for (const entry of this.entries.values()) {
      entry.closed = true;
      closing.push(closeWithin(entry.socket, 1000));
    }
    this.entries.clear();
    return closing;
  }

  private excludedFrom(entry: SocketEntry): string | null {
    return entry.includeOwnTraffic ? null : this.ownTraffic.excludedFrom({ family: entry.family, protocol: entry.protocol, mode: entry.mode });
  }

  /** The address a socket's packets leave from toward `destination`: its lab host's routes decide, when it has one. */
  sourceAddress(entry: SocketEntry, destination: string): Promise<string> {
    return entry.lab ? this.labs.sourceAddress(entry.lab, destination) : sourceAddressFor(destination);
  }

  private info(entry: SocketEntry): SocketInfo {
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
      ...(entry.lab !== undefined ? { host: entry.lab.host } : {}),
    };
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
