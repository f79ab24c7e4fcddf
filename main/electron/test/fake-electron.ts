// Electron faked at the boundary, for tests: an ipcMain/ipcRenderer pair that
// behaves like invoke/handle (arguments and results structured-cloned, a thrown
// error reduced to its message), a window with its webContents and top frame, and
// a contextBridge that copies values the way the real one does (an Error keeps only
// its message; plain objects arrive whole; functions are proxied).
import { types } from 'node:util';

type Listener = (...args: any[]) => void;

export class FakeIpcMain {
  readonly handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();

  handle(channel: string, listener: (event: any, ...args: any[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
}

export interface FakeFrame {
  processId: number;
  routingId: number;
  url: string;
  parent: FakeFrame | null;
}

let nextContentsId = 1;

export class FakeWebContents {
  readonly id = nextContentsId++;
  readonly mainFrame: FakeFrame;
  readonly listeners = new Map<string, Listener[]>();
  windowOpenHandler: ((details: unknown) => unknown) | null = null;
  /** The renderer side: ipcRenderer.on listeners of this contents. */
  readonly rendererListeners = new Map<string, Set<Listener>>();
  readonly sent: { channel: string; args: unknown[] }[] = [];

  constructor(url: string) {
    this.mainFrame = { processId: 7, routingId: 1, url, parent: null };
  }

  on(event: string, listener: Listener): this {
    const list = this.listeners.get(event) ?? [];
    list.push(listener);
    this.listeners.set(event, list);
    return this;
  }

  emit(event: string, ...args: unknown[]): void {
    for (const listener of this.listeners.get(event) ?? []) listener(...args);
  }

  setWindowOpenHandler(handler: (details: unknown) => unknown): void {
    this.windowOpenHandler = handler;
  }

  send(channel: string, ...args: unknown[]): void {
    const cloned = structuredClone(args);
    this.sent.push({ channel, args: cloned });
    for (const listener of this.rendererListeners.get(channel) ?? []) listener({ sender: null }, ...cloned);
  }

  /** A child frame (an iframe) of the top frame. */
  childFrame(url: string): FakeFrame {
    return { processId: this.mainFrame.processId, routingId: 99, url, parent: this.mainFrame };
  }
}

export class FakeBrowserWindow {
  readonly webContents: FakeWebContents;
  destroyed = false;
  private readonly closedListeners: Listener[] = [];

  constructor(url: string) {
    this.webContents = new FakeWebContents(url);
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  once(event: string, listener: Listener): this {
    if (event === 'closed') this.closedListeners.push(listener);
    return this;
  }

  close(): void {
    this.destroyed = true;
    for (const listener of this.closedListeners.splice(0)) listener();
  }
}

/** The renderer end of IPC, as a given frame of a given contents. */
export class FakeIpcRenderer {
  constructor(
    private readonly ipcMain: FakeIpcMain,
    private readonly contents: FakeWebContents,
    private readonly frame: FakeFrame = contents.mainFrame,
  ) {}

  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    const handler = this.ipcMain.handlers.get(channel);
    if (!handler) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`);
    const event = { sender: this.contents, senderFrame: this.frame };
    try {
      return structuredClone(await handler(event, ...structuredClone(args)));
    } catch (error) {
      // What Electron does to an error thrown by a handler.
      throw new Error(`Error invoking remote method '${channel}': ${String(error)}`);
    }
  }

  on(channel: string, listener: Listener): this {
    const set = this.contents.rendererListeners.get(channel) ?? new Set();
    set.add(listener);
    this.contents.rendererListeners.set(channel, set);
    return this;
  }

  removeListener(channel: string, listener: Listener): this {
    this.contents.rendererListeners.get(channel)?.delete(listener);
    return this;
  }

  listenerCount(channel: string): number {
    return this.contents.rendererListeners.get(channel)?.size ?? 0;
  }
}

/** Copies a value from the isolated world to the page, as the context bridge does. */
export function bridgeCopy(value: unknown): unknown {
  if (typeof value === 'function') {
    const fn = value as (...args: unknown[]) => unknown;
    return (...args: unknown[]) => {
      let result: unknown;
      try {
        result = fn(...args.map(bridgeCopy));
      } catch (error) {
        throw bridgeError(error);
      }
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        return Promise.resolve(result).then(bridgeCopy, (reason: unknown) => {
          throw bridgeError(reason);
        });
      }
      return bridgeCopy(result);
    };
  }
  if (Array.isArray(value)) return value.map(bridgeCopy);
  if (value && typeof value === 'object' && !types.isNativeError(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = bridgeCopy(item);
    return copy;
  }
  if (types.isNativeError(value)) return bridgeError(value);
  return value;
}

function bridgeError(reason: unknown): unknown {
  // The real bridge rebuilds an Error from its message alone (electron/electron#25596).
  if (types.isNativeError(reason)) return new Error((reason as Error).message);
  return bridgeCopy(reason);
}

export class FakeContextBridge {
  /** What the page sees: window[key]. */
  readonly mainWorld: Record<string, unknown> = {};

  exposeInMainWorld(key: string, api: unknown): void {
    if (key in this.mainWorld) throw new Error(`Cannot bind an API on top of an existing property on the window object`);
    this.mainWorld[key] = bridgeCopy(api);
  }
}

/** BrowserWindow as main.ts constructs it: records its options and what it loads. */
export class FakeElectronWindow extends FakeBrowserWindow {
  static instances: FakeElectronWindow[] = [];
  loaded: string | null = null;
  shown = false;

  constructor(readonly options: unknown) {
    super('about:blank');
    FakeElectronWindow.instances.push(this);
  }

  override once(event: string, listener: (...args: any[]) => void): this {
    if (event === 'ready-to-show') {
      queueMicrotask(listener);
      return this;
    }
    return super.once(event, listener);
  }

  show(): void {
    this.shown = true;
  }

  async loadFile(file: string): Promise<void> {
    this.loaded = file;
    this.webContents.mainFrame.url = `file://${file.split('/').map(encodeURIComponent).join('/')}`;
  }
}

/** The `app`, `session` and `dialog` of main.ts. */
export function fakeApp() {
  const events = new Map<string, ((...args: any[]) => void)[]>();
  const session = {
    permissionRequestHandler: null as unknown,
    permissionCheckHandler: null as unknown,
    headersHandler: null as unknown,
    setPermissionRequestHandler(handler: unknown) {
      this.permissionRequestHandler = handler;
    },
    setPermissionCheckHandler(handler: unknown) {
      this.permissionCheckHandler = handler;
    },
    webRequest: {
      onHeadersReceived: (handler: unknown) => {
        session.headersHandler = handler;
      },
    },
  };
  const app = {
    sandboxEnabled: false,
    exitCode: null as number | null,
    quitCalled: false,
    events,
    enableSandbox() {
      this.sandboxEnabled = true;
    },
    on(event: string, listener: (...args: any[]) => void) {
      events.set(event, [...(events.get(event) ?? []), listener]);
      return this;
    },
    whenReady: () => Promise.resolve(),
    getAppPath: () => '/nonexistent-app',
    exit(code: number) {
      this.exitCode = code;
    },
    quit() {
      this.quitCalled = true;
    },
  };
  const dialog = { errors: [] as string[], showErrorBox: (_title: string, text: string) => dialog.errors.push(text) };
  return { app, session: { defaultSession: session }, dialog };
}
