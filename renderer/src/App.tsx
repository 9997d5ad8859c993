// The editor shell: toolbar, palette, canvas, inspector, bottom panel (logs / Dockerfile source).
import { useEffect, useMemo, useState } from 'react';
import { ReactFlowProvider } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import './styles.css';
import type { InfoResponse } from '../../engine/control/api.js';
import { validateGraphDocument } from '../../engine/frontend/graph/validate.js';
import { getApi } from './api/index.js';
import { useEditor, issuesByNode } from './store.js';
import { Inspector } from './Inspector.js';
import { Canvas } from './Canvas.js';
import { PALETTE } from './titles.js';
import { runGraph, cancelRun } from './run.js';
import { ExportDialog } from './ExportDialog.js';
import { EXAMPLE } from './example.js';
import { OpenProjectDialog, openProject } from './OpenProject.js';
import { desktopShell, listenToMenu, openHanded } from './shell.js';
import { RecentMenu } from './RecentMenu.js';
import { HistoryPanel } from './HistoryPanel.js';
import { CachePanel } from './CachePanel.js';
import { SourceView } from './SourceView.js';
import { saveGraph, saveAsDockerfile } from './save.js';
import { editMenuActions } from './editCommands.js';

function Palette() {
  const [q, setQ] = useState('');
  const addNode = useEditor((s) => s.addNode);
  const items = PALETTE.filter((p) => (p.label + p.kind).toLowerCase().includes(q.toLowerCase()));
  return (
    <aside className="palette">
      <input placeholder="Search nodes…" value={q} onChange={(e) => setQ(e.target.value)} aria-label="Search nodes" />
      {items.map((p) => (
        <div
          key={p.kind}
          className={`pitem pk-${p.kind}`}
          draggable
          data-kind={p.kind}
          onDragStart={(e) => e.dataTransfer.setData('application/kiln-node', p.kind)}
          onDoubleClick={() => {
            // quick-add lands right of the rightmost node, so nothing overlaps
            const ns = useEditor.getState().doc.nodes;
            const x = ns.length ? Math.max(...ns.map((n) => n.position.x)) + 300 : 80;
            addNode(p.kind, p.params, { x, y: ns.length ? ns[ns.length - 1]!.position.y : 80 });
          }}
          title="Drag onto the canvas, or double-click to add"
        >
          {p.label}
        </div>
      ))}
    </aside>
  );
}

/** which engine the editor is talking to, and who hosts it (the app may be a `kiln serve`'s client) */
function EngineChip({ info }: { info: InfoResponse }) {
  const host = info.service ? `${info.service.role} (pid ${info.service.pid})` : 'the Kiln service';
  const title = [`Docker Engine: ${info.engine.endpoint}${info.engine.version ? ` (${info.engine.version})` : ''}`, `State root: ${info.root}`, `Engine hosted by ${host}`, `Kiln ${info.version}`].join('\n');
  return (
    <span className={`engine-chip mono ${info.engine.ok ? '' : 'down'}`} data-testid="engine-info" title={title}>
      {info.engine.ok ? `Docker ${info.engine.version ?? ''}`.trim() : 'no engine'} · {info.service?.role ?? 'service'}
    </span>
  );
}

function EmptyState() {
  return (
    <div className="empty">
      <h2>An empty build</h2>
      <button onClick={() => openFile('dockerfile')}>Open Dockerfile…</button>
      <button onClick={() => useEditor.getState().loadDocument(validateGraphDocument(structuredClone(EXAMPLE)), 'example.kiln.json')}>Start from an example</button>
      <p className="muted">or drag nodes from the palette on the left.</p>
    </div>
  );
}

function BottomPanel() {
  const [tab, setTab] = useState<'logs' | 'source'>('logs');
  const dockerfile = useEditor((s) => s.dockerfile);
  const sel = useEditor((s) => (s.selected.length === 1 ? s.doc.nodes.find((n) => n.id === s.selected[0]) : undefined));
  const logs = useEditor((s) => (sel ? s.logs[sel.id] : undefined));
  const st = useEditor((s) => (sel ? s.status[sel.id] : undefined));
  const nodes = useEditor((s) => s.doc.nodes);
  const sources = useEditor((s) => s.sources);
  useEffect(() => {
    if (dockerfile || Object.keys(sources).length) setTab('source');
  }, [dockerfile, sources]);
  // the selected node's Dockerfile (a project has one per target), else the opened one
  const file = sel?.location && sources[sel.location.file] !== undefined ? sel.location.file : (dockerfile?.filename ?? Object.keys(sources)[0]);
  const inFile = (x: { location?: { file: string } }) => !x.location || !file || x.location.file === file;
  const lines = (file ? sources[file] : undefined)?.split('\n') ?? dockerfile?.text.split('\n') ?? [];
  return (
    <section className="bottom">
      <div className="tabs">
        <button className={tab === 'logs' ? 'on' : ''} onClick={() => setTab('logs')}>Logs</button>
        <button className={tab === 'source' ? 'on' : ''} onClick={() => setTab('source')} disabled={!lines.length}>{file ?? 'Dockerfile'}</button>
      </div>
      {tab === 'logs' ? (
        <pre className="logs mono" data-testid="logs">{sel ? [...(logs ?? []), ...(st?.error ? [`ERROR: ${st.error}`] : [])].join('\n') || 'no output' : 'Select a node to follow its logs.'}</pre>
      ) : (
        <SourceView
          lines={lines}
          hl={sel?.location && inFile(sel) ? { start: sel.location.startLine, end: sel.location.endLine } : undefined}
          onPick={(ln) => {
            const n = nodes.find((x) => x.location && inFile(x) && ln >= x.location.startLine && ln <= x.location.endLine);
            if (n) useEditor.getState().select([n.id]);
          }}
        />
      )}
    </section>
  );
}

function openFile(kind: 'dockerfile' | 'graph') {
  const shell = desktopShell();
  if (shell) {
    // Electron: the native dialog; the main process reads the file it picked
    void shell.openFile(kind).then((d) => d && openHanded(kind, d.path, d.text, d.context), (e: Error) => useEditor.getState().setNotice(e.message));
    return;
  }
  const input = document.createElement('input');
  input.type = 'file';
  input.accept = kind === 'graph' ? '.json,.kiln.json' : '';
  input.onchange = async () => {
    const f = input.files?.[0];
    if (!f) return;
    const text = await f.text();
    // build checks come from the Dockerfile frontend in the engine; the view works without them
    openHanded(kind === 'graph' || f.name.endsWith('.json') ? 'graph' : 'dockerfile', f.name, text);
  };
  input.click();
}

const SHORTCUTS: [string, string][] = [
  ['Ctrl/Cmd+Z', 'undo'], ['Shift+Ctrl/Cmd+Z', 'redo'], ['Ctrl/Cmd+C / X / V', 'copy / cut / paste'], ['Ctrl/Cmd+A', 'select all nodes'], ['Delete', 'delete selection'], ['Ctrl/Cmd+S', 'save'], ['Shift+Ctrl/Cmd+S', 'save as'], ['Ctrl/Cmd+O', 'open'],
  ['Ctrl/Cmd+Enter', 'run (up to the selected node)'], ['Esc', 'cancel the build / close'], ['L', 'auto-layout'], ['F', 'zoom to fit'], ['?', 'this sheet'],
];

function runSelected() {
  const sel = useEditor.getState().selected;
  void runGraph(sel.length === 1 ? { target: sel[0] } : {});
}

export function App() {
  const theme = useEditor((s) => s.theme);
  const dirty = useEditor((s) => s.dirty);
  const fileName = useEditor((s) => s.fileName ?? s.dockerfile?.filename);
  const running = useEditor((s) => s.running);
  const notice = useEditor((s) => s.notice);
  const [info, setInfo] = useState<InfoResponse | { error: string } | undefined>();
  const [help, setHelp] = useState(false);
  const [exporting, setExporting] = useState<string | undefined>();
  const [opening, setOpening] = useState(false);
  const [showHistory, setShowHistory] = useState(false);
  const [cache, setCache] = useState<{ pruneNow?: number } | undefined>();
  const contextDir = useEditor((s) => s.contextDir);
  const project = useEditor((s) => s.project);
  const replay = useEditor((s) => s.replay);
  const doc = useEditor((s) => s.doc);
  const issues = useMemo(() => issuesByNode(doc), [doc]);

  useEffect(() => {
    getApi().info().then(setInfo, (e: Error) => setInfo({ error: e.message }));
  }, []);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  useEffect(() => {
    // the unsaved-changes mark reads in the window title (and the Electron title bar) too
    document.title = `${dirty ? '● ' : ''}${fileName ?? 'untitled'} — Kiln`;
  }, [dirty, fileName]);
  useEffect(
    () =>
      listenToMenu({
        'open-dockerfile': (c) => c.path && c.text !== undefined && openHanded('dockerfile', c.path, c.text, c.context),
        'open-graph': (c) => c.path && c.text !== undefined && openHanded('graph', c.path, c.text, c.context),
        'open-project': (c) => c.path && void openProject(c.path),
        save: () => void saveGraph(),
        'save-as': () => void saveGraph(true),
        export: () => {
          const sel = useEditor.getState().selected;
          if (sel.length === 1) setExporting(sel[0]);
        },
        'build-run': () => void runGraph(),
        'build-run-node': () => runSelected(),
        'build-cancel': () => void cancelRun(),
        'build-history': () => setShowHistory(true),
        'build-du': () => setCache({}),
        'build-prune': () => setCache({ pruneNow: Date.now() }),
        'view-fit': () => window.dispatchEvent(new Event('kiln:fit')),
        'view-layout': () => useEditor.getState().autoLayout(),
        ...editMenuActions,
      }),
    [],
  );
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT') return;
      const mod = e.ctrlKey || e.metaKey;
      const st = useEditor.getState();
      const k = e.key.toLowerCase();
      if (mod && k === 'z') (e.shiftKey ? useEditor.temporal.getState().redo() : useEditor.temporal.getState().undo()), e.preventDefault();
      else if (mod && k === 'y') useEditor.temporal.getState().redo(), e.preventDefault();
      else if (mod && k === 'c') st.copy();
      else if (mod && k === 'x') (st.copy(), st.deleteSelected());
      else if (mod && k === 'v') st.paste();
      else if (mod && k === 'a') st.select(st.doc.nodes.map((n) => n.id)), e.preventDefault();
      else if (mod && k === 's') void saveGraph(e.shiftKey), e.preventDefault();
      else if (mod && k === 'o') openFile('dockerfile'), e.preventDefault();
      else if (mod && e.key === 'Enter') runSelected(), e.preventDefault();
      else if (e.key === 'Delete' || e.key === 'Backspace') st.deleteSelected();
      else if (e.key === 'Escape') (setHelp(false), setExporting(undefined), setOpening(false), void cancelRun());
      else if (!mod && k === 'l') st.autoLayout();
      else if (!mod && k === 'f') window.dispatchEvent(new Event('kiln:fit'));
      else if (e.key === '?') setHelp((h) => !h);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const engineDown = info && ('error' in info || !info.engine.ok);
  return (
    <div className="app">
      <header className="toolbar">
        <strong>Kiln</strong>
        <span className="file" data-testid="filename">{fileName ?? 'untitled'}{dirty ? <span className="dirty" title="unsaved changes" data-testid="dirty"> ●</span> : null}</span>
        <button onClick={() => openFile('dockerfile')}>Open Dockerfile…</button>
        <button onClick={() => openFile('graph')}>Open…</button>
        <button onClick={() => {
          const shell = desktopShell();
          if (shell) void shell.openFile('project').then((d) => d && openProject(d.path));
          else setOpening(true);
        }}>Open project…</button>
        <RecentMenu />
        <button onClick={() => void saveGraph()}>Save</button>
        <button onClick={() => void saveGraph(true)}>Save As…</button>
        <button onClick={() => void saveAsDockerfile()}>Save as Dockerfile</button>
        <button onClick={() => useEditor.temporal.getState().undo()} title="Ctrl+Z">Undo</button>
        <button onClick={() => useEditor.temporal.getState().redo()} title="Shift+Ctrl+Z">Redo</button>
        <button onClick={() => useEditor.getState().autoLayout()} title="L">Layout</button>
        <button className="primary" onClick={runSelected} disabled={running} title="Ctrl+Enter">Run</button>
        <button onClick={() => void cancelRun()} disabled={!running} title="Esc">Cancel</button>
        <button onClick={() => setShowHistory((v) => !v)} aria-pressed={showHistory}>History</button>
        <button onClick={() => setCache((c) => (c ? undefined : {}))} aria-pressed={!!cache}>Cache</button>
        {/* where local sources and COPY . read from, on the service's machine (a project uses its directory) */}
        <input className="context mono" aria-label="Build context" data-testid="context" placeholder="build context dir (server)" title="Build context directory on the machine running the engine"
          value={project ? project.dir : (contextDir ?? '')} disabled={!!project} onChange={(e) => useEditor.getState().setContextDir(e.target.value)} />
        <button onClick={() => useEditor.getState().toggleTheme()}>{theme === 'dark' ? 'Light' : 'Dark'}</button>
        <button onClick={() => setHelp(true)}>?</button>
        {info && !('error' in info) && <EngineChip info={info} />}
      </header>
      <div className="messages">
      {engineDown && (
        <div className="banner" role="alert" data-testid="engine-banner">
          {'error' in info ? `Cannot reach the Kiln service: ${info.error}` : `Docker Engine unavailable at ${info.engine.endpoint}: ${info.engine.error ?? 'not reachable'}${info.engine.hint ? ` — ${info.engine.hint}` : ''}`}
        </div>
      )}
      {replay && (
        <div className="replay" data-testid="replay">
          Showing past build <span className="mono">{replay.name}</span> from {new Date(replay.createdAt).toLocaleString()}
          <button onClick={() => useEditor.getState().clearReplay()}>Back to live</button>
        </div>
      )}
      {notice && <div className="notice" data-testid="notice" onClick={() => useEditor.getState().setNotice(undefined)}>{notice}</div>}
      </div>
      <main className="body">
        <Palette />
        <ReactFlowProvider>
          <Canvas empty={<EmptyState />} />
        </ReactFlowProvider>
        <Inspector issues={issues} onExport={setExporting} />
      </main>
      <BottomPanel />
      {opening && <OpenProjectDialog onClose={() => setOpening(false)} />}
      {exporting && <ExportDialog nodeId={exporting} onClose={() => setExporting(undefined)} />}
      {showHistory && <HistoryPanel onClose={() => setShowHistory(false)} />}
      {cache && <CachePanel onClose={() => setCache(undefined)} pruneNow={cache.pruneNow} />}
      {help && (
        <div className="modal" role="dialog" aria-label="Keyboard shortcuts" onClick={() => setHelp(false)}>
          <h3>Keyboard shortcuts</h3>
          <table><tbody>{SHORTCUTS.map(([k, v]) => <tr key={k}><td className="mono">{k}</td><td>{v}</td></tr>)}</tbody></table>
        </div>
      )}
    </div>
  );
}
