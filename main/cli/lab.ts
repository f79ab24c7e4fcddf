// packet-workbench lab list|up|status|exec|down: namespace labs for a class.
// `lab up NAME|FILE` builds a topology (main/lab), prints its map and returns: the
// lab stays until `lab down` (state files under /run/packet-workbench/labs/; a
// crash guard removes a half-built lab if `lab up` is killed). `lab up` without a
// topology keeps the old behaviour: client — routers — target held until Ctrl-C.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { createLab, labSupport, type Lab } from '../lab';
import { listNamespaces, lockLab, orphanNamespaces, readLabStates, removeStoredLab, deleteNamespaces, startCrashGuard, stateFile, writeLabState, isAlive, LAB_STATE_VERSION, type StoredLab } from '../lab/lab-state';
import { loadTopology, shippedTopologies } from '../lab/topologies';
import { TopologyError, type Topology } from '../lab/topology';
import { createTopologyLab } from '../lab/topology-lab';
import { describeImpairment } from '../lab/impairment';
import { isLinkEmulator, linkEmulatorMode, readEmulatorCounters, LINK_EMULATOR_ENV, type EmulatorCounters, type LinkEmulatorMode } from '../lab/emulator';
import { integerArg } from './args';
import { CliError, EXIT_NO_PERMISSION, EXIT_NO_RESULT, EXIT_OK, EXIT_USAGE } from './errors';
import { formatLabMap } from './lab-map';
import { onInterrupt, type Output } from './session';

/** Namespaces of the classic line lab are named pwcli-<pid of `lab up`>-<n><random>-<host>. */
const PREFIX = 'pwcli';

type Action = (out: Output) => Promise<number>;

/** Adds the lab commands to the program; `set` records the chosen command's action. */
export function registerLabCommands(program: Command, set: (name: string, action: Action) => void, named: (name: string) => void): Command {
  const lab = program.command('lab').description('network namespace labs for a class (Linux, root)');
  lab.hook('preSubcommand', (_thisCommand, sub) => named(`lab ${sub.name()}`));
  lab
    .command('list')
    .description('the shipped topologies')
    .option('--json', 'one JSON object per topology')
    .action(() => set('lab list', (out) => labList(out)));
  lab
    .command('up')
    .description('build a topology (a shipped name or a JSON file), print its map and leave it up until `lab down`; without one: client — routers — target held until Ctrl-C')
    .argument('[topology]', 'shipped topology (see `lab list`) or topology file')
    .option('--routers <n>', 'without a topology: routers between client and target (default 2)', integerArg)
    .option('--json', 'the map as one JSON object')
    .option('--link-emulator <when>', 'impaired links through the userspace link emulator: auto (where the kernel has no netem; default), always, never')
    .action((topology: string | undefined, options: Record<string, unknown>) => set('lab up', (out) => (topology === undefined ? labUpLine(options, out) : labUp(topology, options, out))));
  lab
    .command('status')
    .description('the labs that are up')
    .option('--json', 'one JSON object')
    .action(() => set('lab status', (out) => labStatus(out)));
  lab
    .command('exec')
    .description('run a command inside a lab host (its network namespace); the exit code is the command\'s')
    .argument('<host>', 'host name, e.g. client')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--lab <name>', 'which lab, when several are up')
    .action((host: string, argv: string[], options: { lab?: string }) => set('lab exec', () => labExec(host, argv, options.lab)));
  lab
    .command('down')
    .description('take a lab down (all labs without a name), with anything a crashed `lab up` left behind')
    .argument('[name]', 'the lab to take down')
    .option('--json', 'one JSON object')
    .action((name: string | undefined) => set('lab down', (out) => labDown(name, out)));
  return lab;
}

function requireSupport(): void {
  const support = labSupport();
  if (!support.supported) {
    const privileged = /root|CAP_SYS_ADMIN/.test(support.reason ?? '');
    throw new CliError(privileged ? EXIT_NO_PERMISSION : EXIT_NO_RESULT, `labs cannot be built here: ${support.reason}${privileged ? ' (run it with sudo)' : ''}`, privileged ? 'EPERM' : 'UNSUPPORTED');
  }
}

function cliName(): string {
  return process.argv[1]?.endsWith('cli.js') ? `${process.execPath} ${process.argv[1]}` : 'packet-workbench';
}

function topologyOrUsage(nameOrFile: string) {
  try {
    return loadTopology(nameOrFile);
  } catch (error) {
    if (error instanceof TopologyError) throw new CliError(EXIT_USAGE, error.message);
    throw error;
  }
}

export async function labList(out: Output): Promise<number> {
  const shipped = shippedTopologies();
  const width = Math.max(0, ...shipped.map((t) => t.name.length));
  for (const t of shipped) {
    out.text(`${t.name.padEnd(width)}  ${t.description}`);
    out.record({ name: t.name, description: t.description, file: t.file });
  }
  return EXIT_OK;
}

export async function labUp(nameOrFile: string, options: Record<string, unknown>, out: Output): Promise<number> {
  const topology = topologyOrUsage(nameOrFile);
  const linkEmulator = linkEmulatorOption(options.linkEmulator);
  requireSupport();
  let unlock: () => void;
  try {
    unlock = lockLab(topology.name);
  } catch (error) {
    throw new CliError(EXIT_USAGE, (error as Error).message, 'ALREADY_UP');
  }
  try {
    return await buildAndRecord(topology, nameOrFile, linkEmulator, out);
  } finally {
    unlock();
  }
}

function linkEmulatorOption(value: unknown): LinkEmulatorMode {
  try {
    return value === undefined ? linkEmulatorMode() : linkEmulatorMode({ [LINK_EMULATOR_ENV]: String(value) });
  } catch (error) {
    throw new CliError(EXIT_USAGE, value === undefined ? (error as Error).message : `--link-emulator: must be auto, always or never, not '${String(value)}'`);
  }
}

async function buildAndRecord(topology: Topology, nameOrFile: string, linkEmulator: LinkEmulatorMode, out: Output): Promise<number> {
  const stored = readLabStates();
  const existing = stored.find((s) => s.state?.name === topology.name || s.file === stateFile(topology.name));
  if (existing) {
    const present = new Set(listNamespaces());
    const namespaces = Object.values(existing.state?.namespaces ?? {});
    if (existing.state && namespaces.length > 0 && namespaces.every((n) => present.has(n))) {
      throw new CliError(EXIT_USAGE, `lab ${topology.name} is already up (since ${existing.state.createdAt}); \`lab down ${topology.name}\` first`, 'ALREADY_UP');
    }
    // A lab whose namespaces went away (a reboot, someone's `ip netns delete`): its state goes too.
    await removeStoredLab(existing);
  }
  await deleteNamespaces(orphanNamespaces(readLabStates()));

  let guard: ReturnType<typeof startCrashGuard> | undefined;
  // Emulators end with this process until keep(): their lifeline covers a crash midway.
  const lab = await createTopologyLab(topology, { linkEmulator, onNamespaces: (names) => (guard = startCrashGuard(names, topology.name)) }).catch((error: unknown) => {
    guard?.release();
    throw new CliError(EXIT_NO_RESULT, `lab ${topology.name} could not be built: ${(error as Error).message}`);
  });
  // Order matters for a crash in between: without the guard, a missing state file leaves orphans the next command sweeps.
  guard?.release();
  lab.keep();
  const emulators = lab.emulators.map(({ link, pid, statsFile }) => ({ link, pid, statsFile }));
  writeLabState({ version: LAB_STATE_VERSION, name: lab.name, id: lab.id, source: nameOrFile, createdAt: new Date().toISOString(), namespaces: lab.namespaces, map: lab.map, ...(emulators.length ? { emulators } : {}) });

  for (const line of formatLabMap(lab.map, cliName())) out.text(line);
  out.record({ ...lab.map });
  return EXIT_OK;
}

export async function labStatus(out: Output): Promise<number> {
  const stored = readLabStates();
  const present = new Set(listNamespaces());
  const labs = stored.map((s) => {
    if (!s.state) return { name: s.file, state: 'broken', reason: s.broken };
    const missing = Object.entries(s.state.namespaces).filter(([, ns]) => !present.has(ns)).map(([host]) => host);
    const emulators = (s.state.emulators ?? []).map((e) => ({ ...e, running: isLinkEmulator(e.pid), counters: readEmulatorCounters(e.statsFile) }));
    if (emulators.some((e) => !e.running)) missing.push(...emulators.filter((e) => !e.running).map((e) => `the emulator of ${e.link}`));
    return { name: s.state.name, state: missing.length === 0 ? 'up' : 'damaged', missingHosts: missing, since: s.state.createdAt, source: s.state.source, map: s.state.map, emulators };
  });
  const orphans = orphanNamespaces(stored, [...present]);
  const line = classicLabs([...present]);
  if (labs.length === 0 && line.length === 0) out.text('No lab is up (`packet-workbench lab up NAME` starts one; `lab list` names them).');
  for (const lab of labs) {
    if (lab.state === 'broken') {
      out.text(`${lab.name}: unreadable state file (${lab.reason}); \`lab down\` removes it`);
      continue;
    }
    out.text(`${lab.name}: ${lab.state === 'up' ? 'up' : `damaged (no namespace for ${lab.missingHosts?.join(', ')}; \`lab down ${lab.name}\`)`} since ${lab.since}`);
    for (const host of lab.map?.hosts ?? []) out.text(`  ${host.name.padEnd(8)} ${host.role.padEnd(7)} ${host.addresses.join('  ')}`);
    for (const impairment of (lab.map?.links ?? []).flatMap((l) => l.impairments)) {
      out.text(`  ${impairment.from} → ${impairment.to}  ${describeImpairment(impairment)}  ${impairment.how === 'unsupported' ? 'NOT APPLIED: ' : ''}${impairment.reason}`);
    }
    for (const emulator of lab.emulators ?? []) out.text(`  link emulator ${emulator.link}: ${emulator.running ? `pid ${emulator.pid}` : 'NOT RUNNING'}${emulator.counters ? `  ${emulatorSummary(emulator.link, emulator.counters)}` : ''}`);
  }
  for (const lab of line) out.text(`${lab.id}: ${lab.alive ? `line lab held by process ${lab.pid}` : 'line lab left behind (its process is gone; `lab down` removes it)'}`);
  if (orphans.length > 0) out.text(`Left behind by a crashed \`lab up\` (\`lab down\` removes them): ${orphans.join(', ')}`);
  out.record({ labs, lineLabs: line, orphans });
  return EXIT_OK;
}

/** "r1→r2 300 frames, 61 lost; r2→r1 239 frames, 0 lost" for link "r1—r2" */
function emulatorSummary(link: string, counters: EmulatorCounters): string {
  const [a, b] = link.split('—');
  const one = (d: EmulatorCounters['ab']) => `${d.received} frames, ${d.lost} lost${d.queueDrops ? `, ${d.queueDrops} over the queue` : ''}`;
  return `${a}→${b} ${one(counters.ab)}; ${b}→${a} ${one(counters.ba)}`;
}

export async function labExec(host: string, argv: string[], labName: string | undefined): Promise<number> {
  requireSupport();
  const states = readLabStates().flatMap((s) => (s.state ? [s.state] : []));
  const candidates = labName === undefined ? states : states.filter((s) => s.name === labName);
  if (candidates.length === 0) throw new CliError(EXIT_USAGE, labName ? `no lab named ${labName} is up (up: ${states.map((s) => s.name).join(', ') || 'none'})` : 'no lab is up (`lab up NAME` first)');
  if (candidates.length > 1) throw new CliError(EXIT_USAGE, `several labs are up (${candidates.map((s) => s.name).join(', ')}): say which with --lab NAME`);
  const lab = candidates[0];
  const namespace = lab.namespaces[host];
  if (!namespace) throw new CliError(EXIT_USAGE, `lab ${lab.name} has no host '${host}' (hosts: ${Object.keys(lab.namespaces).join(', ')})`);
  const child = spawn('ip', ['netns', 'exec', namespace, ...argv], { stdio: 'inherit' });
  // Ctrl-C reaches the command (same process group); exec waits for it and passes its status on.
  const removeInterrupt = onInterrupt(() => undefined);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (error) => reject(new CliError(EXIT_NO_RESULT, `could not run ip netns exec: ${error.message}`)));
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
    });
  } finally {
    removeInterrupt();
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
  return numbers[signal] ?? 0;
}

export async function labDown(name: string | undefined, out: Output): Promise<number> {
  requireSupport();
  const stored = readLabStates();
  const chosen = name === undefined ? stored : stored.filter((s: StoredLab) => s.state?.name === name);
  if (name !== undefined && chosen.length === 0 && !classicLabs(listNamespaces()).some((l) => l.id === name)) {
    throw new CliError(EXIT_USAGE, `no lab named ${name} is up (up: ${stored.flatMap((s) => (s.state ? [s.state.name] : [])).join(', ') || 'none'})`);
  }
  const down: string[] = [];
  for (const lab of chosen) {
    await removeStoredLab(lab);
    down.push(lab.state?.name ?? lab.file);
    out.text(`${lab.state?.name ?? lab.file} is down`);
  }
  // What a crashed `lab up` left behind goes with any `lab down`.
  const orphans = orphanNamespaces(readLabStates());
  await deleteNamespaces(orphans);
  if (orphans.length > 0) out.text(`Removed ${orphans.length} namespace${orphans.length > 1 ? 's' : ''} a crashed \`lab up\` left behind`);
  if (name === undefined || !chosen.length) down.push(...(await downClassicLabs(name, out)));
  if (down.length === 0 && orphans.length === 0) out.text('No lab was up.');
  out.record({ down, orphans });
  return EXIT_OK;
}

// ---- the classic line lab (no topology): held by its `lab up` process until Ctrl-C ----

function describe(lab: Lab): Record<string, unknown> {
  return {
    id: lab.id,
    hosts: Object.values(lab.hosts).map((host) => ({ name: host.name, role: host.role, namespace: host.namespace, ipv4: host.addresses.ipv4, ipv6: host.addresses.ipv6 })),
    expectedHops: lab.expectedHops,
  };
}

export async function labUpLine(options: { routers?: number }, out: Output): Promise<number> {
  const routers = options.routers ?? 2;
  if (!Number.isInteger(routers) || routers < 0 || routers > 64) throw new CliError(EXIT_USAGE, `--routers: must be a whole number from 0 to 64, not ${routers}`);
  requireSupport();
  const lab = await createLab({
    routers,
    prefix: PREFIX,
    hostSysctls: {
      // Every probe answered (port unreachable is rate limited by default), and anyone may ping from the client.
      target: { 'net.ipv4.icmp_ratelimit': 0, 'net.ipv6.icmp.ratelimit': 0 },
      client: { 'net.ipv4.ping_group_range': '0 2147483647' },
    },
  });
  try {
    const cli = cliName();
    out.text(`Lab ${lab.id} is up: client — ${lab.routers.map((r) => r.name).join(' — ')}${lab.routers.length ? ' — ' : ''}target`);
    out.text('');
    for (const host of Object.values(lab.hosts)) {
      out.text(`  ${host.name.padEnd(8)} ${host.addresses.ipv4.join(', ').padEnd(26)} ${host.addresses.ipv6.join(', ')}`);
      out.text(`  ${''.padEnd(8)} namespace ${host.namespace}`);
    }
    const target = lab.target.addresses;
    out.text('');
    out.text('Run commands on the client (as root; add `setpriv --reuid=nobody --regid=nogroup --clear-groups` to try without privileges):');
    out.text(`  ip netns exec ${lab.client.namespace} ${cli} traceroute --icmp ${target.ipv4[0]}`);
    out.text(`  ip netns exec ${lab.client.namespace} ${cli} traceroute --tcp -6 ${target.ipv6[0]}`);
    out.text(`  ip netns exec ${lab.client.namespace} ${cli} ping -c 3 ${target.ipv4[0]}`);
    out.text(`  ip netns exec ${lab.client.namespace} ${cli} serve     # then open the URL from a browser in the same namespace`);
    out.text('');
    out.text('Ctrl+C (or `packet-workbench lab down`) takes the lab down. `lab up NAME` builds a topology that stays up by itself.');
    out.record({ type: 'lab', state: 'up', ...describe(lab) });
    await new Promise<void>((resolve) => {
      // Nothing else keeps the event loop alive while the lab waits.
      const keepAlive = setInterval(() => undefined, 1 << 30);
      const remove = onInterrupt(() => {
        clearInterval(keepAlive);
        remove();
        resolve();
      });
    });
  } finally {
    await lab.destroy();
  }
  out.text(`Lab ${lab.id} is down.`);
  out.record({ type: 'lab', state: 'down', id: lab.id });
  return EXIT_OK;
}

interface ClassicLab {
  id: string;
  pid: number;
  alive: boolean;
  namespaces: string[];
}

function classicLabs(namespaces: string[]): ClassicLab[] {
  const labs = new Map<string, ClassicLab>();
  for (const name of namespaces) {
    const match = /^(pwcli-(\d+)-[0-9a-f]+)-[a-z0-9]+$/.exec(name);
    if (!match) continue;
    const [, id, pid] = match;
    let lab = labs.get(id);
    if (!lab) {
      lab = { id, pid: Number(pid), alive: isAlive(Number(pid)), namespaces: [] };
      labs.set(id, lab);
    }
    lab.namespaces.push(name);
  }
  return [...labs.values()];
}

async function downClassicLabs(id: string | undefined, out: Output): Promise<string[]> {
  const labs = classicLabs(listNamespaces()).filter((lab) => id === undefined || lab.id === id);
  for (const lab of labs) {
    if (lab.alive) {
      // The `lab up` process removes its namespaces on SIGTERM.
      process.kill(lab.pid, 'SIGTERM');
      for (let i = 0; i < 50 && isAlive(lab.pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await deleteNamespaces(lab.namespaces);
    out.text(`${lab.id} is down`);
  }
  return labs.map((lab) => lab.id);
}
