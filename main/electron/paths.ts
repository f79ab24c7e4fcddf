// Where the Electron app's files are, from Electron's app path: the folder (or app.asar)
// holding package.json, as `electron .` and every package start it. main.ts uses these, and
// the launch tests resolve the same paths in a checkout and in the packaged layout.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface AppFiles {
  /** The built renderer page. Override: WORKBENCH_RENDERER_INDEX. */
  renderer: string;
  /** The preload bundle (built by vite). Override: WORKBENCH_PRELOAD. */
  preload: string;
}

/** The renderer and preload of the app at `appPath` (app.getAppPath()). */
export function appFiles(appPath: string, env: NodeJS.ProcessEnv = process.env): AppFiles {
  return {
    renderer: path.resolve(env.WORKBENCH_RENDERER_INDEX ?? path.join(appPath, 'renderer', 'dist', 'index.html')),
    preload: path.resolve(env.WORKBENCH_PRELOAD ?? path.join(appPath, 'dist', 'preload', 'preload.bundle.js')),
  };
}

/**
 * The main script Electron starts for the app at `appPath`: its package.json "main". `read`
 * reads a file (Electron's fs reads inside app.asar; tests pass an asar reader).
 */
export function mainEntry(appPath: string, read: (file: string) => string = (file) => readFileSync(file, 'utf8')): string {
  const manifest = JSON.parse(read(path.join(appPath, 'package.json'))) as { main?: unknown };
  if (typeof manifest.main !== 'string' || manifest.main === '') throw new TypeError(`${path.join(appPath, 'package.json')} has no "main"`);
  return path.resolve(appPath, manifest.main);
}

/** What to say when a file of the app is missing: which app path Electron was given, and how to start it. */
export function launchHint(appPath: string): string {
  return `Electron's app path is ${appPath}: start Electron with the app's root, where package.json is (electron .).`;
}
