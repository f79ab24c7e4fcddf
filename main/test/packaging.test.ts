// Packaging (electron-builder.yml, build-resources/, scripts/rebuild-native.mjs), offline.
// 1. `electron-builder --linux dir` with a placeholder Electron (-c.electronDist: Electron's
//    binary cannot be downloaded here) into a temporary folder: the layout every Linux package
//    ships. app.asar is read with @electron/asar; the packaged raw socket binding is run to
//    show it finds and loads the unpacked addon.
// 2. electron-builder's deb and AppImage targets on that folder, up to the tools they would
//    download: fpm is a recording stand-in (CUSTOM_FPM_PATH) that keeps its command line and
//    the maintainer scripts as electron-builder rendered them; the AppImage stops at its
//    desktop entry (effectiveOptionComputed). The maintainer scripts then run for real
//    (setcap, update-alternatives, install) against a temporary root through DPKG_ROOT.
// 3. scripts/rebuild-native.mjs: the host needs no rebuild; a bad architecture is refused;
//    another architecture without the network is skipped, loudly.
// Needs `npm run build` first (dist/, renderer/dist, native/build).
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as asar from '@electron/asar';
import { appFiles, mainEntry } from '../electron/paths';
import { linkEmulatorPath } from '../lab/emulator';
import { placeholderElectron } from '../electron/test/placeholder-electron';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const PRODUCT_DIR = '/opt/Packet Workbench';
const HELPER = 'packet-workbench-helper';
const LINKEMU = 'packet-workbench-linkemu';
const POLICY = 'org.packetworkbench.helper.policy';
/** The dpkg PATH the maintainer scripts get (dpkg insists on the sbin folders). */
const DPKG_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What the package is made of, and the step of `npm run build` that makes it. */
const BUILT: [string, string][] = [
  ['dist/main/electron/main.js', 'npm run build:main'],
  ['dist/preload/preload.bundle.js', 'npm run build:preload'],
  ['renderer/dist/index.html', 'npm run build:renderer'],
  ['native/dist/binding.js', 'npm run build:native'],
  ['native/build/Release/raw_socket.node', 'npm run build:native'],
  [`native/build/Release/packet-workbench-linkemu`, 'npm run build:native'],
  [`native/build/Release/${HELPER}`, 'npm run build:native'],
];

function which(name: string, PATH = DPKG_PATH): string | null {
  for (const folder of PATH.split(':')) {
    if (existsSync(path.join(folder, name))) return path.join(folder, name);
  }
  return null;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const getcapPath = which('getcap');
const setcapPath = which('setcap');
const xmllintPath = which('xmllint');
const sandboxWhy = !isRoot ? 'the maintainer scripts run as root' : !setcapPath || !getcapPath ? 'setcap/getcap are missing (apt-get install libcap2-bin)' : '';

/** electron-builder's rendering of a maintainer-script template (FpmTarget's writeConfigFile). */
function render(template: string): string {
  const macros: Record<string, string> = { executable: 'packet-workbench', sanitizedProductName: 'Packet Workbench', productFilename: 'Packet Workbench' };
  return template.replace(/\${([a-zA-Z]+)}/g, (_match, name: string) => {
    if (!(name in macros)) throw new Error(`Macro ${name} is not defined`);
    return macros[name];
  });
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function getcap(file: string): string {
  return spawnSync(getcapPath!, [file], { encoding: 'utf8' }).stdout.trim();
}

/** The architecture of an ELF file, as Node names it. */
function elfArch(file: string): string {
  const header = readFileSync(file).subarray(0, 20);
  expect(header.readUInt32BE(0), `${file} is an ELF file`).toBe(0x7f454c46);
  return ({ 0x3e: 'x64', 0xb7: 'arm64' } as Record<number, string>)[header.readUInt16LE(18)] ?? 'other';
}

interface DebRecord {
  fpm: string[];
  scripts: { afterInstall: string; afterRemove: string };
  appImage: { desktop: string; desktopFileName: string } | null;
}

// Runs electron-builder's deb and AppImage targets on a prepackaged app folder. fpm is the
// stand-in named by CUSTOM_FPM_PATH; the AppImage stops before appimagetool.
const TARGETS_SCRIPT = `
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const [root, prepackaged, electronDist, output, record] = process.argv.slice(2);
const { build, Platform, Arch } = createRequire(root + '/package.json')('electron-builder');
let appImage = null;
await build({
  projectDir: root,
  prepackaged,
  targets: Platform.LINUX.createTarget(['deb', 'AppImage'], Arch.x64),
  publish: 'never',
  config: { electronDist, directories: { output } },
  effectiveOptionComputed: async (options) => {
    if (Array.isArray(options)) return false; // the deb: on to fpm
    appImage = options;
    return true;
  },
});
writeFileSync(record + '/appimage.json', JSON.stringify(appImage));
`;

// The stand-in for fpm (electron-builder downloads the real one): keeps the command line and
// copies the maintainer scripts, which electron-builder deletes after the build.
const FPM_STANDIN = `#!${process.execPath}
const fs = require('node:fs');
const argv = process.argv.slice(2);
const record = process.env.PACKAGING_TEST_RECORD;
fs.writeFileSync(record + '/fpm.json', JSON.stringify(argv));
fs.copyFileSync(argv[argv.indexOf('--after-install') + 1], record + '/postinst');
fs.copyFileSync(argv[argv.indexOf('--after-remove') + 1], record + '/postrm');
`;

let work: string;
let unpacked: string;
let resources: string;
let asarFile: string;
let files: string[];
let deb: DebRecord;
const timings: Record<string, number> = {};

beforeAll(async () => {
  const missing = BUILT.filter(([file]) => !existsSync(path.join(root, file)));
  if (missing.length > 0) {
    throw new Error(
      `The packaging test packs the build, which is incomplete: ${missing.map(([file, step]) => `${file} (${step})`).join(', ')}. Run npm run build first.`,
    );
  }
  work = mkdtempSync(path.join(tmpdir(), 'pw-packaging-'));

  const electronDist = placeholderElectron(path.join(work, 'electron'));

  const output = path.join(work, 'out');
  let started = Date.now();
  const cli = path.join(root, 'node_modules', 'electron-builder', 'cli.js');
  const args = [cli, '--linux', 'dir', '--publish', 'never', `-c.electronDist=${electronDist}`, `-c.directories.output=${output}`];
  try {
    await run(process.execPath, args, { cwd: root, maxBuffer: 16 << 20 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`electron-builder --linux dir failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
  timings.dir = Date.now() - started;
  unpacked = path.join(output, 'linux-unpacked');
  resources = path.join(unpacked, 'resources');
  asarFile = path.join(resources, 'app.asar');
  files = asar.listPackage(asarFile, { isPack: false }).map((file) => file.split(path.sep).join('/'));

  const record = path.join(work, 'record');
  mkdirSync(record);
  const fpm = path.join(work, 'fpm');
  writeFileSync(fpm, FPM_STANDIN, { mode: 0o755 });
  const targetsScript = path.join(work, 'targets.mjs');
  writeFileSync(targetsScript, TARGETS_SCRIPT);
  started = Date.now();
  try {
    await run(process.execPath, [targetsScript, root, unpacked, electronDist, path.join(work, 'out-targets'), record], {
      cwd: root,
      env: { ...process.env, CUSTOM_FPM_PATH: fpm, PACKAGING_TEST_RECORD: record },
      maxBuffer: 16 << 20,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`electron-builder's deb/AppImage targets failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
  timings.targets = Date.now() - started;
  deb = {
    fpm: JSON.parse(readFileSync(path.join(record, 'fpm.json'), 'utf8')) as string[],
    scripts: { afterInstall: path.join(record, 'postinst'), afterRemove: path.join(record, 'postrm') },
    appImage: JSON.parse(readFileSync(path.join(record, 'appimage.json'), 'utf8')) as DebRecord['appImage'],
  };
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (Object.keys(timings).length > 0) console.log(`packaging: electron-builder --linux dir ${timings.dir} ms, deb+AppImage targets ${timings.targets} ms`);
});

describe('the Linux app folder (electron-builder --linux dir)', () => {
  it('has app.asar with the main process, the preload bundle and the renderer', () => {
    for (const file of ['/package.json', '/dist/main/electron/main.js', '/dist/preload/preload.bundle.js', '/renderer/dist/index.html']) {
      expect(files, file).toContain(file);
    }
    expect(files.some((file) => file.startsWith('/dist/main/engine/'))).toBe(true);
    const manifest = JSON.parse(asar.extractFile(asarFile, 'package.json').toString('utf8')) as { main: string };
    expect(manifest.main).toBe('dist/main/electron/main.js');
    // No source maps, declarations, tests or TypeScript sources, no second copy of native/.
    expect(files.filter((file) => /\.(map|ts|mts|cts)$/.test(file) || /\.test\.js$/.test(file))).toEqual([]);
    expect(files.filter((file) => file.startsWith('/native'))).toEqual([]);
  });

  it('keeps raw_socket.node outside the asar, where the packaged binding finds and loads it', () => {
    const unpackedRoot = path.join(resources, 'app.asar.unpacked');
    const listed = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? listed(path.join(dir, entry.name)) : [path.relative(unpackedRoot, path.join(dir, entry.name))],
      );
    // Only the addon leaves the archive (asar.smartUnpack false).
    expect(listed(unpackedRoot)).toEqual(['node_modules/@packet-workbench/raw-socket/build/Release/raw_socket.node']);
    expect(sha256(path.join(unpackedRoot, 'node_modules/@packet-workbench/raw-socket/build/Release/raw_socket.node'))).toBe(
      sha256(path.join(root, 'native/build/Release/raw_socket.node')),
    );

    // The packaged dist/binding.js, run as Electron would run it from inside the archive
    // (its __dirname in app.asar): it must rewrite to app.asar.unpacked and load the addon.
    const inside = 'node_modules/@packet-workbench/raw-socket/dist/binding.js';
    expect(files).toContain(`/${inside}`);
    const probe = `
      const vm = require('node:vm'), { createRequire } = require('node:module');
      const [source, filename] = [require('node:fs').readFileSync(process.argv[1], 'utf8'), process.argv[2]];
      const real = createRequire(filename), tried = [];
      const fakeRequire = (id) => { tried.push(id); return real(id); };
      const module = { exports: {} };
      vm.compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename })(
        module.exports, fakeRequire, module, filename, require('node:path').dirname(filename));
      const sum = module.exports.binding.checksumSum(new Uint8Array([0x45, 0x00, 0x00, 0x1c]), 0, 4);
      console.log(JSON.stringify({ tried, sum }));`;
    const extracted = path.join(work, 'binding.js');
    writeFileSync(extracted, asar.extractFile(asarFile, inside));
    const result = spawnSync(process.execPath, ['-e', probe, extracted, path.join(asarFile, inside)], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const { tried, sum } = JSON.parse(result.stdout) as { tried: string[]; sum: number };
    expect(tried.filter((id) => id.endsWith('.node'))[0]).toBe(
      path.join(resources, 'app.asar.unpacked', 'node_modules/@packet-workbench/raw-socket/build/Release/raw_socket.node'),
    );
    expect(typeof sum).toBe('number');
  });

  it("flips Electron's fuses: no ELECTRON_RUN_AS_NODE, NODE_OPTIONS or --inspect; encrypted cookies; app only from a checked app.asar", async () => {
    const { getCurrentFuseWire, FuseV1Options } = await import('@electron/fuses');
    const wire = await getCurrentFuseWire(path.join(unpacked, 'packet-workbench'));
    const on = (fuse: number) => String.fromCharCode(wire[fuse as keyof typeof wire] as number);
    expect(on(FuseV1Options.RunAsNode)).toBe('0');
    expect(on(FuseV1Options.EnableCookieEncryption)).toBe('1');
    expect(on(FuseV1Options.EnableNodeOptionsEnvironmentVariable)).toBe('0');
    expect(on(FuseV1Options.EnableNodeCliInspectArguments)).toBe('0');
    expect(on(FuseV1Options.EnableEmbeddedAsarIntegrityValidation)).toBe('1');
    expect(on(FuseV1Options.OnlyLoadAppFromAsar)).toBe('1');
    // Left as Electron has it (see electron-builder.yml): the renderer is loaded from file://.
    expect(on(FuseV1Options.GrantFileProtocolExtraPrivileges)).toBe('1');
  });

  it('resolves package.json "main", the renderer and the preload as main.ts does (main/electron/paths.ts), to files inside app.asar', () => {
    const read = (file: string) => asar.extractFile(asarFile, path.relative(asarFile, file)).toString('utf8');
    /** A path under app.asar as the archive lists it ("/dist/..."), or null when outside. */
    const inArchive = (file: string) => (file.startsWith(`${asarFile}${path.sep}`) ? `/${path.relative(asarFile, file).split(path.sep).join('/')}` : null);
    const main = mainEntry(asarFile, read);
    expect(main).toBe(path.join(asarFile, 'dist', 'main', 'electron', 'main.js'));
    const resolved = appFiles(asarFile, {});
    for (const file of [main, resolved.renderer, resolved.preload]) {
      const entry = inArchive(file);
      expect(entry, `${file} is inside app.asar`).not.toBeNull();
      expect(files, `${entry} is packed`).toContain(entry);
    }
    // The packed main.js resolves through the packed paths.js.
    expect(files).toContain('/dist/main/electron/paths.js');
    expect(read(main)).toContain('require("./paths")');
  });

  it('ships the socket helper as resources/helper/packet-workbench-helper, executable, and once', () => {
    const helper = path.join(resources, 'helper', HELPER);
    const info = statSync(helper);
    expect(info.isFile()).toBe(true);
    expect(info.mode & 0o777).toBe(0o755);
    expect(sha256(helper)).toBe(sha256(path.join(root, 'native/build/Release', HELPER)));
    expect(elfArch(helper)).toBe(process.arch);
    expect(files.filter((file) => file.endsWith(HELPER))).toEqual([]);
  });

  it('ships the link emulator as resources/linkemu/packet-workbench-linkemu, executable, where the lab finds it, and once', () => {
    const linkemu = path.join(resources, 'linkemu', LINKEMU);
    const info = statSync(linkemu);
    expect(info.isFile()).toBe(true);
    expect(info.mode & 0o777).toBe(0o755);
    expect(sha256(linkemu)).toBe(sha256(path.join(root, 'native/build/Release', LINKEMU)));
    expect(linkEmulatorPath({}, resources)).toBe(linkemu);
    expect(files.filter((file) => file.includes('linkemu'))).toEqual([]);
  });

  it.skipIf(!xmllintPath)(`ships the polkit action, valid, for the deb's helper path${xmllintPath ? '' : ' (skipped: xmllint missing, apt-get install libxml2-utils)'}`, async () => {
    const shipped = path.join(resources, 'polkit', POLICY);
    expect(readFileSync(shipped, 'utf8')).toBe(readFileSync(path.join(root, 'build-resources/polkit', POLICY), 'utf8'));
    await run(xmllintPath!, ['--noout', '--nonet', shipped]);
    const xpath = async (expression: string) => (await run(xmllintPath!, ['--nonet', '--xpath', `string(${expression})`, shipped])).stdout.trim();
    const action = '/policyconfig/action[@id="org.packetworkbench.helper"]';
    expect(await xpath(`count(/policyconfig/action)`)).toBe('1');
    expect(await xpath(`${action}/description`)).toBe('Allow Packet Workbench to open raw sockets');
    expect(await xpath(`${action}/message`)).toMatch(/raw sockets/);
    expect(await xpath(`${action}/defaults/allow_any`)).toBe('auth_admin');
    expect(await xpath(`${action}/defaults/allow_inactive`)).toBe('auth_admin');
    expect(await xpath(`${action}/defaults/allow_active`)).toBe('auth_admin_keep');
    expect(await xpath(`${action}/annotate[@key="org.freedesktop.policykit.exec.path"]`)).toBe(`${PRODUCT_DIR}/resources/helper/${HELPER}`);
    expect(await xpath(`${action}/annotate[@key="org.freedesktop.policykit.exec.allow_gui"]`)).toBe('true');
  });

  it('puts no devDependency and nothing build-only into app.asar', () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    // Each package folder in the archive: node_modules/<name> or node_modules/@scope/<name>, nested or not.
    const packageDir = /^\/((?:node_modules\/(?:@[^/]+\/[^/]+|[^@/][^/]*)(?:\/|$))+)/;
    const packaged = [...new Set(files.map((file) => packageDir.exec(file)?.[1].replace(/\/$/, '')).filter(Boolean))] as string[];
    expect(packaged).toContain('node_modules/@packet-workbench/raw-socket');
    for (const name of [...Object.keys(manifest.devDependencies), 'node-addon-api', 'node-gyp']) {
      expect(packaged.filter((dir) => dir.endsWith(`node_modules/${name}`)), name).toEqual([]);
    }
    // Every packaged package is a production one in the lockfile (no "dev": true).
    for (const dir of packaged) {
      expect(lock.packages[dir], `${dir} in package-lock.json`).toBeDefined();
      expect(lock.packages[dir].dev, `${dir} is a devDependency (or only theirs)`).toBeUndefined();
    }
    // The raw socket package: its package.json, dist/ and the addon, nothing else.
    const rawSocket = files.filter((file) => file.startsWith('/node_modules/@packet-workbench/raw-socket/') && !statIsDir(file));
    expect(rawSocket.filter((file) => !/^\/node_modules\/@packet-workbench\/raw-socket\/(package\.json|dist\/[^/]+\.js|build\/Release\/raw_socket\.node)$/.test(file))).toEqual([]);
  });
});

function statIsDir(file: string): boolean {
  return 'files' in (asar.statFile(asarFile, file.slice(1)) as object);
}

describe('the deb and the AppImage (electron-builder targets up to fpm and appimagetool)', () => {
  it('gives fpm the app under /opt/Packet Workbench, the maintainer scripts and the dependencies', () => {
    const argv = deb.fpm;
    const values = (flag: string) => argv.flatMap((arg, i) => (arg === flag ? [argv[i + 1]] : []));
    expect(argv.slice(0, 5)).toEqual(['-s', 'dir', '--force', '-t', 'deb']);
    expect(argv).toContain(`${unpacked}/=${PRODUCT_DIR}`);
    expect(values('-d')).toEqual(['libnss3', 'libgtk-3-0', 'libxss1', 'libasound2', 'libcap2-bin', 'libpcap0.8']);
    expect(values('--deb-recommends')).toContain('pkexec | policykit-1');
    expect(values('--name')).toEqual(['packet-workbench']);
    // The maintainer scripts are ours (build-resources/linux), rendered by electron-builder.
    expect(readFileSync(deb.scripts.afterInstall, 'utf8')).toBe(render(readFileSync(path.join(root, 'build-resources/linux/after-install.sh'), 'utf8')));
    expect(readFileSync(deb.scripts.afterRemove, 'utf8')).toBe(render(readFileSync(path.join(root, 'build-resources/linux/after-remove.sh'), 'utf8')));
    for (const script of [deb.scripts.afterInstall, deb.scripts.afterRemove]) {
      expect(readFileSync(script, 'utf8').split('\n')[0]).toBe('#!/bin/sh');
      expect(spawnSync('sh', ['-n', script]).status, `${script} parses as POSIX sh (dash)`).toBe(0);
    }
  });

  it('builds the AppImage from the same app folder', () => {
    expect(deb.appImage?.desktopFileName).toBe('packet-workbench.desktop');
    expect(deb.appImage?.desktop).toMatch(/^Name=Packet Workbench$/m);
    expect(deb.appImage?.desktop).toMatch(/^Exec=AppRun /m);
  });

  describe.skipIf(sandboxWhy !== '')(`the maintainer scripts in a temporary root${sandboxWhy ? ` (skipped: ${sandboxWhy})` : ''}`, () => {
    let dpkgRoot: string;
    let helper: string;
    let policy: string;
    const system = ['/usr/bin/packet-workbench', '/etc/alternatives/packet-workbench', `/usr/share/polkit-1/actions/${POLICY}`];
    let systemBefore: boolean[];

    const script = (which: 'afterInstall' | 'afterRemove', args: string[], PATH = DPKG_PATH) =>
      spawnSync('sh', [deb.scripts[which], ...args], { encoding: 'utf8', env: { PATH, DPKG_ROOT: dpkgRoot, LANG: 'C' } });

    beforeAll(() => {
      systemBefore = system.map((file) => existsSync(file));
      dpkgRoot = path.join(work, 'root');
      for (const dir of ['opt', 'usr/bin', 'usr/share/applications', 'usr/share/mime/packages', 'etc']) mkdirSync(path.join(dpkgRoot, dir), { recursive: true });
      // What dpkg unpacks: the app folder at /opt/Packet Workbench (modes kept).
      cpSync(unpacked, path.join(dpkgRoot, PRODUCT_DIR), { recursive: true });
      helper = path.join(dpkgRoot, PRODUCT_DIR, 'resources/helper', HELPER);
      chmodSync(helper, 0o755);
      if (getcap(helper)) spawnSync(setcapPath!, ['-r', helper]);
      policy = path.join(dpkgRoot, 'usr/share/polkit-1/actions', POLICY);
    });

    afterAll(() => {
      // The scripts touched only the temporary root.
      expect(system.map((file) => existsSync(file))).toEqual(systemBefore);
    });

    it('postinst sets cap_net_raw+ep on the helper, installs the polkit action and the command, idempotently', () => {
      expect(getcap(helper)).toBe('');
      for (const attempt of [1, 2]) {
        const result = script('afterInstall', ['configure', ...(attempt === 2 ? ['0.1.0'] : [])]);
        expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
        expect(getcap(helper)).toBe(`${helper} cap_net_raw=ep`);
        expect(statSync(helper).uid).toBe(0);
        expect(statSync(helper).mode & 0o7777).toBe(0o755);
        expect(readFileSync(policy, 'utf8')).toBe(readFileSync(path.join(root, 'build-resources/polkit', POLICY), 'utf8'));
        expect(statSync(policy).mode & 0o777).toBe(0o644);
        const link = path.join(dpkgRoot, 'usr/bin/packet-workbench');
        expect(lstatSync(link).isSymbolicLink()).toBe(true);
        expect(readlinkSync(link)).toBe('/etc/alternatives/packet-workbench');
        expect(readlinkSync(path.join(dpkgRoot, 'etc/alternatives/packet-workbench'))).toBe(`${PRODUCT_DIR}/packet-workbench`);
        expect([0o755, 0o4755]).toContain(statSync(path.join(dpkgRoot, PRODUCT_DIR, 'chrome-sandbox')).mode & 0o7777);
      }
    });

    it('postrm leaves everything on an upgrade and removes the capability, the action and the command on removal', () => {
      let result = script('afterRemove', ['upgrade', '0.2.0']);
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
      expect(existsSync(policy)).toBe(true);
      expect(getcap(helper)).toBe(`${helper} cap_net_raw=ep`);

      for (const action of ['remove', 'purge']) {
        result = script('afterRemove', [action]);
        expect(result.status, `${action}: ${result.stdout}${result.stderr}`).toBe(0);
        expect(getcap(helper)).toBe('');
        expect(existsSync(policy)).toBe(false);
        expect(existsSync(path.join(dpkgRoot, 'usr/bin/packet-workbench'))).toBe(false);
        expect(existsSync(path.join(dpkgRoot, 'etc/alternatives/packet-workbench'))).toBe(false);
      }
    });

    it('postinst without setcap succeeds and prints the exact command to run by hand', () => {
      expect(which('setcap', '/usr/bin:/bin')).toBeNull();
      const result = script('afterInstall', ['configure'], '/usr/bin:/bin');
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toContain(`run once: sudo setcap cap_net_raw+ep '${helper}'`);
      expect(getcap(helper)).toBe('');
      expect(existsSync(policy)).toBe(true);
      expect(script('afterRemove', ['remove']).status).toBe(0);
      expect(existsSync(policy)).toBe(false);
    });
  });
});

function withoutProxies(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const proxies = /^(https?_proxy|all_proxy|npm_config_(https_)?proxy)$/i;
  return Object.fromEntries(Object.entries(env).filter(([name]) => !proxies.test(name)));
}

describe('scripts/rebuild-native.mjs', () => {
  const rebuild = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [path.join(root, 'scripts/rebuild-native.mjs'), ...args], {
      cwd: root,
      encoding: 'utf8',
      // No proxy: the closed local port below must stay unreachable.
      env: { ...withoutProxies(process.env), CI: '', ...env },
      timeout: 20_000,
    });

  /** A local port nothing listens on. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  it("says the host's architecture needs no rebuild (Node-API) and exits 0", () => {
    const result = rebuild(['--arch', process.arch]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`No rebuild needed for ${process.platform}-${process.arch}`);
    expect(result.stdout).toContain('Node-API');
    expect(elfArch(path.join(root, 'native/build/Release/raw_socket.node'))).toBe(process.arch);
  });

  it('refuses an unknown architecture or argument with exit 2', () => {
    for (const args of [['--arch', 'mips'], ['--arch'], ['--frobnicate']]) {
      const result = rebuild(args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('usage: node scripts/rebuild-native.mjs --arch <x64|arm64>');
    }
  });

  it('skips another architecture without the network: says what it would do, exit 75, or 0 under CI', async () => {
    const other = process.arch === 'arm64' ? 'x64' : 'arm64';
    const headerUrl = `http://127.0.0.1:${await closedPort()}/headers`;
    const before = sha256(path.join(root, 'native/build/Release/raw_socket.node'));
    for (const [env, status] of [[{}, 75], [{ CI: 'true' }, 0]] as const) {
      const result = rebuild(['--arch', other, '--header-url', headerUrl], env);
      expect(result.status, result.stdout + result.stderr).toBe(status);
      expect(result.stdout).toContain('SKIPPED');
      expect(result.stdout).toContain(`@electron/rebuild would rebuild native/ (raw_socket.node and packet-workbench-helper) in place for ${process.platform}-${other}`);
      expect(result.stdout).toContain(`${headerUrl}/v`);
    }
    expect(sha256(path.join(root, 'native/build/Release/raw_socket.node'))).toBe(before);
  });
});
