// Network namespace labs: a linear topology client — router1 — … — target built
// from Linux network namespaces and veth pairs, for tests and for teachers' labs.
// Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2. Every command runs
// through execFile with an argument vector: nothing is ever parsed by a shell.
import type { ChildProcess } from 'node:child_process';
import { run, sysctlArguments, type CommandResult, type NamespaceExecOptions, type NamespaceSpawnOptions, type RunOptions, type Sysctls } from './command';
import { namespaceLookup, openNamespace, uniqueId, type Namespace } from './namespace';
import { planLab, type LabFamily, type LabHostPlan, type LabPlan, type LabRole } from './plan';

export { LabCommandError, NOBODY, runAsPrefix } from './command';
export type { CommandResult, NamespaceExecOptions, NamespaceSpawnOptions, RunAs, RunOptions, Sysctls } from './command';
export { createNamespace, isLabSupported, labSupport } from './namespace';
export type { LabSupport, Namespace, NamespaceOptions } from './namespace';

// ---- the lab --------------------------------------------------------------------------------

export interface LabHost {
  name: string;
  role: LabRole;
  namespace: string;
  /** Per family, in interface order (toward the client first). */
  addresses: Record<LabFamily, string[]>;
  interfaces: LabHostPlan['interfaces'];
}

export interface LabOptions {
  /** Routers between client and target: 0-64, default 2. */
  routers?: number;
  /** Namespace name prefix, default 'pwlab'. */
  prefix?: string;
  /** Extra sysctls for every namespace, e.g. { 'net.ipv4.ping_group_range': '0 2147483647' }. */
  sysctls?: Sysctls;
  /** Extra sysctls per host name ('client', 'router1', 'target', …). */
  hostSysctls?: Readonly<Record<string, Sysctls>>;
  /** Wait until the client reaches the target over both families (ms); 0 skips the check; default 10 000. */
  readyTimeoutMs?: number;
}

export interface Lab {
  /** Unique per lab: `${prefix}-${pid}-${n}…`; every namespace name starts with it. */
  id: string;
  plan: LabPlan;
  hosts: Record<string, LabHost>;
  client: LabHost;
  routers: LabHost[];
  target: LabHost;
  /** Namespace names, client first. */
  namespaces: string[];
  expectedHops: Record<LabFamily, string[]>;
  exec(host: string, argv: readonly string[], options?: NamespaceExecOptions): Promise<CommandResult>;
  spawn(host: string, argv: readonly string[], options?: NamespaceSpawnOptions): ChildProcess;
  /** Kills the lab's children and deletes its namespaces (their veths go with them); idempotent. */
  destroy(): Promise<void>;
}

export const BASE_SYSCTLS: Sysctls = {
  // No duplicate address detection: addresses are usable at once.
  'net.ipv6.conf.all.accept_dad': 0,
  'net.ipv6.conf.default.accept_dad': 0,
  'net.ipv6.conf.all.disable_ipv6': 0,
  'net.ipv6.conf.default.disable_ipv6': 0,
};

const ROUTER_SYSCTLS: Sysctls = {
  'net.ipv4.ip_forward': 1,
  'net.ipv6.conf.all.forwarding': 1,
  // Every expired probe gets its Time Exceeded.
  'net.ipv4.icmp_ratelimit': 0,
  'net.ipv6.icmp.ratelimit': 0,
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Builds client — router1 — … — target and waits until the client reaches the target. */
export async function createLab(options: LabOptions = {}): Promise<Lab> {
  const plan = planLab({ routers: options.routers });
  const id = uniqueId(options.prefix ?? 'pwlab');
  sysctlArguments(options.sysctls ?? {});
  for (const [host, sysctls] of Object.entries(options.hostSysctls ?? {})) {
    if (!plan.hosts.some((h) => h.name === host)) throw new RangeError(`hostSysctls names an unknown host '${host}'`);
    sysctlArguments(sysctls);
  }
  const readyTimeout = options.readyTimeoutMs ?? 10_000;

  const namespaces = new Map<string, Namespace>();
  const destroy = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const namespace of namespaces.values()) {
      try {
        await namespace.destroy();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `Could not remove every namespace of lab ${id}`);
  };

  try {
    for (const host of plan.hosts) {
      const namespace = await openNamespace(`${id}-${host.name}`, {
        sysctls: {
          ...BASE_SYSCTLS,
          ...(host.forwarding ? ROUTER_SYSCTLS : {}),
          ...options.sysctls,
          ...options.hostSysctls?.[host.name],
        },
      });
      namespaces.set(host.name, namespace);
    }
    await wire(plan, namespaces);
    if (readyTimeout > 0) await waitUntilReachable(plan, namespaces.get('client') as Namespace, readyTimeout);
  } catch (error) {
    await destroy().catch(() => undefined);
    throw error;
  }

  const hosts: Record<string, LabHost> = {};
  for (const host of plan.hosts) {
    hosts[host.name] = {
      name: host.name,
      role: host.role,
      namespace: (namespaces.get(host.name) as Namespace).name,
      addresses: { ipv4: [...host.addresses.ipv4], ipv6: [...host.addresses.ipv6] },
      interfaces: host.interfaces.map((i) => ({ ...i })),
    };
  }
  const namespaceOf = namespaceLookup(namespaces);
  return {
    id,
    plan,
    hosts,
    client: hosts.client,
    routers: plan.hosts.filter((h) => h.role === 'router').map((h) => hosts[h.name]),
    target: hosts.target,
    namespaces: plan.hosts.map((h) => hosts[h.name].namespace),
    expectedHops: { ipv4: [...plan.expectedHops.ipv4], ipv6: [...plan.expectedHops.ipv6] },
    exec: async (host, argv, execOptions) => namespaceOf(host).exec(argv, execOptions),
    spawn: (host, argv, spawnOptions) => namespaceOf(host).spawn(argv, spawnOptions),
    destroy,
  };
}

/** veth pairs created directly inside their namespaces (never in the caller's), addresses, routes. */
async function wire(plan: LabPlan, namespaces: Map<string, Namespace>): Promise<void> {
  const ns = (host: string): string => (namespaces.get(host) as Namespace).name;
  const options: RunOptions = { timeoutMs: 10_000 };
  for (const link of plan.links) {
    // Each end is named after the host at the other end.
    await run('ip', ['link', 'add', link.right, 'netns', ns(link.left), 'type', 'veth', 'peer', 'name', link.left, 'netns', ns(link.right)], options);
  }
  for (const host of plan.hosts) {
    const name = ns(host.name);
    for (const iface of host.interfaces) {
      await run('ip', ['-n', name, 'address', 'add', `${iface.ipv4}/24`, 'dev', iface.name], options);
      await run('ip', ['-n', name, '-6', 'address', 'add', `${iface.ipv6}/64`, 'dev', iface.name, 'nodad'], options);
      await run('ip', ['-n', name, 'link', 'set', iface.name, 'up'], options);
    }
  }
  for (const host of plan.hosts) {
    const name = ns(host.name);
    for (const route of host.routes) {
      await run('ip', ['-n', name, route.family === 'ipv4' ? '-4' : '-6', 'route', 'add', route.destination, 'via', route.via], options);
    }
  }
}

/** Bounded: one `ping -c1 -W1` per family per attempt until both answer or the time is up. */
async function waitUntilReachable(plan: LabPlan, client: Namespace, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const target = plan.hosts[plan.hosts.length - 1];
  const pending = new Set<LabFamily>(['ipv4', 'ipv6']);
  const last: Partial<Record<LabFamily, string>> = {};
  for (let attempt = 0; attempt < 100 && pending.size > 0; attempt++) {
    for (const family of [...pending]) {
      const address = target.addresses[family][0];
      const result = await client.exec(['ping', family === 'ipv4' ? '-4' : '-6', '-n', '-c1', '-W1', address], {
        check: false,
        timeoutMs: 3_000,
      });
      if (result.code === 0) pending.delete(family);
      else last[family] = (result.stdout + result.stderr).trim().split('\n').slice(-2).join(' | ');
    }
    if (pending.size === 0 || Date.now() >= deadline) break;
    await sleep(100);
  }
  if (pending.size > 0) {
    const details = [...pending].map((f) => `${f} ${target.addresses[f][0]}: ${last[f] ?? 'no answer'}`).join('; ');
    throw new Error(`Lab not ready: the client did not reach the target within ${timeoutMs} ms (${details})`);
  }
}
