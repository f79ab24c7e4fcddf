// Send jobs (send): the packets built from hex or layer stacks with their variable fields
// (send-packet.ts), IP_HDRINCL / IPV6_HDRINCL made to fit them, and a SendJob (send-job.ts) that
// paces them out of one of the user's sockets, logging each packet it sent and counting answers.
import type { Params, SendJobInfo, SendResults } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { formatIpAddress, isIpv4, parseIpAddress } from '../../packets/address';
import { checkBound, type Bound } from './engine-limits';
import type { EventHub } from './events';
import { nsToMs, toWorkbenchError } from './experiment';
import { trimHistory, type NewId } from './history';
import type { Lifetime } from './lifetime';
import { readIntOption, setIntOption } from './options';
import type { PacketLog } from './packet-log';
import { DIRECTION_SENT, type PacketFacts } from './ring';
import { SendJob, type SendJobHost } from './send-job';
import { describeJob, packetRequests, preparePacket } from './send-packet';
import type { SocketEntry, Sockets } from './sockets';

export class SendJobs {
  private readonly jobs = new Map<string, SendJob>();

  constructor(
    private readonly events: EventHub,
    private readonly log: PacketLog,
    private readonly sockets: Sockets,
    private readonly lifetime: Lifetime,
    private readonly newId: NewId,
    /** maxRunningJobs, counting these jobs (active). */
    private readonly limit: Bound,
  ) {}

  /** Jobs running or waiting for answers. */
  get active(): number {
    let active = 0;
    for (const job of this.jobs.values()) if (job.active) active++;
    return active;
  }

  async send(params: Params<'send'>): Promise<SendJobInfo> {
    const entry = this.sockets.entry(params.socketId);
    const address = params.address;
    if ((entry.family === 'ipv4') !== isIpv4(address)) {
      throw new WorkbenchError('INVALID_ARGUMENT', `${address} is not an ${entry.family === 'ipv4' ? 'IPv4' : 'IPv6'} address, as socket ${entry.id} needs`, 'address');
    }
    const requests = packetRequests(params);
    const local = await this.sockets.sourceAddress(entry, address).catch(() => null);
    // Hex is sent as given. With IP_HDRINCL on by hand (or protocol 255) it is taken to
    // start with its IPv4 header, and must; otherwise the kernel writes one in front of it.
    const userHeader = (bytes: Uint8Array): boolean => entry.headerIncluded && entry.headerIncludedBy !== 'engine' && startsWithIpHeader(bytes, entry.family);
    const packets = requests.map((request) => preparePacket(entry, address, local, request, userHeader));
    const { header, source } = packets[0];
    packets.forEach((packet, index) => {
      if (packet.header === header) return;
      throw new WorkbenchError(
        'INVALID_ARGUMENT',
        `packets.${index}.packet: ${packet.header === 'with' ? 'starts' : 'does not start'} with its IP header and packets.0 ${header === 'with' ? 'does' : 'does not'}: every packet of a stream goes out the same way (IP_HDRINCL is one setting of the socket)`,
        `packets.${index}.packet`,
      );
    });
    // closeSocket (or close) may have run during the await: start nothing on a closed socket.
    this.lifetime.alive();
    if (entry.closed) throw new WorkbenchError('NOT_FOUND', `Socket ${entry.id} was closed`, 'socketId');
    checkBound(this.limit, 'send jobs are running', 'wait for one to end or cancel one (cancelSend)');
    // After the last await, so that no other send switches IP_HDRINCL between here and the job's start.
    this.headerMode(entry, header, source);
    const intervalMs = params.rate !== undefined ? 1000 / params.rate : (params.intervalMs ?? 0);
    const jobId = this.newId('job');
    const headerGoesOut = header === 'with' && entry.mode === 'raw';
    const peer = formatIpAddress(parseIpAddress(address));
    // One set of log facts per stream packet: the TTL / hop limit the kernel writes into a header it builds, for capture files.
    const facts = packets.map((packet): PacketFacts => ({
      time: 0,
      direction: DIRECTION_SENT,
      socket: entry.ringIndex,
      family: entry.family === 'ipv4' ? 4 : 6,
      withIpHeader: entry.headerIncluded,
      protocol: entry.protocol,
      peer,
      local: headerGoesOut ? null : local,
      hopLimit: packet.kernelFields ? packet.kernelFields.hopLimit : this.socketHopLimit(entry),
    }));
    const host: SendJobHost = {
      events: this.events,
      sent: (p, bytes, offset, length, to, sentAtNs) => {
        const packetFacts = facts[p];
        packetFacts.time = nsToMs(sentAtNs);
        // A varied destination: the address the packet went to (formatted canonically already).
        packetFacts.peer = to === address ? peer : to;
        const id = this.log.append(bytes, packetFacts, offset, length);
        entry.counters.sent++;
        entry.counters.bytesSent += length;
        this.events.logAppended();
        this.sockets.announce(entry);
        return id;
      },
      failed: () => {
        entry.counters.sendErrors++;
        this.sockets.announce(entry);
      },
      ended: (job) => {
        entry.jobs.delete(job);
        trimHistory(this.jobs, (candidate) => !candidate.active);
      },
      onAnswered: (listener) => this.log.onAnswered(listener),
    };
    const order = params.order ?? 'sequential';
    const job = new SendJob(host, {
      jobId,
      socketId: entry.id,
      socket: entry.socket,
      packets,
      order,
      intervalMs,
      ...(params.burst ? { burst: params.burst } : {}),
      ...(params.answers ? { answers: params.answers } : {}),
      description: describeJob(packets, address, order, params.packets !== undefined),
    });
    this.jobs.set(jobId, job);
    entry.jobs.add(job);
    job.start();
    return job.snapshot();
  }

  /** The TTL / hop limit the kernel writes into a header it builds (undefined when the packet carries its own). */
  private socketHopLimit(entry: SocketEntry): number | undefined {
    if (entry.headerIncluded) return undefined;
    let hopLimit: number | undefined;
    try {
      hopLimit = readIntOption(entry.socket, entry.family === 'ipv4' ? 'IP_TTL' : 'IPV6_UNICAST_HOPS') ?? undefined;
    } catch {
      hopLimit = undefined;
    }
    return hopLimit !== undefined && hopLimit >= 0 && hopLimit <= 255 ? hopLimit : undefined;
  }

  async results(params: Params<'sendResults'>): Promise<SendResults> {
    this.lifetime.alive();
    const job = this.jobs.get(params.jobId);
    if (!job) throw new WorkbenchError('NOT_FOUND', `No send job ${params.jobId}`, 'jobId');
    if (!job.matching) throw new WorkbenchError('INVALID_ARGUMENT', `${params.jobId} was not started with answers`, 'jobId');
    return { jobId: params.jobId, final: !job.active, ...job.results(params.offset, params.limit, (id) => this.log.infoOf(id)) };
  }

  async cancel(params: Params<'cancelSend'>): Promise<SendJobInfo> {
    this.lifetime.alive();
    const job = this.jobs.get(params.jobId);
    if (!job) throw new WorkbenchError('NOT_FOUND', `No send job ${params.jobId}`, 'jobId');
    job.cancel();
    return job.snapshot();
  }

  async list(): Promise<SendJobInfo[]> {
    this.lifetime.alive();
    return [...this.jobs.values()].map((job) => job.snapshot());
  }

  /** Cancels every job (close()). */
  cancelAll(): void {
    for (const job of this.jobs.values()) job.dispose();
  }

  /**
   * Makes a raw socket's IP_HDRINCL (IPv4) or IPV6_HDRINCL (IPv6, Linux) fit the next
   * packet: on for one that starts with its own IP header, off for one without. The engine
   * switches only what it switched itself; the option set by hand (or implied by protocol 255) is respected
   * and a packet without a header refused. It never switches under a running job of
   * the socket (its queued packets would go out the other way).
   */
  private headerMode(entry: SocketEntry, header: 'with' | 'without', source: 'hex' | 'layers'): void {
    if (entry.mode !== 'raw') return;
    const want = header === 'with';
    const option = entry.family === 'ipv4' ? 'IP_HDRINCL' : 'IPV6_HDRINCL';
    const ipName = entry.family === 'ipv4' ? 'IPv4' : 'IPv6';
    if (entry.headerIncluded === want) return;
    const fail = (code: string, message: string): never => {
      throw new WorkbenchError(code, message, 'packet');
    };
    const what = source === 'hex' ? `The hex packet does not start with an ${ipName} header` : `The layer stack does not start with an ${entry.family} layer`;
    const fix = source === 'hex' ? `start the hex with an ${ipName} header` : `start the stack with an ${entry.family} layer`;
    if (!want && entry.protocol === 255) {
      fail('INVALID_ARGUMENT', `${what}, but socket ${entry.id} is protocol 255 (IPPROTO_RAW), which always sends the ${ipName} header it is given: ${fix}`);
    }
    if (!want && entry.headerIncludedBy === 'user') {
      fail('INVALID_ARGUMENT', `${what}, but ${option} is on for socket ${entry.id} (set by hand): ${fix}, or set ${option} to 0`);
    }
    if ([...entry.jobs].some((job) => job.running)) {
      fail('EBUSY', `Socket ${entry.id} has a running send job ${want ? 'without' : 'with'} an ${ipName} header; sending this packet needs ${option} ${want ? 'on' : 'off'}: wait for the job, cancel it, or use another socket`);
    }
    try {
      setIntOption(entry.socket, option, want ? 1 : 0);
    } catch (error) {
      throw toWorkbenchError(error, 'packet');
    }
    entry.headerIncluded = want;
    entry.headerIncludedBy = want ? 'engine' : null;
  }
}

/** Hex that can go out with IP_HDRINCL / IPV6_HDRINCL: the family's version and a header that fits. */
function startsWithIpHeader(bytes: Uint8Array, family: 'ipv4' | 'ipv6'): boolean {
  if (family === 'ipv6') return bytes.length >= 40 && bytes[0] >> 4 === 6;
  return bytes.length >= 20 && bytes[0] >> 4 === 4 && (bytes[0] & 0x0f) >= 5 && (bytes[0] & 0x0f) * 4 <= bytes.length;
}
