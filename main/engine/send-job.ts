// A send job: one packet sent count times, paced by an interval or a rate. Pacing
// is by schedule (packet k is due at start + k * interval), so timer granularity
// never lowers the rate: each wake-up sends every packet that has come due, in
// one library batch. At most MAX_IN_FLIGHT requests wait in the library's queue.
// A closed socket (ERR_SOCKET_CLOSED) ends the job at once: every later packet would
// fail the same way.
import type { Destination, Socket } from '@packet-workbench/raw-socket';
import type { SendJobInfo } from '../../common/contract';
import type { EventHub } from './events';
import { nowMs } from './experiment';

const MAX_IN_FLIGHT = 4096;
/** Below this interval the job wakes up every millisecond and sends what has come due. */
const FINE_INTERVAL_MS = 2;

export interface SendJobHost {
  readonly events: EventHub;
  /** Logs one sent packet and counts it on the socket (the same buffer every time). */
  sent(bytes: Uint8Array, sentAtNs: bigint | undefined): void;
  failed(): void;
  ended(job: SendJob): void;
}

export class SendJob {
  readonly info: SendJobInfo;
  private queued = 0;
  private completed = 0;
  private readonly startMono = performance.now();
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private waitingForRoom = false;
  private eventPending = false;

  constructor(
    private readonly host: SendJobHost,
    jobId: string,
    socketId: string,
    private readonly socket: Socket,
    /** The target, with per-packet header fields where the kernel builds the header. */
    private readonly destination: string | Destination,
    private readonly packet: Uint8Array,
    count: number,
    /** ms between packets; 0 as fast as possible. */
    private readonly intervalMs: number,
  ) {
    const address = typeof destination === 'string' ? destination : destination.address;
    const description = `packet ×${count} to ${address}`;
    this.info = {
      jobId, socketId, address, total: count, sent: 0, errors: 0, state: 'running', startedAt: nowMs(),
      description, packets: [{ description, total: count, sent: 0, answered: 0, lost: 0, rttMs: null }], answered: 0, lost: 0, matching: false,
    };
  }

  get running(): boolean {
    return this.info.state === 'running';
  }

  start(): void {
    this.announce();
    this.tick();
  }

  cancel(): void {
    if (!this.running) return;
    this.end('cancelled');
  }

  /** Ends a running job as failed with this error (its socket failed); no-op once ended. */
  fail(error: { code: string; message: string }): void {
    if (!this.running) return;
    this.info.error = { ...error };
    this.end('failed');
  }

  snapshot(): SendJobInfo {
    return { ...this.info, packets: this.info.packets!.map((p) => ({ ...p })), ...(this.info.error ? { error: { ...this.info.error } } : {}) };
  }

  private tick = (): void => {
    this.timer = null;
    this.immediate = null;
    if (!this.running) return;
    const total = this.info.total;
    const due = this.intervalMs === 0 ? total : Math.min(total, Math.floor((performance.now() - this.startMono) / this.intervalMs) + 1);
    const room = MAX_IN_FLIGHT - (this.queued - this.completed);
    const n = Math.min(due - this.queued, room);
    for (let i = 0; i < n; i++) {
      this.queued++;
      this.socket.send(this.packet, 0, this.packet.length, this.destination, this.afterSend);
    }
    if (this.queued >= total) return; // the last completion ends the job
    if (this.queued - this.completed >= MAX_IN_FLIGHT) {
      this.waitingForRoom = true;
      return;
    }
    if (this.intervalMs === 0) {
      this.immediate = setImmediate(this.tick);
      return;
    }
    const nextDue = this.startMono + this.queued * this.intervalMs;
    const wait = this.intervalMs < FINE_INTERVAL_MS ? 1 : Math.max(0, Math.ceil(nextDue - performance.now()));
    this.timer = setTimeout(this.tick, wait);
  };

  // One function for every packet: no closure per send.
  private afterSend = (error: Error | null, _bytes: number, sentAt?: bigint): void => {
    this.completed++;
    if (error) {
      const code = (error as { code?: unknown }).code;
      const closed = code === 'ERR_SOCKET_CLOSED';
      // The rest of a batch queued before the socket closed: the job already ended, for that reason.
      if (closed && !this.running) return;
      this.info.errors++;
      if (!this.info.error) this.info.error = { code: typeof code === 'string' ? code : 'INTERNAL', message: error.message };
      this.host.failed();
      if (closed) {
        // Why the job ended, whatever failed before.
        this.info.error = { code: 'ERR_SOCKET_CLOSED', message: error.message };
        this.announce();
        this.end('failed');
        return;
      }
    } else {
      this.info.sent++;
      this.info.packets![0].sent++;
      this.host.sent(this.packet, sentAt);
    }
    this.announce();
    if (this.completed >= this.info.total && this.running) {
      this.end(this.info.sent === 0 ? 'failed' : 'done');
      return;
    }
    if (this.waitingForRoom && this.running && this.queued - this.completed < MAX_IN_FLIGHT / 2) {
      this.waitingForRoom = false;
      this.immediate = setImmediate(this.tick);
    }
  };

  private announce(): void {
    if (this.eventPending) return;
    this.eventPending = true;
    this.host.events.coalesce(`sendJob:${this.info.jobId}`, () => {
      this.eventPending = false;
      return { type: 'sendJob', job: this.snapshot() };
    });
  }

  private end(state: 'done' | 'cancelled' | 'failed'): void {
    this.info.state = state;
    this.info.finishedAt = nowMs();
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.announce();
    this.host.ended(this);
  }
}
