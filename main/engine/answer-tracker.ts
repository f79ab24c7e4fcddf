// The answers of a send job: per stream packet, how many requests were answered (the log's
// request/response links, matching.ts), lost (their answer window passed) and the round trips;
// for a send-and-match job (send with answers) also every request and its reply, in send order,
// for sendResults. Bounded: the requests still in their window sit in a ring of typed arrays
// (at most WINDOW_LIMIT), the results of a matching job in typed arrays (at most RESULTS_LIMIT).
// Nothing is allocated per packet except when an array doubles.
import type { SendResults, StreamCounters } from '../../common/contract';

/** Requests waiting for their answer at most; beyond, the oldest counts as lost at once. */
const WINDOW_LIMIT = 1 << 20;
/** Requests a send-and-match job remembers for sendResults at most. */
export const RESULTS_LIMIT = 1_000_000;
/** The answer window of a job without `answers`. */
export const DEFAULT_ANSWER_WINDOW_MS = 2000;

export class AnswerTracker {
  // The ring of requests in their window, oldest first; log ids ascend (they are logged in send order).
  private capacity = 1024;
  private ids = new Float64Array(this.capacity);
  private times = new Float64Array(this.capacity);
  private packetOf = new Uint8Array(this.capacity);
  private done = new Uint8Array(this.capacity);
  private resultOf = new Float64Array(this.capacity);
  private head = 0;
  private size = 0;
  private readonly rttSums: Float64Array;

  // Results (matching jobs): request i in send order.
  private resultCount = 0;
  private requestIds = new Float64Array(0);
  private replyIds = new Float64Array(0);
  private rtts = new Float64Array(0);
  private resultPackets = new Uint8Array(0);
  private answeredResults = 0;

  constructor(
    /** The job's counters, one per stream packet: updated in place. */
    private readonly counters: StreamCounters[],
    private readonly windowMs: number,
    private readonly keepResults: boolean,
    /** Per stream packet: a kind the log pairs with an answer (echo request, UDP, TCP SYN); only those count as lost. */
    private readonly requests: readonly boolean[],
  ) {
    this.rttSums = new Float64Array(counters.length);
  }

  /** A packet of stream packet `packet` was logged as `id` at `now` (performance.now()). */
  sent(packet: number, id: number, now: number): void {
    let result = -1;
    if (this.keepResults && this.resultCount < RESULTS_LIMIT) {
      if (this.resultCount === this.requestIds.length) this.growResults();
      result = this.resultCount++;
      this.requestIds[result] = id;
      this.replyIds[result] = -1;
      this.resultPackets[result] = packet;
    }
    if (!this.requests[packet] && result < 0) return;
    if (this.size === this.capacity) {
      if (this.capacity < WINDOW_LIMIT) this.growRing();
      else this.expireOldest();
    }
    const at = (this.head + this.size) & (this.capacity - 1);
    this.ids[at] = id;
    this.times[at] = now;
    this.packetOf[at] = packet;
    this.done[at] = 0;
    this.resultOf[at] = result;
    this.size++;
  }

  /** A logged request was answered; returns whether it was one of this job's. */
  answered(requestId: number, replyId: number, rttMs: number): boolean {
    if (this.size === 0 || requestId < this.ids[this.head] || requestId > this.ids[(this.head + this.size - 1) & (this.capacity - 1)]) return false;
    let low = 0;
    let high = this.size - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const at = (this.head + middle) & (this.capacity - 1);
      const id = this.ids[at];
      if (id === requestId) {
        if (this.done[at]) return false;
        this.done[at] = 1;
        const packet = this.packetOf[at];
        const counters = this.counters[packet];
        counters.answered++;
        this.rttSums[packet] += rttMs;
        if (counters.rttMs === null) counters.rttMs = { min: rttMs, avg: rttMs, max: rttMs };
        else {
          counters.rttMs.min = Math.min(counters.rttMs.min, rttMs);
          counters.rttMs.max = Math.max(counters.rttMs.max, rttMs);
        }
        counters.rttMs.avg = Math.round((this.rttSums[packet] / counters.answered) * 1000) / 1000;
        const result = this.resultOf[at];
        if (result >= 0) {
          this.replyIds[result] = replyId;
          this.rtts[result] = rttMs;
          this.answeredResults++;
        }
        return true;
      }
      if (id < requestId) low = middle + 1;
      else high = middle - 1;
    }
    return false;
  }

  /** Requests whose window passed by `now` leave it (unanswered ones count as lost); returns whether a counter changed. */
  expire(now: number): boolean {
    let changed = false;
    while (this.size > 0 && now - this.times[this.head] >= this.windowMs) changed = this.expireOldest() || changed;
    return changed;
  }

  /** The window closes for every request still in it (the job's answer window ended). */
  finish(): void {
    while (this.size > 0) this.expireOldest();
  }

  get pending(): number {
    return this.size;
  }

  /** A page of the results, as sendResults returns it (summaries from the log's Info column). */
  page(offset: number, limit: number, infoOf: (id: number) => string | null): Pick<SendResults, 'answeredTotal' | 'unansweredTotal' | 'answered' | 'unanswered'> {
    const answered: SendResults['answered'] = [];
    const unanswered: SendResults['unanswered'] = [];
    let answeredSeen = 0;
    let unansweredSeen = 0;
    for (let i = 0; i < this.resultCount && (answered.length < limit || unanswered.length < limit); i++) {
      const requestId = this.requestIds[i];
      const replyId = this.replyIds[i];
      if (replyId >= 0) {
        if (answeredSeen++ >= offset && answered.length < limit) {
          const request = infoOf(requestId) ?? '(no longer in the log)';
          const reply = infoOf(replyId) ?? '(no longer in the log)';
          answered.push({ packetIndex: this.resultPackets[i], requestId, replyId, rttMs: this.rtts[i], summary: `${request} → ${reply}` });
        }
      } else if (unansweredSeen++ >= offset && unanswered.length < limit) {
        unanswered.push({ packetIndex: this.resultPackets[i], requestId, summary: infoOf(requestId) ?? '(no longer in the log)' });
      }
    }
    return { answeredTotal: this.answeredResults, unansweredTotal: this.resultCount - this.answeredResults, answered, unanswered };
  }

  private expireOldest(): boolean {
    const at = this.head;
    const packet = this.packetOf[at];
    const lost = !this.done[at] && this.requests[packet];
    if (lost) this.counters[packet].lost++;
    this.head = (this.head + 1) & (this.capacity - 1);
    this.size--;
    return lost;
  }

  private growRing(): void {
    const capacity = this.capacity * 2;
    const order = <T extends Float64Array | Uint8Array>(from: T, to: T): T => {
      for (let i = 0; i < this.size; i++) to[i] = from[(this.head + i) & (this.capacity - 1)];
      return to;
    };
    this.ids = order(this.ids, new Float64Array(capacity));
    this.times = order(this.times, new Float64Array(capacity));
    this.packetOf = order(this.packetOf, new Uint8Array(capacity));
    this.done = order(this.done, new Uint8Array(capacity));
    this.resultOf = order(this.resultOf, new Float64Array(capacity));
    this.head = 0;
    this.capacity = capacity;
  }

  private growResults(): void {
    const length = Math.min(RESULTS_LIMIT, Math.max(1024, this.requestIds.length * 2));
    const grow = <T extends Float64Array | Uint8Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.requestIds = grow(this.requestIds, new Float64Array(length));
    this.replyIds = grow(this.replyIds, new Float64Array(length));
    this.rtts = grow(this.rtts, new Float64Array(length));
    this.resultPackets = grow(this.resultPackets, new Uint8Array(length));
  }
}
