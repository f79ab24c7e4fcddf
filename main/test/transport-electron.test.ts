// main/electron and preload/ with Electron faked at the boundary: the window's
// security settings, navigation and permission refusals, the IPC handlers derived
// from the contract (sender check, validation, serialized errors, events), and the
// preload bridge as the page sees it through a context bridge.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { methodNames, type EventBatch } from '../../common/contract';
import { FRAME_ROWS } from '../engine/event-frames';
import { EVENTS_CHANNEL, methodChannel, registerIpc, type IpcOutcome } from '../electron/ipc';
import {
  ELECTRON_CSP,
  hardenContents,
  hardenSession,
  isTrustedSender,
  rendererUrl,
  windowOptions,
} from '../electron/security';
import {
  FakeBrowserWindow,
  FakeContextBridge,
  FakeElectronWindow,
  FakeIpcMain,
  FakeIpcRenderer,
  fakeApp,
} from '../electron/test/fake-electron';
import { createFakeEngine, type FakeEngine } from '../web/test/fake-engine';
import { createBridge } from '../../preload/bridge';

const INDEX = '/opt/Packet Workbench/resources/app.asar/renderer/dist/index.html';
const URL_OF_INDEX = rendererUrl(INDEX);

function setup() {
  const ipcMain = new FakeIpcMain();
  const engine = createFakeEngine();
  const window = new FakeBrowserWindow(URL_OF_INDEX);
  const dispose = registerIpc({ ipcMain, engine, window: window as never, expectedUrl: URL_OF_INDEX });
  const renderer = new FakeIpcRenderer(ipcMain, window.webContents);
  return { ipcMain, engine, window, dispose, renderer };
}

describe('window security settings', () => {
  it('isolates and sandboxes the renderer, with no Node and web security on', () => {
    const options = windowOptions('/app/dist/preload/preload.bundle.js');
    expect(options.webPreferences).toMatchObject({
      preload: '/app/dist/preload/preload.bundle.js',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('has a strict CSP: self only, no eval, no inline script, connect-src self', () => {
    const directives = Object.fromEntries(
      ELECTRON_CSP.split(';').map((part) => {
        const [name, ...values] = part.trim().split(/\s+/);
        return [name, values];
      }),
    );
    expect(directives['default-src']).toEqual(["'self'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['connect-src']).toEqual(["'self'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(ELECTRON_CSP).not.toMatch(/unsafe-eval|unsafe-inline|\*/);
  });

  it('refuses navigation, redirects, webviews and new windows', () => {
    const window = new FakeBrowserWindow(URL_OF_INDEX);
    hardenContents(window.webContents as never);
    for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
      const preventDefault = vi.fn();
      window.webContents.emit(event, { preventDefault }, 'https://example.com/');
      expect(preventDefault, event).toHaveBeenCalledOnce();
    }
    expect(window.webContents.windowOpenHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
  });

  it('denies every permission request and check, and puts the CSP header on responses', () => {
    let requestHandler: ((...args: unknown[]) => void) | null = null;
    let checkHandler: ((...args: unknown[]) => boolean) | null = null;
    let headersHandler: ((details: unknown, callback: (response: unknown) => void) => void) | null = null;
    hardenSession({
      setPermissionRequestHandler: (handler: never) => (requestHandler = handler),
      setPermissionCheckHandler: (handler: never) => (checkHandler = handler),
      webRequest: { onHeadersReceived: (handler: never) => (headersHandler = handler) },
    } as never);
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal']) {
      const callback = vi.fn();
      requestHandler!({}, permission, callback, {});
      expect(callback).toHaveBeenCalledWith(false);
      expect(checkHandler!({}, permission, 'file://', {})).toBe(false);
    }
    const callback = vi.fn();
    headersHandler!(
      { url: URL_OF_INDEX, resourceType: 'mainFrame', responseHeaders: { 'content-security-policy': ["default-src *"] } },
      callback,
    );
    const headers = callback.mock.calls[0][0].responseHeaders as Record<string, string[]>;
    expect(headers['Content-Security-Policy']).toEqual([ELECTRON_CSP]);
    expect(headers['content-security-policy']).toBeUndefined();
  });
});

describe('IPC sender check', () => {
  const window = new FakeBrowserWindow(URL_OF_INDEX);
  const contents = window.webContents;

  it('trusts the top frame of our window showing our index.html (any query or hash)', () => {
    expect(isTrustedSender({ sender: contents, senderFrame: contents.mainFrame } as never, window as never, URL_OF_INDEX)).toBe(true);
    const routed = { ...contents.mainFrame, url: `${URL_OF_INDEX}?view=log#/sockets` };
    expect(isTrustedSender({ sender: contents, senderFrame: routed } as never, window as never, URL_OF_INDEX)).toBe(true);
  });

  it('refuses another window, an iframe, another page, a missing frame and a destroyed window', () => {
    const other = new FakeBrowserWindow(URL_OF_INDEX).webContents;
    const cases: [string, unknown][] = [
      ['another window', { sender: other, senderFrame: other.mainFrame }],
      ['an iframe', { sender: contents, senderFrame: contents.childFrame(URL_OF_INDEX) }],
      ['another file', { sender: contents, senderFrame: { ...contents.mainFrame, url: 'file:///tmp/evil.html' } }],
      ['a web page', { sender: contents, senderFrame: { ...contents.mainFrame, url: 'https://example.com/index.html' } }],
      ['another frame id', { sender: contents, senderFrame: { ...contents.mainFrame, routingId: 5 } }],
      ['no frame', { sender: contents, senderFrame: null }],
    ];
    for (const [what, event] of cases) {
      expect(isTrustedSender(event as never, window as never, URL_OF_INDEX), what).toBe(false);
    }
    const closed = new FakeBrowserWindow(URL_OF_INDEX);
    closed.destroyed = true;
    const event = { sender: closed.webContents, senderFrame: closed.webContents.mainFrame };
    expect(isTrustedSender(event as never, closed as never, URL_OF_INDEX)).toBe(false);
  });
});

describe('IPC handlers derived from the contract', () => {
  it('registers exactly one handler per contract method', () => {
    const { ipcMain } = setup();
    expect([...ipcMain.handlers.keys()].sort()).toEqual(methodNames.map((name) => `workbench:${name}`).sort());
  });

  it('calls the engine with validated parameters (defaults filled in)', async () => {
    const { engine, renderer } = setup();
    const outcome = (await renderer.invoke(methodChannel('openSocket'), { family: 'ipv4', protocol: 1 })) as IpcOutcome;
    expect(outcome).toMatchObject({ ok: true, result: { socketId: 's1', family: 'ipv4', protocol: 1 } });
    expect(engine.calls).toEqual([{ method: 'openSocket', params: { family: 'ipv4', protocol: 1, mode: 'auto', includeOwnTraffic: false } }]);
  });

  it('answers bad parameters with a serialized validation error naming the field, without calling the engine', async () => {
    const { engine, renderer } = setup();
    const outcome = (await renderer.invoke(methodChannel('openSocket'), { family: 'ipv4', protocol: 256 })) as IpcOutcome;
    expect(outcome).toEqual({
      ok: false,
      error: expect.objectContaining({ name: 'WorkbenchError', code: 'INVALID_ARGUMENT', field: 'protocol' }),
    });
    expect(engine.calls).toEqual([]);
  });

  it("passes the engine's own errors through with their code and field", async () => {
    const { renderer } = setup();
    const outcome = (await renderer.invoke(methodChannel('closeSocket'), { socketId: 'nope' })) as IpcOutcome;
    expect(outcome).toEqual({ ok: false, error: expect.objectContaining({ code: 'NOT_FOUND', field: 'socketId' }) });
  });

  it('refuses a foreign sender before validating or calling anything', async () => {
    const { ipcMain, engine, window } = setup();
    const iframe = new FakeIpcRenderer(ipcMain, window.webContents, window.webContents.childFrame(URL_OF_INDEX));
    const otherWindow = new FakeBrowserWindow(URL_OF_INDEX);
    const stranger = new FakeIpcRenderer(ipcMain, otherWindow.webContents);
    for (const caller of [iframe, stranger]) {
      const outcome = (await caller.invoke(methodChannel('capabilities'), {})) as IpcOutcome;
      expect(outcome).toEqual({ ok: false, error: expect.objectContaining({ code: 'FORBIDDEN' }) });
    }
    expect(engine.calls).toEqual([]);
  });

  it("forwards the engine's event batches to the window on one channel", () => {
    const { engine, window } = setup();
    const batch: EventBatch = [{ type: 'logCleared' }];
    engine.emit(batch);
    expect(window.webContents.sent).toEqual([{ channel: EVENTS_CHANNEL, args: [batch] }]);
  });

  it('sends a flood batch as messages of at most FRAME_ROWS rows, in order', () => {
    const { engine, window } = setup();
    const rows = Array.from({ length: 2 * FRAME_ROWS + 1 }, (_, id) => ({
      id, time: 0, direction: 'sent' as const, socketId: 's1', family: 'ipv4' as const,
      source: '127.0.0.1', destination: '127.0.0.1', protocol: 'ICMP', length: 84, info: '',
    }));
    engine.emit([{ type: 'log', rows }]);
    const sent = window.webContents.sent.map((message) => message.args[0] as EventBatch);
    expect(sent.map((frame) => frame.map((event) => (event.type === 'log' ? event.rows.length : event.type)))).toEqual([[FRAME_ROWS], [FRAME_ROWS], [1]]);
    expect(sent.flatMap((frame) => frame.flatMap((event) => (event.type === 'log' ? event.rows.map((row) => row.id) : [])))).toEqual(rows.map((row) => row.id));
  });

  it('removes its handlers and its subscription when the window closes', () => {
    const { ipcMain, engine, window } = setup();
    expect(engine.subscribers).toBe(1);
    window.close();
    expect(engine.subscribers).toBe(0);
    expect(ipcMain.handlers.size).toBe(0);
    engine.emit([{ type: 'logCleared' }]);
    expect(window.webContents.sent).toEqual([]);
  });
});

describe('preload bridge', () => {
  let ipcMain: FakeIpcMain;
  let engine: FakeEngine;
  let window: FakeBrowserWindow;
  let renderer: FakeIpcRenderer;
  let page: Record<string, any>;

  beforeEach(async () => {
    ({ ipcMain, engine, window, renderer } = setup());
    const contextBridge = new FakeContextBridge();
    vi.resetModules();
    vi.doMock('electron', () => ({ contextBridge, ipcRenderer: renderer }));
    await import('../../preload/preload.js');
    page = contextBridge.mainWorld.workbench as Record<string, any>;
  });
  afterEach(() => {
    vi.doUnmock('electron');
  });

  it('exposes one function per contract method plus onEvents, and nothing else', () => {
    expect(Object.keys(page).sort()).toEqual([...methodNames, 'onEvents'].sort());
    for (const value of Object.values(page)) expect(typeof value).toBe('function');
    // 'send' is the contract's send-a-packet method, not a generic channel send.
    expect(page).not.toHaveProperty('invoke');
    expect(page).not.toHaveProperty('ipcRenderer');
  });

  it("'send' is the contract method: a channel name given to it is refused as parameters", async () => {
    await expect(page.send('workbench:capabilities', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(engine.calls).toEqual([]);
  });

  it('calls reach the engine and results come back', async () => {
    await expect(page.openSocket({ family: 'ipv6', protocol: 58 })).resolves.toMatchObject({ family: 'ipv6', protocol: 58 });
    await expect(page.listSockets()).resolves.toHaveLength(1);
    expect(engine.calls.map((call) => call.method)).toEqual(['openSocket', 'listSockets']);
  });

  it('errors reach the page with their code and field, though the bridge strips Error objects', async () => {
    const error = await page.send({ socketId: 's1', address: '256.1.1.1', packet: { hex: '00' } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'WorkbenchError', code: 'INVALID_ARGUMENT', field: 'address' });
    expect(error.message).toMatch(/address/);
  });

  it('delivers event batches to onEvents listeners until unsubscribed, without the IPC event', () => {
    const received: unknown[] = [];
    const unsubscribe = page.onEvents((...args: unknown[]) => received.push(args));
    engine.emit([{ type: 'logCleared' }]);
    expect(received).toEqual([[[{ type: 'logCleared' }]]]);
    unsubscribe();
    expect(renderer.listenerCount(EVENTS_CHANNEL)).toBe(0);
    engine.emit([{ type: 'logCleared' }]);
    expect(received).toHaveLength(1);
  });

  it('createBridge returns a frozen object', () => {
    const bridge = createBridge(renderer as never);
    expect(Object.isFrozen(bridge)).toBe(true);
  });
});

describe('preload bundle', () => {
  let outDir: string;
  afterEach(() => rmSync(outDir, { recursive: true, force: true }));

  it("is one file that requires only 'electron', so a sandboxed renderer can load it", async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'preload-'));
    const { build } = await import('vite');
    await build({
      configFile: path.join(__dirname, '../../preload/vite.config.mts'),
      build: { outDir, emptyOutDir: true },
      logLevel: 'silent',
    });
    const code = readFileSync(path.join(outDir, 'preload.bundle.js'), 'utf8');
    const required = [...code.matchAll(/require\(["']([^"']+)["']\)/g)].map((match) => match[1]);
    expect(new Set(required)).toEqual(new Set(['electron']));

    // Run it the way a sandboxed preload runs: a require that knows only 'electron'.
    const { renderer } = setup();
    const contextBridge = new FakeContextBridge();
    const electron = { contextBridge, ipcRenderer: renderer };
    const sandboxRequire = (name: string) => {
      if (name === 'electron') return electron;
      throw new Error(`module not found: ${name}`);
    };
    const module = { exports: {} };
    vm.runInNewContext(`(function (require, module, exports) {${code}\n})`, { Promise, Object, Array, Error, TypeError, Symbol, Map, Set, JSON, Number, String, RegExp, Math, Reflect, WeakMap })(
      sandboxRequire,
      module,
      module.exports,
    );
    const exposed = contextBridge.mainWorld.workbench as Record<string, any>;
    expect(Object.keys(exposed).sort()).toEqual([...methodNames, 'onEvents'].sort());
    await expect(exposed.capabilities()).resolves.toMatchObject({ platform: 'linux' });
    await expect(exposed.openSocket({ family: 'ipv4', protocol: -1 })).rejects.toMatchObject({ field: 'protocol' });
  });
});

describe('the app entry (main/electron/main.ts)', () => {
  let dir: string;
  const env = { ...process.env };
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'app-'));
    FakeElectronWindow.instances = [];
  });
  afterEach(() => {
    vi.doUnmock('electron');
    vi.restoreAllMocks();
    process.env = { ...env };
    rmSync(dir, { recursive: true, force: true });
  });

  async function startApp(uid: number) {
    const electron = fakeApp();
    const ipcMain = new FakeIpcMain();
    vi.resetModules();
    vi.doMock('electron', () => ({ ...electron, ipcMain, BrowserWindow: FakeElectronWindow }));
    vi.spyOn(process, 'getuid').mockReturnValue(uid);
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code: number) => {
      throw new Error(`process.exit(${code})`);
    }) as never);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await import('../electron/main.js');
    return { electron, ipcMain, exit, stderr };
  }

  it('refuses to run as root, saying why and what to do', async () => {
    const { exit, stderr, electron } = await startApp(0);
    await expect.poll(() => exit.mock.calls.length).toBe(1);
    expect(exit).toHaveBeenCalledWith(1);
    const said = stderr.mock.calls.map((call) => String(call[0])).join('');
    expect(said).toMatch(/does not run its window as root/);
    expect(said).toMatch(/normal user/);
    expect(said).toMatch(/ping_group_range|helper/);
    expect(FakeElectronWindow.instances).toEqual([]);
    expect(electron.app.sandboxEnabled).toBe(false);
  });

  it('as a normal user: sandbox for all, hardened session, secure window, IPC from the contract, the renderer loaded', async () => {
    const index = path.join(dir, 'renderer', 'index.html');
    const preload = path.join(dir, 'preload.bundle.js');
    mkdirSync(path.dirname(index));
    writeFileSync(index, '<!doctype html>');
    writeFileSync(preload, '');
    process.env.WORKBENCH_RENDERER_INDEX = index;
    process.env.WORKBENCH_PRELOAD = preload;
    const { electron, ipcMain, exit } = await startApp(1000);
    await expect.poll(() => FakeElectronWindow.instances[0]?.loaded ?? null).toBe(index);
    const window = FakeElectronWindow.instances[0];
    expect(exit).not.toHaveBeenCalled();
    expect(electron.app.sandboxEnabled).toBe(true);
    expect(electron.app.events.has('web-contents-created')).toBe(true);
    expect(electron.session.defaultSession.permissionRequestHandler).toBeTypeOf('function');
    expect(electron.session.defaultSession.headersHandler).toBeTypeOf('function');
    expect((window.options as { webPreferences: object }).webPreferences).toMatchObject({
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    });
    expect([...ipcMain.handlers.keys()].sort()).toEqual(methodNames.map((name) => `workbench:${name}`).sort());
    // The loaded page may call; its iframe may not.
    const page = new FakeIpcRenderer(ipcMain, window.webContents);
    await expect(page.invoke('workbench:listSockets', {})).resolves.toEqual({ ok: true, result: [] });
    const frame = new FakeIpcRenderer(ipcMain, window.webContents, window.webContents.childFrame(window.webContents.mainFrame.url));
    await expect(frame.invoke('workbench:listSockets', {})).resolves.toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    await expect.poll(() => window.shown).toBe(true);
    // Closing the last window closes the engine and quits.
    window.close();
    for (const listener of electron.app.events.get('window-all-closed') ?? []) listener();
    await expect.poll(() => electron.app.quitCalled).toBe(true);
  });

  it('says what to build when the renderer or the preload bundle is missing', async () => {
    process.env.WORKBENCH_RENDERER_INDEX = path.join(dir, 'missing', 'index.html');
    process.env.WORKBENCH_PRELOAD = path.join(dir, 'missing.js');
    const { electron } = await startApp(1000);
    await expect.poll(() => electron.app.exitCode).toBe(1);
    expect(electron.dialog.errors[0]).toMatch(/renderer is not built.*npm run build/);
    expect(FakeElectronWindow.instances).toEqual([]);
  });
});
