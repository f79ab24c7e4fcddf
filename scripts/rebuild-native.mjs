#!/usr/bin/env node
// Builds native/ (the raw socket addon AND the socket helper executable, both targets of
// native/binding.gyp) for the architecture of a package to make, before electron-builder
// packs native/build/Release (npmRebuild is false in electron-builder.yml).
//
//   npm run rebuild:native -- --arch <x64|arm64> [--header-url URL] [--electron-clang]
//
// The host's architecture needs no rebuild: the addon is Node-API, ABI-stable, so the one
// build node-gyp made for Node loads in every Node >= 18 and in every Electron; the
// script says so and exits 0 (after a cross build it first rebuilds for the host).
//
// Another architecture (an arm64 package on an x64 machine): @electron/rebuild builds
// native/ in place against Electron's headers (downloaded from --header-url, default
// https://www.electronjs.org/headers) with a cross compiler: $CC/$CXX when set, else
// <triple>-gcc/g++ on PATH (Debian: apt-get install g++-aarch64-linux-gnu), else Electron's
// own clang and a Debian sysroot, which @electron/rebuild downloads (--electron-clang
// forces that). Another platform (a macOS or Windows package) is built on that platform.
//
// Without the network: the script checks first (a TCP connection to each host it would
// download from, as scripts/ensure-electron.mjs does), says what it would have done and
// that it skipped it, and exits 0 under CI (CI set, not "false") so a CI run without
// network stays green but says SKIPPED, and 75 (EX_TEMPFAIL) elsewhere, so that a
// packaging command chained after it stops instead of putting host binaries into a
// package for another architecture.
//
// Exit codes: 0 done, not needed, or skipped under CI; 1 the build failed; 2 bad usage;
// 75 skipped for want of the network (outside CI).
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, openSync, readSync, closeSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const release = path.join(nativeDir, 'build', 'Release');
const outputs = [path.join(release, 'raw_socket.node'), path.join(release, 'packet-workbench-helper')];
const require = createRequire(path.join(root, 'package.json'));
const ARCHES = ['x64', 'arm64'];
const TRIPLES = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
/** ELF e_machine of each architecture. */
const ELF_MACHINES = { 0x3e: 'x64', 0xb7: 'arm64' };
const DEFAULT_HEADER_URL = 'https://www.electronjs.org/headers';
const PROBE_TIMEOUT_MS = 4000;
const USAGE = 'usage: node scripts/rebuild-native.mjs --arch <x64|arm64> [--header-url URL] [--electron-clang]';

function say(line) {
  console.log(`[rebuild-native] ${line}`);
}

function usage(problem) {
  console.error(`[rebuild-native] ${problem}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { arch: process.arch, headerUrl: DEFAULT_HEADER_URL, electronClang: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') usage(`${flag} needs a value`);
      return v;
    };
    if (flag === '--arch') options.arch = value();
    else if (flag === '--header-url') options.headerUrl = value();
    else if (flag === '--electron-clang') options.electronClang = true;
    else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else usage(`unknown argument ${argv[i]}`);
  }
  if (!ARCHES.includes(options.arch)) usage(`unknown architecture "${options.arch}" (known: ${ARCHES.join(', ')})`);
  try {
    options.headerUrl = new URL(options.headerUrl).href.replace(/\/$/, '');
  } catch {
    usage(`--header-url is not a URL: ${options.headerUrl}`);
  }
  return options;
}

/** The architecture an ELF file was built for ('x64', 'arm64', 'other'), or null (missing, not ELF). */
function elfArch(file) {
  let fd;
  try {
    fd = openSync(file, 'r');
    const header = Buffer.alloc(20);
    if (readSync(fd, header, 0, 20, 0) < 20 || header.readUInt32BE(0) !== 0x7f454c46) return null;
    const machine = header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
    return ELF_MACHINES[machine] ?? 'other';
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function onPath(name) {
  for (const folder of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!folder) continue;
    try {
      accessSync(path.join(folder, name), constants.X_OK);
      return path.join(folder, name);
    } catch {
      // not here
    }
  }
  return null;
}

function electronVersion() {
  try {
    return require('electron/package.json').version;
  } catch {
    const wanted = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).devDependencies?.electron;
    if (wanted && /^\d+\.\d+\.\d+$/.test(wanted)) return wanted;
    throw new Error('Electron is not installed and package.json names no exact electron version');
  }
}

/** Whether NO_PROXY (comma-separated host suffixes, or *) exempts host from the proxy. */
function noProxy(host) {
  const list = (process.env.no_proxy || process.env.NO_PROXY || '').split(',').map((entry) => entry.trim().replace(/^\*?\./, '')).filter(Boolean);
  return list.some((entry) => entry === '*' || host === entry || host.endsWith(`.${entry}`));
}

/** Where a download from url really connects to: the proxy when one is set for it. */
function connectTarget(url) {
  const target = new URL(url);
  const proxy =
    target.protocol === 'https:'
      ? process.env.https_proxy || process.env.HTTPS_PROXY || process.env.npm_config_https_proxy
      : process.env.http_proxy || process.env.HTTP_PROXY || process.env.npm_config_proxy;
  const via = proxy && !noProxy(target.hostname) ? new URL(proxy) : target;
  return { host: via.hostname, port: Number(via.port) || (via.protocol === 'http:' ? 80 : 443), proxy: Boolean(proxy) };
}

function reachable({ host, port }) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`));
    socket.once('connect', () => done(true));
    socket.once('error', (error) => done(error.code || error.message));
  });
}

/** The compiler environment for a Linux cross build, or null for Electron's clang. */
function crossCompiler(arch) {
  if (process.env.CXX) return { env: {}, description: `CC=${process.env.CC ?? '(make default)'} CXX=${process.env.CXX} from the environment` };
  const triple = TRIPLES[arch];
  const cxx = onPath(`${triple}-g++`);
  const cc = onPath(`${triple}-gcc`);
  if (!cxx || !cc) return null;
  const env = { CC: cc, CXX: cxx, LINK: cxx };
  const ar = onPath(`${triple}-ar`);
  if (ar) env.AR = ar;
  return { env, description: `${triple}-gcc/g++ (${path.dirname(cxx)})` };
}

/** The host build, when native/build/Release holds another architecture's (after a cross build). */
function rebuildForHost() {
  say(`native/build/Release holds a build for another architecture (a cross build); rebuilding it for ${process.platform}-${process.arch} with node-gyp.`);
  try {
    execFileSync(process.execPath, [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild'], { cwd: nativeDir, stdio: 'inherit' });
  } catch {
    say('node-gyp rebuild failed (see above).');
    process.exit(1);
  }
  return true;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const target = `${process.platform}-${options.arch}`;

  if (options.arch === process.arch) {
    const foreign = process.platform === 'linux' && outputs.some((file) => existsSync(file) && elfArch(file) !== process.arch);
    if (foreign) rebuildForHost();
    const built = outputs.every((file) => existsSync(file));
    say(
      (foreign ? `native/build/Release is a ${target} build again. ` : '') +
        `No rebuild needed for ${target} (this machine's architecture): the addon is Node-API, ABI-stable, so the ` +
        'build node-gyp made for Node loads in every Node >= 18 and in every Electron version, and electron-builder ' +
        'packages native/build/Release as it is.' +
        (built ? '' : ' (native/build/Release is not built yet: npm run build:native.)'),
    );
    return 0;
  }

  const version = electronVersion();
  const compiler = process.platform === 'linux' && !options.electronClang ? crossCompiler(options.arch) : null;
  const useElectronClang = process.platform === 'linux' && compiler === null;
  const downloads = [`${options.headerUrl}/v${version}/node-v${version}-headers.tar.gz (Electron's headers)`];
  const hosts = [options.headerUrl];
  if (useElectronClang) {
    downloads.push("Electron's clang and a Debian sysroot for " + options.arch);
    hosts.push('https://raw.githubusercontent.com/', 'https://chromium.googlesource.com/', 'https://commondatastorage.googleapis.com/', 'https://dev-cdn.electronjs.org/');
  }
  const plan =
    `@electron/rebuild would rebuild native/ (raw_socket.node and packet-workbench-helper) in place for ${target}, ` +
    `Electron ${version}, with ${compiler ? compiler.description : process.platform === 'linux' ? "Electron's clang" : 'the platform compiler'}, ` +
    `downloading ${downloads.join(' and ')}.`;

  for (const url of hosts) {
    const where = connectTarget(url);
    const probe = await reachable(where);
    if (probe !== true) {
      const ci = Boolean(process.env.CI) && process.env.CI !== 'false';
      say(`SKIPPED: ${where.host}:${where.port}${where.proxy ? ' (proxy)' : ''} is unreachable (${probe}), so nothing was built.`);
      say(plan);
      say(
        ci
          ? 'Exit 0 because CI is set: this check needs the network, which this CI run does not have.'
          : 'Exit 75: native/build/Release still holds the host build, which must not go into a package for ' +
              `${options.arch}. Run this again where ${new URL(url).host} is reachable.`,
      );
      return ci ? 0 : 75;
    }
  }

  say(plan);
  // npm may pass its nodedir setting (the host Node's headers) to node-gyp; the point here is Electron's.
  delete process.env.npm_config_nodedir;
  if (compiler) Object.assign(process.env, compiler.env);
  const { rebuild } = await import('@electron/rebuild');
  const started = Date.now();
  try {
    const building = rebuild({
      buildPath: nativeDir,
      projectRootPath: root,
      electronVersion: version,
      arch: options.arch,
      headerURL: options.headerUrl,
      onlyModules: [],
      force: true,
      mode: 'sequential',
      useElectronClang,
    });
    building.lifecycle.on('module-found', (name) => say(`building ${name} for ${target}…`));
    await building;
  } catch (error) {
    say(`the rebuild failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  if (process.platform === 'linux') {
    const wrong = outputs.filter((file) => elfArch(file) !== options.arch);
    if (wrong.length > 0) {
      say(`the rebuild finished but ${wrong.map((file) => path.relative(root, file)).join(', ')} is not an ${options.arch} ELF file.`);
      return 1;
    }
  }
  say(
    `native/build/Release now holds ${target} binaries (${((Date.now() - started) / 1000).toFixed(1)} s): package them with ` +
      `electron-builder --linux --${options.arch}. This machine's tests need the host build back: ` +
      `npm run rebuild:native -- --arch ${process.arch}.`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    say(`failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
