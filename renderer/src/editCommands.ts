// The Electron Edit menu's commands (electron/menu.ts EDIT_COMMANDS). On the canvas they act on
// the graph: zundo's undo history, the node clipboard, the node selection. In a text field they
// must keep their ordinary meaning, so the renderer hands them back to the main process, which
// runs the native webContents action a menu role would have run.
import { useEditor } from './store.js';

type NativeEdit = 'undo' | 'redo' | 'cut' | 'copy' | 'paste' | 'selectAll';

/** an element that edits text itself (its own undo stack, selection and clipboard) */
export function editsText(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  if (tag === 'TEXTAREA') return true;
  if (tag === 'INPUT') return !['button', 'checkbox', 'radio', 'submit', 'reset', 'range', 'color', 'file'].includes((el as HTMLInputElement).type);
  return (el as HTMLElement).isContentEditable === true;
}

function native(action: NativeEdit): void {
  const shell = (window as unknown as { kiln?: { shell?: { editNative?: (a: NativeEdit) => Promise<boolean> } } }).kiln?.shell;
  void shell?.editNative?.(action).catch(() => undefined);
}

function onGraph(action: NativeEdit): void {
  const st = useEditor.getState();
  const history = useEditor.temporal.getState();
  switch (action) {
    case 'undo': return history.undo();
    case 'redo': return history.redo();
    case 'copy': return st.copy();
    case 'cut': return (st.copy(), st.deleteSelected());
    case 'paste': return st.paste();
    case 'selectAll': return st.select(st.doc.nodes.map((n) => n.id));
  }
}

export function editCommand(action: NativeEdit): void {
  if (editsText(document.activeElement)) native(action);
  else onGraph(action);
}

/** menu command → action, to spread into App.tsx's listenToMenu table */
export const editMenuActions: Record<string, () => void> = {
  'edit-undo': () => editCommand('undo'),
  'edit-redo': () => editCommand('redo'),
  'edit-cut': () => editCommand('cut'),
  'edit-copy': () => editCommand('copy'),
  'edit-paste': () => editCommand('paste'),
  'edit-select-all': () => editCommand('selectAll'),
};
