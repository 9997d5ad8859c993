// Toolbar "Recent ▾": the files opened lately, newest first. In Electron the list is the main
// process's (File ▸ Recent shows the same); in a browser it lives in localStorage.
import { useEffect, useState } from 'react';
import { clearRecent, recentFiles, type RecentEntry } from './recent.js';
import { desktopShell, openHanded } from './shell.js';
import { openProject } from './OpenProject.js';
import { useEditor } from './store.js';

const baseName = (p: string) => p.split(/[\\/]/).pop() ?? p;

export function reopen(e: RecentEntry): void {
  if (e.kind === 'project') void openProject(e.path);
  else if (e.text !== undefined) openHanded(e.kind, e.path, e.text);
  else useEditor.getState().setNotice(`${e.path} was too large to remember; open it again`);
}

export function RecentMenu() {
  const [open, setOpen] = useState(false);
  const [list, setList] = useState<RecentEntry[]>(() => recentFiles());
  useEffect(() => {
    const on = () => setList(recentFiles());
    window.addEventListener('kiln:recent', on);
    return () => window.removeEventListener('kiln:recent', on);
  }, []);
  if (desktopShell()) return null; // File ▸ Recent in the app menu
  return (
    <span className="menu">
      <button onClick={() => setOpen((o) => !o)} aria-haspopup="menu" aria-expanded={open}>Recent ▾</button>
      {open && (
        <div className="menu-list" role="menu" onMouseLeave={() => setOpen(false)}>
          {list.length === 0 && <div className="muted menu-empty">No recent files</div>}
          {list.map((e) => (
            <button key={`${e.kind}:${e.path}`} role="menuitem" data-testid="recent-item" title={e.path} onClick={() => (setOpen(false), reopen(e))}>
              <span className="menu-kind">{e.kind}</span> {baseName(e.path)}
            </button>
          ))}
          {list.length > 0 && <button role="menuitem" className="muted" onClick={() => (clearRecent(), setOpen(false))}>Clear recent</button>}
        </div>
      )}
    </span>
  );
}
