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
  | 'view-layout';

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
        { role: 'undo' },
        { role: 'redo' },
        sep,
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'delete' },
        { role: 'selectAll' },
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
