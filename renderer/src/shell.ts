// The desktop shell's side of the renderer: in Electron the preload exposes `window.kiln.shell`
// (native dialogs, menu commands). In a browser there is none and the editor uses its own pickers.
import { validateGraphDocument } from '../../engine/frontend/graph/validate.js';
import { getApi } from './api/index.js';
import { useEditor } from './store.js';
import { rememberRecent } from './recent.js';

export interface MenuCommandPayload {
  command: string;
  path?: string;
  text?: string;
  context?: string;
}

export interface KilnShell {
  onCommand(cb: (c: MenuCommandPayload) => void): () => void;
  openFile(kind: 'dockerfile' | 'graph' | 'project'): Promise<{ path: string; text: string; context: string } | undefined>;
  saveFile(o: { path?: string; text?: string; title?: string; defaultPath?: string; kind?: string }): Promise<string | undefined>;
  recent(): Promise<string[]>;
  /** opens a dropped build document; the main process answers with an open-* menu command */
  openDropped(absPath: string): Promise<string>;
  /** the absolute path of a dropped File (Electron's webUtils.getPathForFile) */
  pathForFile(f: File): string;
}

export function desktopShell(): KilnShell | undefined {
  return (window as unknown as { kiln?: { shell?: KilnShell } }).kiln?.shell;
}

const baseName = (p: string) => p.split(/[\\/]/).pop() ?? p;

/**
 * A document the shell (or a recent entry, or a drop) handed over: open it by kind. `context` is
 * the build context directory Electron reports (the file's directory); a browser pick has none.
 */
export function openHanded(kind: 'dockerfile' | 'graph', path: string, text: string, context?: string): void {
  const st = useEditor.getState();
  // only a desktop path can be written back to (a browser pick is a bare file name)
  const opened = { ...(desktopShell() && /^([/\\]|[A-Za-z]:)/.test(path) ? { path } : {}), ...(context ? { context } : {}) };
  try {
    if (kind === 'graph') st.loadDocument(validateGraphDocument(JSON.parse(text)), baseName(path), opened);
    else {
      st.openDockerfile(text, baseName(path), opened);
      getApi().graph({ kind: 'dockerfile', dockerfile: text, filename: baseName(path), context: context ?? '/' }).then((g) => useEditor.getState().setWarnings(g.warnings), () => {});
    }
    rememberRecent({ kind, path, text });
  } catch (e) {
    st.setNotice(`Cannot open ${path}: ${(e as Error).message}`);
  }
}

/** what a dropped file's name says it is; Kiln opens build documents only */
export function droppedKind(name: string): 'dockerfile' | 'graph' | undefined {
  if (/\.kiln\.json$/i.test(name)) return 'graph';
  if (/^([^\\/]*\.)?(Dockerfile|Containerfile)(\.[^\\/]*)?$/i.test(name) || /\.dockerfile$/i.test(name)) return 'dockerfile';
  return undefined;
}

/** A file dropped on the canvas: Electron's main process reads it by path; a browser reads the File. */
export async function openDroppedFile(f: File): Promise<void> {
  const shell = desktopShell();
  try {
    if (shell) {
      await shell.openDropped(shell.pathForFile(f));
      return;
    }
    const kind = droppedKind(f.name);
    if (!kind) throw new Error('not a Dockerfile or .kiln.json graph');
    openHanded(kind, f.name, await f.text());
  } catch (e) {
    useEditor.getState().setNotice(`Cannot open ${f.name}: ${(e as Error).message}`);
  }
}

/** Route the app menu's commands to editor actions; returns the unsubscribe. */
export function listenToMenu(actions: Record<string, (c: MenuCommandPayload) => void>): () => void {
  const shell = desktopShell();
  if (!shell) return () => {};
  return shell.onCommand((c) => actions[c.command]?.(c));
}
