// Capture mode: a packet socket (AF_PACKET, SOCK_DGRAM) on one interface or all, so
// the log holds what tcpdump would have written: every protocol, both directions (the
// kernel's PACKET_OUTGOING), whole IPv6 headers, the interface each packet crossed.
import * as raw from '@packet-workbench/raw-socket';
import type { MessageInfo, Socket } from '@packet-workbench/raw-socket';
import type { CaptureInfo, Params } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { nowMs, nsToMs, toWorkbenchError } from './experiment';
import type { LabHost } from './labs';
import { raiseReceiveBuffer } from './options';
import { DIRECTION_RECEIVED, DIRECTION_SENT, type PacketFacts } from './ring';

/** Bytes read per packet: a whole jumbo frame's IP packet. */
const CAPTURE_BUFFER_SIZE = 65535;
/** Receive buffer of a capture: a scheduling hiccup under a flood should not cost packets (tcpdump asks for 2 MiB). */
const CAPTURE_RECEIVE_BUFFER = 32 << 20;
/** Linux SOL_SOCKET, SO_RCVBUFFORCE: beyond net.core.rmem_max, for a process with CAP_NET_ADMIN. */
const SOL_SOCKET = 1;
const SO_RCVBUFFORCE = 33;

export interface CaptureHost {
  /** Logs a packet (it starts with its IP header) under the capture's socket index. */
  log(bytes: Uint8Array, facts: PacketFacts): void;
  /** The capture's state or counters changed. */
  changed(capture: PacketCapture): void;
}

export class PacketCapture {
  readonly info: CaptureInfo;
  /** The engine's own traffic is captured too (not filtered out). */
  readonly includeOwnTraffic: boolean;
  private socket: Socket<'packet'> | null = null;
  private readonly facts: PacketFacts;

  constructor(
    private readonly host: CaptureHost,
    captureId: string,
    socketIndex: number,
    params: Params<'startCapture'>,
    /** Capture inside this lab host's network namespace (its interfaces, its traffic). */
    private readonly lab?: LabHost,
  ) {
    this.info = {
      captureId,
      interface: params.interface ?? null,
      protocol: params.protocol,
      filter: params.filter ?? null,
      state: 'running',
      counters: { received: 0, sent: 0, bytes: 0, kernelDrops: 0 },
      startedAt: nowMs(),
      ...(lab ? { host: lab.host } : {}),
    };
    this.includeOwnTraffic = params.includeOwnTraffic;
    this.facts = { time: 0, direction: DIRECTION_RECEIVED, socket: socketIndex, family: 4, withIpHeader: true, protocol: 0, peer: null, local: null, interface: null };
  }

  /**
   * Opens the packet socket with the filter the kernel is to run (the user's, with the engine's own
   * traffic taken out); WorkbenchError (EPERM with the remedy, ENODEV for an unknown interface…) when it cannot.
   */
  start(kernelFilter: string | null = null): void {
    let socket: Socket<'packet'>;
    try {
      socket = raw.createPacketSocket({
        ...(this.info.interface !== null ? { interface: this.info.interface } : {}),
        protocol: this.info.protocol,
        timestamps: true,
        bufferSize: CAPTURE_BUFFER_SIZE,
        ...(kernelFilter !== null ? { filter: kernelFilter } : {}),
        ...(this.lab ? { namespace: this.lab.namespace } : {}),
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (this.lab && (error as { syscall?: unknown }).syscall === 'setns') {
        throw new WorkbenchError('PERMISSION', `Cannot capture inside lab host ${this.lab.host}: ${(error as Error).message.split('. ')[0]}. Captures inside a lab host need root (or CAP_SYS_ADMIN and CAP_NET_RAW): run the workbench with sudo.`, 'host');
      }
      throw toWorkbenchError(error, typeof code === 'string' && /^ERR_(FILTER|LIBPCAP)/.test(code) ? 'filter' : 'interface');
    }
    raiseCaptureBuffer(socket);
    socket.on('message', this.onMessage);
    socket.on('error', (error: Error) => this.finish('failed', toWorkbenchError(error)));
    this.socket = socket;
  }

  /** Replaces the filter the kernel runs (the engine's own traffic changed); null: none. */
  setKernelFilter(kernelFilter: string | null): void {
    if (this.socket === null || this.socket.filter === kernelFilter) return;
    this.socket.setFilter(kernelFilter);
  }

  /** Closes the socket; the capture's packets stay in the log. */
  async stop(): Promise<void> {
    await this.finish('stopped');
  }

  /** Packets the kernel dropped for this capture so far. */
  get kernelDrops(): number {
    return this.info.counters.kernelDrops;
  }

  private onMessage = (buffer: Buffer, _address: string, info: MessageInfo): void => {
    const counters = this.info.counters;
    const outbound = info.direction === 'outbound';
    // libpcap skips loopback's outgoing copy (the same packet comes back in): so does a capture, to count as tcpdump does.
    if (outbound && info.interface === 'lo') return;
    const facts = this.facts;
    facts.time = nsToMs(info.timestamp);
    facts.direction = outbound ? DIRECTION_SENT : DIRECTION_RECEIVED;
    facts.family = buffer.length > 0 && buffer[0] >> 4 === 6 ? 6 : 4;
    facts.interface = info.interface ?? null;
    this.host.log(buffer, facts);
    if (outbound) counters.sent++;
    else counters.received++;
    counters.bytes += buffer.length;
    const drops = info.drops ?? this.socket?.drops;
    if (drops !== undefined && drops > counters.kernelDrops) counters.kernelDrops = drops;
    this.host.changed(this);
  };

  private async finish(state: 'stopped' | 'failed', error?: WorkbenchError): Promise<void> {
    if (this.info.state !== 'running') return;
    this.info.state = state;
    this.info.stoppedAt = nowMs();
    if (error) this.info.error = { code: error.code, message: error.message };
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      // The last drop count the kernel reported, also when no message came after it.
      const drops = socket.drops;
      if (drops !== undefined && drops > this.info.counters.kernelDrops) this.info.counters.kernelDrops = drops;
      socket.off('message', this.onMessage);
      await socket.closeAsync().catch(() => undefined);
    }
    this.host.changed(this);
  }
}

function raiseCaptureBuffer(socket: Socket<'packet'>): void {
  try {
    socket.setOption(SOL_SOCKET, SO_RCVBUFFORCE, CAPTURE_RECEIVE_BUFFER);
  } catch {
    // Without CAP_NET_ADMIN: as much as net.core.rmem_max allows.
    raiseReceiveBuffer(socket);
  }
}
