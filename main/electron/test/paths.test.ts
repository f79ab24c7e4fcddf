// The app's files as main.ts resolves them (main/electron/paths.ts), in the two layouts Electron
// starts: a source checkout started as `electron .` (the repo root is the app path) and the
// packaged app (resources/app.asar is the app path). Each resolved file must exist in
// its layout (the packaged layout is checked in main/test/packaging.test.ts, which already runs
// electron-builder); the launch the issue found broken (`electron dist/main/electron/main.js`, whose
// app path is dist/main/electron) must not resolve. main.ts itself is then started with a fake
// Electron whose app path is the repo root. Needs `npm run build` first.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { appFiles, launchHint, mainEntry } from '../paths';
import { FakeElectronWindow, FakeIpcMain, fakeApp } from './fake-electron';

const root = path.resolve(__dirname, '..', '..', '..');
const MAIN = path.join(root, 'dist', 'main', 'electron', 'main.js');

describe('a source checkout started as `electron .` (the repo root is the app path)', () => {
  it('resolves package.json "main" to the built main.js, and the renderer and preload that exist', () => {
    expect(mainEntry(root)).toBe(MAIN);
    const files = appFiles(root, {});
    expect(files).toEqual({
      renderer: path.join(root, 'renderer', 'dist', 'index.html'),
      preload: path.join(root, 'dist', 'preload', 'preload.bundle.js'),
    });
    for (const file of [MAIN, files.renderer, files.preload]) expect(existsSync(file), `${file} (npm run build)`).toBe(true);
  });

  it('does not resolve from dist/main/electron, the app path of `electron dist/main/electron/main.js`', () => {
    const wrong = path.dirname(MAIN);
    expect(() => mainEntry(wrong)).toThrow(/package\.json/);
    const files = appFiles(wrong, {});
    expect([files.renderer, files.preload].filter((file) => existsSync(file))).toEqual([]);
    expect(launchHint(wrong)).toContain(`app path is ${wrong}`);
  });

  it('honours the development overrides', () => {
    expect(appFiles(root, { WORKBENCH_RENDERER_INDEX: 'x/index.html', WORKBENCH_PRELOAD: '/p.js' })).toEqual({
      renderer: path.resolve('x/index.html'),
      preload: '/p.js',
    });
  });
});

describe('main.ts with the repo root as its app path (Electron faked)', () => {
  afterEach(() => {
    vi.doUnmock('electron');
    vi.restoreAllMocks();
    FakeElectronWindow.instances = [];
  });

  async function start(appPath: string) {
    const electron = fakeApp();
    electron.app.getAppPath = () => appPath;
    vi.resetModules();
    vi.doMock('electron', () => ({ ...electron, ipcMain: new FakeIpcMain(), BrowserWindow: FakeElectronWindow }));
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    vi.stubEnv('WORKBENCH_RENDERER_INDEX', undefined);
    vi.stubEnv('WORKBENCH_PRELOAD', undefined);
    await import('../main.js');
    return electron;
  }

  it('loads renderer/dist/index.html with dist/preload/preload.bundle.js', async () => {
    const electron = await start(root);
    await expect.poll(() => FakeElectronWindow.instances[0]?.loaded ?? null).toBe(path.join(root, 'renderer', 'dist', 'index.html'));
    const options = FakeElectronWindow.instances[0].options as { webPreferences: { preload: string } };
    expect(options.webPreferences.preload).toBe(path.join(root, 'dist', 'preload', 'preload.bundle.js'));
    expect(electron.dialog.errors).toEqual([]);
    for (const listener of electron.app.events.get('window-all-closed') ?? []) listener();
    await expect.poll(() => electron.app.quitCalled).toBe(true);
  });

  it('started from dist/main/electron, names the app path and how to start it', async () => {
    const electron = await start(path.dirname(MAIN));
    await expect.poll(() => electron.app.exitCode).toBe(1);
    expect(electron.dialog.errors[0]).toContain(`Electron's app path is ${path.dirname(MAIN)}`);
    expect(electron.dialog.errors[0]).toContain('(electron .)');
  });
});
