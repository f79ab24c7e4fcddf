#!/usr/bin/env node
// What `npm start` runs after the build: the Electron window where Electron can
// run, and otherwise the browser host, saying why and printing its URL.
//   node scripts/start.mjs [--browser] [--port N]
// --browser forces the browser host; --port is passed to it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const args = process.argv.slice(2);

const built = {
  electronMain: path.join(root, 'dist', 'main', 'electron', 'main.js'),
  preload: path.join(root, 'dist', 'preload', 'preload.bundle.js'),
  serve: path.join(root, 'dist', 'main', 'web', 'serve.js'),
  renderer: path.join(root, 'renderer', 'dist', 'index.html'),
};

/** The Electron binary, or why there is none. */
function findElectron() {
  let binary;
  try {
    binary = require('electron');
  } catch (error) {
    return { reason: `Electron's binary is not installed (${error.message.split('\n')[0]})` };
  }
  if (typeof binary !== 'string' || !existsSync(binary)) {
    return { reason: `Electron's binary is not installed (${binary} does not exist)` };
  }
  return { binary };
}

/** Why the window cannot (or should not) open here; null when it can. */
function whyNotElectron() {
  if (args.includes('--browser')) return 'The browser host was asked for (--browser).';
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    return (
      'Running as root: the Electron window never runs as root (Chromium will not sandbox a root renderer, ' +
      'and a compromised page would own the machine), so the browser host starts instead. ' +
      'To get the window, run npm start as your normal user.'
    );
  }
  const electron = findElectron();
  if (!electron.binary) {
    return (
      `${electron.reason}, so the browser host starts instead. ` +
      'npm does not run Electron\'s own downloader here; to fetch the binary where the network allows: ' +
      'node node_modules/electron/install.js'
    );
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return 'No display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the browser host starts instead.';
  }
  for (const file of [built.electronMain, built.preload]) {
    if (!existsSync(file)) return `${path.relative(root, file)} is not built (run npm run build), so the browser host starts instead.`;
  }
  return null;
}

function run(command, commandArgs) {
  const child = spawn(command, commandArgs, { stdio: 'inherit', cwd: root });
  // Ctrl+C reaches the child too (same process group); we wait for it to finish.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  child.on('error', (error) => {
    console.error(`Could not start ${command}: ${error.message}`);
    process.exit(1);
  });
}

const reason = whyNotElectron();
if (reason === null) {
  run(findElectron().binary, [root]);
} else {
  if (!existsSync(built.serve)) {
    console.error(`${reason}\nBut ${path.relative(root, built.serve)} is not built either: run npm run build first.`);
    process.exit(1);
  }
  if (!existsSync(built.renderer)) {
    console.error(`Note: the renderer is not built (${path.relative(root, built.renderer)} is missing); the page will say so.`);
  }
  const passOn = [];
  const portAt = args.indexOf('--port');
  if (portAt >= 0) passOn.push('--port', args[portAt + 1] ?? '');
  run(process.execPath, [built.serve, ...passOn, '--reason', reason]);
}
