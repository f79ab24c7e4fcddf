// The Workbench: every method of the contract on real sockets, plus a batched event
// stream. It knows no transport: Electron IPC, the browser host's WebSocket and the
// CLI all hand it calls through dispatchCall (main/engine/dispatch.ts), which
// validates the parameters with common/validate.ts first. A facade: each concern lives
// in its own module (sockets, jobs, packet-log, runs, captures), this class wires them
// together and watches the socket helper.
import { createSocket, permissionRemedy, readPingGroupRange } from '@packet-workbench/raw-socket';
import type {
  Capabilities,
  Lesson,
  LessonSummary,
  LessonVerdict,
  CaptureInfo,
  DecodedEntry,
  DisplayFilterPage,
  ExperimentRun,
  HelperStatus,
  LabInfo,
  LabTopologySummary,
  LogPage,
  LogStatus,
  OptionReading,
  PacketOnWire,
  Params,
  SendJobInfo,
  SendResults,
  SocketInfo,
  WorkbenchHandlers,
} from '../../common/contract';
import type { DisplayFilter } from '../../packets/display-filter';
import type { Workspace } from '../../common/workspace';
import { describeCapabilities } from './capabilities';
import { Captures, type CaptureRecording, type RecordCaptureOptions } from './captures';
import { CaptureTransfers } from './capture-transfers';
import { engineLimits, type Bound, type EngineLimits } from './engine-limits';
import { EventHub, type BatchListener } from './events';
import { OwnTraffic, type OwnEndpoint } from './filters';
import { HelperSupervisor } from './helper';
import type { NewId } from './history';
import { SendJobs } from './jobs';
import { Lessons } from './lessons';
import type { CompiledLesson } from '../lessons/lesson';
import { Labs, type CreateLab, type ExternalLab } from './labs';
import { FirstLinkWatch } from './first-link';
import { Lifetime } from './lifetime';
import { PacketLog } from './packet-log';
import { resolveHost } from './resolve';
import { ExperimentRuns } from './runs';
import { Workspaces } from './workspace';
import { SocketSource } from './socket-source';
import { Sockets } from './sockets';

export { MAX_LOG_ROWS_PER_BATCH } from './packet-log';
export type { CaptureRecording, RecordCaptureOptions } from './captures';
export type { ExternalLab } from './labs';

export const DEFAULT_LOG_CAPACITY = 100_000;

export interface WorkbenchOptions {
  /** Packets the log keeps (default 100 000). */
  logCapacity?: number;
  /** Minimum ms between event batches (default EVENT_BATCH_INTERVAL_MS, 16). */
  eventIntervalMs?: number;
  /** Called when a subscriber throws (the others still get their batch). */
  onListenerError?: (error: unknown) => void;
  /** The socket helper (one per process; tests pass their own). */
  helper?: HelperSupervisor;
  /** Builds a lab (default main/lab's createTopologyLab; tests pass their own). */
  createLab?: CreateLab;
  /** Tighter or looser bounds than DEFAULT_ENGINE_LIMITS (256 sockets and captures, 64 send jobs, 32 experiments). */
  limits?: Partial<EngineLimits>;
}

export class Workbench implements WorkbenchHandlers {
  private readonly lifetime = new Lifetime();
  private readonly events: EventHub;
  private readonly log: PacketLog;
  private readonly transfers: CaptureTransfers;
  private readonly sockets: Sockets;
  private readonly jobs: SendJobs;
  private readonly experiments: ExperimentRuns;
  private readonly captures: Captures;
  private readonly lessonBook: Lessons;
  private readonly helper: HelperSupervisor;
  private readonly labs: Labs;
  private readonly firstLink: FirstLinkWatch;
  private readonly workspaces: Workspaces;
  /** The engine's own transports, kept out of the log (excludeOwnTraffic). */
  private readonly ownTraffic = new OwnTraffic();
  private readonly stopWatchingHelper: () => void;

  constructor(options: WorkbenchOptions = {}) {
    this.events = new EventHub({
      intervalMs: options.eventIntervalMs,
      collectLogRows: () => this.log.collectRows(),
      discardLogRows: () => this.log.discardRows(),
      onListenerError: options.onListenerError,
    });
    this.log = new PacketLog(options.logCapacity ?? DEFAULT_LOG_CAPACITY, this.events, this.lifetime);
    this.transfers = new CaptureTransfers(this.log);
    this.helper = options.helper ?? new HelperSupervisor();
    this.labs = new Labs(this.events, this.lifetime, options.createLab, () => this.leaveLab());
    this.firstLink = new FirstLinkWatch(this.labs, this.log, this.lifetime);
    const source = new SocketSource(this.helper);
    // One counter for every id: socket-1, job-2, run-3, capture-4 …
    let serial = 0;
    const newId: NewId = (kind) => `${kind}-${++serial}`;
    const limits = engineLimits(options.limits);
    // Sockets and captures share one bound: each holds a descriptor.
    const descriptors: Bound = { name: 'maxOpenSockets', max: limits.maxOpenSockets, count: () => this.sockets.holding + this.captures.running };
    this.sockets = new Sockets(this.events, this.log, source, this.ownTraffic, this.lifetime, newId, this.labs, descriptors);
    this.jobs = new SendJobs(this.events, this.log, this.sockets, this.lifetime, newId, { name: 'maxRunningJobs', max: limits.maxRunningJobs, count: () => this.jobs.active });
    this.experiments = new ExperimentRuns(this.events, this.log, source, this.lifetime, newId, this.labs, {
      name: 'maxRunningExperiments',
      max: limits.maxRunningExperiments,
      count: () => this.experiments.active,
    });
    this.captures = new Captures(this.events, this.log, this.ownTraffic, this.lifetime, newId, this.labs, descriptors);
    this.workspaces = new Workspaces({
      transfers: this.transfers,
      listSockets: () => this.listSockets(),
      listExperiments: () => this.experiments.list(),
      replaceLog: async (capture) => (await this.log.clear(), this.log.appendCapture(capture)),
      restoreExperiments: (runs) => this.experiments.restore(runs),
    });
    this.lessonBook = new Lessons(this.lifetime, () => this.log.rowsWithBytes());
    this.stopWatchingHelper = this.helper.onChange((status) => this.helperChanged(status));
  }

  // ---- events and lifetime ----------------------------------------------------------

  /** Receives event batches (at most one per 16 ms); returns the unsubscribe function. */
  subscribe(listener: BatchListener): () => void {
    return this.events.subscribe(listener);
  }

  /** Delivers pending events now instead of at the next batch time. */
  flushEvents(): void {
    this.events.flush();
  }

  /** Stops experiments and send jobs, closes every socket, clears every timer. Idempotent. */
  async close(): Promise<void> {
    if (this.lifetime.closed) return;
    this.lifetime.end();
    this.experiments.stopAll();
    this.jobs.cancelAll();
    const closing = this.captures.stopAll();
    this.log.close();
    this.transfers.closeAll();
    closing.push(...this.sockets.closeAll());
    await Promise.all(closing);
    // After the sockets: nothing may still be open inside its namespaces.
    await this.labs.close().catch(() => undefined);
    this.stopWatchingHelper();
    await this.helper.stop().catch(() => undefined);
    this.events.close();
  }

  // ---- capabilities and the socket helper ------------------------------------------------

  async capabilities(): Promise<Capabilities> {
    this.lifetime.alive();
    const probe = (options: Parameters<typeof createSocket>[0]): boolean => {
      try {
        createSocket(options).close();
        return true;
      } catch {
        return false;
      }
    };
    return describeCapabilities({
      platform: process.platform,
      uid: typeof process.getuid === 'function' ? process.getuid() : null,
      raw: probe({ addressFamily: 1, protocol: 1, mode: 'raw' }),
      datagram: {
        ipv4: probe({ addressFamily: 1, protocol: 1, mode: 'datagram' }),
        ipv6: probe({ addressFamily: 2, protocol: 58, mode: 'datagram' }),
      },
      pingGroupRange: readPingGroupRange() ?? null,
      helper: this.helper.status(),
      libraryRemedy: permissionRemedy(true),
    });
  }

  async helperStatus(): Promise<HelperStatus> {
    this.lifetime.alive();
    return this.helper.status();
  }

  async startHelper(params: Params<'startHelper'>): Promise<HelperStatus> {
    this.lifetime.alive();
    return this.helper.start(params);
  }

  async stopHelper(): Promise<HelperStatus> {
    this.lifetime.alive();
    return this.helper.stop();
  }

  /**
   * The helper's state for every client; when it stops or dies, the sockets it opened are
   * taken away: they close, their jobs and the experiments using them end with the reason.
   * The log keeps everything they sent and received.
   */
  private helperChanged(status: HelperStatus): void {
    this.events.coalesce('helper', () => ({ type: 'helper', helper: this.helper.status() }));
    if (status.state === 'running' || status.state === 'asking') return;
    const failure = { code: 'EHELPER', message: `The socket helper stopped${status.reason ? ` (${status.reason})` : ''}; sockets it opened were closed` };
    this.sockets.closeHelperSockets(failure);
    this.experiments.abortHelperRuns(failure);
  }

  // ---- sockets (sockets.ts) and send jobs (jobs.ts) ---------------------------------------

  async openSocket(params: Params<'openSocket'>): Promise<SocketInfo> {
    await this.watchFirstLink(params.host);
    return this.sockets.open(params);
  }
  closeSocket(params: Params<'closeSocket'>): Promise<SocketInfo> {
    return this.sockets.close(params);
  }
  listSockets(): Promise<SocketInfo[]> {
    return this.sockets.list();
  }
  pauseReceive(params: Params<'pauseReceive'>): Promise<SocketInfo> {
    return this.sockets.pauseReceive(params);
  }
  resumeReceive(params: Params<'resumeReceive'>): Promise<SocketInfo> {
    return this.sockets.resumeReceive(params);
  }
  setSocketFilter(params: Params<'setSocketFilter'>): Promise<SocketInfo> {
    return this.sockets.setFilter(params);
  }
  readSocketOptions(params: Params<'readSocketOptions'>): Promise<OptionReading[]> {
    return this.sockets.readOptions(params);
  }
  setSocketOption(params: Params<'setSocketOption'>): Promise<OptionReading> {
    return this.sockets.setOption(params);
  }

  /**
   * A transport of the engine's own (the browser host's listening socket): raw sockets and
   * captures that would see its traffic get it filtered out in the kernel, those open now
   * included. Returns the function that lets it back in.
   */
  excludeOwnTraffic(endpoint: OwnEndpoint): () => void {
    const remove = this.ownTraffic.add(endpoint);
    this.refilter();
    return () => {
      remove();
      if (!this.lifetime.closed) this.refilter();
    };
  }

  private refilter(): void {
    this.captures.refilter();
    this.sockets.refilter();
  }

  send(params: Params<'send'>): Promise<SendJobInfo> {
    return this.jobs.send(params);
  }
  cancelSend(params: Params<'cancelSend'>): Promise<SendJobInfo> {
    return this.jobs.cancel(params);
  }
  listSendJobs(): Promise<SendJobInfo[]> {
    return this.jobs.list();
  }
  sendResults(params: Params<'sendResults'>): Promise<SendResults> {
    return this.jobs.results(params);
  }

  // ---- the log (packet-log.ts) ----------------------------------------------------------------

  queryLog(params: Params<'queryLog'>): Promise<LogPage> {
    return this.log.query(params);
  }
  filterLog(params: Params<'filterLog'>): Promise<DisplayFilterPage> {
    return this.log.filter(params);
  }
  decodeLogEntry(params: Params<'decodeLogEntry'>): Promise<DecodedEntry> {
    return this.log.decodeEntry(params);
  }
  clearLog(): Promise<null> {
    return this.log.clear();
  }
  undoClearLog(): Promise<{ restored: number }> {
    return this.log.undoClear();
  }
  configureLog(params: Params<'configureLog'>): Promise<{ capacity: number }> {
    return this.log.configure(params);
  }
  exportPcapng(params: Params<'exportPcapng'>): Promise<{ pcapng: string; count: number }> {
    return this.transfers.exportWhole(params);
  }
  importPcapng(params: Params<'importPcapng'>): Promise<{ imported: number }> {
    return this.transfers.importWhole(params);
  }
  openExport(params: Params<'openExport'>): Promise<{ exportId: string; packets: number }> {
    return this.transfers.openExport(params);
  }
  readExport(params: Params<'readExport'>): Promise<{ data: string; done: boolean; count: number }> {
    return this.transfers.readExport(params);
  }
  openImport(): Promise<{ importId: string }> {
    return this.transfers.openImport();
  }
  writeImport(params: Params<'writeImport'>): Promise<{ imported: number; done: boolean }> {
    return this.transfers.writeImport(params);
  }
  closeTransfer(params: Params<'closeTransfer'>): Promise<null> {
    return this.transfers.closeTransfer(params);
  }
  saveWorkspace(params: Params<'saveWorkspace'>): Promise<{ exportId: string; packets: number }> {
    return this.workspaces.save(params);
  }
  loadWorkspace(params: Params<'loadWorkspace'>): Promise<{ workspace: Workspace; imported: number }> {
    return this.workspaces.load(params);
  }
  logStatus(): Promise<LogStatus> {
    return this.log.status();
  }

  /** A compiled display filter's verdict on one logged row (false once the ring dropped it): for the CLI. */
  passesDisplayFilter(filter: DisplayFilter, id: number): boolean {
    return this.log.passesDisplayFilter(filter, id);
  }

  // ---- experiments (runs.ts) and captures (captures.ts) ------------------------------------------

  async ping(params: Params<'ping'>): Promise<ExperimentRun> {
    await this.watchFirstLink(params.host);
    return this.experiments.ping(params);
  }
  async traceroute(params: Params<'traceroute'>): Promise<ExperimentRun> {
    await this.watchFirstLink(params.host);
    return this.experiments.traceroute(params);
  }
  async mtr(params: Params<'mtr'>): Promise<ExperimentRun> {
    await this.watchFirstLink(params.host);
    return this.experiments.mtr(params);
  }
  async pmtu(params: Params<'pmtu'>): Promise<ExperimentRun> {
    await this.watchFirstLink(params.host);
    return this.experiments.pmtu(params);
  }
  stopExperiment(params: Params<'stopExperiment'>): Promise<ExperimentRun> {
    return this.experiments.stop(params);
  }
  listExperiments(): Promise<ExperimentRun[]> {
    return this.experiments.list();
  }
  resolveHost(params: Params<'resolveHost'>): ReturnType<typeof resolveHost> {
    return resolveHost(params);
  }
  startCapture(params: Params<'startCapture'>): Promise<CaptureInfo> {
    return this.captures.start(params);
  }
  stopCapture(params: Params<'stopCapture'>): Promise<CaptureInfo> {
    return this.captures.stop(params);
  }
  listCaptures(): Promise<CaptureInfo[]> {
    return this.captures.list();
  }

  /** The lab is going down: its hosts' sockets close, their runs and captures end (the log keeps what they saw). */
  private async leaveLab(): Promise<void> {
    const failure = { code: 'LAB_DOWN', message: 'The lab went down; what acted inside its hosts was closed' };
    this.experiments.abortLabRuns(failure);
    this.sockets.closeLabSockets(failure);
    await Promise.all([...this.captures.stopLabCaptures(), this.firstLink.stopAll()]);
  }

  // ---- what the kernel changed (first-link.ts) ----------------------------------------------

  /** Before a lab host first sends, its first links are watched, so packetOnWire can show what crossed them. */
  private async watchFirstLink(host: string | undefined): Promise<void> {
    if (host !== undefined) await this.firstLink.watchFrom(host);
  }
  packetOnWire(params: Params<'packetOnWire'>): Promise<PacketOnWire> {
    return this.firstLink.packetOnWire(params);
  }

  // ---- the lab (labs.ts) ------------------------------------------------------------------------

  labTopologies(): Promise<LabTopologySummary[]> {
    return this.labs.topologies();
  }
  startLab(params: Params<'startLab'>): Promise<LabInfo> {
    return this.labs.start(params);
  }
  stopLab(): Promise<LabInfo> {
    return this.labs.stop();
  }
  labStatus(): Promise<LabInfo> {
    return this.labs.status();
  }

  /**
   * Acts in the hosts of a lab this engine did not build (one from `lab up`); stopLab and close()
   * then forget it without taking it down. In-process only (not in the contract).
   */
  useLab(lab: ExternalLab): LabInfo {
    return this.labs.adopt(lab);
  }

  // ---- lessons (lessons.ts) ---------------------------------------------------------------------

  lessons(): Promise<LessonSummary[]> {
    return this.lessonBook.list();
  }
  lesson(params: Params<'lesson'>): Promise<Lesson> {
    return this.lessonBook.lesson(params);
  }
  checkLesson(params: Params<'checkLesson'>): Promise<LessonVerdict> {
    return this.lessonBook.check(params);
  }
  /** Any lesson (a file too) over the log as a complete record: `lesson check --capture`. In-process only. */
  evaluateLesson(lesson: CompiledLesson): LessonVerdict {
    return this.lessonBook.evaluate(lesson);
  }

  /**
   * Feeds a capture file (or a counter) with every packet as it is logged, independent of
   * the log's capacity: the command line's `capture -w`. In-process only (not in the contract).
   */
  recordCapture(options: RecordCaptureOptions): CaptureRecording {
    return this.captures.record(options);
  }
}
