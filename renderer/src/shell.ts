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
}

export function desktopShell(): KilnShell | undefined {
  return (window as unknown as { kiln?: { shell?: KilnShell } }).kiln?.shell;
}

const baseName = (p: string) => p.split(/[\\/]/).pop() ?? p;

/** A document the shell (or a recent entry) handed over: open it by kind. */
export function openHanded(kind: 'dockerfile' | 'graph', path: string, text: string): void {
  const st = useEditor.getState();
  try {
    if (kind === 'graph') st.loadDocument(validateGraphDocument(JSON.parse(text)), baseName(path));
    else {
      st.openDockerfile(text, baseName(path));
      getApi().graph({ kind: 'dockerfile', dockerfile: text, filename: baseName(path), context: '/' }).then((g) => useEditor.getState().setWarnings(g.warnings), () => {});
    }
    rememberRecent({ kind, path, text });
  } catch (e) {
    st.setNotice(`Cannot open ${path}: ${(e as Error).message}`);
  }
}

/** Route the app menu's commands to editor actions; returns the unsubscribe. */
export function listenToMenu(actions: Record<string, (c: MenuCommandPayload) => void>): () => void {
  const shell = desktopShell();
  if (!shell) return () => {};
  return shell.onCommand((c) => actions[c.command]?.(c));
}
