// The one application window: hardened per Electron's security checklist before any content
// loads (sandboxed renderer, no Node, CSP on every response, no navigation, no popups).
import { trustedUrlPredicate, webPreferences, withCsp } from './security.js';
import type { BrowserWindow, ElectronMain, WebContents } from './electron-types.js';

export interface WindowOptions {
  preload: string;
  /** the built renderer's index.html (dist/renderer/index.html) */
  indexHtml: string;
  /** or a served page (kiln serve URL) — used when the renderer is not built */
  url?: string;
  icon?: string;
}

/** Denies every navigation away from the loaded page and every window.open / target=_blank. */
export function denyNavigation(contents: WebContents): void {
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  // Links are never handed to shell.openExternal: the renderer is not a browser for the web.
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

export function hardenSession(contents: WebContents): void {
  contents.session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withCsp(details.responseHeaders) });
  });
  // No camera, microphone, notifications, geolocation … the editor needs none.
  contents.session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
}

export function createMainWindow(electron: Pick<ElectronMain, 'BrowserWindow'>, opts: WindowOptions): BrowserWindow {
  const win = new electron.BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 800,
    minHeight: 500,
    title: 'Kiln',
    show: false,
    backgroundColor: '#1b1d23',
    ...(opts.icon ? { icon: opts.icon } : {}),
    webPreferences: webPreferences(opts.preload),
  });
  hardenSession(win.webContents);
  denyNavigation(win.webContents);
  win.once('ready-to-show', () => win.show());
  return win;
}

export async function loadRenderer(win: BrowserWindow, opts: WindowOptions): Promise<void> {
  if (opts.url) await win.loadURL(opts.url);
  else await win.loadFile(opts.indexHtml);
}

export function trustedFor(opts: WindowOptions, rendererDir: string): (url: string | undefined) => boolean {
  return trustedUrlPredicate({ rendererDir, origins: opts.url ? [opts.url] : [] });
}
