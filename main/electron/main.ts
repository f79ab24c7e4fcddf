// The Electron app: one window showing the built renderer, the engine beside it in
// this (main) process, the contract between them over IPC.
//
// Paths, from Electron's app path (the root where package.json is; see paths.ts):
//   renderer  WORKBENCH_RENDERER_INDEX  or  <app>/renderer/dist/index.html
//   preload   WORKBENCH_PRELOAD         or  <app>/dist/preload/preload.bundle.js (built by vite)
import * as fs from 'node:fs';
import { app, BrowserWindow, dialog, ipcMain, session } from 'electron';
import { Workbench } from '../engine';
import { registerIpc } from './ipc';
import { appFiles, launchHint } from './paths';
import { hardenContents, hardenSession, rendererUrl, windowOptions } from './security';

/** Why the GUI will not start as root, and what to do instead. */
export const ROOT_REFUSAL =
  'Packet Workbench does not run its window as root: Chromium refuses to sandbox a root renderer, and a ' +
  'compromised page would own the machine.\n' +
  'Run it as your normal user. Without privileges the window can ping with ICMP "ping" (datagram) sockets ' +
  'where net.ipv4.ping_group_range includes your group; raw sockets need CAP_NET_RAW. For raw sockets ' +
  'without root, run the browser host or the CLI with a node that has it (setcap cap_net_raw+ep on the ' +
  'node binary, then npm run serve). As root, npm start runs the browser host instead of this window.';

function refuseRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    process.stderr.write(`${ROOT_REFUSAL}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  refuseRoot();
  // Every renderer sandboxed, whatever a window's own options say.
  app.enableSandbox();

  // Any web contents, not only our window: no navigation, no new windows, no webviews.
  app.on('web-contents-created', (_event, contents) => hardenContents(contents));

  await app.whenReady();
  hardenSession(session.defaultSession);

  const { renderer: index, preload } = appFiles(app.getAppPath());
  for (const [file, what, build] of [
    [index, 'renderer', 'npm run build'],
    [preload, 'preload bundle', 'npx vite build --config preload/vite.config.mts'],
  ] as const) {
    if (!fs.existsSync(file)) {
      dialog.showErrorBox('Packet Workbench', `The ${what} is not built: ${file} is missing. Run ${build} first.\n${launchHint(app.getAppPath())}`);
      app.exit(1);
      return;
    }
  }

  const engine = new Workbench();
  const window = new BrowserWindow(windowOptions(preload));
  registerIpc({ ipcMain, engine, window, expectedUrl: rendererUrl(index) });
  window.once('ready-to-show', () => window.show());

  app.on('window-all-closed', () => {
    void Promise.resolve(engine.close()).finally(() => app.quit());
  });
  await window.loadFile(index);
}

main().catch((error: unknown) => {
  process.stderr.write(`Packet Workbench failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  app.exit(1);
});
