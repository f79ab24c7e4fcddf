// The Electron window's security settings in one place: what the window may run,
// where it may go, what it may ask for, and which IPC senders main believes.
import { pathToFileURL } from 'node:url';
import type {
  BrowserWindowConstructorOptions,
  HandlerDetails,
  IpcMainInvokeEvent,
  Session,
  WebContents,
  WindowOpenHandlerResponse,
} from 'electron';
import { ELECTRON_CSP } from '../../common/csp';

export { ELECTRON_CSP };

/** The window: an isolated, sandboxed renderer with no Node, whose only door is the preload bridge. */
export function windowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 820,
    minWidth: 800,
    minHeight: 500,
    title: 'Packet Workbench',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}

/** The part of a session this module touches (a fake in tests). */
export type SessionLike = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'> & {
  webRequest: Pick<Session['webRequest'], 'onHeadersReceived'>;
};

/**
 * Denies every permission (camera, notifications, geolocation...: the workbench needs
 * none) and puts the CSP header on every document the session loads. The renderer's
 * index.html should carry the same policy in a <meta> tag, since older Electron
 * versions did not apply headers to file:// responses.
 */
export function hardenSession(session: SessionLike): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...(details.responseHeaders ?? {}) };
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === 'content-security-policy') delete headers[name];
    }
    headers['Content-Security-Policy'] = [ELECTRON_CSP];
    headers['X-Content-Type-Options'] = ['nosniff'];
    callback({ responseHeaders: headers });
  });
}

/** The part of a WebContents this module touches (a fake in tests). */
export type ContentsLike = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/**
 * The page may not navigate anywhere (a link, a redirect, a drag-dropped file) nor
 * open windows: the app is one document, and any other page would inherit the bridge.
 */
export function hardenContents(contents: ContentsLike): void {
  const refuse = (event: { preventDefault(): void }) => event.preventDefault();
  contents.on('will-navigate', refuse);
  contents.on('will-frame-navigate', refuse);
  contents.on('will-redirect', refuse);
  contents.on('will-attach-webview', refuse);
  contents.setWindowOpenHandler((_details: HandlerDetails): WindowOpenHandlerResponse => ({ action: 'deny' }));
}

/** The file:// URL of the renderer's index.html, as the window's top frame reports it. */
export function rendererUrl(indexHtmlPath: string): string {
  return pathToFileURL(indexHtmlPath).href;
}

/** What the sender check reads from the window (a fake in tests). */
export interface TrustedWindow {
  isDestroyed(): boolean;
  webContents: Pick<WebContents, 'mainFrame' | 'id'>;
}

/**
 * A call is trusted when it comes from our window's top frame (not an iframe, not
 * another window) while that frame shows our own index.html (not a page it was
 * somehow navigated to). The query and hash may differ: the renderer may route by them.
 */
export function isTrustedSender(
  event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>,
  window: TrustedWindow,
  expectedUrl: string,
): boolean {
  if (window.isDestroyed()) return false;
  const contents = window.webContents;
  if (event.sender?.id !== contents.id) return false;
  const frame = event.senderFrame;
  const top = contents.mainFrame;
  if (!frame || !top || frame.parent !== null) return false;
  if (frame.processId !== top.processId || frame.routingId !== top.routingId) return false;
  return sameDocument(frame.url, expectedUrl);
}

function sameDocument(actual: string, expected: string): boolean {
  try {
    const a = new URL(actual);
    const e = new URL(expected);
    return a.protocol === 'file:' && a.protocol === e.protocol && a.host === e.host && a.pathname === e.pathname;
  } catch {
    return false;
  }
}
