// How the Electron e2e project starts the app: as users and packages do. Electron is given the
// app's root (so app.getAppPath() is the folder with package.json, as app.asar is in a package),
// it runs as a test user made here with its own HOME (the root refusal in main.ts stays), on
// a virtual display (Xvfb) where there is none, with the socket helper installed the way the
// deb installs it (its own copy, cap_net_raw+ep) for raw sockets. The checkout may be
// unreadable to that user (/root is 0700), so everything runs from a readable copy.
// The e2e fixture and main/electron/test/launch-plan.test.ts both call prepareElectronLaunch.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runAsPrefix } from '../main/lab/command';
import { readableCopy } from '../main/lab/readable-copy';
import { appFiles, mainEntry } from '../main/electron/paths';

const HELPER_NAME = 'packet-workbench-helper';
const XVFB_TIMEOUT_MS = 10_000;
const SETPRIV = '/usr/bin/setpriv';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface ElectronLaunch {
  /** What Playwright starts: a wrapper that drops to the test user, then execs Electron. */
  executablePath: string;
  /** Electron's arguments after Playwright's own: the app root. */
  args: string[];
  cwd: string;
  /** The whole environment Electron gets (nothing of ours leaks in). */
  env: Record<string, string>;
  /** Chromium's sandbox on, as for users, where the test user may create user namespaces. */
  chromiumSandbox: boolean;
  user: TestUser;
  /** The readable copy Electron runs (package.json, dist/, renderer/dist, node_modules/). */
  appRoot: string;
  /** The Electron binary the wrapper execs (in place, or copied where the user can read it). */
  electron: string;
  /** The helper the engine finds through PACKET_WORKBENCH_HELPER, with cap_net_raw+ep. */
  helper: string;
  display: string;
  /** Stops Xvfb, deletes the user, its HOME and the copy. */
  dispose(): Promise<void>;
}

/** Why the Electron project cannot launch here (besides the binary), or null. */
export function whyNoElectronLaunch(env: NodeJS.ProcessEnv = process.env): string | null {
  if (process.platform !== 'linux') return 'the Electron e2e launch is built for Linux';
  if (process.getuid?.() !== 0) return 'needs root to create the test user and give the helper its capability';
  for (const tool of [SETPRIV, '/usr/sbin/useradd', '/usr/sbin/userdel', '/usr/sbin/setcap']) {
    if (!existsSync(tool)) return `needs ${tool}`;
  }
  if (!env.DISPLAY && !existsSync('/usr/bin/Xvfb')) return 'no DISPLAY and no Xvfb (apt-get install xvfb)';
  return null;
}

/** True when every folder above `file` is searchable and the file readable and executable by others. */
function reachableByOthers(file: string): boolean {
  if ((statSync(file).mode & 0o005) !== 0o005) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dir === path.dirname(dir)) return true;
  }
}

function createUser(): TestUser {
  const name = `pwe2e-${process.pid}`;
  const home = mkdtempSync(path.join(tmpdir(), `${name}-home-`));
  execFileSync('/usr/sbin/useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', home, '--shell', '/usr/sbin/nologin', name], { stdio: 'pipe', timeout: 20_000 });
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  chownSync(home, uid, gid);
  chmodSync(home, 0o700);
  return { name, uid, gid, home };
}

function deleteUser(user: TestUser): void {
  spawnSync('/usr/sbin/userdel', [user.name], { stdio: 'pipe', timeout: 20_000 });
  rmSync(user.home, { recursive: true, force: true });
}

/** Starts Xvfb as `user` on the first free display (-displayfd); resolves with ":N". */
function startXvfb(user: TestUser): Promise<{ display: string; process: ChildProcess }> {
  // X sockets live in /tmp/.X11-unix, which a non-root server cannot create.
  if (!existsSync('/tmp/.X11-unix')) mkdirSync('/tmp/.X11-unix', { mode: 0o1777 });
  chmodSync('/tmp/.X11-unix', 0o1777);
  const [setpriv, ...privArgs] = runAsPrefix(user);
  const child = spawn(setpriv, [...privArgs, '--', '/usr/bin/Xvfb', '-displayfd', '3', '-screen', '0', '1440x900x24', '-nolisten', 'tcp'], {
    cwd: user.home,
    env: { PATH: '/usr/bin:/bin', HOME: user.home },
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  return new Promise((resolve, reject) => {
    let number = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`Xvfb did not start: ${why}\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`no display within ${XVFB_TIMEOUT_MS} ms`), XVFB_TIMEOUT_MS);
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
      number += chunk.toString();
      if (!number.includes('\n')) return;
      clearTimeout(timer);
      resolve({ display: `:${number.trim()}`, process: child });
    });
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal})`));
    child.once('error', (error) => fail(error.message));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Whether `user` may create a user namespace (Chromium's sandbox needs one; no setuid chrome-sandbox here). */
function userNamespacesFor(user: TestUser): boolean {
  const [setpriv, ...privArgs] = runAsPrefix(user);
  return spawnSync(setpriv, [...privArgs, '--', 'unshare', '--user', 'true'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

/**
 * Prepares everything Electron needs to start the app as a user would: the readable copy, the
 * test user, the helper with its capability, the display, and the wrapper Playwright starts.
 * `electronBinary` is the Electron executable (the launch-plan test passes a probe in its place).
 */
export async function prepareElectronLaunch(electronBinary: string, env: NodeJS.ProcessEnv = process.env): Promise<ElectronLaunch> {
  const why = whyNoElectronLaunch(env);
  if (why) throw new Error(`The Electron e2e launch cannot run here: ${why}`);
  const cleanup: (() => void | Promise<void>)[] = [];
  const dispose = async () => {
    for (const step of cleanup.reverse()) await step();
  };
  try {
    const copy = readableCopy('pw-electron-e2e');
    cleanup.push(() => copy.remove());
    const appRoot = copy.root;
    // The files main.ts will load, resolved as it resolves them (overrides ignored: a user has none).
    for (const file of [mainEntry(appRoot), ...Object.values(appFiles(appRoot, {}))]) {
      if (!existsSync(file)) throw new Error(`${path.relative(appRoot, file)} is missing: run \`npm run build\` first`);
    }

    const user = createUser();
    cleanup.push(() => deleteUser(user));

    // Electron's folder (its .pak files, locales, chrome-sandbox) where the user can read it.
    let electron = electronBinary;
    if (!reachableByOthers(electronBinary)) {
      const folder = path.join(appRoot, 'electron');
      cpSync(path.dirname(electronBinary), folder, { recursive: true });
      execFileSync('chmod', ['-R', 'a+rX', folder]);
      electron = path.join(folder, path.basename(electronBinary));
    }
    accessSync(electron, constants.X_OK);

    // The helper as the deb installs it: its own copy outside the app's native/ (the engine
    // counts only a helper outside the package as installed), cap_net_raw+ep.
    const helper = path.join(appRoot, 'helper', HELPER_NAME);
    mkdirSync(path.dirname(helper), { mode: 0o755 });
    copyFileSync(copy.helper, helper);
    chmodSync(helper, 0o755);
    execFileSync('/usr/sbin/setcap', ['cap_net_raw+ep', helper], { stdio: 'pipe' });

    let display = env.DISPLAY ?? '';
    if (!display) {
      const xvfb = await startXvfb(user);
      cleanup.push(() => stopProcess(xvfb.process));
      display = xvfb.display;
    }

    // Playwright puts its own switches (--inspect=0 --remote-debugging-port=0) first, so the
    // user switch is a wrapper rather than a prefix of the arguments.
    const wrapper = path.join(appRoot, 'launch-electron.sh');
    const quoted = [...runAsPrefix(user), '--', electron].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${quoted} "$@"\n`, { mode: 0o755 });

    const launchEnv: Record<string, string> = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: user.home,
      USER: user.name,
      LOGNAME: user.name,
      LANG: 'C.UTF-8',
      DISPLAY: display,
      PACKET_WORKBENCH_HELPER: helper,
    };
    if (env.DISPLAY && env.XAUTHORITY) launchEnv.XAUTHORITY = env.XAUTHORITY;

    return {
      executablePath: wrapper,
      args: [appRoot],
      cwd: appRoot,
      env: launchEnv,
      chromiumSandbox: userNamespacesFor(user),
      user,
      appRoot,
      electron,
      helper,
      display,
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** The options for Playwright's electron.launch(). */
export function playwrightLaunchOptions(launch: ElectronLaunch) {
  return {
    executablePath: launch.executablePath,
    args: launch.args,
    cwd: launch.cwd,
    env: launch.env,
    chromiumSandbox: launch.chromiumSandbox,
  };
}
