// Send jobs (send): the packet built from hex or a layer stack, IP_HDRINCL /
// IPV6_HDRINCL made to fit it, and a SendJob (send-job.ts) that paces it out of one of the user's sockets,
// logging each packet it sent.
import type { Params, SendJobInfo, SendResults } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { formatIpAddress, isIpv4, parseIpAddress } from '../../packets/address';
import { build } from '../../packets/build';
import { parseHex } from '../../packets/hex';
import type { LayerSpec as PacketLayerSpec } from '../../packets/layer';
import type { EventHub } from './events';
import { kernelHeaderFields, type KernelHeaderFields } from './header-fields';
import { nsToMs, toWorkbenchError } from './experiment';
import { trimHistory, type NewId } from './history';
import type { Lifetime } from './lifetime';
import { readIntOption, setIntOption } from './options';
import type { PacketLog } from './packet-log';
import { DIRECTION_SENT, type PacketFacts } from './ring';
import { sourceAddressFor } from './route';
import { SendJob, type SendJobHost } from './send-job';
import type { SocketEntry, Sockets } from './sockets';

const MAX_PACKET = 65535;

export class SendJobs {
  private readonly jobs = new Map<string, SendJob>();

  constructor(
    private readonly events: EventHub,
    private readonly log: PacketLog,
    private readonly sockets: Sockets,
    private readonly lifetime: Lifetime,
    private readonly newId: NewId,
  ) {}

  async send(input: Params<'send'>): Promise<SendJobInfo> {
    // Until streams land: a stream of one packet is that packet.
    if (input.packets && input.packets.length > 1) throw new WorkbenchError('NOT_SUPPORTED', 'streams of several packets are not supported yet', 'packets');
    const params = input.packets ? { ...input, packet: input.packets[0].packet, count: input.packets[0].count } : input;
    const entry = this.sockets.entry(params.socketId);
    const address = params.address;
    if ((entry.family === 'ipv4') !== isIpv4(address)) {
      throw new WorkbenchError('INVALID_ARGUMENT', `${address} is not an ${entry.family === 'ipv4' ? 'IPv4' : 'IPv6'} address, as socket ${entry.id} needs`, 'address');
    }
    if (!params.packet) throw new WorkbenchError('INVALID_ARGUMENT', 'give packet or packets', 'packet');
    const { bytes: packet, header, source, kernelFields } = await this.packetBytes(entry, { ...params, packet: params.packet });
    const headerGoesOut = header === 'with' && entry.mode === 'raw';
    const local = headerGoesOut ? null : await sourceAddressFor(address).catch(() => null);
    // closeSocket (or close) may have run during either await: start nothing on a closed socket.
    this.lifetime.alive();
    if (entry.closed) throw new WorkbenchError('NOT_FOUND', `Socket ${entry.id} was closed`, 'socketId');
    // After the last await, so that no other send switches IP_HDRINCL between here and the job's start.
    this.headerMode(entry, header, source);
    const intervalMs = params.rate !== undefined ? 1000 / params.rate : (params.intervalMs ?? 0);
    const jobId = this.newId('job');
    // The TTL / hop limit the kernel writes into a header it builds, for capture files.
    let hopLimit: number | undefined;
    if (kernelFields) {
      hopLimit = kernelFields.hopLimit;
    } else if (!entry.headerIncluded) {
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
      peer: formatIpAddress(parseIpAddress(address)),
      local,
      hopLimit,
    };
    const host: SendJobHost = {
      events: this.events,
      sent: (bytes, sentAtNs) => {
        facts.time = nsToMs(sentAtNs);
        this.log.append(bytes, facts);
        entry.counters.sent++;
        entry.counters.bytesSent += bytes.length;
        this.events.logAppended();
        this.sockets.announce(entry);
      },
      failed: () => {
        entry.counters.sendErrors++;
        this.sockets.announce(entry);
      },
      ended: (job) => {
        entry.jobs.delete(job);
        trimHistory(this.jobs, (candidate) => !candidate.running);
      },
    };
    // The header fields a kernel-built header takes from the layer stack go with every packet.
    const destination = kernelFields ? { address, hopLimit: kernelFields.hopLimit, trafficClass: kernelFields.trafficClass } : address;
    const job = new SendJob(host, jobId, entry.id, entry.socket, destination, packet, params.count ?? 1, intervalMs);
    this.jobs.set(jobId, job);
    entry.jobs.add(job);
    job.start();
    return job.snapshot();
  }

  async cancel(params: Params<'cancelSend'>): Promise<SendJobInfo> {
    this.lifetime.alive();
    const job = this.jobs.get(params.jobId);
    if (!job) throw new WorkbenchError('NOT_FOUND', `No send job ${params.jobId}`, 'jobId');
    job.cancel();
    return job.snapshot();
  }

  async results(params: Params<'sendResults'>): Promise<SendResults> {
    this.lifetime.alive();
    if (!this.jobs.has(params.jobId)) throw new WorkbenchError('NOT_FOUND', `No send job ${params.jobId}`, 'jobId');
    throw new WorkbenchError('INVALID_ARGUMENT', `${params.jobId} was not started with answers`, 'jobId');
  }

  async list(): Promise<SendJobInfo[]> {
    this.lifetime.alive();
    return [...this.jobs.values()].map((job) => job.snapshot());
  }

  /** Cancels every job (close()). */
  cancelAll(): void {
    for (const job of this.jobs.values()) job.cancel();
  }

  /**
   * The bytes to send. Hex is sent as given. A layer stack is built; an IP header on a
   * raw socket turns IP_HDRINCL / IPV6_HDRINCL on, so every field the user set (TTL,
   * hop limit, traffic class, flow label, options…) is sent as given; the next packet
   * without one turns it off again (see headerMode). A datagram socket never takes a
   * header: it is stripped after the inner checksums were computed with its addresses,
   * and its hop limit and traffic class go as ancillary data (kernelFields); a field
   * the kernel cannot honour is refused (header-fields.ts).
   */
  private async packetBytes(entry: SocketEntry, params: Params<'send'> & { packet: NonNullable<Params<'send'>['packet']> }): Promise<{ bytes: Uint8Array; header: 'with' | 'without'; source: 'hex' | 'layers'; kernelFields?: KernelHeaderFields }> {
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
      const keepHeader = ipFamily !== null && entry.mode === 'raw';
      let kernelFields: KernelHeaderFields | undefined;
      if (ipFamily && !keepHeader) {
        kernelFields = kernelHeaderFields(bytes, { protocol: entry.protocol, destination: params.address, source: local });
        bytes = bytes.subarray(ipFamily === 'ipv4' ? (bytes[0] & 0x0f) * 4 : 40);
      }
      if (bytes.length > MAX_PACKET) throw invalid(`The packet is ${bytes.length} bytes, more than the ${MAX_PACKET} an IP packet can hold`);
      return { bytes, header: keepHeader ? 'with' : 'without', source: 'layers', ...(kernelFields ? { kernelFields } : {}) };
    }
    if (bytes.length > MAX_PACKET) throw invalid(`The packet is ${bytes.length} bytes, more than the ${MAX_PACKET} an IP packet can hold`);
    // Hex is sent as given. With IP_HDRINCL on by hand (or protocol 255) it is taken to
    // start with its IPv4 header, and must; otherwise the kernel writes one in front of it.
    const userHeader = entry.headerIncluded && entry.headerIncludedBy !== 'engine' && startsWithIpHeader(bytes, entry.family);
    return { bytes, header: userHeader ? 'with' : 'without', source: 'hex' };
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
