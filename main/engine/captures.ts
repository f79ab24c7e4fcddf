// Captures (startCapture: packet sockets, capture-socket.ts) and recordings: a capture
// file fed with every packet as it is logged (recordCapture, the command line's `capture -w`).
import type { CaptureInfo, Params } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import type { CaptureFile } from './capture-file';
import { PacketCapture } from './capture-socket';
import { checkBound, type Bound } from './engine-limits';
import type { EventHub } from './events';
import type { LabHosts } from './labs';
import { checkFilter, kernelFilter, type OwnTraffic } from './filters';
import { trimHistory, type NewId } from './history';
import type { Lifetime } from './lifetime';
import type { PacketLog } from './packet-log';

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

export class Captures {
  private readonly captures = new Map<string, PacketCapture>();

  constructor(
    private readonly events: EventHub,
    private readonly log: PacketLog,
    private readonly ownTraffic: OwnTraffic,
    private readonly lifetime: Lifetime,
    private readonly newId: NewId,
    private readonly labs: LabHosts,
    /** maxOpenSockets, counting the user's sockets and these captures (running). */
    private readonly limit: Bound,
  ) {}

  /** Captures holding a packet socket. */
  get running(): number {
    let running = 0;
    for (const capture of this.captures.values()) if (capture.info.state === 'running') running++;
    return running;
  }

  async start(params: Params<'startCapture'>): Promise<CaptureInfo> {
    this.lifetime.alive();
    checkBound(this.limit, 'sockets and captures are open', 'close some in the Sockets panel (closeSocket, stopCapture)');
    const lab = params.host === undefined ? undefined : this.labs.host(params.host);
    const filter = checkFilter(params.filter);
    const excluded = params.includeOwnTraffic ? null : this.ownTraffic.excludedFrom({ family: 'ipv4', protocol: 0, mode: 'packet' });
    const captureId = this.newId('capture');
    const ringIndex = this.log.socketIndex(captureId);
    this.log.matchWithin(ringIndex);
    const capture = new PacketCapture(
      {
        log: (bytes, facts) => {
          if (this.lifetime.closed) return;
          // A packet socket's copy is the packet as the kernel saw it: no other socket's copy hides it.
          this.log.append(bytes, facts);
        },
        changed: (changed) => {
          if (changed.kernelDrops > 0) this.log.countKernelDrops(captureId, changed.kernelDrops);
          this.events.coalesce(`capture:${captureId}`, () => ({ type: 'capture', capture: structuredClone(changed.info) }));
        },
      },
      captureId,
      ringIndex,
      { ...params, filter: filter ?? undefined },
      lab,
    );
    capture.start(kernelFilter(filter, excluded));
    if (excluded !== null) capture.info.excludedTraffic = excluded;
    this.log.describe(captureId, `packet socket (${params.protocol === 'ip' ? 'IPv4 and IPv6' : params.protocol === 'ipv4' ? 'IPv4' : 'IPv6'}, ${params.interface ?? 'every interface'})`, lab?.host);
    this.captures.set(captureId, capture);
    trimHistory(this.captures, (candidate) => candidate.info.state !== 'running');
    this.events.coalesce(`capture:${captureId}`, () => ({ type: 'capture', capture: structuredClone(capture.info) }));
    return structuredClone(capture.info);
  }

  async stop(params: Params<'stopCapture'>): Promise<CaptureInfo> {
    this.lifetime.alive();
    const capture = this.captures.get(params.captureId);
    if (!capture) throw new WorkbenchError('NOT_FOUND', `No capture ${params.captureId}; listCaptures shows them`, 'captureId');
    await capture.stop();
    return structuredClone(capture.info);
  }

  async list(): Promise<CaptureInfo[]> {
    this.lifetime.alive();
    return [...this.captures.values()].map((capture) => structuredClone(capture.info));
  }

  /** Stops the captures inside lab hosts (the lab is going down). */
  stopLabCaptures(): Promise<void>[] {
    return [...this.captures.values()].filter((capture) => capture.info.host !== undefined).map((capture) => capture.stop());
  }

  /** Stops every capture (close()). */
  stopAll(): Promise<void>[] {
    return [...this.captures.values()].map((capture) => capture.stop());
  }

  /** Applies the engine's own traffic (excludeOwnTraffic) to the kernel filters of running captures. */
  refilter(): void {
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
  }

  /** Feeds a capture file (or a counter) with every packet as it is logged, independent of the log's capacity. */
  record(options: RecordCaptureOptions): CaptureRecording {
    this.lifetime.alive();
    const log = this.log;
    const sockets = options.socketIds ? new Set(options.socketIds.map((id) => log.socketIndex(id))) : null;
    const limit = options.limit ?? Infinity;
    const file = options.file;
    const writer = file ? log.captureWriter(file.encoder) : null;
    let count = 0;
    const listener = (id: number): void => {
      if (sockets && !sockets.has(log.socketOf(id))) return;
      if (writer && file) {
        if (file.closed) return;
        writer.add(id);
        file.maybeFlush();
      }
      count++;
      if (count >= limit) {
        stopListening();
        options.onLimit?.();
      }
    };
    const stopListening = log.onLogged(listener);
    return {
      get count() {
        return count;
      },
      stop: stopListening,
    };
  }
}
