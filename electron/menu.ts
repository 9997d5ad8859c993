// The application menu. Items only emit commands; what a command does lives in main.ts
// (dialogs) and in the renderer (editor actions), so the template is plain data tests can read.
import type { MenuItemOptions } from './electron-types.js';

export type MenuCommand =
  | 'open-dockerfile'
  | 'open-graph'
  | 'open-project'
  | 'open-recent'
  | 'clear-recent'
  | 'save'
  | 'save-as'
  | 'export'
  | 'build-run'
  | 'build-run-node'
  | 'build-cancel'
  | 'build-history'
  | 'build-du'
  | 'build-prune'
  | 'view-fit'
  | 'view-layout'
  | EditCommand;

/**
 * Edit menu commands. They go to the renderer, which applies them to the graph (undo history,
 * node clipboard, node selection) unless a text field has focus; then it asks for the native
 * action back (shell.editNative → webContents.undo() …), which is what a menu role would do.
 */
export const EDIT_COMMANDS = ['edit-undo', 'edit-redo', 'edit-cut', 'edit-copy', 'edit-paste', 'edit-select-all'] as const;
export type EditCommand = (typeof EDIT_COMMANDS)[number];
/** the webContents method each edit command maps to in a text field */
export const NATIVE_EDIT = { 'edit-undo': 'undo', 'edit-redo': 'redo', 'edit-cut': 'cut', 'edit-copy': 'copy', 'edit-paste': 'paste', 'edit-select-all': 'selectAll' } as const satisfies Record<EditCommand, string>;
export type NativeEditAction = (typeof NATIVE_EDIT)[EditCommand];

export function menuTemplate(
  onCommand: (command: MenuCommand, arg?: string) => void,
  recent: readonly string[],
  platform: NodeJS.Platform = process.platform,
): MenuItemOptions[] {
  const cmd = (label: string, command: MenuCommand, accelerator?: string): MenuItemOptions => ({
    label,
    id: command,
    click: () => onCommand(command),
    ...(accelerator ? { accelerator } : {}),
  });
  // On Linux and Windows the keys stay with the page (registerAccelerator: false): its own
  // shortcuts and text fields already handle them, and a registered accelerator would swallow the
  // key in a text field. On macOS the menu is what makes ⌘Z/⌘C work at all, so it registers them.
  const edit = (label: string, command: EditCommand, accelerator: string): MenuItemOptions => ({
    ...cmd(label, command, accelerator),
    ...(platform === 'darwin' ? {} : { registerAccelerator: false }),
  });
  const sep: MenuItemOptions = { type: 'separator' };
  const recentItems: MenuItemOptions[] = recent.length
    ? [
        ...recent.map((p) => ({ label: p, click: () => onCommand('open-recent', p) })),
        sep,
        cmd('Clear Recent', 'clear-recent'),
      ]
    : [{ label: 'No Recent Files', enabled: false }];

  const template: MenuItemOptions[] = [
    {
      label: 'File',
      submenu: [
        cmd('Open Dockerfile…', 'open-dockerfile', 'CmdOrCtrl+O'),
        cmd('Open Graph…', 'open-graph', 'CmdOrCtrl+Shift+O'),
        cmd('Open Project…', 'open-project', 'CmdOrCtrl+Alt+O'),
        { label: 'Recent', id: 'recent', submenu: recentItems },
        sep,
        cmd('Save', 'save', 'CmdOrCtrl+S'),
        cmd('Save As…', 'save-as', 'CmdOrCtrl+Shift+S'),
        cmd('Export…', 'export', 'CmdOrCtrl+E'),
        sep,
        { role: platform === 'darwin' ? 'close' : 'quit' },
      ],
    },
    {
      label: 'Edit',
      submenu: [
        edit('Undo', 'edit-undo', 'CmdOrCtrl+Z'),
        edit('Redo', 'edit-redo', platform === 'win32' ? 'Ctrl+Y' : 'Shift+CmdOrCtrl+Z'),
        sep,
        edit('Cut', 'edit-cut', 'CmdOrCtrl+X'),
        edit('Copy', 'edit-copy', 'CmdOrCtrl+C'),
        edit('Paste', 'edit-paste', 'CmdOrCtrl+V'),
        { role: 'delete' },
        edit('Select All', 'edit-select-all', 'CmdOrCtrl+A'),
      ],
    },
    {
      label: 'View',
      submenu: [
        cmd('Fit Graph', 'view-fit', 'CmdOrCtrl+0'),
        cmd('Auto Layout', 'view-layout', 'CmdOrCtrl+L'),
        sep,
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        sep,
        { role: 'togglefullscreen' },
        { role: 'toggleDevTools' },
      ],
    },
    {
      label: 'Build',
      submenu: [
        cmd('Run', 'build-run', 'CmdOrCtrl+Enter'),
        cmd('Run Selected Node', 'build-run-node', 'CmdOrCtrl+Shift+Enter'),
        cmd('Cancel', 'build-cancel', 'CmdOrCtrl+.'),
        sep,
        cmd('History', 'build-history', 'CmdOrCtrl+H'),
        cmd('Disk Usage', 'build-du'),
        cmd('Prune Cache…', 'build-prune'),
      ],
    },
  ];
  if (platform === 'darwin') template.unshift({ label: 'Kiln', submenu: [{ role: 'about' }, sep, { role: 'hide' }, { role: 'quit' }] });
  return template;
}
