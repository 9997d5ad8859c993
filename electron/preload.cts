// Preload for the sandboxed renderer. It exposes `window.kiln`: one function per ControlAPI call,
// a status stream, and the desktop-only shell calls (native dialogs, recent files, encrypted
// secrets, the path of a dropped file). The renderer never sees ipcRenderer itself.
//
// Sandboxed preloads run as CommonJS scripts and can require only 'electron' (no project
// modules), hence a .cts file and the channel names repeated from channels.ts (a unit test keeps
// the two in step).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { contextBridge, ipcRenderer, webUtils } = require('electron') as {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  ipcRenderer: {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>;
    on(channel: string, listener: (event: unknown, payload: unknown) => void): void;
    removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): void;
  };
  webUtils?: { getPathForFile(file: unknown): string };
};

const KILN_API_METHODS = ['solve', 'cancel', 'historyList', 'historyGet', 'du', 'prune', 'workers', 'info', 'graph', 'project'] as const;
const KILN_SHELL_METHODS = ['openFile', 'openDropped', 'saveFile', 'readFile', 'recent', 'encrypt', 'decrypt', 'editNative'] as const;

type StatusPayload = { sub: string; event?: unknown };

function kilnStatus(buildId: string, onEvent: (e: unknown) => void): () => void {
  let sub: string | undefined;
  let stopped = false;
  // Events can arrive before invoke() resolves with the id; buffer them until it does.
  const early: StatusPayload[] = [];
  const onEv = (_e: unknown, p: unknown): void => {
    const payload = p as StatusPayload;
    if (sub === undefined) early.push(payload);
    else if (payload.sub === sub) onEvent(payload.event);
  };
  const onEnd = (_e: unknown, p: unknown): void => {
    if ((p as StatusPayload).sub === sub) cleanup();
  };
  const cleanup = (): void => {
    ipcRenderer.removeListener('kiln:status:event', onEv);
    ipcRenderer.removeListener('kiln:status:end', onEnd);
  };
  ipcRenderer.on('kiln:status:event', onEv);
  ipcRenderer.on('kiln:status:end', onEnd);
  void ipcRenderer.invoke('kiln:status:subscribe', buildId).then((id) => {
    sub = id as string;
    for (const p of early.splice(0)) if (p.sub === sub) onEvent(p.event);
    if (stopped) void ipcRenderer.invoke('kiln:status:unsubscribe', sub);
  }, cleanup);
  return () => {
    if (stopped) return;
    stopped = true;
    cleanup();
    if (sub !== undefined) void ipcRenderer.invoke('kiln:status:unsubscribe', sub);
  };
}

const kilnApi: Record<string, unknown> = { status: kilnStatus };
for (const m of KILN_API_METHODS) kilnApi[m] = (...args: unknown[]) => ipcRenderer.invoke(`kiln:api:${m}`, ...args);

const kilnShell: Record<string, unknown> = {
  /** menu commands from the main process: `{ command, path?, text?, context? }` */
  onCommand(cb: (c: unknown) => void): () => void {
    const l = (_e: unknown, p: unknown): void => cb(p);
    ipcRenderer.on('kiln:menu', l);
    return () => ipcRenderer.removeListener('kiln:menu', l);
  },
  /** the file-system path of a File dropped on the window (sandboxed renderers cannot see it) */
  pathForFile(file: unknown): string {
    return webUtils ? webUtils.getPathForFile(file) : '';
  },
};
for (const m of KILN_SHELL_METHODS) kilnShell[m] = (...args: unknown[]) => ipcRenderer.invoke(`kiln:shell:${m}`, ...args);
kilnApi.shell = kilnShell;

contextBridge.exposeInMainWorld('kiln', kilnApi);
