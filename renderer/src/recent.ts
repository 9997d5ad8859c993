// Recently opened files, kept in the browser's localStorage (Electron keeps its own list in the
// main process for File ▸ Recent). A browser's file picker yields no path, so small Dockerfiles
// and graphs are remembered with their text; projects are paths on the service's machine.
export interface RecentEntry {
  kind: 'dockerfile' | 'graph' | 'project';
  /** file name (browser pick) or path (project, Electron) */
  path: string;
  text?: string;
  openedAt: number;
}

const KEY = 'kiln.recent';
const MAX = 10;
const MAX_TEXT = 256 * 1024;

export function recentFiles(): RecentEntry[] {
  try {
    const raw: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(raw) ? raw.filter((e): e is RecentEntry => !!e && typeof e.path === 'string' && ['dockerfile', 'graph', 'project'].includes(e.kind)) : [];
  } catch {
    return [];
  }
}

export function rememberRecent(e: Omit<RecentEntry, 'openedAt'>): RecentEntry[] {
  const entry: RecentEntry = { ...e, ...(e.text !== undefined && e.text.length > MAX_TEXT ? { text: undefined } : {}), openedAt: Date.now() };
  const list = [entry, ...recentFiles().filter((x) => !(x.kind === e.kind && x.path === e.path))].slice(0, MAX);
  try {
    localStorage.setItem(KEY, JSON.stringify(list));
  } catch {
    /* storage full or disabled: recent files are a convenience */
  }
  window.dispatchEvent(new Event('kiln:recent'));
  return list;
}

export function clearRecent(): void {
  localStorage.removeItem(KEY);
  window.dispatchEvent(new Event('kiln:recent'));
}
