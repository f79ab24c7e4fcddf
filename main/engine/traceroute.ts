// A traceroute run: probes with TTL (hop limit) firstHop, firstHop+1, … until the
// target answers or maxHops. Probe kinds: ICMP echo, UDP to port 33434+n, TCP SYN
// (default port 80) hand-built with the pseudo-header checksum; the kernel adds
// the IP header. Answers are matched by the packet an ICMP error quotes (echo
// identifier and sequence, or our ports and TCP sequence number), by the echo
// reply's identifier and sequence, or by a SYN-ACK/RST acknowledging our SYN.
// Everything here needs raw sockets: ICMP datagram sockets only see errors through
// IP_RECVERR, which the library does not offer yet.
import type { Socket } from '@packet-workbench/raw-socket';
import type { ExperimentRun, Hop, HopProbe, Params } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { formatIpAddress, isIpv6, parseIpAddress } from '../../packets/address';
import { build } from '../../packets/build';
import { formatIpv4At } from './peek';
import { type Experiment, type ExperimentHost, nowMs, openSocket, snapshot, toWorkbenchError } from './experiment';
import { answerTypes, echoRequestType, errorKind, isEchoReply, isError, isUnreachableKind, readIcmp, readQuoted, readUint16, readUint32, roundTripMs } from './icmp';
import { setIntOption } from './options';
import { DIRECTION_RECEIVED, DIRECTION_SENT } from './ring';
import { sourceAddressFor } from './route';

const TERMINAL = new Set(['echo-reply', 'port-unreachable', 'tcp-synack', 'tcp-rst']);
const PAYLOAD_BYTES = 32;

interface Probe {
  index: number;
  ttl: number;
  sentAtNs?: bigint;
  sentMono: number;
  result: HopProbe | null;
}

export class TracerouteRun implements Experiment {
  readonly run: ExperimentRun;
  private readonly family: 4 | 6;
  private readonly target: string;
  private readonly probeKind: 'icmp' | 'udp' | 'tcp';
  private readonly port: number;
  private icmpSocket: Socket | null = null;
  private probeSocket: Socket | null = null;
  private local: string | null = null;
  private echoId = 0;
  private sourcePort = 0;
  private readonly tcpSequenceBase = (Math.random() * 0x7fffffff) >>> 0;
  private nextIndex = 0;
  private hopProbes: Probe[] = [];
  private hopTimer: NodeJS.Timeout | null = null;
  private hopDone: (() => void) | null = null;
  /** Resolves the current hop at once (stop). */
  private endHop: (() => void) | null = null;

  constructor(
    private readonly host: ExperimentHost,
    runId: string,
    private readonly params: Params<'traceroute'>,
  ) {
    this.family = isIpv6(params.target) ? 6 : 4;
    this.target = formatIpAddress(parseIpAddress(params.target));
    this.probeKind = params.probe;
    this.port = params.port ?? (params.probe === 'tcp' ? 80 : 33434);
    this.run = {
      runId,
      kind: 'traceroute',
      target: params.target,
      family: this.family === 4 ? 'ipv4' : 'ipv6',
      params: { ...params, port: this.port },
      state: 'running',
      startedAt: nowMs(),
      mode: 'raw',
      traceroute: { hops: [], reached: false },
    };
  }

  /** Opens the raw sockets; throws WorkbenchError('EPERM', remedy) where raw sockets are refused. */
  async start(): Promise<void> {
    if (this.params.firstHop > this.params.maxHops) {
      throw new WorkbenchError('INVALID_ARGUMENT', `firstHop ${this.params.firstHop} is above maxHops ${this.params.maxHops}`, 'firstHop');
    }
    const family = this.family;
    const addressFamily = family === 4 ? 1 : 2;
    try {
      this.icmpSocket = openSocket({ addressFamily, protocol: family === 4 ? 1 : 58, mode: 'raw', timestamps: true, icmpTypes: answerTypes(family) });
      if (this.probeKind !== 'icmp') {
        // The UDP probe socket never reads (see below): no larger receive buffer for datagrams nobody takes.
        const udp = this.probeKind === 'udp';
        this.probeSocket = openSocket({ addressFamily, protocol: udp ? 17 : 6, mode: 'raw', timestamps: true }, { receiveBuffer: !udp });
      }
    } catch (error) {
      this.closeSockets();
      const failure = toWorkbenchError(error);
      if (failure.code === 'EPERM' || failure.code === 'EACCES') {
        throw new WorkbenchError(
          failure.code,
          `Traceroute needs raw sockets to send probes with a chosen TTL and to receive the ICMP Time Exceeded errors routers answer with. ` +
            `${failure.message} ICMP datagram ("ping") sockets are no substitute: they receive those errors only through IP_RECVERR, ` +
            `which the raw socket library does not expose yet (so UDP traceroute without privileges is not possible either).`,
        );
      }
      throw failure;
    }
    this.icmpSocket.on('message', this.onIcmp);
    this.icmpSocket.on('error', () => undefined);
    if (this.probeSocket) {
      this.probeSocket.on('error', () => undefined);
      // A raw UDP socket would see every UDP datagram of the host; nothing we need arrives on it.
      if (this.probeKind === 'udp') this.probeSocket.pauseRecv();
      else this.probeSocket.on('message', this.onTcp);
    }
    if (this.probeKind === 'icmp') this.echoId = this.host.takeEchoId();
    else this.sourcePort = this.host.takePort();
    try {
      this.local = await sourceAddressFor(this.target);
    } catch (error) {
      this.closeSockets();
      this.release();
      throw new WorkbenchError('ENETUNREACH', `No route to ${this.target}: ${(error as Error).message}`, 'target');
    }
    this.host.events.coalesce(`experiment:${this.run.runId}`, () => ({ type: 'experiment', run: snapshot(this.run) }));
    void this.trace().catch((error) => this.finish('failed', toWorkbenchError(error)));
  }

  stop(): void {
    if (this.run.state !== 'running') return;
    this.finish('stopped');
  }

  private async trace(): Promise<void> {
    for (let ttl = this.params.firstHop; ttl <= this.params.maxHops; ttl++) {
      if (this.run.state !== 'running') return;
      const probes = await this.probeHop(ttl);
      if (this.run.state !== 'running') return;
      const hop: Hop = { ttl, probes: probes.map((probe) => probe.result ?? { status: 'timeout' }) };
      this.run.traceroute!.hops.push(hop);
      this.host.events.push({ type: 'tracerouteHop', runId: this.run.runId, hop });
      const answers = hop.probes.filter((probe) => probe.status === 'reply');
      if (answers.some((probe) => TERMINAL.has(probe.kind ?? ''))) {
        this.run.traceroute!.reached = true;
        break;
      }
      // Unreachable (!H, !N…) from anyone: nothing further will get through.
      if (answers.length > 0 && answers.every((probe) => isUnreachableKind(probe.kind))) break;
    }
    this.finish('done');
  }

  /** Sends the hop's probes and resolves when all are answered or the timeout has passed since the last was sent. */
  private probeHop(ttl: number): Promise<Probe[]> {
    const probes: Probe[] = [];
    for (let i = 0; i < this.params.probesPerHop; i++) probes.push({ index: this.nextIndex++, ttl, sentMono: performance.now(), result: null });
    this.hopProbes = probes;
    return new Promise((resolve) => {
      let unsent = probes.length;
      const done = (): void => {
        if (this.hopTimer) clearTimeout(this.hopTimer);
        this.hopTimer = null;
        this.hopDone = null;
        this.endHop = null;
        resolve(probes);
      };
      this.endHop = done;
      this.hopDone = () => {
        if (unsent === 0 && probes.every((probe) => probe.result !== null)) done();
      };
      const socket = (this.probeSocket ?? this.icmpSocket) as Socket;
      const optionName = this.family === 4 ? 'IP_TTL' : 'IPV6_UNICAST_HOPS';
      for (const probe of probes) {
        const packet = this.buildProbe(probe.index);
        socket.send(
          packet,
          0,
          packet.length,
          this.target,
          () => setIntOption(socket, optionName, ttl),
          (error, _bytes, sentAt) => {
            unsent--;
            probe.sentMono = performance.now();
            if (error) {
              probe.result = { status: 'timeout', kind: `send failed: ${(error as { code?: string }).code ?? error.message}` };
            } else {
              probe.sentAtNs = sentAt;
              this.host.log({
                bytes: packet,
                direction: DIRECTION_SENT,
                family: this.family,
                withIpHeader: false,
                protocol: this.protocolNumber(),
                peer: this.target,
                local: this.local,
                timestampNs: sentAt,
              });
            }
            if (unsent === 0) {
              if (this.run.state !== 'running') return done();
              this.hopTimer = setTimeout(done, this.params.timeoutMs);
              this.hopDone?.();
            }
          },
        );
      }
    });
  }

  private protocolNumber(): number {
    if (this.probeKind === 'udp') return 17;
    if (this.probeKind === 'tcp') return 6;
    return this.family === 4 ? 1 : 58;
  }

  private buildProbe(index: number): Uint8Array {
    const payload = new Uint8Array(PAYLOAD_BYTES);
    for (let i = 0; i < payload.length; i++) payload[i] = 0x40 + (i % 32);
    const addresses = { source: this.local as string, destination: this.target };
    if (this.probeKind === 'icmp') {
      const kind = this.family === 4 ? 'icmp' : 'icmpv6';
      return build(
        [{ kind, fields: { type: echoRequestType(this.family), code: 0, identifier: this.echoId, sequence: (index + 1) & 0xffff } }, { kind: 'payload', data: payload }],
        addresses,
      );
    }
    if (this.probeKind === 'udp') {
      return build(
        [{ kind: 'udp', fields: { srcPort: this.sourcePort, dstPort: (this.port + index) & 0xffff } }, { kind: 'payload', data: payload }],
        addresses,
      );
    }
    return build(
      [{ kind: 'tcp', fields: { srcPort: this.sourcePort, dstPort: this.port, seq: this.tcpSequence(index), flags: 0x02, window: 64240 } }],
      addresses,
    );
  }

  private tcpSequence(index: number): number {
    return (this.tcpSequenceBase + index) >>> 0;
  }

  /** The probe of the current hop with this index, if unanswered. */
  private probeAt(index: number): Probe | undefined {
    const probe = this.hopProbes.find((candidate) => candidate.index === index);
    return probe && probe.result === null ? probe : undefined;
  }

  private answer(probe: Probe, responder: string, kind: string, timestampNs: bigint | undefined, bytes: Buffer, withIpHeader: boolean, protocol: number): void {
    const rtt = roundTripMs(probe.sentAtNs, timestampNs, probe.sentMono, performance.now());
    probe.result = { status: 'reply', responder, rtt, kind };
    this.host.log({
      bytes,
      direction: DIRECTION_RECEIVED,
      family: this.family,
      withIpHeader,
      protocol,
      peer: responder,
      local: this.local,
      timestampNs,
    });
    this.hopDone?.();
  }

  private onIcmp = (buffer: Buffer, address: string, info: { timestamp?: bigint }): void => {
    if (this.run.state !== 'running') return;
    const family = this.family;
    const view = readIcmp(buffer, family === 4);
    if (!view) return;
    const icmpProtocol = family === 4 ? 1 : 58;
    if (isEchoReply(view.type, family)) {
      if (this.probeKind !== 'icmp' || readUint16(view.icmp, 4) !== this.echoId || address !== this.target) return;
      const probe = this.probeAt(readUint16(view.icmp, 6) - 1);
      if (probe) this.answer(probe, address, 'echo-reply', info.timestamp, buffer, family === 4, icmpProtocol);
      return;
    }
    if (!isError(view.type, family)) return;
    const quoted = readQuoted(view.icmp, family);
    if (!quoted || quoted.destination !== this.target || quoted.transport.length < 8) return;
    const transport = quoted.transport;
    let index = -1;
    if (this.probeKind === 'icmp') {
      if (quoted.protocol !== icmpProtocol || transport[0] !== echoRequestType(family) || readUint16(transport, 4) !== this.echoId) return;
      index = readUint16(transport, 6) - 1;
    } else if (this.probeKind === 'udp') {
      if (quoted.protocol !== 17 || readUint16(transport, 0) !== this.sourcePort) return;
      index = (readUint16(transport, 2) - this.port) & 0xffff;
    } else {
      if (quoted.protocol !== 6 || readUint16(transport, 0) !== this.sourcePort || readUint16(transport, 2) !== this.port) return;
      index = (readUint32(transport, 4) - this.tcpSequenceBase) >>> 0;
    }
    const probe = this.probeAt(index);
    if (probe) this.answer(probe, address, errorKind(view.type, view.code, family), info.timestamp, buffer, family === 4, icmpProtocol);
  };

  private onTcp = (buffer: Buffer, address: string, info: { timestamp?: bigint }): void => {
    if (this.run.state !== 'running') return;
    let start = 0;
    if (this.family === 4) {
      if (buffer.length < 20 || buffer[0] >> 4 !== 4) return;
      start = (buffer[0] & 0x0f) * 4;
      if (formatIpv4At(buffer, 12) !== this.target) return;
    } else if (address !== this.target) return;
    if (buffer.length < start + 20) return;
    const tcp = buffer.subarray(start);
    if (readUint16(tcp, 0) !== this.port || readUint16(tcp, 2) !== this.sourcePort) return;
    const flags = tcp[13];
    const synAck = (flags & 0x12) === 0x12;
    const reset = (flags & 0x04) !== 0;
    if (!synAck && !reset) return;
    const index = (readUint32(tcp, 8) - 1 - this.tcpSequenceBase) >>> 0;
    const probe = this.probeAt(index);
    if (probe) this.answer(probe, this.target, synAck ? 'tcp-synack' : 'tcp-rst', info.timestamp, buffer, this.family === 4, 6);
  };

  private closeSockets(): void {
    this.icmpSocket?.close();
    this.probeSocket?.close();
    this.icmpSocket = null;
    this.probeSocket = null;
  }

  private release(): void {
    if (this.echoId) this.host.releaseEchoId(this.echoId);
    if (this.sourcePort) this.host.releasePort(this.sourcePort);
    this.echoId = 0;
    this.sourcePort = 0;
  }

  private finish(state: 'done' | 'stopped' | 'failed', error?: WorkbenchError): void {
    if (this.run.state !== 'running') return;
    this.run.state = state;
    if (error) this.run.error = { code: error.code, message: error.message };
    this.run.finishedAt = nowMs();
    if (this.hopTimer) clearTimeout(this.hopTimer);
    this.hopTimer = null;
    this.hopDone = null;
    this.endHop?.();
    this.closeSockets();
    this.release();
    this.host.events.coalesce(`experiment:${this.run.runId}`, () => ({ type: 'experiment', run: snapshot(this.run) }));
    this.host.ended(this.run);
  }
}
