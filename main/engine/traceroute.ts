// A traceroute run: probes with TTL (hop limit) firstHop, firstHop+1, … until the
// target answers or maxHops. The hop loop lives here; sending probes and matching
// their answers is a Prober's job, of which there are two:
// - traceroute-raw.ts: raw sockets (this process's or the socket helper's), every kind.
// - traceroute-error-queue.ts: no privilege: UDP and TCP-connect probes and ICMP datagram
//   ("ping") sockets that read the ICMP errors about their own probes from the error queue.
// mode 'auto' takes raw sockets where they can be had, else the error queue.
import type { ExperimentRun, Hop, HopProbe, Params } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { formatIpAddress, isIpv6, parseIpAddress } from '../../packets/address';
import { type Experiment, type ExperimentHost, type LoggedPacket, nowMs, snapshot, toWorkbenchError } from './experiment';
import { isUnreachableKind, roundTripMs } from './icmp';
import { ErrorQueueProber } from './traceroute-error-queue';
import { RawProber } from './traceroute-raw';

export const TERMINAL = new Set(['echo-reply', 'port-unreachable', 'tcp-synack', 'tcp-rst']);

/** What a prober tells the run. */
export interface ProberEvents {
  /** Probe `index` left at sentAtNs (ns since the epoch; kernel-adjacent clock), or could not be sent. */
  sent(index: number, result: { sentAtNs?: bigint } | { error: string }): void;
  /** Something answered probe `index`. sentAtNs overrides the send time (connect probes know it only at the end). */
  answer(index: number, answer: { responder: string; kind: string; timestampNs?: bigint; sentAtNs?: bigint }): void;
  log(packet: LoggedPacket): void;
}

export interface ProbeTarget {
  family: 4 | 6;
  target: string;
  local: string | null;
  probe: 'icmp' | 'udp' | 'tcp';
  /** Destination port (UDP: the first; TCP: the port). */
  port: number;
  timeoutMs: number;
}

export interface Prober {
  readonly mode: 'raw' | 'error-queue';
  readonly via: 'raw' | 'helper' | 'error-queue';
  /** Sends probe `index` (unique in the run) with this TTL / hop limit. */
  send(index: number, ttl: number): void;
  close(): void;
}

interface Probe {
  index: number;
  ttl: number;
  sentAtNs?: bigint;
  sentMono: number;
  sent: boolean;
  result: HopProbe | null;
}

/** Raw sockets, or the error queue ('auto' falls back to it when raw sockets are refused); used by traceroute and mtr. */
export async function openProber(host: ExperimentHost, target: ProbeTarget, events: ProberEvents, mode: 'auto' | 'raw' | 'error-queue'): Promise<Prober> {
  // TCP probes without privileges are connect() calls of this process: never inside a lab host.
  if (host.lab && target.probe === 'tcp' && mode !== 'raw') {
    if (mode === 'error-queue') throw new WorkbenchError('ENOTSUP', `TCP traceroute from lab host ${host.lab.host} needs raw sockets (mode 'raw' or 'auto')`, 'mode');
    return RawProber.open(host, target, events);
  }
  if (mode === 'error-queue') return ErrorQueueProber.open(host, target, events);
  try {
    return await RawProber.open(host, target, events);
  } catch (error) {
    const failure = toWorkbenchError(error);
    const refused = failure.code === 'EPERM' || failure.code === 'EACCES';
    if (mode === 'raw' || !refused) throw failure;
    try {
      return await ErrorQueueProber.open(host, target, events);
    } catch (fallback) {
      const second = toWorkbenchError(fallback);
      throw new WorkbenchError(
        failure.code,
        `Traceroute needs raw sockets, or for ${target.probe.toUpperCase()} probes without privileges: ${second.message}. ${failure.message}`,
      );
    }
  }
}

export class TracerouteRun implements Experiment {
  readonly run: ExperimentRun;
  private readonly family: 4 | 6;
  private readonly target: string;
  private readonly port: number;
  private prober: Prober | null = null;
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
    this.port = params.port ?? (params.probe === 'tcp' ? 80 : 33434);
    this.run = {
      runId,
      kind: 'traceroute',
      target: params.target,
      family: this.family === 4 ? 'ipv4' : 'ipv6',
      params: { ...params, port: this.port },
      state: 'running',
      startedAt: nowMs(),
      mode: params.mode === 'error-queue' ? 'error-queue' : 'raw',
      via: params.mode === 'error-queue' ? 'error-queue' : 'raw',
      traceroute: { hops: [], reached: false },
    };
  }

  /** Opens the sockets; throws WorkbenchError (EPERM with the remedy…) when no way of probing is allowed. */
  async start(): Promise<void> {
    if (this.params.firstHop > this.params.maxHops) {
      throw new WorkbenchError('INVALID_ARGUMENT', `firstHop ${this.params.firstHop} is above maxHops ${this.params.maxHops}`, 'firstHop');
    }
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
    // stop() or close() may have come while the sockets were opened.
    if (this.run.state !== 'running') {
      this.prober.close();
      this.prober = null;
      return;
    }
    this.run.mode = this.prober.mode;
    this.run.via = this.prober.via;
    this.host.events.coalesce(`experiment:${this.run.runId}`, () => ({ type: 'experiment', run: snapshot(this.run) }));
    void this.trace().catch((error) => this.finish('failed', toWorkbenchError(error)));
  }

  stop(): void {
    if (this.run.state !== 'running') return;
    this.finish('stopped');
  }

  abort(error: WorkbenchError): void {
    this.finish('failed', error);
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
    for (let i = 0; i < this.params.probesPerHop; i++) probes.push({ index: this.nextIndex++, ttl, sentMono: performance.now(), sent: false, result: null });
    this.hopProbes = probes;
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.hopTimer) clearTimeout(this.hopTimer);
        this.hopTimer = null;
        this.hopDone = null;
        this.endHop = null;
        resolve(probes);
      };
      this.endHop = done;
      this.hopDone = () => {
        if (this.run.state !== 'running') return done();
        if (!probes.every((probe) => probe.sent)) return;
        if (probes.every((probe) => probe.result !== null)) return done();
        // Every probe is out: the hop's wait starts now (once).
        if (!this.hopTimer) this.hopTimer = setTimeout(done, this.params.timeoutMs);
      };
      for (const probe of probes) (this.prober as Prober).send(probe.index, ttl);
    });
  }

  /** The probe of the current hop with this index. */
  private probeAt(index: number): Probe | undefined {
    return this.hopProbes.find((candidate) => candidate.index === index);
  }

  private onSent(index: number, result: { sentAtNs?: bigint } | { error: string }): void {
    const probe = this.probeAt(index);
    if (!probe || probe.sent) return;
    probe.sent = true;
    probe.sentMono = performance.now();
    if ('error' in result) probe.result ??= { status: 'timeout', kind: `send failed: ${result.error}` };
    else probe.sentAtNs = result.sentAtNs;
    this.hopDone?.();
  }

  private onAnswer(index: number, answer: { responder: string; kind: string; timestampNs?: bigint; sentAtNs?: bigint }): void {
    if (this.run.state !== 'running') return;
    const probe = this.probeAt(index);
    if (!probe || probe.result !== null) return;
    const sentAtNs = answer.sentAtNs ?? probe.sentAtNs;
    const rtt = roundTripMs(sentAtNs, answer.timestampNs, probe.sentMono, performance.now());
    probe.result = { status: 'reply', responder: answer.responder, rtt, kind: answer.kind };
    this.hopDone?.();
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
    this.prober?.close();
    this.prober = null;
    this.host.events.coalesce(`experiment:${this.run.runId}`, () => ({ type: 'experiment', run: snapshot(this.run) }));
    this.host.ended(this.run);
  }
}
