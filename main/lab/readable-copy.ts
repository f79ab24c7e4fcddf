// Tests run as root create the conditions, then run the workbench as another user (nobody)
// to prove what an unprivileged user can do. The checkout may live where that user cannot
// read (/root is mode 0700), so what the other user runs is copied first into a fresh temp
// folder every user can read: the built JS, the renderer, the addon and the helper, and the
// runtime dependencies. Nothing is modified in the checkout.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface ReadableCopy {
  /** The copy's root: package.json, dist/, renderer/dist/, native/, node_modules/. */
  readonly root: string;
  /** dist/main/cli.js in the copy. */
  readonly cli: string;
  /** The copy of native/ (package.json, dist/, build/Release/raw_socket.node). */
  readonly nativeDir: string;
  /** The socket helper in the copy (not installed, no capability). */
  readonly helper: string;
  /** Copies another file in (e.g. a test fixture) and returns its path in the copy. */
  add(file: string, name?: string): string;
  remove(): void;
}

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
/** The packages the built main process requires at run time: package.json "dependencies" (the addon is linked, not copied). */
function runtimePackages(root: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return Object.keys(manifest.dependencies ?? {}).filter((name) => name !== '@packet-workbench/raw-socket');
}

/** The project root of this checkout: beside main/ (source) or dist/main/ (built). */
function projectRoot(): string {
  for (const candidate of [PROJECT_ROOT, path.resolve(PROJECT_ROOT, '..')]) {
    if (existsSync(path.join(candidate, 'package.json')) && existsSync(path.join(candidate, 'native', 'package.json'))) return candidate;
  }
  throw new Error(`Cannot find the project root from ${__dirname}`);
}

function makeReadable(target: string): void {
  const stat = statSync(target);
  if (stat.isDirectory()) {
    chmodSync(target, 0o755);
    for (const entry of readdirSync(target)) makeReadable(path.join(target, entry));
  } else if (stat.isFile()) {
    chmodSync(target, stat.mode & 0o111 ? 0o755 : 0o644);
  }
}

/**
 * Copies the built workbench (`npm run build` output) into a 0755 temp folder. Throws, naming
 * the missing build step, when something is not built.
 */
export function readableCopy(prefix = 'pw-readable'): ReadableCopy {
  const source = projectRoot();
  const needed: [string, string][] = [
    ['dist/main/cli.js', 'npm run build:main'],
    ['renderer/dist/index.html', 'npm run build:renderer'],
    ['native/dist/index.js', 'npm run build:native'],
    ['native/build/Release/raw_socket.node', 'npm run build:native'],
  ];
  for (const [file, step] of needed) {
    if (!existsSync(path.join(source, file))) throw new Error(`${file} is missing: run \`${step}\` (or \`npm run build\`) first`);
  }
  const root = mkdtempSync(path.join(tmpdir(), `${prefix}-${process.pid}-`));
  try {
    const copy = (relative: string): void => {
      const from = path.join(source, relative);
      if (!existsSync(from)) return;
      cpSync(from, path.join(root, relative), { recursive: true, dereference: true });
    };
    copy('package.json');
    copy('dist');
    copy('renderer/dist');
    copy('e2e/serve.mjs');
    copy('native/package.json');
    copy('native/dist');
    mkdirSync(path.join(root, 'native', 'build', 'Release'), { recursive: true });
    for (const file of ['raw_socket.node', 'packet-workbench-helper']) copy(`native/build/Release/${file}`);
    for (const name of runtimePackages(source)) copy(`node_modules/${name}`);
    mkdirSync(path.join(root, 'node_modules', '@packet-workbench'), { recursive: true });
    symlinkSync('../../native', path.join(root, 'node_modules', '@packet-workbench', 'raw-socket'));
    makeReadable(root);
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    root,
    cli: path.join(root, 'dist', 'main', 'cli.js'),
    nativeDir: path.join(root, 'native'),
    helper: path.join(root, 'native', 'build', 'Release', 'packet-workbench-helper'),
    add(file: string, name = path.basename(file)): string {
      const target = path.join(root, 'fixtures', name);
      mkdirSync(path.dirname(target), { recursive: true });
      chmodSync(path.dirname(target), 0o755);
      cpSync(file, target);
      chmodSync(target, 0o755);
      return target;
    },
    remove(): void {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Writes a sudoers rule (validated with visudo) and returns the function that removes it. */
export function sudoersRule(name: string, rule: string): () => void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new RangeError(`Invalid sudoers file name '${name}'`);
  const file = path.join('/etc/sudoers.d', name);
  writeFileSync(file, `${rule}\n`, { mode: 0o440 });
  try {
    execFileSync('visudo', ['-cf', file], { stdio: 'pipe', timeout: 10_000 });
  } catch (error) {
    rmSync(file, { force: true });
    throw new Error(`sudoers rule refused by visudo: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
  }
  return () => rmSync(file, { force: true });
}
