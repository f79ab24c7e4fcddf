// Experiment runs (ping, traceroute, mtr, pmtu): started, listed, stopped, and what they need from
// the engine (experiment.ts ExperimentHost): sockets from the socket source, the log, and
// echo identifiers and source ports no other running experiment holds.
import type { ExperimentRun, Params } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { checkBound, type Bound } from './engine-limits';
import type { EventHub } from './events';
import type { LabHosts } from './labs';
import { type Experiment, type ExperimentHost, type LoggedPacket, nsToMs, snapshot } from './experiment';
import { trimHistory, type NewId } from './history';
import type { Lifetime } from './lifetime';
import type { PacketLog } from './packet-log';
import { MtrRun } from './mtr';
import { PingRun } from './ping';
import { PmtuRun } from './pmtu';
import { DIRECTION_RECEIVED, DIRECTION_SENT, type PacketFacts } from './ring';
import { sourceAddressFor } from './route';
import type { SocketSource } from './socket-source';
import { TracerouteRun } from './traceroute';

export class ExperimentRuns {
  /** Every run kept (running and the last HISTORY finished), for listExperiments. */
  private readonly runs = new Map<string, ExperimentRun>();
  private readonly running = new Map<string, Experiment>();
  /** Experiments between their call and registerStarted (opening their sockets): counted against the limit too. */
  private starting = 0;
  private readonly echoIds = new Set<number>();
  private readonly ports = new Set<number>();
  private nextEchoId = 1 + Math.floor(Math.random() * 0xfffe);
  private nextPort = 40000 + Math.floor(Math.random() * 20000);
  private readonly facts: PacketFacts = { time: 0, direction: DIRECTION_SENT, socket: -1, family: 4, withIpHeader: false, protocol: 0, peer: null, local: null };
  private readonly host: ExperimentHost;

  constructor(
    events: EventHub,
    private readonly log: PacketLog,
    private readonly source: SocketSource,
    private readonly lifetime: Lifetime,
    private readonly newId: NewId,
    private readonly labs: LabHosts,
    /** maxRunningExperiments, counting these (running and starting). */
    private readonly limit: Bound,
  ) {
    this.host = {
      events,
      openSocket: (options, extra) => this.source.open(options, extra),
      sourceAddress: sourceAddressFor,
      log: (packet) => this.logPacket(packet, -1),
      takeEchoId: () => this.takeEchoId(),
      releaseEchoId: (id) => {
        this.echoIds.delete(id);
      },
      takePort: () => this.takePort(),
      releasePort: (port) => {
        this.ports.delete(port);
      },
      ended: (run) => {
        this.running.delete(run.runId);
      },
    };
  }

  async ping(params: Params<'ping'>): Promise<ExperimentRun> {
    this.admitRun();
    const runId = this.newId('run');
    const run = new PingRun(this.hostFor(runId, params.host), runId, params);
    if (params.host !== undefined) run.run.host = params.host;
    return this.begin(run);
  }

  async traceroute(params: Params<'traceroute'>): Promise<ExperimentRun> {
    this.admitRun();
    const runId = this.newId('run');
    const run = new TracerouteRun(this.hostFor(runId, params.host), runId, params);
    if (params.host !== undefined) run.run.host = params.host;
    return this.begin(run);
  }

  /**
   * What a run acting from lab host `host` needs: its sockets opened in the host's namespace, its
   * source addresses from the host's routes, its packets logged under the run's id with the host.
   */
  private hostFor(runId: string, host: string | undefined): ExperimentHost {
    if (host === undefined) return this.host;
    const lab = this.labs.host(host);
    const socket = this.log.socketIndex(runId);
    this.log.describe(runId, `the sockets of experiment ${runId}`, lab.host);
    return {
      ...this.host,
      lab,
      openSocket: (options, extra) => this.source.open({ ...options, namespace: lab.namespace }, extra),
      sourceAddress: (destination) => this.labs.sourceAddress(lab, destination),
      log: (packet) => this.logPacket(packet, socket),
    };
  }

  async mtr(params: Params<'mtr'>): Promise<ExperimentRun> {
    this.admitRun();
    const runId = this.newId('run');
    const run = new MtrRun(this.hostFor(runId, params.host), runId, params);
    if (params.host !== undefined) run.run.host = params.host;
    return this.begin(run);
  }

  async pmtu(params: Params<'pmtu'>): Promise<ExperimentRun> {
    this.admitRun();
    const runId = this.newId('run');
    const run = new PmtuRun(this.hostFor(runId, params.host), runId, params);
    if (params.host !== undefined) run.run.host = params.host;
    return this.begin(run);
  }

  async stop(params: Params<'stopExperiment'>): Promise<ExperimentRun> {
    this.lifetime.alive();
    const run = this.runs.get(params.runId);
    if (!run) throw new WorkbenchError('NOT_FOUND', `No experiment ${params.runId}`, 'runId');
    this.running.get(params.runId)?.stop();
    return snapshot(run);
  }

  async list(): Promise<ExperimentRun[]> {
    this.lifetime.alive();
    return [...this.runs.values()].map(snapshot);
  }

  /**
   * A loaded workspace's runs replace the finished history (loadWorkspace); running runs
   * stay. A saved run still running when it was saved is restored as stopped.
   */
  restore(saved: readonly ExperimentRun[]): void {
    this.lifetime.alive();
    for (const [runId, run] of this.runs) if (run.state !== 'running') this.runs.delete(runId);
    for (const run of saved) {
      const runId = this.runs.has(run.runId) ? `${run.runId}-saved` : run.runId;
      this.runs.set(runId, { ...run, runId, state: run.state === 'running' ? 'stopped' : run.state });
    }
    trimHistory(this.runs, (candidate) => candidate.state !== 'running');
  }

  /** Stops every running experiment (close()). */
  stopAll(): void {
    for (const experiment of [...this.running.values()]) experiment.stop();
  }

  /** The helper stopped: runs on its sockets end as failed with the reason. */
  abortHelperRuns(failure: { code: string; message: string }): void {
    for (const experiment of [...this.running.values()]) {
      if (experiment.run.via === 'helper') experiment.abort(new WorkbenchError(failure.code, failure.message));
    }
  }

  /** The lab is going down: runs acting from its hosts end as failed with the reason. */
  abortLabRuns(failure: { code: string; message: string }): void {
    for (const experiment of [...this.running.values()]) {
      if (experiment.run.host !== undefined) experiment.abort(new WorkbenchError(failure.code, failure.message));
    }
  }

  /** Experiments running or starting. */
  get active(): number {
    return this.running.size + this.starting;
  }

  private admitRun(): void {
    this.lifetime.alive();
    checkBound(this.limit, 'experiments are running', 'stop one in the Experiments panel (stopExperiment) or wait for one to end');
  }

  private async begin(experiment: Experiment & { start(): Promise<void> }): Promise<ExperimentRun> {
    this.starting++;
    try {
      await experiment.start();
    } finally {
      this.starting--;
    }
    return this.registerStarted(experiment);
  }

  private registerStarted(experiment: Experiment): ExperimentRun {
    // close() may have run while the experiment was starting.
    if (this.lifetime.closed) {
      experiment.stop();
      this.lifetime.alive();
    }
    const run = experiment.run;
    this.runs.set(run.runId, run);
    if (run.state === 'running') this.running.set(run.runId, experiment);
    trimHistory(this.runs, (candidate) => candidate.state !== 'running');
    return snapshot(run);
  }

  private logPacket(packet: LoggedPacket, socket: number): void {
    if (this.lifetime.closed) return;
    const facts = this.facts;
    facts.socket = socket;
    facts.time = nsToMs(packet.timestampNs);
    facts.direction = packet.direction;
    facts.family = packet.family;
    facts.withIpHeader = packet.withIpHeader;
    facts.protocol = packet.protocol;
    facts.peer = packet.withIpHeader ? null : packet.peer;
    facts.local = packet.withIpHeader ? null : packet.local;
    facts.hopLimit = packet.hopLimit;
    if (packet.direction === DIRECTION_RECEIVED) {
      this.log.appendReceived(packet.bytes, facts, packet.timestampNs);
      return;
    }
    this.log.append(packet.bytes, facts);
  }

  private takeEchoId(): number {
    for (let i = 0; i < 0x10000; i++) {
      const id = this.nextEchoId;
      this.nextEchoId = (this.nextEchoId % 0xffff) + 1;
      if (!this.echoIds.has(id)) {
        this.echoIds.add(id);
        return id;
      }
    }
    throw new WorkbenchError('EBUSY', 'Every ICMP echo identifier is taken by a running experiment');
  }

  private takePort(): number {
    for (let i = 0; i < 20000; i++) {
      const port = this.nextPort;
      this.nextPort = this.nextPort >= 59999 ? 40000 : this.nextPort + 1;
      if (!this.ports.has(port)) {
        this.ports.add(port);
        return port;
      }
    }
    throw new WorkbenchError('EBUSY', 'Every probe source port is taken by a running experiment');
  }
}
