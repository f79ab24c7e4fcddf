// packet-workbench capabilities: what works at this privilege level, per experiment, and how to get more.
// packet-workbench setup-helper: (as root) installs the socket helper with cap_net_raw, once per machine.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Capabilities } from '../../common/contract';
import { checkoutHelper, HELPER_NAME, SETUP_HELPER_DIR, which } from '../engine/helper';
import { checkInputPath } from './args';
import { CliError, EXIT_NO_PERMISSION, EXIT_OK, EXIT_USAGE } from './errors';
import { EngineSession, type Output } from './session';

const VIA_WORDS = {
  raw: 'raw socket',
  helper: 'socket helper',
  datagram: 'ping socket',
  'error-queue': 'error queue',
} as const;

/** The capabilities table as lines: one per experiment, its remedy indented below when there is one. */
export function capabilityLines(capabilities: Capabilities): string[] {
  const width = Math.max(...capabilities.experiments.map((row) => row.label.length));
  const lines = [`${'Experiment'.padEnd(width)}  Works  How`];
  for (const row of capabilities.experiments) {
    lines.push(`${row.label.padEnd(width)}  ${(row.works ? 'yes' : 'no').padEnd(5)}  ${row.via ? VIA_WORDS[row.via] : '-'}`);
    if (row.remedy) lines.push(`${' '.repeat(width + 2)}${row.remedy}`);
  }
  const helper = capabilities.helper;
  const launchers = Object.entries(helper.launchers)
    .filter(([, available]) => available)
    .map(([name]) => name);
  lines.push('');
  lines.push(
    `Socket helper: ${helper.state}${helper.via ? ` (${helper.via})` : ''}${helper.path ? `, ${helper.path}` : ', not found'}; ` +
      `ways to start it here: ${launchers.length > 0 ? launchers.join(', ') : 'none'}`,
  );
  if (helper.reason) lines.push(`  ${helper.reason}`);
  lines.push(`Raw sockets in this process: ${capabilities.raw ? 'yes' : 'no'} (uid ${capabilities.uid ?? '?'}); ping_group_range: ${capabilities.pingGroupRange ? capabilities.pingGroupRange.join(' ') : 'n/a'}`);
  return lines;
}

export async function capabilities(out: Output): Promise<number> {
  const session = new EngineSession({ logCapacity: 100 });
  try {
    const result = await session.call('capabilities', {});
    for (const line of capabilityLines(result)) out.text(line);
    out.record({ type: 'capabilities', ...result });
    return EXIT_OK;
  } finally {
    await session.close();
  }
}

export interface SetupHelperOptions {
  dest?: string;
  source?: string;
  remove?: boolean;
}

function run(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new CliError(1, `\`${argv.join(' ')}\` failed: ${(stderr || error.message).trim()}`));
      else resolve(stdout);
    });
  });
}

/** Shell-quoted, for printing the exact command. */
function shellLine(argv: string[]): string {
  return argv.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`)).join(' ');
}

/**
 * Installs the helper root-owned, mode 0755, in a folder every user can reach, and gives it
 * cap_net_raw+ep (the only capability it ever uses there). Prints every command it runs.
 */
export async function setupHelper(options: SetupHelperOptions, out: Output): Promise<number> {
  if (process.platform !== 'linux') throw new CliError(EXIT_USAGE, `setup-helper installs a Linux file capability; this is ${process.platform}`);
  // The paths first: a usage error is worth knowing before being told to become root.
  if (options.dest !== undefined && existsSync(options.dest)) checkInputPath('--dest', options.dest, 'folder');
  const source = options.remove ? null : options.source !== undefined ? checkInputPath('--source', options.source, 'file') : path.resolve(checkoutHelper());
  if (source && !existsSync(source)) throw new CliError(EXIT_USAGE, `No helper at ${source}: build it with \`npm run build:native\`, or give --source`);
  if (typeof process.geteuid === 'function' && process.geteuid() !== 0) {
    throw new CliError(EXIT_NO_PERMISSION, 'setup-helper gives the helper a file capability, which only root may do: run `sudo packet-workbench setup-helper`', 'EPERM');
  }
  const dest = path.resolve(options.dest ?? SETUP_HELPER_DIR);
  const target = path.join(dest, HELPER_NAME);
  const setcap = which('setcap');
  if (!setcap) throw new CliError(1, 'setcap is not installed: `apt-get install libcap2-bin` (Debian/Ubuntu) or `dnf install libcap` (Fedora)', 'ENOENT');
  const commands: string[][] = [];
  if (options.remove) {
    if (existsSync(target)) commands.push([setcap, '-r', target], ['rm', '-f', target]);
  } else {
    commands.push(['install', '-d', '-m', '0755', '-o', 'root', '-g', 'root', dest]);
    commands.push(['install', '-m', '0755', '-o', 'root', '-g', 'root', source!, target]);
    commands.push([setcap, 'cap_net_raw+ep', target]);
  }
  for (const argv of commands) {
    out.text(`# ${shellLine(argv)}`);
    await run(argv);
  }
  if (options.remove) {
    out.text(commands.length > 0 ? `Removed ${target}` : `Nothing to remove at ${target}`);
    out.record({ type: 'setup-helper', removed: commands.length > 0, path: target, commands });
    return EXIT_OK;
  }
  const getcap = which('getcap');
  const verified = getcap ? (await run([getcap, target])).includes('cap_net_raw') : null;
  if (verified === false) throw new CliError(1, `${target} does not show cap_net_raw after setcap: does this filesystem support file capabilities?`);
  out.text(`Installed ${target} with cap_net_raw+ep: every user's workbench now gets raw sockets through it without a password.`);
  out.record({ type: 'setup-helper', path: target, capability: 'cap_net_raw+ep', verified, commands });
  return EXIT_OK;
}
