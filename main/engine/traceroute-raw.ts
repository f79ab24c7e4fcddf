// Traceroute probes on raw sockets (this process's, or the socket helper's): ICMP echo,
// UDP to port base+n, or a hand-built TCP SYN (pseudo-header checksum; the kernel adds
// the IP header). Answers are matched by the packet an ICMP error quotes (echo identifier
// and sequence, or our ports and TCP sequence number), by the echo reply's identifier and
// sequence, or by a SYN-ACK/RST acknowledging our SYN.
import type { Destination, Socket } from '@packet-workbench/raw-socket';
import { build } from '../../packets/build';
import type { ExperimentHost } from './experiment';
import { answerTypes, echoRequestType, errorKind, isEchoReply, isError, readIcmp, readQuoted, readUint16, readUint32 } from './icmp';
import { setIntOption } from './options';
import { formatIpv4At } from './peek';
import { DIRECTION_RECEIVED, DIRECTION_SENT } from './ring';
import type { ProbeTarget, Prober, ProberEvents } from './traceroute';

export const PROBE_PAYLOAD_BYTES = 32;

/** The probes' payload: 32 bytes of '@' to '_', as traceroute(8)'s look. */
export function probePayload(): Uint8Array {
  const payload = new Uint8Array(PROBE_PAYLOAD_BYTES);
  for (let i = 0; i < payload.length; i++) payload[i] = 0x40 + (i % 32);
  return payload;
}

/**
 * Sends one probe with its TTL (set right before its system call), reports it to the run and,
 * when `loggedProtocol` is given, logs the bytes as sent under that protocol.
 */
export function sendProbe(
  socket: Socket,
  target: ProbeTarget,
  index: number,
  ttl: number,
  packet: Uint8Array,
  destination: string | Destination,
  events: ProberEvents,
  loggedProtocol: number | null,
): void {
  socket.send(
    packet,
    0,
    packet.length,
    destination,
    () => setIntOption(socket, target.family === 4 ? 'IP_TTL' : 'IPV6_UNICAST_HOPS', ttl),
    (error, _bytes, sentAt) => {
      if (error) {
        events.sent(index, { error: (error as { code?: string }).code ?? error.message });
        return;
      }
      events.sent(index, { sentAtNs: sentAt });
      if (loggedProtocol === null) return;
      events.log({
        bytes: packet,
        direction: DIRECTION_SENT,
        family: target.family,
        withIpHeader: false,
        protocol: loggedProtocol,
        peer: target.target,
        local: target.local,
        timestampNs: sentAt,
        // The TTL this probe went out with (set right before its send): capture files show 1, 2, 3…
        hopLimit: ttl,
      });
    },
  );
}

export class RawProber implements Prober {
  readonly mode = 'raw';
  private echoId = 0;
  private sourcePort = 0;
  private readonly tcpSequenceBase = (Math.random() * 0x7fffffff) >>> 0;
  private closed = false;

  private constructor(
    private readonly host: ExperimentHost,
    private readonly target: ProbeTarget,
    private readonly events: ProberEvents,
    private readonly icmpSocket: Socket,
    private readonly probeSocket: Socket | null,
    readonly via: 'raw' | 'helper',
  ) {}

  /** Opens the raw sockets (own or the helper's); throws WorkbenchError EPERM with the remedy where neither can be had. */
  static async open(host: ExperimentHost, target: ProbeTarget, events: ProberEvents): Promise<RawProber> {
    const addressFamily = target.family === 4 ? 1 : 2;
    const icmp = await host.openSocket({ addressFamily, protocol: target.family === 4 ? 1 : 58, mode: 'raw', timestamps: true, icmpTypes: answerTypes(target.family), receiveTtl: target.family === 6 });
    let probe: Socket | null = null;
    try {
      if (target.probe !== 'icmp') {
        // The UDP probe socket never reads (see below): no larger receive buffer for datagrams nobody takes.
        const udp = target.probe === 'udp';
        probe = (await host.openSocket({ addressFamily, protocol: udp ? 17 : 6, mode: 'raw', timestamps: true }, { receiveBuffer: !udp })).socket;
      }
    } catch (error) {
      icmp.socket.close();
      throw error;
    }
    const prober = new RawProber(host, target, events, icmp.socket, probe, icmp.via === 'helper' ? 'helper' : 'raw');
    prober.listen();
    return prober;
  }

  private listen(): void {
    this.icmpSocket.on('message', this.onIcmp);
    this.icmpSocket.on('error', () => undefined);
    if (this.probeSocket) {
      this.probeSocket.on('error', () => undefined);
      // A raw UDP socket would see every UDP datagram of the host; nothing we need arrives on it.
      if (this.target.probe === 'udp') this.probeSocket.pauseRecv();
      else this.probeSocket.on('message', this.onTcp);
    }
    if (this.target.probe === 'icmp') this.echoId = this.host.takeEchoId();
    else this.sourcePort = this.host.takePort();
  }

  send(index: number, ttl: number): void {
    const packet = this.buildProbe(index);
    sendProbe(this.probeSocket ?? this.icmpSocket, this.target, index, ttl, packet, this.target.target, this.events, this.protocolNumber());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.icmpSocket.close();
    this.probeSocket?.close();
    if (this.echoId) this.host.releaseEchoId(this.echoId);
    if (this.sourcePort) this.host.releasePort(this.sourcePort);
  }

  private protocolNumber(): number {
    if (this.target.probe === 'udp') return 17;
    if (this.target.probe === 'tcp') return 6;
    return this.target.family === 4 ? 1 : 58;
  }

  private buildProbe(index: number): Uint8Array {
    const payload = probePayload();
    const addresses = { source: this.target.local as string, destination: this.target.target };
    if (this.target.probe === 'icmp') {
      const kind = this.target.family === 4 ? 'icmp' : 'icmpv6';
      return build(
        [{ kind, fields: { type: echoRequestType(this.target.family), code: 0, identifier: this.echoId, sequence: (index + 1) & 0xffff } }, { kind: 'payload', data: payload }],
        addresses,
      );
    }
    if (this.target.probe === 'udp') {
      return build(
        [{ kind: 'udp', fields: { srcPort: this.sourcePort, dstPort: (this.target.port + index) & 0xffff } }, { kind: 'payload', data: payload }],
        addresses,
      );
    }
    return build(
      [{ kind: 'tcp', fields: { srcPort: this.sourcePort, dstPort: this.target.port, seq: this.tcpSequence(index), flags: 0x02, window: 64240 } }],
      addresses,
    );
  }

  private tcpSequence(index: number): number {
    return (this.tcpSequenceBase + index) >>> 0;
  }

  private logAnswer(bytes: Buffer, responder: string, info: AnswerInfo, protocol: number): void {
    this.events.log({
      bytes,
      direction: DIRECTION_RECEIVED,
      family: this.target.family,
      withIpHeader: this.target.family === 4,
      protocol,
      peer: responder,
      // IPv6 answers come without their header: IPV6_PKTINFO's address and IPV6_RECVHOPLIMIT's value for capture files.
      local: info.localAddress ?? this.target.local,
      timestampNs: info.timestamp,
      hopLimit: info.hopLimit ?? info.ttl,
    });
  }

  private onIcmp = (buffer: Buffer, address: string, info: AnswerInfo): void => {
    if (this.closed) return;
    const family = this.target.family;
    const view = readIcmp(buffer, family === 4);
    if (!view) return;
    const icmpProtocol = family === 4 ? 1 : 58;
    if (isEchoReply(view.type, family)) {
      if (this.target.probe !== 'icmp' || readUint16(view.icmp, 4) !== this.echoId || address !== this.target.target) return;
      this.logAnswer(buffer, address, info, icmpProtocol);
      this.events.answer(readUint16(view.icmp, 6) - 1, { responder: address, kind: 'echo-reply', timestampNs: info.timestamp });
      return;
    }
    if (!isError(view.type, family)) return;
    const quoted = readQuoted(view.icmp, family);
    if (!quoted || quoted.destination !== this.target.target || quoted.transport.length < 8) return;
    const transport = quoted.transport;
    let index: number;
    if (this.target.probe === 'icmp') {
      if (quoted.protocol !== icmpProtocol || transport[0] !== echoRequestType(family) || readUint16(transport, 4) !== this.echoId) return;
      index = readUint16(transport, 6) - 1;
    } else if (this.target.probe === 'udp') {
      if (quoted.protocol !== 17 || readUint16(transport, 0) !== this.sourcePort) return;
      index = (readUint16(transport, 2) - this.target.port) & 0xffff;
    } else {
      if (quoted.protocol !== 6 || readUint16(transport, 0) !== this.sourcePort || readUint16(transport, 2) !== this.target.port) return;
      index = (readUint32(transport, 4) - this.tcpSequenceBase) >>> 0;
    }
    this.logAnswer(buffer, address, info, icmpProtocol);
    this.events.answer(index, { responder: address, kind: errorKind(view.type, view.code, family), timestampNs: info.timestamp });
  };

  private onTcp = (buffer: Buffer, address: string, info: { timestamp?: bigint }): void => {
    if (this.closed) return;
    let start = 0;
    if (this.target.family === 4) {
      if (buffer.length < 20 || buffer[0] >> 4 !== 4) return;
      start = (buffer[0] & 0x0f) * 4;
      if (formatIpv4At(buffer, 12) !== this.target.target) return;
    } else if (address !== this.target.target) return;
    if (buffer.length < start + 20) return;
    const tcp = buffer.subarray(start);
    if (readUint16(tcp, 0) !== this.target.port || readUint16(tcp, 2) !== this.sourcePort) return;
    const flags = tcp[13];
    const synAck = (flags & 0x12) === 0x12;
    const reset = (flags & 0x04) !== 0;
    if (!synAck && !reset) return;
    this.logAnswer(buffer, this.target.target, info, 6);
    this.events.answer((readUint32(tcp, 8) - 1 - this.tcpSequenceBase) >>> 0, { responder: this.target.target, kind: synAck ? 'tcp-synack' : 'tcp-rst', timestampNs: info.timestamp });
  };
}

/** A message's info as logAnswer reads it (localAddress and hopLimit where the library gives them). */
interface AnswerInfo {
  timestamp?: bigint;
  ttl?: number;
  hopLimit?: number;
  localAddress?: string;
}
