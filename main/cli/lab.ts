// packet-workbench lab up|down|status: a namespace lab (main/lab) for a class:
// client — router1 — … — target, with the commands to run inside it. `lab up`
// holds the lab until Ctrl-C (the namespaces go when that process ends);
// `status` lists running labs; `down` ends them.
import { execFileSync } from 'node:child_process';
import { createLab, labSupport, type Lab } from '../lab';
import { CliError, EXIT_NO_PERMISSION, EXIT_NO_RESULT, EXIT_OK, EXIT_USAGE } from './errors';
import { onInterrupt, type Output } from './session';

/** Namespaces of CLI labs are named pwcli-<pid of `lab up`>-<n><random>-<host>. */
const PREFIX = 'pwcli';

export interface LabUpOptions {
  routers?: number;
}

function requireSupport(): void {
  const support = labSupport();
  if (!support.supported) {
    const privileged = /root|CAP_SYS_ADMIN/.test(support.reason ?? '');
    throw new CliError(privileged ? EXIT_NO_PERMISSION : EXIT_NO_RESULT, `labs cannot be built here: ${support.reason}${privileged ? ' (run it with sudo)' : ''}`, privileged ? 'EPERM' : 'UNSUPPORTED');
  }
}

function describe(lab: Lab): Record<string, unknown> {
  return {
    id: lab.id,
    hosts: Object.values(lab.hosts).map((host) => ({ name: host.name, role: host.role, namespace: host.namespace, ipv4: host.addresses.ipv4, ipv6: host.addresses.ipv6 })),
    expectedHops: lab.expectedHops,
  };
}

export async function labUp(options: LabUpOptions, out: Output): Promise<number> {
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
    const cli = `${process.execPath} ${process.argv[1]}`;
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
    out.text('Ctrl+C (or `packet-workbench lab down`) takes the lab down.');
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

interface RunningLab {
  id: string;
  pid: number;
  alive: boolean;
  namespaces: string[];
}

function runningLabs(): RunningLab[] {
  let listing: string;
  try {
    listing = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new CliError(EXIT_NO_RESULT, `\`ip netns list\` failed: ${(error as Error).message}`);
  }
  const labs = new Map<string, RunningLab>();
  for (const line of listing.split('\n')) {
    const name = line.trim().split(/\s+/)[0];
    const match = /^(pwcli-(\d+)-[0-9a-f]+)-[a-z0-9]+$/.exec(name ?? '');
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

export async function labStatus(out: Output): Promise<number> {
  const labs = runningLabs();
  if (labs.length === 0) out.text('No lab is up (`packet-workbench lab up` starts one).');
  for (const lab of labs) {
    out.text(`${lab.id}: ${lab.alive ? `held by process ${lab.pid}` : 'left behind (its process is gone; `lab down` removes it)'}`);
    for (const namespace of lab.namespaces) out.text(`  ${namespace}`);
  }
  out.record({ type: 'labs', labs });
  return EXIT_OK;
}

export async function labDown(out: Output): Promise<number> {
  requireSupport();
  const labs = runningLabs();
  for (const lab of labs) {
    if (lab.alive) {
      // The `lab up` process removes its namespaces on SIGTERM.
      process.kill(lab.pid, 'SIGTERM');
      for (let i = 0; i < 50 && isAlive(lab.pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const namespace of lab.namespaces) {
      try {
        execFileSync('ip', ['netns', 'delete', namespace], { stdio: 'ignore', timeout: 10_000 });
      } catch {
        // removed by its process already
      }
    }
    out.text(`${lab.id} is down`);
  }
  if (labs.length === 0) out.text('No lab was up.');
  out.record({ type: 'labs', down: labs.map((lab) => lab.id) });
  return EXIT_OK;
}
