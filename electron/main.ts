// Kiln's Electron main process. Everything Electron-specific is reached through the injected
// `electron` object (see electron-types.ts), so this module loads under plain Node and tests can
// drive it with a fake. The control service runs in this process; the renderer reaches it only
// through the IPC channels registered in ipc.ts and exposed as window.kiln by preload.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlAPI } from '../engine/control/api.js';
import { secretParams } from '../engine/frontend/graph/document.js';
import { MENU_COMMAND, shellChannel } from './channels.js';
import type { BrowserWindow, ElectronMain, FileFilter } from './electron-types.js';
import { registerIpc, type IpcRegistration } from './ipc.js';
import { menuTemplate, NATIVE_EDIT, type MenuCommand, type NativeEditAction } from './menu.js';
import { RecentFiles } from './recent.js';
import { connectEngineProcess } from './engine-client.js';
import type { HostReply } from './engine-host.js';
import { loadControlService, type HostedService } from './service.js';
import { createMainWindow, denyNavigation, loadRenderer, trustedFor, type WindowOptions } from './window.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface MainDeps {
  /** the control service to host; default: engine/control/service.ts, or an "engine unavailable" stand-in */
  createService?: () => Promise<HostedService>;
  /** directory holding the built renderer (index.html) */
  rendererDir?: string;
  preload?: string;
  /** load this URL instead of the built renderer (e.g. a running `kiln serve`) */
  url?: string;
  argv?: string[];
}

export interface MainProcess {
  /** resolves once the window is loaded (or immediately when another instance owns the app) */
  start(): Promise<void>;
  window(): BrowserWindow | undefined;
  ipc(): IpcRegistration | undefined;
  /** runs a menu command as if it had been clicked */
  command(c: MenuCommand, arg?: string): Promise<void>;
  /** opens a file given on the command line, by a second instance, or dropped on the dock */
  openPath(p: string): Promise<void>;
  stop(): Promise<void>;
}

const DOCKERFILE_FILTERS: FileFilter[] = [
  { name: 'Dockerfile', extensions: ['Dockerfile', 'dockerfile', 'Containerfile', '*'] },
];
const GRAPH_FILTERS: FileFilter[] = [{ name: 'Kiln graph', extensions: ['kiln.json', 'json'] }];
const PROJECT_FILTERS: FileFilter[] = [{ name: 'Bake or compose file', extensions: ['hcl', 'json', 'yaml', 'yml'] }];
const MAX_OPEN_BYTES = 4 << 20;

/** Names a dropped file may have: Kiln only opens build documents this way, never arbitrary files. */
export function isBuildDocument(p: string): boolean {
  return /(^|[\\/])([^\\/]*\.)?(Dockerfile|Containerfile)(\.[^\\/]*)?$/i.test(p) || /\.dockerfile$/i.test(p) || p.endsWith('.kiln.json') || isProjectPath(p);
}

/** A bake or compose file: it opens as a project (every target on one canvas). */
export function isProjectPath(p: string): boolean {
  return /(^|[\\/])(docker-bake[^\\/]*\.(hcl|json)|[^\\/]*\.hcl|(docker-)?compose[^\\/]*\.ya?ml)$/i.test(p);
}

export function isGraphPath(p: string): boolean {
  return !isProjectPath(p) && (p.endsWith('.kiln.json') || p.endsWith('.json'));
}

/**
 * A graph document is shared and committed, so it must not carry a registry password (the
 * renderer keeps those per host, encrypted). Refusing here, before anything is written, catches a
 * renderer bug or a crafted document; text that is not JSON has nothing to check.
 */
function refuseSecrets(text: unknown): void {
  if (typeof text !== 'string') return;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return;
  }
  const found = secretParams(doc);
  if (found.length) {
    throw new Error(`saveFile: ${found.map((f) => `node "${f.nodeId}" has params.${f.param}`).join(', ')}; a graph document keeps no passwords (Kiln remembers them per registry host, encrypted). Nothing was written.`);
  }
}

const commandFor = (p: string): 'open-project' | 'open-graph' | 'open-dockerfile' => (isProjectPath(p) ? 'open-project' : isGraphPath(p) ? 'open-graph' : 'open-dockerfile');

export function createMainProcess(electron: ElectronMain, deps: MainDeps = {}): MainProcess {
  const { app, dialog, Menu } = electron;
  const rendererDir = deps.rendererDir ?? path.join(here, '..', 'renderer');
  const winOpts: WindowOptions = {
    preload: deps.preload ?? path.join(here, 'preload.cjs'),
    indexHtml: path.join(rendererDir, 'index.html'),
    ...(deps.url ? { url: deps.url } : {}),
  };
  const isTrusted = trustedFor(winOpts, rendererDir);
  let service: Promise<HostedService> | undefined;
  const api = (): Promise<ControlAPI> => (service ??= (deps.createService ?? (() => defaultService(electron, app.getVersion())))());
  let win: BrowserWindow | undefined;
  let reg: IpcRegistration | undefined;
  let recent: RecentFiles | undefined;
  // Only paths the user picked in a native dialog (or opened) may be written by the renderer.
  const writable = new Set<string>();
  const readable = new Set<string>();

  const send = (payload: Record<string, unknown>): void => {
    if (win && !win.isDestroyed()) win.webContents.send(MENU_COMMAND, payload);
  };

  const readDoc = (p: string): string => {
    const buf = readFileSync(p);
    if (buf.length > MAX_OPEN_BYTES) throw new Error(`${p} is larger than ${MAX_OPEN_BYTES} bytes`);
    return buf.toString('utf8');
  };

  async function openPath(p: string): Promise<void> {
    const abs = path.resolve(p);
    let text: string;
    try {
      text = readDoc(abs);
    } catch (e) {
      dialog.showErrorBox('Kiln', `Cannot open ${abs}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    readable.add(abs);
    writable.add(abs);
    recent?.add(abs);
    app.addRecentDocument?.(abs);
    installMenu();
    send({ command: commandFor(abs), path: abs, context: path.dirname(abs), text });
  }

  async function pickAndOpen(kind: 'dockerfile' | 'graph' | 'project'): Promise<{ path: string; text: string; context: string } | undefined> {
    if (!win) return undefined;
    const r = await dialog.showOpenDialog(win, {
      title: kind === 'graph' ? 'Open Graph' : kind === 'project' ? 'Open Project' : 'Open Dockerfile',
      properties: ['openFile'],
      filters: kind === 'graph' ? GRAPH_FILTERS : kind === 'project' ? PROJECT_FILTERS : DOCKERFILE_FILTERS,
    });
    const p = r.canceled ? undefined : r.filePaths[0];
    if (!p) return undefined;
    const text = readDoc(p);
    readable.add(p);
    writable.add(p);
    recent?.add(p);
    installMenu();
    return { path: p, text, context: path.dirname(p) };
  }

  async function command(c: MenuCommand, arg?: string): Promise<void> {
    switch (c) {
      case 'open-dockerfile':
      case 'open-graph':
      case 'open-project': {
        const doc = await pickAndOpen(c === 'open-graph' ? 'graph' : c === 'open-project' ? 'project' : 'dockerfile');
        if (doc) send({ command: c, ...doc });
        return;
      }
      case 'open-recent':
        if (arg) await openPath(arg);
        return;
      case 'clear-recent':
        recent?.clear();
        installMenu();
        return;
      default:
        // Editor actions (save, export, build …) are the renderer's; it answers with shell calls.
        send({ command: c });
    }
  }

  function installMenu(): void {
    Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate((c, a) => void command(c, a), recent?.all() ?? [])));
  }

  const shell: Record<string, (...args: unknown[]) => unknown> = {
    [shellChannel('openFile')]: (kind) => pickAndOpen(kind === 'graph' ? 'graph' : kind === 'project' ? 'project' : 'dockerfile'),
    [shellChannel('openDropped')]: async (p) => {
      if (typeof p !== 'string' || !path.isAbsolute(p) || !isBuildDocument(p)) throw new Error('openDropped: not a Dockerfile, .kiln.json graph, bake or compose file');
      await openPath(p);
      return p;
    },
    [shellChannel('saveFile')]: async (raw) => {
      const o = (raw ?? {}) as { path?: unknown; text?: unknown; title?: unknown; defaultPath?: unknown; kind?: unknown };
      if (o.kind === 'graph') refuseSecrets(o.text);
      let target = typeof o.path === 'string' && writable.has(path.resolve(o.path)) ? path.resolve(o.path) : undefined;
      if (!target) {
        if (!win) return undefined;
        const r = await dialog.showSaveDialog(win, {
          title: typeof o.title === 'string' ? o.title : 'Save',
          ...(typeof o.defaultPath === 'string' ? { defaultPath: path.basename(o.defaultPath) } : {}),
          ...(o.kind === 'graph' ? { filters: GRAPH_FILTERS } : {}),
        });
        if (r.canceled || !r.filePath) return undefined;
        target = r.filePath;
        writable.add(target);
      }
      // Without text the caller only wanted a destination (Export… to a tar/oci file or a dir).
      if (typeof o.text === 'string') {
        if (isGraphPath(target)) refuseSecrets(o.text);
        writeFileSync(target, o.text);
        recent?.add(target);
        installMenu();
      }
      return target;
    },
    [shellChannel('readFile')]: (p) => {
      if (typeof p !== 'string' || !readable.has(path.resolve(p))) throw new Error('readFile: only files the user opened may be read');
      return readDoc(path.resolve(p));
    },
    [shellChannel('recent')]: () => recent?.all() ?? [],
    // An Edit menu command reached a focused text field: do what the menu role would have done.
    [shellChannel('editNative')]: (action) => {
      const allowed = Object.values(NATIVE_EDIT) as string[];
      if (typeof action !== 'string' || !allowed.includes(action)) throw new Error(`editNative: expected one of ${allowed.join(', ')}`);
      const wc = win?.webContents;
      if (!wc || wc.isDestroyed()) return false;
      const fn = wc[action as NativeEditAction];
      if (typeof fn !== 'function') return false;
      fn.call(wc);
      return true;
    },
    // Registry passwords the renderer remembers per host (renderer/src/credentials.ts): it keeps
    // only the ciphertext. Errors name no input, so a secret never reaches a log or a dialog.
    [shellChannel('encrypt')]: (plain) => {
      if (typeof plain !== 'string') throw new Error('encrypt: expected a string');
      return secretStore('encrypt').encryptString(plain).toString('base64');
    },
    [shellChannel('decrypt')]: (b64) => {
      if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new Error('decrypt: expected base64 text from encrypt');
      const ss = secretStore('decrypt');
      try {
        return ss.decryptString(Buffer.from(b64, 'base64'));
      } catch {
        throw new Error('decrypt: the data was not encrypted by this user\'s secret storage (or it changed)');
      }
    },
  };

  /** safeStorage when it really encrypts: on Linux without a keyring it falls back to a fixed key */
  function secretStore(op: string): NonNullable<ElectronMain['safeStorage']> {
    const ss = electron.safeStorage;
    if (!ss?.isEncryptionAvailable()) throw new Error(`${op}: OS secret storage is not available`);
    if (ss.getSelectedStorageBackend?.() === 'basic_text') throw new Error(`${op}: OS secret storage is not available (no keyring; safeStorage would use a fixed key)`);
    return ss;
  }

  async function start(): Promise<void> {
    if (!app.requestSingleInstanceLock()) {
      app.quit();
      return;
    }
    app.on('second-instance', (_e, argv) => {
      if (win) {
        if (win.isMinimized()) win.restore();
        win.focus();
      }
      const file = fileArg(argv);
      if (file) void openPath(file);
    });
    // macOS: a Dockerfile dropped on the dock icon or opened from Finder.
    const pending: string[] = [];
    app.on('open-file', (e, p) => {
      e.preventDefault();
      if (win) void openPath(p);
      else pending.push(p);
    });
    // Any webContents created later (devtools, a stray frame) gets the same navigation lock.
    app.on('web-contents-created', (_e, contents) => denyNavigation(contents));
    app.on('window-all-closed', () => app.quit());
    app.on('before-quit', () => void stop());
    await app.whenReady();
    recent = new RecentFiles(path.join(app.getPath('userData'), 'recent.json'));
    reg = registerIpc(electron.ipcMain, api, isTrusted, shell);
    installMenu();
    win = createMainWindow(electron, winOpts);
    win.on('closed', () => (win = undefined));
    // Start the engine while the page loads; the first info() call then finds it warm.
    void api().catch(() => undefined);
    await loadRenderer(win, winOpts);
    const file = fileArg(deps.argv ?? process.argv);
    if (file) await openPath(file);
    for (const p of pending.splice(0)) await openPath(p);
  }

  async function stop(): Promise<void> {
    reg?.dispose();
    reg = undefined;
    const s = service;
    service = undefined;
    if (s) await (await s).close();
  }

  return { start, window: () => win, ipc: () => reg, command, openPath, stop };
}

/**
 * The engine runs in a utility process when Electron offers one (the UI then never waits on a
 * checksum or a tar stream), else in this process. KILN_ENGINE_IN_PROCESS=1 forces the latter.
 */
async function defaultService(electron: ElectronMain, version: string): Promise<HostedService> {
  const up = electron.utilityProcess;
  if (!up || process.env.KILN_ENGINE_IN_PROCESS === '1') return loadControlService({}, version);
  const child = up.fork(path.join(here, 'engine-host.js'), [], { serviceName: 'Kiln engine', stdio: 'inherit' });
  return connectEngineProcess({
    postMessage: (m) => child.postMessage(m),
    onMessage: (fn) => void child.on('message', (m) => fn(m as HostReply)),
    onExit: (fn) => void child.on('exit', fn),
    kill: () => void child.kill(),
  });
}

/** The first argument that names a file to open (skips the executable, the app path and flags). */
export function fileArg(argv: readonly string[]): string | undefined {
  return argv.slice(1).find((a) => !a.startsWith('-') && !/(^|[\\/])(main\.js|\.|electron(\.exe)?)$/.test(a) && /(Dockerfile|Containerfile|\.dockerfile|\.json|\.hcl|\.ya?ml)$/i.test(a));
}

// Entry point when Electron runs this file (`electron dist/electron/main.js`).
if (process.versions.electron && (process as { type?: string }).type === 'browser') {
  const specifier = 'electron';
  const mod = (await import(specifier)) as ElectronMain & { default?: ElectronMain };
  const electron = mod.default ?? mod;
  const main = createMainProcess(electron, { ...(process.env.KILN_UI_URL ? { url: process.env.KILN_UI_URL } : {}) });
  main
    .start()
    .then(async () => {
      // The launch test: prove the window loaded with the preload, then leave.
      if (process.env.KILN_ELECTRON_SMOKE === '1') {
        console.log('kiln-electron-smoke: ready');
        await main.stop();
        electron.app.quit();
      }
    })
    .catch((e: unknown) => {
      electron.dialog.showErrorBox('Kiln failed to start', e instanceof Error ? (e.stack ?? e.message) : String(e));
      electron.app.quit();
    });
}
