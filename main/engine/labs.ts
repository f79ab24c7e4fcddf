// The engine's lab: one shipped topology at a time (main/lab/topology-lab.ts), its state
// for every client ('lab' events), and the lookup from a lab host to its network
// namespace that openSocket, startCapture, ping and traceroute use with `host`.
// The lab goes when the workbench closes; a crash guard (as `lab up` has) removes its
// namespaces if this process dies without closing it.
import type { LabInfo, LabMap, LabTopologySummary, Params } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { run } from '../lab/command';
import { startCrashGuard, type CrashGuard } from '../lab/lab-state';
import { labSupport } from '../lab/namespace';
import { loadTopology, shippedTopologies } from '../lab/topologies';
import { TopologyError, type Topology } from '../lab/topology';
import { createTopologyLab, type TopologyLab, type TopologyLabOptions } from '../lab/topology-lab';
import type { EventHub } from './events';
import type { Lifetime } from './lifetime';

// The contract's LabMap is main/lab's, written once more where the renderer can see it: this fails to compile if they drift.
const sameMap: (map: TopologyLab['map']) => LabMap = (map) => map;
void sameMap;

export type CreateLab = (topology: Topology, options: TopologyLabOptions) => Promise<TopologyLab>;

/** A lab someone else built and owns (`lab up`): the engine acts in its hosts and never takes it down. */
export interface ExternalLab {
  name: string;
  /** Host name → network namespace name. */
  namespaces: Record<string, string>;
  map: LabMap;
}

/** startCrashGuard's watcher leaves after 10 minutes (it guards a build); a lab lives longer, so its guard is renewed. */
const GUARD_RENEW_MS = 5 * 60_000;

/** What the engine keeps of its lab: an external one's destroy() does nothing. */
type RunningLab = ExternalLab & { destroy(): Promise<void> };

/** What a host of the running lab is, for the modules that open sockets in it. */
export interface LabHost {
  host: string;
  /** Its network namespace's name (/run/netns/NAME). */
  namespace: string;
}

/** The lookup the socket, capture and experiment modules use for `host`. */
export interface LabHosts {
  host(host: string): LabHost;
  /** The address `lab` sends from toward `destination` (its routes, not ours): TCP and UDP checksums need it. */
  sourceAddress(lab: LabHost, destination: string): Promise<string>;
}

export class Labs implements LabHosts {
  private info: LabInfo = { state: 'down' };
  private lab: RunningLab | undefined;
  private guard: CrashGuard | undefined;
  private guardRenewal: NodeJS.Timeout | undefined;
  /** The stop in progress, so close() and a second stopLab wait for it. */
  private stopping: Promise<void> | undefined;
  /** The start in progress, so a stop waits for the lab it builds. */
  private building: Promise<unknown> | undefined;

  constructor(
    private readonly events: EventHub,
    private readonly lifetime: Lifetime,
    private readonly create: CreateLab = createTopologyLab,
    /** Called before the lab goes down: whatever acts inside its hosts lets go of them. */
    private readonly leaving: () => Promise<void> = async () => undefined,
  ) {}

  async topologies(): Promise<LabTopologySummary[]> {
    this.lifetime.alive();
    return shippedTopologies().map(({ name, description }) => ({ name, description, hosts: loadTopology(name).hosts.map((host) => host.name) }));
  }

  async status(): Promise<LabInfo> {
    this.lifetime.alive();
    return this.snapshot();
  }

  async start(params: Params<'startLab'>): Promise<LabInfo> {
    this.lifetime.alive();
    if (this.info.state === 'starting' || this.info.state === 'up' || this.info.state === 'stopping') {
      throw new WorkbenchError('LAB_RUNNING', `Lab ${this.info.topology} is ${this.info.state}: stop it first (one lab per workbench)`, 'topology');
    }
    if (params.topology.includes('/') || params.topology.endsWith('.json')) {
      throw new WorkbenchError('INVALID_ARGUMENT', `startLab takes a shipped topology's name, not a file: '${params.topology}'`, 'topology');
    }
    let topology: Topology;
    try {
      topology = loadTopology(params.topology);
    } catch (error) {
      if (error instanceof TopologyError) throw new WorkbenchError('NOT_FOUND', error.message, 'topology');
      throw error;
    }
    const support = labSupport();
    if (!support.supported) {
      throw new WorkbenchError('PERMISSION', `Labs cannot be built here: ${support.reason}. Run the workbench as root (sudo), or start a lab with \`sudo packet-workbench lab up ${topology.name}\`.`);
    }
    this.change({ state: 'starting', topology: topology.name });
    try {
      const building = this.create(topology, { onNamespaces: (names) => (this.guard = startCrashGuard(names)) });
      this.building = building.finally(() => (this.building = undefined));
      const lab = await building;
      if (this.lifetime.closed) {
        await lab.destroy().catch(() => undefined);
        this.release();
        throw new WorkbenchError('CLOSED', 'The workbench closed while the lab was starting');
      }
      this.lab = lab;
      this.guardRenewal = setInterval(() => {
        const old = this.guard;
        this.guard = startCrashGuard(Object.values(lab.namespaces));
        old?.release();
      }, GUARD_RENEW_MS).unref();
      this.change({ state: 'up', topology: topology.name, map: lab.map, startedAt: Date.now() });
      return this.snapshot();
    } catch (error) {
      // createTopologyLab removes what it built before it throws; the guard is no longer needed.
      this.release();
      if (error instanceof WorkbenchError) throw error;
      const message = `Lab ${topology.name} could not be started: ${(error as Error).message}`;
      this.change({ state: 'failed', topology: topology.name, error: { code: 'LAB_FAILED', message } });
      throw new WorkbenchError('LAB_FAILED', message);
    }
  }

  /** Acts in the hosts of a lab this engine did not build (the CLI's `--lab-host` with a lab from `lab up`). */
  adopt(lab: ExternalLab): LabInfo {
    this.lifetime.alive();
    if (this.info.state === 'starting' || this.info.state === 'up' || this.info.state === 'stopping') {
      throw new WorkbenchError('LAB_RUNNING', `Lab ${this.info.topology} is ${this.info.state}: stop it first (one lab per workbench)`);
    }
    this.lab = { ...structuredClone(lab), destroy: async () => undefined };
    this.change({ state: 'up', topology: lab.name, map: structuredClone(lab.map), startedAt: Date.now() });
    return this.snapshot();
  }

  async stop(): Promise<LabInfo> {
    this.lifetime.alive();
    await this.takeDown();
    return this.snapshot();
  }

  /** Removes the lab (the workbench is closing). */
  close(): Promise<void> {
    return this.takeDown();
  }

  /**
   * The namespace of `host` in the running lab. LAB_NOT_UP without a lab, NOT_FOUND (listing
   * the lab's hosts) for a host it does not have.
   */
  host(host: string): LabHost {
    const lab = this.lab;
    if (lab === undefined || this.info.state !== 'up') {
      throw new WorkbenchError('LAB_NOT_UP', `No lab is up to act from host '${host}': start one first (startLab)`, 'host');
    }
    const namespace = lab.namespaces[host];
    if (namespace === undefined || !Object.hasOwn(lab.namespaces, host)) {
      throw new WorkbenchError('NOT_FOUND', `Lab ${lab.name} has no host '${host}' (its hosts: ${Object.keys(lab.namespaces).join(', ')})`, 'host');
    }
    return { host, namespace };
  }

  async sourceAddress(lab: LabHost, destination: string): Promise<string> {
    // The kernel's own answer inside the namespace (`ip -n` enters it: root)...
    const result = await run('ip', ['-j', '-n', lab.namespace, 'route', 'get', destination], { timeoutMs: 5_000, check: false }).catch(() => undefined);
    if (result?.code === 0) {
      const source = (JSON.parse(result.stdout) as { prefsrc?: string }[])[0]?.prefsrc;
      if (source) return source;
    }
    if (result !== undefined && /unreachable|No route/i.test(result.stderr)) throw new Error(`Lab host ${lab.host} has no route to ${destination}`);
    // ...else (no root for ip -n) the host's own address of that family in the lab's map.
    const v6 = destination.includes(':');
    const address = this.info.map?.hosts.find((host) => host.name === lab.host)?.addresses.find((text) => text.includes(':') === v6);
    if (address === undefined) throw new Error(`Lab host ${lab.host} has no ${v6 ? 'IPv6' : 'IPv4'} address`);
    return address.replace(/\/\d+$/, '');
  }

  private takeDown(): Promise<void> {
    if (this.stopping) return this.stopping;
    // Stopping while it starts: once it is up (or failed), down.
    if (this.building) return this.building.then(() => this.takeDown(), () => this.takeDown());
    const lab = this.lab;
    if (lab === undefined) {
      if (this.info.state === 'failed') this.change({ state: 'down' });
      return Promise.resolve();
    }
    this.change({ ...this.info, state: 'stopping' });
    this.stopping = this.leaving()
      .catch(() => undefined)
      .then(() => lab.destroy())
      .then(
        () => {
          this.lab = undefined;
          this.release();
          this.change({ state: 'down' });
        },
        (error: unknown) => {
          // Some namespace would not go: the guard stays, so it still goes when this process ends.
          this.lab = undefined;
          this.change({ state: 'failed', topology: lab.name, error: { code: 'LAB_FAILED', message: `Lab ${lab.name} did not stop cleanly: ${(error as Error).message}` } });
        },
      )
      .finally(() => (this.stopping = undefined));
    return this.stopping;
  }

  private release(): void {
    clearInterval(this.guardRenewal);
    this.guardRenewal = undefined;
    this.guard?.release();
    this.guard = undefined;
  }

  private change(info: LabInfo): void {
    this.info = info;
    if (!this.lifetime.closed) this.events.coalesce('lab', () => ({ type: 'lab', lab: this.snapshot() }));
  }

  private snapshot(): LabInfo {
    return structuredClone(this.info);
  }
}
