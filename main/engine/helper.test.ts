import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkoutHelper, DEB_HELPER, defaultHelperEnvironment, helperCandidates, HelperSupervisor, launchCommands, type HelperEnvironment, unsupportedPlatformReason } from './helper';

const HELPER = '/opt/Packet Workbench/resources/helper/packet-workbench-helper';
const linux = (env: NodeJS.ProcessEnv = {}, found: Record<string, string> = {}): HelperEnvironment => ({
  platform: 'linux',
  env,
  which: (name) => found[name] ?? null,
});

describe('launchCommands', () => {
  it('tries the installed helper, then pkexec, then sudo -n, with argument vectors (no shell)', () => {
    const launches = launchCommands(HELPER, { how: 'auto', namespaces: false }, linux({}, { pkexec: '/usr/bin/pkexec', sudo: '/usr/bin/sudo' }));
    expect(launches).toEqual([
      { via: 'capability', argv: [HELPER] },
      // pkexec matches the polkit action by the program's absolute path (org.freedesktop.policykit.exec.path).
      { via: 'pkexec', argv: ['/usr/bin/pkexec', HELPER, '--elevated'] },
      { via: 'sudo', argv: ['/usr/bin/sudo', '-n', '--', HELPER, '--elevated'] },
    ]);
  });

  it('uses sudo -A when an askpass program is configured, so a GUI can ask for the password', () => {
    const launches = launchCommands(HELPER, { how: 'elevated', namespaces: false }, linux({ SUDO_ASKPASS: '/usr/bin/ssh-askpass' }, { sudo: '/usr/bin/sudo' }));
    expect(launches).toEqual([{ via: 'sudo', argv: ['/usr/bin/sudo', '-A', '--', HELPER, '--elevated'] }]);
  });

  it('asks for CAP_SYS_ADMIN only for lab namespaces, and only through an elevated launch', () => {
    const launches = launchCommands(HELPER, { how: 'auto', namespaces: true }, linux({}, { pkexec: '/usr/bin/pkexec' }));
    expect(launches).toEqual([{ via: 'pkexec', argv: ['/usr/bin/pkexec', HELPER, '--elevated', '--namespaces'] }]);
  });

  it("'installed' never elevates; 'elevated' never runs the plain helper", () => {
    const env = linux({}, { pkexec: '/usr/bin/pkexec', sudo: '/usr/bin/sudo' });
    expect(launchCommands(HELPER, { how: 'installed', namespaces: false }, env).map((launch) => launch.via)).toEqual(['capability']);
    expect(launchCommands(HELPER, { how: 'elevated', namespaces: false }, env).map((launch) => launch.via)).toEqual(['pkexec', 'sudo']);
  });

  it('offers nothing without pkexec and sudo beyond the installed helper, and nothing off Linux', () => {
    expect(launchCommands(HELPER, { how: 'elevated', namespaces: false }, linux())).toEqual([]);
    expect(launchCommands(HELPER, { how: 'auto', namespaces: false }, { platform: 'darwin', env: {}, which: () => '/usr/bin/sudo' })).toEqual([]);
    expect(unsupportedPlatformReason('win32')).toMatch(/Linux.*win32/);
    expect(unsupportedPlatformReason('linux')).toBeNull();
  });
});

describe('helperCandidates', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pw-helper-candidates-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('puts PACKET_WORKBENCH_HELPER first, then the packaged copy, and lists only existing files', () => {
    const fromEnv = path.join(dir, 'env-helper');
    const resources = path.join(dir, 'resources');
    const packaged = path.join(resources, 'helper', 'packet-workbench-helper');
    writeFileSync(fromEnv, '');
    rmSync(path.dirname(packaged), { recursive: true, force: true });
    const list = helperCandidates({ platform: 'linux', env: { PACKET_WORKBENCH_HELPER: fromEnv }, resourcesPath: resources });
    expect(list[0]).toBe(fromEnv);
    expect(list).not.toContain(packaged);
    expect(list).not.toContain(path.join(dir, 'missing'));
  });

  it("in a packaged Electron app finds resources/helper by default (process.resourcesPath, as Electron sets it)", () => {
    const resources = path.join(dir, 'packaged-resources');
    const packaged = path.join(resources, 'helper', 'packet-workbench-helper');
    mkdirSync(path.dirname(packaged), { recursive: true });
    writeFileSync(packaged, '');
    const electronProcess = process as NodeJS.Process & { resourcesPath?: string };
    const before = electronProcess.resourcesPath;
    electronProcess.resourcesPath = resources;
    try {
      expect(helperCandidates(defaultHelperEnvironment())).toContain(packaged);
    } finally {
      if (before === undefined) delete electronProcess.resourcesPath;
      else electronProcess.resourcesPath = before;
    }
  });

  it('knows the deb location and the checkout build', () => {
    expect(DEB_HELPER).toBe(HELPER);
    expect(checkoutHelper()).toMatch(/native[/\\]build[/\\]Release[/\\]packet-workbench-helper$/);
  });
});

describe('HelperSupervisor without a usable helper', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pw-helper-supervisor-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts as not-started and reports a failed launch with the reason and the command tried', async () => {
    // A "helper" that exits at once: every launch fails, the status says why.
    const fake = path.join(dir, 'packet-workbench-helper');
    writeFileSync(fake, '#!/bin/sh\necho "no channel" >&2\nexit 64\n');
    chmodSync(fake, 0o755);
    const supervisor = new HelperSupervisor({ platform: 'linux', env: { PACKET_WORKBENCH_HELPER: fake, PATH: '' }, which: () => null });
    expect(supervisor.status()).toMatchObject({ state: 'not-started', path: fake, pid: null });
    const changes: string[] = [];
    supervisor.onChange((status) => changes.push(status.state));
    const status = await supervisor.start({ how: 'installed', namespaces: false });
    expect(status.state).toBe('failed');
    expect(status.reason).toMatch(/could not be started/);
    expect(status.command).toEqual([fake]);
    expect(changes.at(-1)).toBe('failed');
    expect(supervisor.running).toBe(false);
  });

  it('says so off Linux without trying anything', async () => {
    const supervisor = new HelperSupervisor({ platform: 'darwin', env: {}, which: () => null });
    const status = await supervisor.start({ how: 'auto', namespaces: false });
    expect(status).toMatchObject({ state: 'failed', command: null });
    expect(status.reason).toMatch(/built for Linux/);
  });
});
