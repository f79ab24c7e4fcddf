// Traceroute without privilege, from what Linux lets any user read: the ICMP errors about
// its own packets, on the socket's error queue (IP_RECVERR / IPV6_RECVERR, the library's
// `receiveErrors` and 'icmpError' events), with the responder in SO_EE_OFFENDER.
// - UDP: one ordinary UDP socket, TTL set per probe, destination port base+n (as tracepath
//   and `traceroute -U` do); an error names the original destination port: that is the probe.
// - ICMP: one ICMP datagram ("ping") socket, where net.ipv4.ping_group_range admits the user;
//   errors quote the echo request (sequence = probe), the target's echo reply is a message.
// - TCP: a non-blocking connect() per probe with its TTL (the library's probeConnect): Time
//   Exceeded from each hop, then the target's SYN-ACK (open) or RST (refused).
// Each run has sockets of its own, so two runs never see each other's answers.
import { probeConnect, type IcmpError, type Socket } from '@packet-workbench/raw-socket';
import { WorkbenchError } from '../../common/validate';
import { build } from '../../packets/build';
import type { ExperimentHost } from './experiment';
import { echoRequestType, errorKind, isEchoReply, readUint16 } from './icmp';
import { DIRECTION_RECEIVED } from './ring';
import type { ProbeTarget, Prober, ProberEvents } from './traceroute';
import { probePayload, sendProbe } from './traceroute-raw';

export class ErrorQueueProber implements Prober {
  readonly mode = 'error-queue';
  readonly via = 'error-queue';
  private closed = false;

  private constructor(
    private readonly target: ProbeTarget,
    private readonly events: ProberEvents,
    private readonly socket: Socket | null,
  ) {}

  static async open(host: ExperimentHost, target: ProbeTarget, events: ProberEvents): Promise<ErrorQueueProber> {
    if (process.platform !== 'linux') {
      throw new WorkbenchError('ENOTSUP', `Unprivileged traceroute reads the kernel's error queue, which only Linux offers (this is ${process.platform})`);
    }
    if (target.probe === 'tcp') return new ErrorQueueProber(target, events, null);
    const addressFamily = target.family === 4 ? 1 : 2;
    const protocol = target.probe === 'udp' ? 17 : target.family === 4 ? 1 : 58;
    const { socket } = await host.openSocket({ addressFamily, protocol, mode: 'datagram', receiveErrors: true, timestamps: true });
    const prober = new ErrorQueueProber(target, events, socket);
    socket.on('icmpError', prober.onIcmpError);
    socket.on('message', prober.onMessage);
    socket.on('error', () => undefined);
    return prober;
  }

  send(index: number, ttl: number): void {
    if (this.closed) return;
    if (this.target.probe === 'tcp') {
      this.sendConnectProbe(index, ttl);
      return;
    }
    const icmp = this.target.probe === 'icmp';
    const packet = icmp ? this.echoRequest(index) : probePayload();
    const destination = icmp ? this.target.target : { address: this.target.target, port: (this.target.port + index) & 0xffff };
    // The kernel writes the UDP header (and the echo identifier): only the echo request is
    // logged as sent, as ping does for datagram sockets.
    sendProbe(this.socket as Socket, this.target, index, ttl, packet, destination, this.events, icmp ? (this.target.family === 4 ? 1 : 58) : null);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.close();
  }

  private echoRequest(index: number): Uint8Array {
    const kind = this.target.family === 4 ? 'icmp' : 'icmpv6';
    // The kernel replaces the identifier with its own and computes the checksum.
    return build([{ kind, fields: { type: echoRequestType(this.target.family), code: 0, identifier: 0, sequence: (index + 1) & 0xffff } }, { kind: 'payload', data: probePayload() }], {
      source: this.target.local ?? (this.target.family === 4 ? '0.0.0.0' : '::'),
      destination: this.target.target,
    });
  }

  private sendConnectProbe(index: number, ttl: number): void {
    // The wait is the hop's; the connect gives up a little later so its answer can still count.
    const probe = probeConnect({ address: this.target.target, port: this.target.port, ttl, timeout: this.target.timeoutMs + 500 });
    this.events.sent(index, {});
    probe.then(
      (result) => {
        if (this.closed) return;
        if (result.outcome === 'icmp-error' && result.icmpError) {
          const error = result.icmpError;
          this.events.answer(index, { responder: error.offender ?? this.target.target, kind: this.kindOf(error), timestampNs: result.answeredAt, sentAtNs: result.sentAt });
        } else if (result.outcome === 'open' || result.outcome === 'refused') {
          this.events.answer(index, { responder: this.target.target, kind: result.outcome === 'open' ? 'tcp-synack' : 'tcp-rst', timestampNs: result.answeredAt, sentAtNs: result.sentAt });
        }
      },
      (error: Error) => {
        if (!this.closed) this.events.sent(index, { error: (error as { code?: string }).code ?? error.message });
      },
    );
  }

  private kindOf(error: IcmpError): string {
    if (error.origin === 'icmp' || error.origin === 'icmp6') return errorKind(error.icmpType, error.icmpCode, error.origin === 'icmp' ? 4 : 6);
    return `local-error-${error.code}`;
  }

  private onIcmpError = (error: IcmpError): void => {
    if (this.closed || error.address !== this.target.target) return;
    if (error.origin !== 'icmp' && error.origin !== 'icmp6') return;
    let index: number;
    if (this.target.probe === 'udp') {
      index = (error.port - this.target.port) & 0xffff;
    } else {
      // A ping socket's error carries the echo request it is about: its sequence is the probe's.
      if (error.data.length < 8) return;
      index = readUint16(error.data, 6) - 1;
    }
    this.events.answer(index, { responder: error.offender ?? this.target.target, kind: this.kindOf(error), timestampNs: error.timestamp });
  };

  private onMessage = (buffer: Buffer, address: string, info: { timestamp?: bigint }): void => {
    // Only ping sockets receive here: the echo replies to this socket's requests (the kernel matches its identifier).
    if (this.closed || this.target.probe !== 'icmp' || address !== this.target.target || buffer.length < 8) return;
    if (!isEchoReply(buffer[0], this.target.family)) return;
    this.events.log({
      bytes: buffer,
      direction: DIRECTION_RECEIVED,
      family: this.target.family,
      withIpHeader: false,
      protocol: this.target.family === 4 ? 1 : 58,
      peer: address,
      local: this.target.local,
      timestampNs: info.timestamp,
    });
    this.events.answer(readUint16(buffer, 6) - 1, { responder: address, kind: 'echo-reply', timestampNs: info.timestamp });
  };
}
