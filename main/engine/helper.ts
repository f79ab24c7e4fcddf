// The socket helper from the engine's side: where the helper program is, how to start
// it (installed with its file capability, or elevated on demand through pkexec or
// sudo), its state for the GUI, and raw sockets opened through it. The helper itself
// (native/helper) only opens sockets and passes their descriptors; it never sees a packet.
import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';
import {
  SocketHelperClient,
  type HelperOpenRequest,
  type Socket,
  type SocketOptions,
} from '@packet-workbench/raw-socket';
import type { HelperStatus } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';

export const HELPER_NAME = 'packet-workbench-helper';
/** Where `packet-workbench setup-helper` installs it (readable by every user, owned by root). */
export const SETUP_HELPER_DIR = '/usr/local/libexec/packet-workbench';
/** Where the deb puts it (electron-builder's /opt/<productName>, extraResources helper/). */
export const DEB_HELPER = `/opt/Packet Workbench/resources/helper/${HELPER_NAME}`;
/** The polkit action the package ships (build-resources/polkit). */
export const POLKIT_ACTION = 'org.packetworkbench.helper';

export type LaunchVia = 'capability' | 'pkexec' | 'sudo';

export interface HelperLaunch {
  via: LaunchVia;
  argv: string[];
}

export interface HelperEnvironment {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** Electron's process.resourcesPath in a packaged app. */
  resourcesPath?: string;
  /** Finds an executable on PATH (injectable for tests of other platforms). */
  which?: (name: string) => string | null;
}

/** This process's environment; in a packaged Electron app, process.resourcesPath finds the helper shipped beside app.asar. */
export function defaultHelperEnvironment(): HelperEnvironment {
  return { platform: process.platform, env: process.env, resourcesPath: (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath };
}

/** An executable on PATH (plus the sbin folders a normal user's PATH may lack), or null. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const folders = [...(env.PATH ?? '').split(path.delimiter), '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  for (const folder of folders) {
    if (!folder) continue;
    const file = path.join(folder, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The helper programs to consider, most trusted first: PACKET_WORKBENCH_HELPER, the
 * setup-helper location, the packaged app's own copy, the deb's, then the checkout's build.
 * Only existing files are returned.
 */
export function helperCandidates(environment: HelperEnvironment): string[] {
  const list: string[] = [];
  const fromEnv = environment.env.PACKET_WORKBENCH_HELPER;
  if (fromEnv) list.push(path.resolve(fromEnv));
  list.push(path.join(SETUP_HELPER_DIR, HELPER_NAME));
  if (environment.resourcesPath) list.push(path.join(environment.resourcesPath, 'helper', HELPER_NAME));
  list.push(DEB_HELPER);
  list.push(checkoutHelper());
  return [...new Set(list)].filter((file) => {
    try {
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/** The helper node-gyp builds in a source checkout. */
export function checkoutHelper(): string {
  const nativeDir = path.dirname(require.resolve('@packet-workbench/raw-socket/package.json'));
  return path.join(nativeDir, 'build', 'Release', HELPER_NAME);
}

/**
 * The ways to start `helper` on this platform, in the order to try them. Installed: the helper
 * itself (it works only when it carries cap_net_raw+ep, and says so at once otherwise).
 * Elevated: pkexec (the polkit action's prompt), then sudo: `-A` with an askpass program
 * (SUDO_ASKPASS), else `-n` (a NOPASSWD rule or cached credentials; never a terminal prompt
 * the GUI cannot answer). macOS and Windows: see README "Privileges" (not built yet).
 */
export function launchCommands(helper: string, options: { namespaces: boolean; how: 'auto' | 'installed' | 'elevated' }, environment: HelperEnvironment): HelperLaunch[] {
  if (environment.platform !== 'linux') return [];
  const find = environment.which ?? ((name: string) => which(name, environment.env));
  const launches: HelperLaunch[] = [];
  const elevatedArgs = ['--elevated', ...(options.namespaces ? ['--namespaces'] : [])];
  if (options.how !== 'elevated' && !options.namespaces) launches.push({ via: 'capability', argv: [helper] });
  if (options.how === 'installed') return launches;
  const pkexec = find('pkexec');
  if (pkexec) launches.push({ via: 'pkexec', argv: [pkexec, helper, ...elevatedArgs] });
  const sudo = find('sudo');
  if (sudo) launches.push({ via: 'sudo', argv: [sudo, environment.env.SUDO_ASKPASS ? '-A' : '-n', '--', helper, ...elevatedArgs] });
  return launches;
}

/** Why the helper cannot run on this platform, or null on Linux. */
export function unsupportedPlatformReason(platform: NodeJS.Platform): string | null {
  if (platform === 'linux') return null;
  return `The socket helper is built for Linux; on ${platform} run the workbench's command line as an administrator for raw sockets (see README "Privileges").`;
}

type StatusListener = (status: HelperStatus) => void;

/**
 * One helper process at a time. start() tries each launch in order until one runs; a launch
 * refused by the user (pkexec dismissed, wrong password) ends the attempt as 'refused' without
 * asking again through the next launcher; a launcher that cannot work here (no polkit agent, sudo
 * needs a password it cannot ask for) moves on to the next.
 */
export class HelperSupervisor {
  private client: SocketHelperClient | null = null;
  private starting: Promise<HelperStatus> | null = null;
  private stopping = false;
  private current: HelperStatus;
  private readonly listeners = new Set<StatusListener>();

  constructor(private readonly environment: HelperEnvironment = defaultHelperEnvironment()) {
    this.current = this.idleStatus('not-started', null);
  }

  status(): HelperStatus {
    // Launchers and candidates can change while nothing runs (setup-helper in another terminal).
    if (this.current.state !== 'running' && this.current.state !== 'asking') {
      this.current = { ...this.current, launchers: this.launchers(), path: this.current.path ?? this.helperPath() };
    }
    return structuredClone(this.current);
  }

  get running(): boolean {
    return this.current.state === 'running' && this.client !== null;
  }

  /** Called with the new status whenever it changes; returns the unsubscribe function. */
  onChange(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The helper with its capability, if one is installed; never asks for a password. */
  async startInstalled(): Promise<boolean> {
    if (this.running) return true;
    if (!this.launchers().installed) return false;
    const status = await this.start({ how: 'installed', namespaces: false });
    return status.state === 'running';
  }

  start(options: { how: 'auto' | 'installed' | 'elevated'; namespaces: boolean }): Promise<HelperStatus> {
    if (this.running && (!options.namespaces || this.current.capabilities.includes('sys_admin'))) return Promise.resolve(this.status());
    if (this.starting) return this.starting;
    this.starting = this.launch(options).finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  async stop(): Promise<HelperStatus> {
    const client = this.client;
    if (!client) return this.status();
    this.stopping = true;
    // The status changes in the 'exit' listener (adopt), which may run after stop() resolves.
    const exited = new Promise<void>((resolve) => client.once('exit', () => resolve()));
    try {
      await Promise.all([client.stop(), exited]);
    } finally {
      this.stopping = false;
    }
    return this.status();
  }

  /** A raw socket opened by the running helper and adopted as an ordinary Socket. */
  async openSocket(request: HelperOpenRequest, options: SocketOptions): Promise<Socket> {
    const client = this.client;
    if (!client || !this.running) throw new WorkbenchError('EPERM', 'The socket helper is not running');
    try {
      return await client.openSocket(request, options);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new WorkbenchError(typeof code === 'string' ? code : 'EHELPER', `The socket helper could not open a ${request.family} ${request.protocol} socket: ${(error as Error).message}`);
    }
  }

  private helperPath(): string | null {
    return helperCandidates(this.environment)[0] ?? null;
  }

  /** An installed helper is one outside the checkout; whether it really holds its capability shows when it starts. */
  private launchers(): HelperStatus['launchers'] {
    const find = this.environment.which ?? ((name: string) => which(name, this.environment.env));
    const helpers = helperCandidates(this.environment);
    const checkout = (() => {
      try {
        return checkoutHelper();
      } catch {
        return '';
      }
    })();
    return {
      installed: this.environment.platform === 'linux' && helpers.some((file) => file !== checkout),
      pkexec: this.environment.platform === 'linux' && find('pkexec') !== null,
      sudo: this.environment.platform === 'linux' && find('sudo') !== null,
    };
  }

  private idleStatus(state: HelperStatus['state'], reason: string | null): HelperStatus {
    return {
      state,
      via: null,
      path: this.helperPath(),
      pid: null,
      capabilities: [],
      reason,
      command: null,
      launchers: this.launchers(),
    };
  }

  private update(patch: Partial<HelperStatus>): void {
    this.current = { ...this.current, ...patch };
    const status = structuredClone(this.current);
    for (const listener of this.listeners) listener(status);
  }

  private async launch(options: { how: 'auto' | 'installed' | 'elevated'; namespaces: boolean }): Promise<HelperStatus> {
    const unsupported = unsupportedPlatformReason(this.environment.platform);
    if (unsupported) {
      this.update({ ...this.idleStatus('failed', unsupported) });
      return this.status();
    }
    if (this.running) await this.stop(); // restarting with namespaces
    const candidates = helperCandidates(this.environment);
    if (candidates.length === 0) {
      this.update({ ...this.idleStatus('failed', `No ${HELPER_NAME} found: build it with \`npm run build:native\`, or install the package`) });
      return this.status();
    }
    const checkout = (() => {
      try {
        return checkoutHelper();
      } catch {
        return '';
      }
    })();
    const attempts: HelperLaunch[] = [];
    if (options.how !== 'elevated' && !options.namespaces) {
      for (const file of candidates) if (file !== checkout) attempts.push({ via: 'capability', argv: [file] });
    }
    if (options.how !== 'installed') {
      // Elevated: the most trusted helper found (an installed one matches the polkit action's path).
      attempts.push(...launchCommands(candidates[0], { ...options, how: 'elevated' }, this.environment));
    }
    if (attempts.length === 0) {
      const reason =
        options.how === 'installed'
          ? `No installed helper: run \`sudo packet-workbench setup-helper\` once (it gives ${HELPER_NAME} cap_net_raw), or start it elevated`
          : 'Neither pkexec nor sudo is installed: install one, or run `sudo packet-workbench setup-helper` once';
      this.update({ ...this.idleStatus(options.how === 'installed' ? 'not-started' : 'failed', reason) });
      return this.status();
    }
    const failures: string[] = [];
    for (const attempt of attempts) {
      const asks = attempt.via !== 'capability';
      this.update({
        state: asks ? 'asking' : this.current.state,
        via: attempt.via,
        path: attempt.via === 'capability' ? attempt.argv[0] : candidates[0],
        command: attempt.argv,
        reason: asks ? `Waiting for ${attempt.via} to authorise the helper` : null,
      });
      let client: SocketHelperClient;
      try {
        client = await SocketHelperClient.start(attempt.argv, { timeoutMs: asks ? 120_000 : 10_000 });
      } catch (error) {
        const message = (error as Error).message;
        failures.push(`${attempt.via}: ${message}`);
        if (asks && refusedByUser(attempt.via, error)) {
          this.update({ ...this.idleStatus('refused', `${attempt.via} did not authorise the helper: ${message}`), via: attempt.via, command: attempt.argv });
          return this.status();
        }
        continue;
      }
      this.adopt(client, attempt);
      return this.status();
    }
    const reason = `The socket helper could not be started. ${failures.join(' ')}`;
    this.update({ ...this.idleStatus('failed', reason), command: attempts[attempts.length - 1].argv });
    return this.status();
  }

  private adopt(client: SocketHelperClient, attempt: HelperLaunch): void {
    this.client = client;
    client.once('exit', (info: { code: number | null; signal: string | null; reason: string }) => {
      if (this.client !== client) return;
      this.client = null;
      const stopped = this.stopping;
      this.update({
        state: stopped ? 'stopped' : 'failed',
        pid: null,
        capabilities: [],
        reason: stopped ? null : `The socket helper exited: ${info.reason}`,
      });
    });
    this.update({
      state: 'running',
      via: attempt.via,
      pid: client.hello.pid,
      capabilities: [...client.hello.capabilities],
      reason: null,
      command: attempt.argv,
    });
  }
}

/** pkexec: 126 the dialog was dismissed, 127 not authorised; sudo: a wrong password. Other failures mean "try the next way". */
function refusedByUser(via: LaunchVia, error: unknown): boolean {
  const exitCode = (error as { exitCode?: unknown }).exitCode;
  const text = `${(error as Error).message ?? ''} ${(error as { stderr?: string }).stderr ?? ''}`;
  if (via === 'pkexec') {
    if (exitCode === 126) return true;
    // 127 also covers "no authentication agent" and "cannot reach polkit": those mean try sudo.
    return exitCode === 127 && /not authorized|authentication failed|dismissed/i.test(text) && !/agent|authority|connect/i.test(text);
  }
  return /incorrect password|sorry, try again|authentication failure/i.test(text);
}
