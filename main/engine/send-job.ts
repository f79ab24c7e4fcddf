// A send job: one packet sent count times, or a stream of packets (in order or interleaved),
// each with variable fields, paced by an interval, a rate or bursts. Pacing is by schedule
// (packet g is due at start + g * interval), so timer granularity never lowers the rate: each
// wake-up sends every packet that has come due, in one library batch.
//
// Variable fields are written into slots of one preallocated arena (packets/variation.ts), with
// no per-packet JS allocation on the way: a slot is reused only after its send completed (each
// slot has its own completion callback, made once), so a buffer is never changed while the
// library may still read it. At most as many sends as slots are in flight.
//
// A closed socket (ERR_SOCKET_CLOSED) ends the job at once: every later packet would fail the
// same way. Answers are counted per stream packet (answer-tracker.ts); with `answers` the job
// waits that long after its last packet (state 'waiting') before its results are final.
import type { Destination, Socket } from '@packet-workbench/raw-socket';
import type { SendJobInfo, StreamCounters } from '../../common/contract';
import { formatIpv4, formatIpv6 } from '../../packets/address';
import { writeVariant, type VariationPlan } from '../../packets/variation';
import { AnswerTracker, DEFAULT_ANSWER_WINDOW_MS } from './answer-tracker';
import type { EventHub } from './events';
import { nowMs } from './experiment';

const MAX_IN_FLIGHT = 4096;
/** Bytes of slot arena a job with variable fields may take (fewer slots for large packets). */
const ARENA_BYTES = 16 * 1024 * 1024;
/** Below this interval the job wakes up every millisecond and sends what has come due. */
const FINE_INTERVAL_MS = 2;
/** How often requests whose answer window passed are counted as lost. */
const SWEEP_MS = 100;
/**
 * Packets queued per wake-up while answers are counted: below the library's ASYNC_SEND_MIN (64), so the
 * batch goes out synchronously and each request is logged before its reply can be read. A batch sent on
 * the thread pool completes after the poll phase read the replies (loopback answers at once), and a reply
 * logged before its request is never matched.
 */
const MATCHABLE_BATCH = 63;

/** One packet of a job, ready to send. */
export interface PreparedPacket {
  /** The packet as built (the template of its variants). */
  readonly bytes: Uint8Array;
  /** What goes out of each variant: [offset, offset + length) (a header the kernel writes is cut off). */
  readonly offset: number;
  readonly length: number;
  readonly plan: VariationPlan | null;
  readonly count: number;
  /** The target, with per-packet header fields where the kernel builds the header. */
  readonly destination: string | Destination;
  /** A kind the log pairs with an answer (echo request, UDP datagram, TCP SYN). */
  readonly request: boolean;
  readonly description: string;
}

export interface SendJobOptions {
  readonly jobId: string;
  readonly socketId: string;
  readonly socket: Socket;
  readonly packets: readonly PreparedPacket[];
  readonly order: 'sequential' | 'interleaved';
  /** ms between packets; 0 as fast as possible (ignored with burst). */
  readonly intervalMs: number;
  readonly burst?: { readonly size: number; readonly gapMs: number };
  readonly answers?: { readonly timeoutMs: number };
  readonly description: string;
}

export interface SendJobHost {
  readonly events: EventHub;
  /** Logs one sent packet (bytes[offset, offset + length), to peer) and counts it on the socket; returns its log id. */
  sent(packet: number, bytes: Uint8Array, offset: number, length: number, peer: string, sentAtNs: bigint | undefined): number;
  failed(): void;
  ended(job: SendJob): void;
  /** Calls listener for each request the log pairs with its answer; returns the function that stops it. */
  onAnswered?(listener: (requestId: number, replyId: number, rttMs: number) => void): () => void;
}

type AfterSend = (error: Error | null, bytes: number, sentAt?: bigint) => void;

export class SendJob {
  readonly info: SendJobInfo & Required<Pick<SendJobInfo, 'description' | 'packets' | 'answered' | 'lost' | 'matching'>>;
  readonly matching: boolean;
  private readonly packets: readonly PreparedPacket[];
  private readonly socket: Socket;
  private readonly intervalMs: number;
  private readonly burst: SendJobOptions['burst'];
  private readonly interleaved: boolean;
  private readonly tracker: AnswerTracker;
  private readonly answersTimeoutMs: number;
  private queued = 0;
  private completed = 0;
  private readonly startMono = performance.now();
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private stopAnswers: (() => void) | null = null;
  private waitingForRoom = false;
  private eventPending = false;
  private burstEnd = 0;
  private nextBurstAt = 0;

  // Which packet comes next: per stream packet the next variant, and the stream packet in turn.
  // Int32: a variant number passed on stays a small integer (a double would be boxed per call).
  private readonly nextK: Int32Array;
  private cursor = 0;

  // Slots: one per send in flight. The arena exists only when some packet varies.
  private readonly slotLimit: number;
  private readonly slotSize: number;
  private readonly arena: Uint8Array | null;
  private readonly views: Uint8Array[] = [];
  private readonly callbacks: AfterSend[] = [];
  private readonly slotPacket: Int32Array;
  private readonly slotOwner: Int32Array;
  private readonly slotPeer: string[] = [];
  private readonly free: Int32Array;
  private freeCount = 0;
  private readonly peers: string[];
  private readonly destinationCache = new Map<number, string>();

  constructor(
    private readonly host: SendJobHost,
    options: SendJobOptions,
  ) {
    this.packets = options.packets;
    this.socket = options.socket;
    this.intervalMs = options.intervalMs;
    this.burst = options.burst;
    this.interleaved = options.order === 'interleaved';
    this.matching = options.answers !== undefined;
    const total = this.packets.reduce((sum, packet) => sum + packet.count, 0);
    const first = this.packets[0].destination;
    const address = typeof first === 'string' ? first : first.address;
    this.peers = this.packets.map((packet) => (typeof packet.destination === 'string' ? packet.destination : packet.destination.address));
    const counters = this.packets.map((packet): StreamCounters => ({ description: packet.description, total: packet.count, sent: 0, answered: 0, lost: 0, rttMs: null }));
    this.info = {
      jobId: options.jobId,
      socketId: options.socketId,
      address,
      total,
      sent: 0,
      errors: 0,
      state: 'running',
      startedAt: nowMs(),
      description: options.description,
      packets: counters,
      answered: 0,
      lost: 0,
      matching: this.matching,
    };
    this.tracker = new AnswerTracker(
      counters,
      this.matching ? Infinity : DEFAULT_ANSWER_WINDOW_MS,
      this.matching,
      this.packets.map((packet) => packet.request),
    );
    this.answersTimeoutMs = options.answers?.timeoutMs ?? DEFAULT_ANSWER_WINDOW_MS;
    this.nextK = new Int32Array(this.packets.length);
    const varied = this.packets.filter((packet) => packet.plan !== null);
    this.slotSize = varied.reduce((size, packet) => Math.max(size, packet.bytes.length), 0);
    this.slotLimit = varied.length > 0 ? Math.max(16, Math.min(MAX_IN_FLIGHT, Math.floor(ARENA_BYTES / Math.max(1, this.slotSize)))) : MAX_IN_FLIGHT;
    this.slotLimit = Math.min(this.slotLimit, Math.max(1, total));
    this.arena = varied.length > 0 ? new Uint8Array(this.slotLimit * this.slotSize) : null;
    this.slotPacket = new Int32Array(this.slotLimit);
    this.slotOwner = new Int32Array(this.slotLimit).fill(-1);
    this.free = new Int32Array(this.slotLimit);
  }

  get running(): boolean {
    return this.info.state === 'running';
  }

  /** Running, or waiting for answers: not yet final. */
  get active(): boolean {
    return this.info.state === 'running' || this.info.state === 'waiting';
  }

  start(): void {
    if (this.host.onAnswered && this.packets.some((packet) => packet.request || this.matching)) {
      this.stopAnswers = this.host.onAnswered(this.onAnswer);
      this.sweepTimer = setInterval(this.sweep, SWEEP_MS);
      this.sweepTimer.unref?.();
    }
    this.announce();
    this.tick();
  }

  cancel(): void {
    if (!this.active) return;
    this.end('cancelled');
  }

  /** Cancels the job and stops counting answers even for a finished one (the engine closes). */
  dispose(): void {
    this.cancel();
    this.stopListening();
  }

  /** Ends an active job as failed with this error (its socket failed); no-op once ended. */
  fail(error: { code: string; message: string }): void {
    if (!this.active) return;
    this.info.error = { ...error };
    this.end('failed');
  }

  snapshot(): SendJobInfo {
    const info = this.info;
    return {
      ...info,
      packets: info.packets.map((counters) => ({ ...counters, rttMs: counters.rttMs && { ...counters.rttMs } })),
      ...(info.error ? { error: { ...info.error } } : {}),
    };
  }

  /** The results page of a send-and-match job (infoOf: the log's Info column of a row). */
  results(offset: number, limit: number, infoOf: (id: number) => string | null) {
    return this.tracker.page(offset, limit, infoOf);
  }

  private tick = (): void => {
    this.timer = null;
    this.immediate = null;
    if (!this.running) return;
    const total = this.info.total;
    const now = performance.now();
    let due: number;
    if (this.burst) {
      if (this.queued >= this.burstEnd) {
        if (now < this.nextBurstAt) {
          this.timer = setTimeout(this.tick, Math.max(1, Math.ceil(this.nextBurstAt - now)));
          return;
        }
        this.burstEnd = Math.min(total, this.burstEnd + this.burst.size);
      }
      due = this.burstEnd;
    } else {
      due = this.intervalMs === 0 ? total : Math.min(total, Math.floor((now - this.startMono) / this.intervalMs) + 1);
    }
    const inFlight = this.queued - this.completed;
    let n = Math.min(due - this.queued, this.slotLimit - inFlight);
    if (this.stopAnswers && n > MATCHABLE_BATCH) n = MATCHABLE_BATCH;
    for (let i = 0; i < n; i++) this.sendNext();
    if (this.queued >= total) return; // the last completion ends the job
    if (this.queued - this.completed >= this.slotLimit) {
      this.waitingForRoom = true;
      return;
    }
    // Held back by MATCHABLE_BATCH: the rest is due already, on the next turn (after the poll phase read the replies).
    if (this.queued < due && !(this.burst && this.queued >= this.burstEnd)) {
      this.immediate = setImmediate(this.tick);
      return;
    }
    if (this.burst) {
      if (this.queued >= this.burstEnd) {
        this.nextBurstAt = performance.now() + this.burst.gapMs;
        this.timer = setTimeout(this.tick, Math.max(0, Math.ceil(this.burst.gapMs)));
      } else this.immediate = setImmediate(this.tick);
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

  /** Queues the next packet of the job in a free slot. */
  private sendNext(): void {
    const p = this.nextPacket();
    const k = this.nextK[p]++;
    const slot = this.takeSlot();
    this.slotPacket[slot] = p;
    this.queued++;
    const packet = this.packets[p];
    const plan = packet.plan;
    if (plan === null) {
      this.slotPeer[slot] = this.peers[p];
      this.socket.send(packet.bytes, packet.offset, packet.length, packet.destination, this.callbacks[slot]);
      return;
    }
    const view = this.views[slot];
    if (this.slotOwner[slot] !== p) {
      view.set(plan.template);
      this.slotOwner[slot] = p;
    }
    writeVariant(plan, k, view);
    const destination = plan.destination === null ? packet.destination : this.destinationOf(view, plan.destination);
    this.slotPeer[slot] = typeof destination === 'string' ? destination : destination.address;
    this.socket.send(this.arena!, slot * this.slotSize + packet.offset, packet.length, destination, this.callbacks[slot]);
  }

  /** Sequential: every packet of stream packet 0, then 1…; interleaved: 0, 1, 2, 0, 1, 2… skipping those done. */
  private nextPacket(): number {
    const packets = this.packets;
    if (!this.interleaved) {
      while (this.nextK[this.cursor] >= packets[this.cursor].count) this.cursor++;
      return this.cursor;
    }
    for (;;) {
      const p = this.cursor;
      this.cursor = this.cursor + 1 === packets.length ? 0 : this.cursor + 1;
      if (this.nextK[p] < packets[p].count) return p;
    }
  }

  private takeSlot(): number {
    if (this.freeCount > 0) return this.free[--this.freeCount];
    // A new slot, made once: its view into the arena and its completion callback.
    const slot = this.callbacks.length;
    if (this.arena) this.views.push(this.arena.subarray(slot * this.slotSize, (slot + 1) * this.slotSize));
    this.callbacks.push((error, _bytes, sentAt) => this.afterSend(slot, error, sentAt));
    this.slotPeer.push('');
    return slot;
  }

  /** The send address of a packet whose IP destination varies: from its bytes, the strings cached. */
  private destinationOf(view: Uint8Array, where: { at: number; family: 4 | 6 }): string {
    const at = where.at + (where.family === 6 ? 12 : 0);
    // Only the low 32 bits of an IPv6 address vary: they tell the addresses of one job apart.
    const key = ((view[at] << 24) | (view[at + 1] << 16) | (view[at + 2] << 8) | view[at + 3]) >>> 0;
    let text = this.destinationCache.get(key);
    if (text === undefined) {
      text = where.family === 4 ? formatIpv4(view.subarray(where.at, where.at + 4)) : formatIpv6(view.subarray(where.at, where.at + 16));
      if (this.destinationCache.size >= 65536) this.destinationCache.clear();
      this.destinationCache.set(key, text);
    }
    return text;
  }

  private afterSend(slot: number, error: Error | null, sentAt: bigint | undefined): void {
    this.completed++;
    const p = this.slotPacket[slot];
    if (error) {
      this.free[this.freeCount++] = slot;
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
      this.info.packets[p].sent++;
      const packet = this.packets[p];
      const id = packet.plan === null
        ? this.host.sent(p, packet.bytes, packet.offset, packet.length, this.slotPeer[slot], sentAt)
        : this.host.sent(p, this.arena!, slot * this.slotSize + packet.offset, packet.length, this.slotPeer[slot], sentAt);
      this.free[this.freeCount++] = slot;
      if (this.stopAnswers) this.tracker.sent(p, id, performance.now());
    }
    this.announce();
    if (this.completed >= this.info.total && this.running) {
      this.allSent();
      return;
    }
    if (this.waitingForRoom && this.running && this.queued - this.completed < this.slotLimit / 2) {
      this.waitingForRoom = false;
      this.immediate = setImmediate(this.tick);
    }
  }

  /** The last packet went out: done, or (send-and-match) waiting for the answers first. */
  private allSent(): void {
    if (this.info.sent === 0) {
      this.end('failed');
      return;
    }
    if (!this.matching) {
      this.end('done');
      return;
    }
    this.info.state = 'waiting';
    this.announce();
    this.waitTimer = setTimeout(() => this.end('done'), this.answersTimeoutMs);
  }

  private onAnswer = (requestId: number, replyId: number, rttMs: number): void => {
    if (!this.tracker.answered(requestId, replyId, rttMs)) return;
    this.info.answered++;
    this.announce();
  };

  private sweep = (): void => {
    if (this.tracker.expire(performance.now())) {
      this.sumLost();
      this.announce();
    }
    // A finished job stops listening once its last requests left their window.
    if (!this.active && this.tracker.pending === 0) this.stopListening();
  };

  private sumLost(): void {
    let lost = 0;
    for (const counters of this.info.packets) lost += counters.lost;
    this.info.lost = lost;
  }

  private stopListening(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    if (this.stopAnswers) this.stopAnswers();
    this.stopAnswers = null;
  }

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
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.timer = null;
    this.immediate = null;
    this.waitTimer = null;
    // Send-and-match: the answer window closed, the results are final. A cancelled or failed
    // job stops counting too; a done one keeps sweeping until its last window closes.
    if (this.matching || state !== 'done') {
      this.tracker.finish();
      this.sumLost();
      this.stopListening();
    }
    this.announce();
    this.host.ended(this);
  }
}
