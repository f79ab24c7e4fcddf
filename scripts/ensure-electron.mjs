#!/usr/bin/env node
// postinstall guard. package.json's "allowScripts": {"electron": false} keeps npm
// from running Electron's own downloader, which fails the whole install where
// there is no network. This script fetches the binary where the network allows
// and otherwise says so in one line and exits 0: the install never fails for it,
// and npm start falls back to the browser host.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const PROBE_TIMEOUT_MS = 4000;
const DOWNLOAD_TIMEOUT_MS = Number(process.env.WORKBENCH_ELECTRON_DOWNLOAD_TIMEOUT_MS ?? 180_000);
const LATER = 'npm start will use the browser host; to fetch it later: node node_modules/electron/install.js';

function say(line) {
  console.log(`[ensure-electron] ${line}`);
}

function binaryPresent() {
  try {
    const binary = require('electron');
    return typeof binary === 'string' && existsSync(binary);
  } catch {
    return false;
  }
}

/** Where Electron downloads from: ELECTRON_MIRROR, or GitHub's releases. */
function downloadHost() {
  const mirror = process.env.ELECTRON_MIRROR || process.env.npm_config_electron_mirror;
  const url = new URL(mirror || 'https://github.com/');
  return { host: url.hostname, port: Number(url.port) || (url.protocol === 'http:' ? 80 : 443) };
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

async function main() {
  const installer = path.join(root, 'node_modules', 'electron', 'install.js');
  if (!existsSync(installer)) return say('electron is not installed (a production install?); nothing to do.');
  if (binaryPresent()) return;
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    return say(`Electron's binary was not fetched: ELECTRON_SKIP_BINARY_DOWNLOAD is set. ${LATER}`);
  }
  const target = downloadHost();
  const probe = await reachable(target);
  if (probe !== true) {
    return say(`Electron's binary was not fetched: ${target.host}:${target.port} is unreachable (${probe}). ${LATER}`);
  }
  const outcome = await new Promise((resolve) => {
    const child = spawn(process.execPath, [installer], { cwd: path.dirname(installer), stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      resolve(`the download took longer than ${DOWNLOAD_TIMEOUT_MS / 1000} s`);
    }, DOWNLOAD_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const firstLine = stderr.split('\n').find((line) => line.trim() && !/^\s+at /.test(line));
      resolve(code === 0 ? true : firstLine?.trim() || `the installer exited with ${code}`);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve(error.message);
    });
  });
  if (outcome === true && binaryPresent()) return say("Electron's binary is installed.");
  say(`Electron's binary was not fetched: ${outcome === true ? 'the installer left no binary' : outcome}. ${LATER}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    say(`Electron's binary was not fetched: ${error.message}. ${LATER}`);
    process.exit(0);
  },
);
