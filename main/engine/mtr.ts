// An mtr run: traceroute in cycles. Each cycle sends one probe to every TTL up to the
// target's hop (up to maxHops until an answer tells where the target is); a new cycle starts
// every intervalMs whatever the earlier ones still wait for, and a cycle's probes that have
// no answer timeoutMs after its last one left are lost. Per hop: sent, received, loss and RTT
// statistics (mtr-stats.ts). Probes go out through traceroute's probers (raw sockets or the error queue).
import type { ExperimentRun, Params } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { formatIpAddress, isIpv6, parseIpAddress } from '../../packets/address';
import { type Experiment, type ExperimentHost, nowMs, snapshot, toWorkbenchError } from './experiment';
import { isUnreachableKind, roundTripMs } from './icmp';
import { HopStatistics } from './mtr-stats';
import { openProber, TERMINAL, type ProbeTarget, type Prober, type ProberEvents } from './traceroute';

/** Probe indexes wrap here: only a cycle's probes (≤ 64) need distinct ones, and UDP ports stay below 65536. */
const INDEX_WRAP = 30_000;

interface MtrProbe {
  ttl: number;
  cycle: Cycle;
  sentMono: number;
  sentAtNs?: bigint;
  sent: boolean;
  state: 'waiting' | 'answered' | 'lost';
}

interface Cycle {
  probes: MtrProbe[];
  /** Probes not reported sent yet: the cycle's wait starts when this reaches 0. */
  unsent: number;
  timer: NodeJS.Timeout | null;
}

export class MtrRun implements Experiment {
  readonly run: ExperimentRun;
  private readonly family: 4 | 6;
  private readonly target: string;
  private readonly port: number;
  private prober: Prober | null = null;
  private readonly hops = new Map<number, HopStatistics>();
  /** The highest TTL probed each cycle: maxHops, then the target's (or an unreachable's) hop once it answered. */
  private limit: number;
  private nextIndex = 0;
  /** The probes still waiting for an answer, by index. */
  private readonly probes = new Map<number, MtrProbe>();
  /** Cycles whose probes are not all answered or lost yet. */
  private readonly open = new Set<Cycle>();
  private allSent = false;
  private timer: NodeJS.Timeout | null = null;
  /** Ends the current wait (the pause between cycles, or the last cycles' answers) at once. */
  private endWait: (() => void) | null = null;

  constructor(
    private readonly host: ExperimentHost,
    runId: string,
    private readonly params: Params<'mtr'>,
  ) {
    this.family = isIpv6(params.target) ? 6 : 4;
    this.target = formatIpAddress(parseIpAddress(params.target));
    this.port = params.port ?? (params.probe === 'tcp' ? 80 : 33434);
    this.limit = params.maxHops;
    this.run = {
      runId,
      kind: 'mtr',
      target: params.target,
      family: this.family === 4 ? 'ipv4' : 'ipv6',
      params: { ...params, port: this.port },
      state: 'running',
      startedAt: nowMs(),
      mode: params.mode === 'error-queue' ? 'error-queue' : 'raw',
      via: params.mode === 'error-queue' ? 'error-queue' : 'raw',
      mtr: { cycles: 0, hops: [], reached: false },
    };
  }

  async start(): Promise<void> {
    let local: string | null;
    try {
      local = await this.host.sourceAddress(this.target);
    } catch (error) {
      throw new WorkbenchError('ENETUNREACH', `No route to ${this.target}: ${(error as Error).message}`, 'target');
    }
    const target: ProbeTarget = { family: this.family, target: this.target, local, probe: this.params.probe, port: this.port, timeoutMs: this.params.timeoutMs };
    const events: ProberEvents = {
      sent: (index, result) => this.onSent(index, result),
      answer: (index, answer) => this.onAnswer(index, answer),
      log: (packet) => this.host.log(packet),
    };
    this.prober = await openProber(this.host, target, events, this.params.mode);
    if (this.run.state !== 'running') {
      this.prober.close();
      this.prober = null;
      return;
    }
    this.run.mode = this.prober.mode;
    this.run.via = this.prober.via;
    this.publish();
    void this.cycles().catch((error) => this.finish('failed', toWorkbenchError(error)));
  }

  stop(): void {
    this.finish('stopped');
  }

  abort(error: WorkbenchError): void {
    this.finish('failed', error);
  }

  private async cycles(): Promise<void> {
    for (let cycle = 1; cycle <= this.params.cycles; cycle++) {
      const began = performance.now();
      this.sendCycle();
      if (cycle < this.params.cycles) await this.wait(this.params.intervalMs - (performance.now() - began));
      if (this.run.state !== 'running') return;
    }
    this.allSent = true;
    // The last cycles' answers (or their timeouts); finish() ends the wait too.
    if (this.open.size > 0) await new Promise<void>((resolve) => (this.endWait = resolve));
    this.finish('done');
  }

  /** Resolves after `ms`, or at once when the run ends. */
  private wait(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.endWait = () => {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        this.endWait = null;
        resolve();
      };
      this.timer = setTimeout(this.endWait, ms);
    });
  }

  /** One probe per TTL up to the limit. */
  private sendCycle(): void {
    const cycle: Cycle = { probes: [], unsent: this.limit, timer: null };
    this.open.add(cycle);
    const sending: [number, number][] = [];
    for (let ttl = 1; ttl <= this.limit; ttl++) {
      const index = this.nextIndex;
      this.nextIndex = (this.nextIndex + 1) % INDEX_WRAP;
      const probe: MtrProbe = { ttl, cycle, sentMono: performance.now(), sent: false, state: 'waiting' };
      cycle.probes.push(probe);
      this.probes.set(index, probe);
      sending.push([index, ttl]);
    }
    for (const [index, ttl] of sending) this.prober!.send(index, ttl);
  }

  /** A probe's outcome; the cycle is complete once none of its probes (up to the limit) waits. */
  private judge(index: number, probe: MtrProbe, state: 'answered' | 'lost'): void {
    probe.state = state;
    this.probes.delete(index);
    if (state === 'lost' && probe.ttl <= this.limit) this.hops.get(probe.ttl)?.lose();
    this.checkCycle(probe.cycle);
  }

  private checkCycle(cycle: Cycle): void {
    if (!this.open.has(cycle) || cycle.unsent > 0) return;
    if (cycle.probes.some((probe) => probe.state === 'waiting' && probe.ttl <= this.limit)) {
      cycle.timer ??= setTimeout(() => this.expire(cycle), this.params.timeoutMs);
      return;
    }
    if (cycle.timer) clearTimeout(cycle.timer);
    this.open.delete(cycle);
    for (const [index, probe] of this.probes) if (probe.cycle === cycle) this.probes.delete(index);
    this.run.mtr!.cycles++;
    this.refresh();
    if (this.allSent && this.open.size === 0) this.endWait?.();
  }

  /** timeoutMs after the cycle's last probe left: what has not answered is lost. */
  private expire(cycle: Cycle): void {
    if (this.run.state !== 'running') return;
    for (const [index, probe] of this.probes) if (probe.cycle === cycle && probe.state === 'waiting') this.judge(index, probe, 'lost');
    this.checkCycle(cycle);
  }

  private hop(ttl: number): HopStatistics {
    let hop = this.hops.get(ttl);
    if (!hop) {
      hop = new HopStatistics(ttl);
      this.hops.set(ttl, hop);
    }
    return hop;
  }

  private onSent(index: number, result: { sentAtNs?: bigint } | { error: string }): void {
    const probe = this.probes.get(index);
    if (!probe || probe.sent || this.run.state !== 'running') return;
    probe.sent = true;
    probe.sentMono = performance.now();
    probe.cycle.unsent--;
    if (probe.ttl <= this.limit) this.hop(probe.ttl).probeSent();
    // A probe the kernel refused counts as sent and lost, as mtr counts it.
    if ('error' in result) return this.judge(index, probe, 'lost');
    probe.sentAtNs = result.sentAtNs;
    this.checkCycle(probe.cycle);
  }

  private onAnswer(index: number, answer: { responder: string; kind: string; timestampNs?: bigint; sentAtNs?: bigint }): void {
    if (this.run.state !== 'running') return;
    const probe = this.probes.get(index);
    if (!probe || probe.state !== 'waiting') return;
    if (probe.ttl <= this.limit) {
      const rtt = roundTripMs(answer.sentAtNs ?? probe.sentAtNs, answer.timestampNs, probe.sentMono, performance.now());
      this.hop(probe.ttl).reply(answer.responder, rtt);
      const terminal = TERMINAL.has(answer.kind);
      if (terminal) this.run.mtr!.reached = true;
      // Nothing gets further than the target or an unreachable: later TTLs are no hops of this path.
      if ((terminal || isUnreachableKind(answer.kind)) && probe.ttl < this.limit) {
        this.limit = probe.ttl;
        for (const ttl of [...this.hops.keys()]) if (ttl > this.limit) this.hops.delete(ttl);
        for (const cycle of [...this.open]) if (cycle !== probe.cycle) this.checkCycle(cycle);
      }
      this.refresh();
    }
    this.judge(index, probe, 'answered');
  }

  /** The hops in run.mtr: every TTL up to the last that ever answered (or the limit, once known). */
  private refresh(): void {
    const answered = [...this.hops.values()].filter((hop) => hop.received > 0).map((hop) => hop.ttl);
    const last = this.run.mtr!.reached ? this.limit : Math.max(0, ...answered);
    const hops = [];
    for (let ttl = 1; ttl <= last; ttl++) hops.push((this.hops.get(ttl) ?? new HopStatistics(ttl)).toHop());
    this.run.mtr!.hops = hops;
    this.publish();
  }

  private publish(): void {
    this.host.events.coalesce(`experiment:${this.run.runId}`, () => ({ type: 'experiment', run: snapshot(this.run) }));
  }

  private finish(state: 'done' | 'stopped' | 'failed', error?: WorkbenchError): void {
    if (this.run.state !== 'running') return;
    // Probes still waiting were never judged: they leave the counts.
    for (const probe of this.probes.values()) if (probe.sent && probe.ttl <= this.limit) this.hops.get(probe.ttl)?.probeWithdrawn();
    this.probes.clear();
    for (const cycle of this.open) if (cycle.timer) clearTimeout(cycle.timer);
    this.open.clear();
    this.refresh();
    this.run.state = state;
    if (error) this.run.error = { code: error.code, message: error.message };
    this.run.finishedAt = nowMs();
    this.endWait?.();
    this.prober?.close();
    this.prober = null;
    this.publish();
    this.host.ended(this.run);
  }
}
