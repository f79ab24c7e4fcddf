// A ping run: ICMP or ICMPv6 echo requests at an interval, replies matched by
// identifier and sequence (raw sockets see every echo reply on the host; datagram
// sockets only their own, the kernel owns the identifier), ICMP errors that quote
// one of our requests reported as 'error' replies, statistics like ping(8).
// RTTs are kernel to kernel: the request's transmit timestamp (SO_TIMESTAMPING, the
// socket's 'sent' event) to the reply's receive timestamp (SO_TIMESTAMPNS). ping(8)
// starts its clock in user space before sendmsg, so it also counts the system call.
import type { Socket } from '@packet-workbench/raw-socket';
import type { ExperimentRun, Params, PingReply, PingStatistics } from '../../common/contract';
import { formatIpAddress, isIpv6, parseIpAddress } from '../../packets/address';
import { build } from '../../packets/build';
import { setIntOption } from './options';
import { type Experiment, type ExperimentHost, nowMs, snapshot, toWorkbenchError } from './experiment';
import type { WorkbenchError } from '../../common/validate';
import { answerTypes, echoRequestType, errorText, isEchoReply, isError, readIcmp, readQuoted, readUint16, roundTripMs } from './icmp';
import { DIRECTION_RECEIVED, DIRECTION_SENT } from './ring';

interface Probe {
  sequence: number;
  /** The library's clock right before the send system call: the fallback start. */
  sentAtNs?: bigint;
  /** The kernel's transmit timestamp ('sent' event), when it came. */
  sentKernelNs?: bigint;
  /** The socket's send sequence number, which names this probe in 'sent' events. */
  sendSequence?: number;
  sentMono: number;
  timer: NodeJS.Timeout | null;
  settled: boolean;
  /** A reply that arrived before the transmit timestamp: settled when it comes (or at the fallback). */
  heldReply?: HeldReply;
}

interface HeldReply {
  reply: PingReply;
  receivedAtNs: bigint | undefined;
  receivedMono: number;
}

export class PingRun implements Experiment {
  readonly run: ExperimentRun;
  private readonly family: 4 | 6;
  /** The target in canonical text, as the library reports addresses. */
  private readonly target: string;
  private socket: Socket | null = null;
  private local: string | null = null;
  private echoId = 0;
  private sendTimer: NodeJS.Timeout | null = null;
  private nextSequence = 1;
  private readonly pending = new Map<number, Probe>();
  /** Probes sent and still waiting for their transmit timestamp, by send sequence. */
  private readonly awaitingStamp = new Map<number, Probe>();
  private settledCount = 0;
  private sumRtt = 0;
  private sumRttSquares = 0;

  constructor(
    private readonly host: ExperimentHost,
    runId: string,
    private readonly params: Params<'ping'>,
  ) {
    this.family = isIpv6(params.target) ? 6 : 4;
    this.target = formatIpAddress(parseIpAddress(params.target));
    this.run = {
      runId,
      kind: 'ping',
      target: params.target,
      family: this.family === 4 ? 'ipv4' : 'ipv6',
      params: { ...params },
      state: 'running',
      startedAt: nowMs(),
      mode: params.mode === 'datagram' ? 'datagram' : 'raw',
      via: params.mode === 'datagram' ? 'datagram' : 'raw',
      ping: { replies: [], statistics: emptyStatistics() },
    };
  }

  /** Opens the socket; throws WorkbenchError (EPERM with the remedy…) when it cannot. */
  async start(): Promise<void> {
    const family = this.family;
    const { socket, via } = await this.host.openSocket({
      addressFamily: family === 4 ? 1 : 2,
      protocol: family === 4 ? 1 : 58,
      mode: this.params.mode,
      timestamps: true,
      // Kernel transmit timestamps: the RTT starts when the request left, not before the system call.
      txTimestamps: true,
      // The arrival TTL / hop limit for ping(8)'s ttl=: IPv6 and datagram sockets deliver no IP header to read it from.
      receiveTtl: true,
      bufferSize: Math.max(4096, this.params.size + 128),
    });
    // stop() or close() may have come while the socket was being opened (the helper may have been starting).
    if (this.run.state !== 'running') {
      socket.close();
      return;
    }
    this.socket = socket;
    // An ICMP socket is raw or datagram, never a packet socket.
    this.run.mode = socket.mode === 'datagram' ? 'datagram' : 'raw';
    this.run.via = via;
    try {
      if (socket.mode === 'raw') socket.setIcmpFilter(answerTypes(family));
      setIntOption(socket, family === 4 ? 'IP_TTL' : 'IPV6_UNICAST_HOPS', this.params.ttl);
    } catch (error) {
      socket.close();
      this.socket = null;
      throw toWorkbenchError(error, 'ttl');
    }
    this.echoId = this.host.takeEchoId();
    socket.on('message', this.onMessage);
    socket.on('sent', this.onSent);
    socket.on('error', () => undefined);
    this.local = await this.host.sourceAddress(this.target).catch(() => null);
    if (this.run.state !== 'running') return;
    this.host.events.coalesce(`experiment:${this.run.runId}`, () => ({ type: 'experiment', run: snapshot(this.run) }));
    this.sendNext();
  }

  stop(): void {
    if (this.run.state !== 'running') return;
    this.finish('stopped');
  }

  abort(error: WorkbenchError): void {
    this.finish('failed', { code: error.code, message: error.message });
  }

  private sendNext = (): void => {
    this.sendTimer = null;
    if (this.run.state !== 'running' || !this.socket) return;
    const sequence = this.nextSequence++;
    const wire = sequence & 0xffff;
    const packet = this.echoRequest(wire);
    const probe: Probe = { sequence, sentMono: performance.now(), timer: null, settled: false };
    this.pending.set(wire, probe);
    const socket = this.socket;
    socket.send(packet, 0, packet.length, this.target, (error, _bytes, sentAt, sendSequence) => {
      if (this.run.state !== 'running') return;
      if (error) {
        this.settle(probe, { sequence, status: 'error', error: error.message });
        return;
      }
      probe.sentAtNs = sentAt;
      probe.sentMono = performance.now();
      if (socket.txTimestamps && sendSequence !== undefined && !probe.settled) {
        probe.sendSequence = sendSequence;
        this.awaitingStamp.set(sendSequence, probe);
      }
      this.statistics().transmitted++;
      this.host.log({
        bytes: packet,
        direction: DIRECTION_SENT,
        family: this.family,
        withIpHeader: false,
        protocol: this.family === 4 ? 1 : 58,
        peer: this.target,
        local: this.local,
        timestampNs: sentAt,
        hopLimit: this.params.ttl,
      });
      if (!probe.settled) {
        probe.timer = setTimeout(() => this.settle(probe, { sequence, status: 'timeout' }), this.params.timeoutMs);
      }
    });
    if (sequence < this.params.count) this.sendTimer = setTimeout(this.sendNext, this.params.intervalMs);
  };

  private echoRequest(sequence: number): Uint8Array {
    const payload = new Uint8Array(this.params.size);
    for (let i = 0; i < payload.length; i++) payload[i] = (0x10 + i) & 0xff;
    const kind = this.family === 4 ? 'icmp' : 'icmpv6';
    return build([
      { kind, fields: { type: echoRequestType(this.family), code: 0, identifier: this.echoId, sequence } },
      { kind: 'payload', data: payload },
    ]);
  }

  private onMessage = (buffer: Buffer, address: string, info: { timestamp?: bigint; ttl?: number; localAddress?: string }): void => {
    if (this.run.state !== 'running' || !this.socket) return;
    const family = this.family;
    const raw = this.socket.mode === 'raw';
    const view = readIcmp(buffer, family === 4 && raw);
    if (!view) return;
    let probe: Probe | undefined;
    let reply: PingReply | undefined;
    if (isEchoReply(view.type, family)) {
      // Datagram sockets see only their own replies, under the identifier the kernel chose.
      if (raw && readUint16(view.icmp, 4) !== this.echoId) return;
      if (address !== this.target && raw) return;
      probe = this.pending.get(readUint16(view.icmp, 6));
      if (!probe || probe.settled || probe.heldReply) return;
      // IPv4 raw: the header's TTL; otherwise the kernel's IP_RECVTTL / IPV6_RECVHOPLIMIT value.
      const ttl = view.ttl ?? info.ttl;
      reply = { sequence: probe.sequence, status: 'reply', from: address, bytes: view.icmp.length, ...(ttl !== undefined ? { ttl } : {}) };
      const held: HeldReply = { reply, receivedAtNs: info.timestamp, receivedMono: performance.now() };
      if (probe.sendSequence !== undefined && probe.sentKernelNs === undefined) {
        // The socket reads replies before its error queue: on loopback the transmit timestamp
        // follows in this same wake-up. Wait for it until the check phase, then use the
        // library's pre-send clock (never shorter than the true RTT).
        probe.heldReply = held;
        const waiting = probe;
        setImmediate(() => this.releaseReply(waiting));
        this.logReceived(buffer, address, info);
        return;
      }
      reply = withRoundTrip(probe, held);
    } else if (isError(view.type, family)) {
      const quoted = readQuoted(view.icmp, family);
      if (!quoted || quoted.protocol !== (family === 4 ? 1 : 58) || quoted.transport.length < 8) return;
      if (quoted.transport[0] !== echoRequestType(family) || readUint16(quoted.transport, 4) !== this.echoId) return;
      if (quoted.destination !== this.target) return;
      probe = this.pending.get(readUint16(quoted.transport, 6));
      if (!probe || probe.settled) return;
      reply = { sequence: probe.sequence, status: 'error', from: address, error: errorText(view.type, view.code, family) };
    } else {
      return;
    }
    this.logReceived(buffer, address, info);
    this.settle(probe, reply);
  };

  private logReceived(buffer: Buffer, address: string, info: { timestamp?: bigint; ttl?: number; localAddress?: string }): void {
    const family = this.family;
    const raw = this.socket?.mode === 'raw';
    this.host.log({
      bytes: buffer,
      direction: DIRECTION_RECEIVED,
      family,
      withIpHeader: family === 4 && raw,
      protocol: family === 4 ? 1 : 58,
      peer: address,
      // IPV6_PKTINFO's destination where the library gives it; else the address the route chose.
      local: info.localAddress ?? this.local,
      timestampNs: info.timestamp,
      hopLimit: info.ttl,
    });
  }

  /** A kernel transmit timestamp: the start of its probe's RTT. */
  private onSent = (stamp: { sequence: number; timestamp: bigint }): void => {
    const probe = this.awaitingStamp.get(stamp.sequence);
    if (probe === undefined) return;
    this.awaitingStamp.delete(stamp.sequence);
    probe.sentKernelNs = stamp.timestamp;
    this.releaseReply(probe);
  };

  /** Settles a reply held for its transmit timestamp, with the best start known now. */
  private releaseReply(probe: Probe): void {
    const held = probe.heldReply;
    if (held === undefined || probe.settled) return;
    probe.heldReply = undefined;
    this.settle(probe, withRoundTrip(probe, held));
  }

  private settle(probe: Probe, reply: PingReply): void {
    if (probe.settled || this.run.state !== 'running') return;
    probe.settled = true;
    if (probe.timer) clearTimeout(probe.timer);
    probe.timer = null;
    if (probe.sendSequence !== undefined) this.awaitingStamp.delete(probe.sendSequence);
    this.pending.delete(probe.sequence & 0xffff);
    this.settledCount++;
    const stats = this.statistics();
    if (reply.status === 'reply' && reply.rtt !== undefined) {
      stats.received++;
      this.sumRtt += reply.rtt;
      this.sumRttSquares += reply.rtt * reply.rtt;
      stats.min = stats.min === null ? reply.rtt : Math.min(stats.min, reply.rtt);
      stats.max = stats.max === null ? reply.rtt : Math.max(stats.max, reply.rtt);
      stats.avg = this.sumRtt / stats.received;
      stats.mdev = Math.sqrt(Math.max(0, this.sumRttSquares / stats.received - stats.avg * stats.avg));
    } else if (reply.status === 'error') {
      stats.errors++;
    }
    // Loss as ping(8) prints it: percent of transmitted requests without a reply so far.
    const answeredOrLost = this.settledCount;
    stats.loss = answeredOrLost === 0 ? 0 : round((100 * (answeredOrLost - stats.received)) / answeredOrLost);
    this.run.ping!.replies.push(reply);
    this.host.events.push({ type: 'pingReply', runId: this.run.runId, reply, statistics: { ...stats } });
    if (this.settledCount >= this.params.count) this.finish('done');
  }

  private statistics(): PingStatistics {
    return this.run.ping!.statistics;
  }

  private finish(state: 'done' | 'stopped' | 'failed', error?: { code: string; message: string }): void {
    if (this.run.state !== 'running') return;
    this.run.state = state;
    if (error) this.run.error = error;
    this.run.finishedAt = nowMs();
    if (this.sendTimer) clearTimeout(this.sendTimer);
    this.sendTimer = null;
    for (const probe of this.pending.values()) if (probe.timer) clearTimeout(probe.timer);
    this.pending.clear();
    this.awaitingStamp.clear();
    const stats = this.statistics();
    if (stats.transmitted > 0) stats.loss = round((100 * (stats.transmitted - stats.received)) / stats.transmitted);
    this.socket?.close();
    this.socket = null;
    if (this.echoId) this.host.releaseEchoId(this.echoId);
    this.host.events.coalesce(`experiment:${this.run.runId}`, () => ({ type: 'experiment', run: snapshot(this.run) }));
    this.host.ended(this.run);
  }
}

/** The reply with its RTT: kernel to kernel when both timestamps came, else from the library's pre-send clock. */
function withRoundTrip(probe: Probe, held: HeldReply): PingReply {
  const rtt = roundTripMs(probe.sentKernelNs ?? probe.sentAtNs, held.receivedAtNs, probe.sentMono, held.receivedMono);
  return { ...held.reply, rtt };
}

function emptyStatistics(): PingStatistics {
  return { transmitted: 0, received: 0, errors: 0, loss: 0, min: null, avg: null, max: null, mdev: null };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
