// The slice of Electron's API that Kiln's main process uses. The `electron` package (and its
// binary) cannot be installed on every machine, so the shell is written against these types and
// the real module is injected at startup; tests inject a fake with the same shape.

export interface WebFrameMain {
  url: string;
}

export interface Session {
  webRequest: {
    onHeadersReceived(
      listener: (
        details: { url: string; responseHeaders?: Record<string, string[]> },
        callback: (response: { responseHeaders?: Record<string, string[]>; cancel?: boolean }) => void,
      ) => void,
    ): void;
  };
  setPermissionRequestHandler(handler: ((wc: unknown, permission: string, callback: (granted: boolean) => void) => void) | null): void;
}

export interface WebContents {
  id: number;
  session: Session;
  mainFrame?: WebFrameMain;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  on(event: 'will-navigate' | 'will-redirect', listener: (e: { preventDefault(): void; url?: string }, url: string) => void): this;
  on(event: 'will-attach-webview', listener: (e: { preventDefault(): void }) => void): this;
  on(event: 'destroyed', listener: () => void): this;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void;
  /** the native edit actions of the focused element (what the Edit menu's roles do) */
  undo?(): void;
  redo?(): void;
  cut?(): void;
  copy?(): void;
  paste?(): void;
  selectAll?(): void;
}

export interface WebPreferences {
  preload?: string;
  contextIsolation?: boolean;
  sandbox?: boolean;
  nodeIntegration?: boolean;
  nodeIntegrationInWorker?: boolean;
  nodeIntegrationInSubFrames?: boolean;
  webSecurity?: boolean;
  allowRunningInsecureContent?: boolean;
  webviewTag?: boolean;
  spellcheck?: boolean;
}

export interface BrowserWindowOptions {
  width?: number;
  height?: number;
  minWidth?: number;
  minHeight?: number;
  title?: string;
  show?: boolean;
  backgroundColor?: string;
  icon?: string;
  webPreferences?: WebPreferences;
}

export interface BrowserWindow {
  webContents: WebContents;
  loadFile(path: string, opts?: { query?: Record<string, string> }): Promise<void>;
  loadURL(url: string): Promise<void>;
  show(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
  isDestroyed(): boolean;
  setTitle(title: string): void;
  once(event: 'ready-to-show', listener: () => void): this;
  on(event: 'closed', listener: () => void): this;
}

export interface BrowserWindowCtor {
  new (opts: BrowserWindowOptions): BrowserWindow;
  getAllWindows(): BrowserWindow[];
}

export interface IpcMainInvokeEvent {
  sender: WebContents;
  senderFrame: WebFrameMain | null;
}

export interface IpcMain {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface MenuItemOptions {
  label?: string;
  role?: string;
  type?: 'normal' | 'separator' | 'submenu';
  accelerator?: string;
  /** Linux/Windows: false shows the accelerator but leaves the key to the page */
  registerAccelerator?: boolean;
  enabled?: boolean;
  id?: string;
  click?: () => void;
  submenu?: MenuItemOptions[];
}

export interface MenuStatic {
  buildFromTemplate(template: MenuItemOptions[]): unknown;
  setApplicationMenu(menu: unknown): void;
}

export interface FileFilter {
  name: string;
  extensions: string[];
}

export interface Dialog {
  showOpenDialog(
    win: BrowserWindow,
    opts: { title?: string; properties?: string[]; filters?: FileFilter[]; defaultPath?: string },
  ): Promise<{ canceled: boolean; filePaths: string[] }>;
  showSaveDialog(
    win: BrowserWindow,
    opts: { title?: string; defaultPath?: string; filters?: FileFilter[] },
  ): Promise<{ canceled: boolean; filePath?: string }>;
  showErrorBox(title: string, content: string): void;
}

export interface App {
  whenReady(): Promise<void>;
  requestSingleInstanceLock(): boolean;
  quit(): void;
  getPath(name: 'userData' | 'home' | 'documents'): string;
  getVersion(): string;
  addRecentDocument?(path: string): void;
  on(event: 'second-instance', listener: (e: unknown, argv: string[], cwd: string) => void): this;
  on(event: 'window-all-closed' | 'before-quit' | 'activate', listener: () => void): this;
  on(event: 'open-file', listener: (e: { preventDefault(): void }, path: string) => void): this;
  on(event: 'web-contents-created', listener: (e: unknown, contents: WebContents) => void): this;
}

export interface SafeStorage {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only (Electron ≥ 28): 'basic_text' means no keyring — a fixed key, i.e. not secret */
  getSelectedStorageBackend?(): string;
}

export interface UtilityProcess {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): this;
  on(event: 'exit', listener: (code: number) => void): this;
  kill(): boolean;
}

export interface UtilityProcessStatic {
  fork(modulePath: string, args?: string[], opts?: { serviceName?: string; stdio?: 'inherit' | 'pipe' | 'ignore'; env?: NodeJS.ProcessEnv }): UtilityProcess;
}

/** What `import('electron')` provides in the main process, as far as Kiln uses it. */
export interface ElectronMain {
  app: App;
  BrowserWindow: BrowserWindowCtor;
  ipcMain: IpcMain;
  Menu: MenuStatic;
  dialog: Dialog;
  safeStorage?: SafeStorage;
  /** Electron ≥ 22; absent in fakes that want the engine in-process */
  utilityProcess?: UtilityProcessStatic;
}
