// The Electron e2e project's launch, checked here, where Electron's binary cannot be
// downloaded: e2e/fixtures.ts prepares it with prepareElectronLaunch and hands
// playwrightLaunchOptions to Playwright; this test calls the same two functions with a probe
// in the binary's place (fixtures/electron-probe.js, in a 0700 folder as the checkout may be),
// starts the wrapper with the arguments Playwright adds, and reads what the probe found as the
// test user: who it runs as, its environment, the app's files resolved by the app's own
// paths.js, the display, and a raw socket from the socket helper. Needs `npm run build`.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { playwrightLaunchOptions, prepareElectronLaunch, whyNoElectronLaunch, type ElectronLaunch } from '../../../e2e/electron-launch';

interface ProbeReport {
  error?: string;
  uid: number;
  euid: number;
  gid: number;
  groups: number[];
  capEff: string;
  cwd: string;
  args: string[];
  appPath: string;
  env: Record<string, string>;
  files: { main: string; renderer: string; preload: string };
  readable: Record<string, true | string>;
  homeWritable: true | string;
  x11: string;
  helper: { started: boolean; via: string | null; path: string | null; reason: string | null; socket: boolean | null };
}

/** The arguments Playwright 1.65's electron.launch() puts before ours (playwright-core coreBundle, Electron.launch). */
function playwrightArgv(options: { args: string[]; chromiumSandbox: boolean }): string[] {
  return [...(options.chromiumSandbox ? [] : ['--no-sandbox']), '--inspect=0', '--remote-debugging-port=0', ...options.args];
}

const why = whyNoElectronLaunch({});

describe.skipIf(why !== null)(`the Electron e2e launch, with a probe for the binary${why ? ` (skipped: ${why})` : ''}`, () => {
  let probeDir: string;
  let launch: ElectronLaunch;
  let report: ProbeReport;
  let disposed = false;

  beforeAll(async () => {
    probeDir = mkdtempSync(path.join(tmpdir(), 'pw-electron-probe-'));
    copyFileSync(path.join(__dirname, 'fixtures', 'electron-probe.js'), path.join(probeDir, 'probe.js'));
    writeFileSync(path.join(probeDir, 'electron'), `#!/bin/sh\nexec '${process.execPath}' "$(dirname "$0")/probe.js" "$@"\n`, { mode: 0o755 });
    // No DISPLAY in the environment given: the launch starts its own Xvfb.
    launch = await prepareElectronLaunch(path.join(probeDir, 'electron'), { PATH: process.env.PATH });
    const options = playwrightLaunchOptions(launch);
    console.log(`electron launch: user ${launch.user.name} (uid ${launch.user.uid}), display ${launch.display}, Chromium sandbox ${options.chromiumSandbox ? 'on' : 'off (no user namespaces)'}`);
    const result = spawnSync(options.executablePath, playwrightArgv(options), { cwd: options.cwd, env: options.env, encoding: 'utf8', timeout: 30_000 });
    try {
      report = JSON.parse(result.stdout) as ProbeReport;
    } catch {
      throw new Error(`The probe printed no report (status ${result.status}):\n${result.stdout}\n${result.stderr}`);
    }
  }, 120_000);

  afterAll(async () => {
    if (launch && !disposed) await launch.dispose();
    if (probeDir) rmSync(probeDir, { recursive: true, force: true });
  });

  it('starts Electron through a wrapper that drops to the test user, with the app root as the app path', () => {
    expect(report.error).toBeUndefined();
    const options = playwrightLaunchOptions(launch);
    expect(options.args).toEqual([launch.appRoot]);
    expect(options.cwd).toBe(launch.appRoot);
    // Playwright's switches come first; Electron's app path is still the root.
    expect(report.args).toEqual(playwrightArgv(options));
    expect(report.appPath).toBe(launch.appRoot);
    expect(report.cwd).toBe(launch.appRoot);
    // The probe sat in a 0700 folder: the launch runs a readable copy of it.
    expect(launch.electron).toBe(path.join(launch.appRoot, 'electron', 'electron'));
  });

  it('runs as the test user, not root, without capabilities, with its own HOME', () => {
    const { user } = launch;
    expect(user.uid).not.toBe(0);
    expect(user.name).toMatch(/^pwe2e-/);
    expect(execFileSync('id', ['-u', user.name], { encoding: 'utf8' }).trim()).toBe(String(user.uid));
    expect([report.uid, report.euid, report.gid]).toEqual([user.uid, user.uid, user.gid]);
    expect(report.groups).toEqual([user.gid]);
    expect(report.capEff).toBe('0000000000000000');
    const home = statSync(user.home);
    expect([home.uid, home.mode & 0o777]).toEqual([user.uid, 0o700]);
    expect(report.homeWritable).toBe(true);
  });

  it('gives Electron only its own environment: HOME, the display, the helper', () => {
    expect(Object.keys(launch.env).sort()).toEqual(['DISPLAY', 'HOME', 'LANG', 'LOGNAME', 'PACKET_WORKBENCH_HELPER', 'PATH', 'USER']);
    expect(report.env).toMatchObject({ HOME: launch.user.home, USER: launch.user.name, DISPLAY: launch.display, PACKET_WORKBENCH_HELPER: launch.helper });
  });

  it('finds package.json "main" (dist/main/electron/main.js), the renderer and the preload, all readable by the user', () => {
    expect(report.files).toEqual({
      main: path.join(launch.appRoot, 'dist', 'main', 'electron', 'main.js'),
      renderer: path.join(launch.appRoot, 'renderer', 'dist', 'index.html'),
      preload: path.join(launch.appRoot, 'dist', 'preload', 'preload.bundle.js'),
    });
    expect(report.readable).toEqual({ main: true, renderer: true, preload: true });
  });

  it('has a display that accepts the user (Xvfb, started because DISPLAY was unset)', () => {
    expect(launch.display).toMatch(/^:\d+$/);
    expect(report.x11).toBe('success');
  });

  it('gets a raw socket from the socket helper, installed with cap_net_raw+ep outside the app package', () => {
    expect(execFileSync('/usr/sbin/getcap', [launch.helper], { encoding: 'utf8' }).trim()).toBe(`${launch.helper} cap_net_raw=ep`);
    expect(report.helper).toEqual({ started: true, via: 'capability', path: launch.helper, reason: null, socket: true });
  });

  it('leaves nothing behind: the user, its HOME, the copy and Xvfb go', async () => {
    const { user, appRoot, display } = launch;
    await launch.dispose();
    disposed = true;
    expect(spawnSync('id', ['-u', user.name]).status).not.toBe(0);
    expect(existsSync(user.home)).toBe(false);
    expect(existsSync(appRoot)).toBe(false);
    expect(existsSync(`/tmp/.X11-unix/X${display.slice(1)}`)).toBe(false);
  });
});
