// Builds a lab from a topology file: one network namespace per host, a veth pair
// per link (created inside the namespaces, never in the caller's) or, where the
// kernel cannot delay or lose packets, two TAP devices joined by the userspace link
// emulator; addresses, MTU, routes, firewall rules and impairments; returns once
// `ready.from` pings `ready.to` over every family both have. The map says what was built.
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { run, type CommandResult, type NamespaceExecOptions, type NamespaceSpawnOptions, type RunOptions } from './command';
import { EMULATOR_STATS_DIR, linkEmulatorMode, linkEmulatorPath, startLinkEmulator, type EmulatorCounters, type LinkEmulator, type LinkEmulatorMode } from './emulator';
import { firewallRuleset } from './firewall';
import { describeImpairment, hasNetem, kernelImpairment, needsNetem, type ImpairLink, type ImpairmentHow } from './impairment';
import { BASE_SYSCTLS } from './lab';
import { keepNamespace, namespaceLookup, openNamespace, uniqueId, type Namespace } from './namespace';
import type { AddressFamily } from './addresses';
import type { FirewallRule, Topology, TopologyHost } from './topology';
import { planTopology, type PlannedHost, type PlannedLink, type TopologyPlan } from './topology-plan';

export interface LabMapImpairment {
  from: string;
  to: string;
  delayMs?: number;
  jitterMs?: number;
  lossPercent?: number;
  rateKbit?: number;
  /** How it is applied here: tc netem, tc tbf, the userspace emulator, or not at all. */
  how: ImpairmentHow;
  reason: string;
}

export interface LabMap {
  name: string;
  description?: string;
  hosts: Array<{
    name: string;
    role: 'host' | 'router';
    addresses: string[];
    namespace?: string;
    /** Its firewall rules, so the map can say which hop is silent or rejects. */
    firewall?: Array<Omit<FirewallRule, 'host'>>;
    icmpRateLimit?: TopologyHost['icmpRateLimit'];
  }>;
  links: Array<{
    ends: Array<{ host: string; interface: string; addresses: string[] }>;
    mtu: number;
    impairments: LabMapImpairment[];
  }>;
}

export interface TopologyLabOptions {
  /** Namespace names start with `${prefix}-${pid}-`; default `pwl-${name}`. */
  prefix?: string;
  /** How long the readiness ping may take (ms), default 15 000; 0 skips it. */
  readyTimeoutMs?: number;
  /** How impairments are applied; default: netem, else tbf for rates (see impairment.ts). */
  impair?: ImpairLink;
  /** Told the namespace names before the first is created (a crash guard must know them). */
  onNamespaces?: (namespaces: string[]) => void;
  /**
   * When a link gets the userspace link emulator instead of a veth pair (emulator.ts):
   * 'auto' when it delays or loses and the kernel has no netem, 'always' for every
   * impaired link, 'never'. Default $PACKET_WORKBENCH_LINK_EMULATOR, else 'auto';
   * 'never' when `impair` is given (the caller chose how).
   */
  linkEmulator?: LinkEmulatorMode;
}

/** A link emulator process of a lab. */
export interface RunningEmulator {
  /** "r1—r2": the hosts it joins, end a first. */
  link: string;
  pid: number;
  statsFile: string;
  counters(): Promise<EmulatorCounters | undefined>;
}

export interface TopologyLab {
  id: string;
  name: string;
  plan: TopologyPlan;
  /** Host name → namespace name. */
  namespaces: Record<string, string>;
  map: LabMap;
  /** Link emulator processes (none where every link is a veth pair). */
  emulators: RunningEmulator[];
  exec(host: string, argv: readonly string[], options?: NamespaceExecOptions): Promise<CommandResult>;
  spawn(host: string, argv: readonly string[], options?: NamespaceSpawnOptions): ChildProcess;
  /** Leave the namespaces and emulators in place when this process ends (`lab up`); destroy() still removes them. */
  keep(): void;
  /** Stops the emulators and deletes every namespace (their veths, routes, rules and qdiscs go with them); idempotent. */
  destroy(): Promise<void>;
}

const COMMAND: RunOptions = { timeoutMs: 10_000 };

export async function createTopologyLab(topology: Topology, options: TopologyLabOptions = {}): Promise<TopologyLab> {
  const plan = planTopology(topology);
  const id = uniqueId(options.prefix ?? `pwl-${topology.name}`);
  const names = Object.fromEntries(plan.hosts.map((host) => [host.name, `${id}-${host.name}`]));
  options.onNamespaces?.(Object.values(names));
  const namespaces = new Map<string, Namespace>();
  const emulators: Array<{ link: string; emulator: LinkEmulator }> = [];
  const destroy = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const { emulator } of emulators.splice(0)) await emulator.stop().catch((error: unknown) => errors.push(error));
    for (const namespace of namespaces.values()) await namespace.destroy().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw new AggregateError(errors, `Could not remove every namespace of lab ${id}`);
  };

  let map: LabMap;
  try {
    for (const host of plan.hosts) {
      // accept_dad=0 comes with the namespace, before any link exists.
      namespaces.set(host.name, await openNamespace(names[host.name], { sysctls: { ...BASE_SYSCTLS, ...host.sysctls } }));
    }
    const emulated = await chooseEmulatedLinks(plan, names, options);
    await wireLinks(plan, names, emulated, async (link, spec) => {
      const [a, b] = link.ends;
      const statsFile = path.join(EMULATOR_STATS_DIR, `${id}-${a.host}-${b.host}.json`);
      emulators.push({ link: `${a.host}—${b.host}`, emulator: await startLinkEmulator({ ...spec, statsFile }) });
    });
    await addRoutes(plan, names);
    for (const host of plan.hosts) {
      const ruleset = firewallRuleset((topology.firewall ?? []).filter((rule) => rule.host === host.name));
      if (!ruleset) continue;
      const result = await run('ip', ['netns', 'exec', names[host.name], 'nft', '-f', '-'], { ...COMMAND, input: ruleset, check: false });
      if (/exec of "?nft"? failed|No such file/i.test(result.stderr)) throw new Error(`the firewall rules of ${host.name} need nftables (apt-get install -y nftables)`);
      if (result.code !== 0) throw new Error(`nft refused the firewall rules of ${host.name}: ${result.stderr.trim()}`);
    }
    map = await impairAndMap(topology, plan, names, options.impair ?? kernelImpairment, emulated);
    const readyTimeout = options.readyTimeoutMs ?? 15_000;
    if (readyTimeout > 0) await waitUntilReachable(plan, namespaces.get(plan.readyFrom) as Namespace, readyTimeout);
  } catch (error) {
    await destroy().catch(() => undefined);
    throw error;
  }

  const namespaceOf = namespaceLookup(namespaces);
  return {
    id,
    name: topology.name,
    plan,
    namespaces: names,
    map,
    emulators: emulators.map(({ link, emulator }) => ({ link, pid: emulator.pid, statsFile: emulator.statsFile, counters: emulator.counters })),
    exec: async (host, argv, execOptions) => namespaceOf(host).exec(argv, execOptions),
    spawn: (host, argv, spawnOptions) => namespaceOf(host).spawn(argv, spawnOptions),
    keep: () => {
      Object.values(names).forEach(keepNamespace);
      for (const { emulator } of emulators) emulator.keep();
    },
    destroy,
  };
}

/** Link index → why the emulator joins it (the reason the map gives). */
type EmulatedLinks = Map<number, string>;

type EmulatorSpec = Parameters<typeof startLinkEmulator>[0];

/** Which links the userspace emulator joins instead of a veth pair (see TopologyLabOptions.linkEmulator). */
async function chooseEmulatedLinks(plan: TopologyPlan, names: Record<string, string>, options: TopologyLabOptions): Promise<EmulatedLinks> {
  const mode = options.linkEmulator ?? (options.impair ? 'never' : linkEmulatorMode());
  const chosen: EmulatedLinks = new Map();
  if (mode === 'never') return chosen;
  const candidates = plan.links.flatMap((link, index) => (link.impairments.length > 0 && (mode === 'always' || link.impairments.some(needsNetem)) ? [index] : []));
  if (candidates.length === 0) return chosen;
  if (mode === 'auto' && (await hasNetem(names[plan.hosts[0].name]))) return chosen;
  const built = linkEmulatorPath() !== undefined;
  if (!built && mode === 'always') throw new Error('the link emulator (packet-workbench-linkemu) is not built: npm run build:native');
  // Without it the kernel path says what it could not apply.
  if (!built) return chosen;
  const reason = mode === 'always' ? 'userspace link emulator (chosen: always)' : 'userspace link emulator (this kernel has no netem)';
  for (const index of candidates) chosen.set(index, reason);
  return chosen;
}

function directionOf(link: PlannedLink, from: string): EmulatorSpec['ab'] {
  const found = link.impairments.find((direction) => direction.from === from);
  if (!found) return undefined;
  const { from: _from, to: _to, ...impairment } = found;
  return impairment;
}

async function wireLinks(plan: TopologyPlan, names: Record<string, string>, emulated: EmulatedLinks, emulate: (link: PlannedLink, spec: EmulatorSpec) => Promise<void>): Promise<void> {
  for (const [index, link] of plan.links.entries()) {
    const [a, b] = link.ends;
    // Each end is named after the host at the other end; `name` keeps a host called e.g. "address" from being read as a keyword.
    if (emulated.has(index)) {
      await emulate(link, { a: { namespace: names[a.host], device: b.host }, b: { namespace: names[b.host], device: a.host }, ab: directionOf(link, a.host), ba: directionOf(link, b.host) });
    } else {
      await run('ip', ['link', 'add', 'name', b.host, 'netns', names[a.host], 'type', 'veth', 'peer', 'name', a.host, 'netns', names[b.host]], COMMAND);
    }
    for (const [end, device] of [[a, b.host], [b, a.host]] as const) {
      const namespace = names[end.host];
      for (const address of end.addresses) {
        const family = address.family === 'ipv4' ? '-4' : '-6';
        await run('ip', ['-n', namespace, family, 'address', 'add', `${address.address}/${address.prefixLength}`, 'dev', device, ...(address.family === 'ipv6' ? ['nodad'] : [])], COMMAND);
      }
      await run('ip', ['-n', namespace, 'link', 'set', 'dev', device, ...(link.mtu ? ['mtu', String(link.mtu)] : []), 'up'], COMMAND);
    }
  }
}

async function addRoutes(plan: TopologyPlan, names: Record<string, string>): Promise<void> {
  for (const host of plan.hosts) {
    for (const route of host.routes) {
      const hops =
        route.nextHops.length === 1
          ? ['via', route.nextHops[0].via, 'dev', route.nextHops[0].device]
          : route.nextHops.flatMap((hop) => ['nexthop', 'via', hop.via, 'dev', hop.device]);
      await run('ip', ['-n', names[host.name], route.family === 'ipv4' ? '-4' : '-6', 'route', 'add', route.destination, ...hops], COMMAND);
    }
  }
}

async function impairAndMap(topology: Topology, plan: TopologyPlan, names: Record<string, string>, impair: ImpairLink, emulated: EmulatedLinks): Promise<LabMap> {
  const links: LabMap['links'] = [];
  for (const [index, link] of plan.links.entries()) {
    const impairments: LabMapImpairment[] = [];
    for (const direction of link.impairments) {
      const { from, to, ...impairment } = direction;
      const byEmulator = emulated.get(index);
      const result = byEmulator ? { how: 'emulator' as const, reason: byEmulator } : await impair({ namespace: names[from], device: to, from, to }, impairment);
      impairments.push({ ...direction, how: result.how, reason: result.reason || describeImpairment(impairment) });
    }
    links.push({
      ends: link.ends.map((end, e) => ({ host: end.host, interface: link.ends[1 - e].host, addresses: end.addresses.map((a) => `${a.address}/${a.prefixLength}`) })),
      mtu: link.mtu ?? 1500,
      impairments,
    });
  }
  const hosts = plan.hosts.map((host) => ({
    name: host.name,
    role: host.role,
    addresses: host.interfaces.flatMap((i) => i.addresses.map((a) => `${a.address}/${a.prefixLength}`)),
    namespace: names[host.name],
    ...hostRules(topology, host.name),
  }));
  return { name: topology.name, ...(topology.description ? { description: topology.description } : {}), hosts, links };
}

/** A host's firewall rules and ICMP rate limit for the map (absent when it has none). */
function hostRules(topology: Topology, name: string): Pick<LabMap['hosts'][number], 'firewall' | 'icmpRateLimit'> {
  const firewall = (topology.firewall ?? []).filter((rule) => rule.host === name).map(({ host: _host, ...rule }) => rule);
  const icmpRateLimit = topology.hosts.find((host) => host.name === name)?.icmpRateLimit;
  return { ...(firewall.length > 0 ? { firewall } : {}), ...(icmpRateLimit ? { icmpRateLimit } : {}) };
}

/** The first address of each family on a host. */
export function hostAddresses(host: PlannedHost): Partial<Record<AddressFamily, string>> {
  const result: Partial<Record<AddressFamily, string>> = {};
  for (const address of host.interfaces.flatMap((i) => i.addresses)) result[address.family] ??= address.address;
  return result;
}

/** Bounded: one `ping -c1 -W1` per family per attempt until every family answers or the time is up. */
async function waitUntilReachable(plan: TopologyPlan, from: Namespace, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const source = hostAddresses(plan.hosts.find((h) => h.name === plan.readyFrom) as PlannedHost);
  const target = hostAddresses(plan.hosts.find((h) => h.name === plan.readyTo) as PlannedHost);
  const pending = new Set((['ipv4', 'ipv6'] as const).filter((family) => source[family] && target[family]));
  const last: Partial<Record<AddressFamily, string>> = {};
  for (let attempt = 0; attempt < 200 && pending.size > 0 && Date.now() < deadline; attempt++) {
    await Promise.all(
      [...pending].map(async (family) => {
        const result = await from.exec(['ping', family === 'ipv4' ? '-4' : '-6', '-n', '-c1', '-W1', target[family] as string], { check: false, timeoutMs: 3_000 });
        if (result.code === 0) pending.delete(family);
        else last[family] = (result.stdout + result.stderr).trim().split('\n').slice(-2).join(' | ');
      }),
    );
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (pending.size > 0) {
    const details = [...pending].map((f) => `${f} ${target[f]}: ${last[f] ?? 'no answer'}`).join('; ');
    throw new Error(`Lab ${plan.name} not ready: ${plan.readyFrom} did not reach ${plan.readyTo} within ${timeoutMs} ms (${details})`);
  }
}
