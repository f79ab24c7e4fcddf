'use strict';
// raw-socket 1.8.1, the module we replace, installed into a scratch folder for the
// comparison only: `npm install --no-save --prefix <scratch>`, never into the project.
// Reused while it still loads in this Node (same ABI); rebuilt otherwise.

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const VERSION = '1.8.1';
const DEFAULT_DIR = path.join(__dirname, '.scratch', `raw-socket-${VERSION}-node-abi${process.versions.modules}-${process.platform}-${process.arch}`);

function packageDir(dir) {
  return path.join(dir, 'node_modules', 'raw-socket');
}

/** Loads raw-socket in a separate process, so a crash or ABI mismatch cannot take the runner down. */
function probe(dir) {
  const pkg = packageDir(dir);
  let version;
  try {
    version = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version;
  } catch {
    return { ok: false, reason: 'not installed' };
  }
  if (version !== VERSION) return { ok: false, reason: `found raw-socket ${version}, want ${VERSION}` };
  if (!fs.existsSync(path.join(pkg, 'build', 'Release', 'raw.node'))) return { ok: false, reason: 'installed but its addon was not built' };
  const check = spawnSync(process.execPath, ['-e', `const r = require(${JSON.stringify(pkg)}); if (typeof r.createChecksum !== 'function') process.exit(3);`], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (check.status !== 0) return { ok: false, reason: `does not load: ${(check.stderr || check.error || '').toString().trim().split('\n').slice(0, 6).join(' | ')}` };
  return { ok: true };
}

function tail(text, lines) {
  return String(text || '').trim().split('\n').slice(-lines).join('\n');
}

/**
 * -> {available: true, dir, reused} or {available: false, dir, reason}
 * log(line) reports progress.
 */
function ensureRawSocket(log, dir = DEFAULT_DIR) {
  const before = probe(dir);
  if (before.ok) return { available: true, dir, reused: true };
  log(`raw-socket ${VERSION}: ${before.reason}; installing into ${path.relative(process.cwd(), dir) || dir} ...`);
  fs.mkdirSync(dir, { recursive: true });
  // Keeps the scratch folder out of git without touching the project's .gitignore,
  // and gives npm a root of its own (so it never walks up into the workspace).
  const scratchRoot = path.join(__dirname, '.scratch');
  if (dir.startsWith(scratchRoot) && !fs.existsSync(path.join(scratchRoot, '.gitignore'))) {
    fs.writeFileSync(path.join(scratchRoot, '.gitignore'), '# benchmark scratch installs (see native/bench/raw-socket-scratch.js)\n*\n');
  }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'raw-socket-bench-scratch', private: true }, null, 2) + '\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const install = spawnSync(npm, ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir, `raw-socket@${VERSION}`], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (install.error) return { available: false, dir, reason: `npm install failed to run: ${install.error.message}` };
  if (install.status !== 0) {
    return { available: false, dir, reason: `npm install exited with ${install.status}:\n${tail(install.stderr || install.stdout, 15)}` };
  }
  let after = probe(dir);
  if (!after.ok && fs.existsSync(packageDir(dir)) && !fs.existsSync(path.join(packageDir(dir), 'build', 'Release', 'raw.node'))) {
    // npm may have skipped the install script (npm's allowScripts policy): build it ourselves.
    log('raw-socket was installed without running its build script; running node-gyp rebuild ...');
    const nodeGyp = path.join(__dirname, '..', '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    const nodedir = spawnSync(npm, ['config', 'get', 'nodedir'], { encoding: 'utf8', timeout: 30_000 }).stdout;
    const args = [nodeGyp, 'rebuild'];
    if (nodedir && nodedir.trim() && nodedir.trim() !== 'undefined' && nodedir.trim() !== 'null') args.push(`--nodedir=${nodedir.trim()}`);
    const build = fs.existsSync(nodeGyp)
      ? spawnSync(process.execPath, args, { cwd: packageDir(dir), encoding: 'utf8', timeout: 240_000 })
      : spawnSync(npm, ['rebuild', '--prefix', dir, 'raw-socket'], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
    if (build.status !== 0) {
      return { available: false, dir, reason: `node-gyp rebuild failed:\n${tail(build.stderr || build.stdout || build.error, 15)}` };
    }
    after = probe(dir);
  }
  if (!after.ok) return { available: false, dir, reason: `after npm install: ${after.reason}\n${tail(install.stderr, 10)}` };
  return { available: true, dir, reused: false };
}

module.exports = { ensureRawSocket, VERSION, DEFAULT_DIR };
