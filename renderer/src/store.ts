// The editor's one store. The document (nodes, edges, groups) is under zundo's temporal history so
// undo/redo covers every edit; selection, run status and logs are not history.
import { create } from 'zustand';
import { temporal } from 'zundo';
import { emptyDocument, type GraphDocument, type GraphEdge, type GraphNode } from '../../engine/frontend/graph/document.js';
import { checkGraph, connectionProblem, type GraphIssue } from '../../engine/frontend/graph/validate.js';
import { dockerfileToGraph } from '../../engine/frontend/graph/dockerfile.js';
import type { ProgressEvent } from '../../engine/solver/types.js';
import { pushProgressName } from '../../engine/registry/progress.js';
import { layoutNodes } from './layout.js';
import { configNodeOf, withExportConfig } from './exportConfig.js';

/** canceled: still running when the build was canceled or failed elsewhere (BuildKit's canceled vertices) */
export type RunState = 'queued' | 'running' | 'cached' | 'done' | 'failed' | 'canceled';
export interface NodeStatus {
  state: RunState;
  started?: number;
  completed?: number;
  error?: string;
  exitCode?: number;
  current?: number;
  total?: number;
}

/** An export of one node's result (the export dialog, or a run into an exporter node). */
export interface Transfer {
  /** the export vertex's name, e.g. "exporting to image 127.0.0.1:5000/app:1" */
  name: string;
  state: 'running' | 'done' | 'failed';
  /** registry push: bytes pushed (or already present) of the image's total (engine/registry/progress.ts) */
  pushed?: { name: string; current: number; total: number };
  error?: string;
  /** the exporter's response (containerimage.digest, dest, image.name, …) once it finished */
  result?: Record<string, string>;
}

export interface EditorState {
  doc: GraphDocument;
  selected: string[];
  dirty: boolean;
  fileName?: string;
  /** the opened graph file's absolute path (Electron), where Save writes back */
  filePath?: string;
  /** the build context directory on the service's machine, sent with every solve (local sources, COPY .) */
  contextDir?: string;
  setContextDir(dir?: string): void;
  /** the document of the last successful run: the baseline of the cache-invalidation preview (./affected.ts) */
  lastRun?: GraphDocument;
  /** the document being run, promoted to lastRun when the run succeeds */
  runningDoc?: GraphDocument;
  dockerfile?: { text: string; filename: string };
  /** an opened bake/compose project: where its paths are relative to, and each target's result node */
  project?: { file: string; dir: string; tails: Record<string, string> };
  /** Dockerfile texts by the file name nodes' locations carry (a project has several) */
  sources: Record<string, string>;
  status: Record<string, NodeStatus>;
  logs: Record<string, string[]>;
  buildId?: string;
  running: boolean;
  /** node id → its export in the current (or last) run */
  transfers: Record<string, Transfer>;
  /** node id of each output of the running build, in the order the service numbers its export vertices */
  exportNodes: string[];
  /** a past build shown on the graph instead of the live status (History panel) */
  replay?: { id: string; name: string; createdAt: number };
  showBuild(replay: { id: string; name: string; createdAt: number }, status: Record<string, NodeStatus>): void;
  clearReplay(): void;
  notice?: string;
  theme: 'dark' | 'light';
  clipboard: GraphNode[];
  /** params changed since the last run: their downstream nodes will rebuild */
  changed: string[];
  /** build-check warnings per node (from the Dockerfile frontend via ControlAPI.graph) */
  warnings: Record<string, string[]>;
  setWarnings(ws: { rule: string; message: string; location?: { startLine: number; endLine: number } }[]): void;

  newDocument(): void;
  /** `opened`: where the file came from (Electron gives a path and its directory as the context) */
  loadDocument(doc: GraphDocument, fileName?: string, opened?: Opened): void;
  openDockerfile(text: string, filename?: string, opened?: Opened): void;
  loadProject(opened: { doc: GraphDocument; tails: Record<string, string>; sources: Record<string, string> }, file: string, dir: string): void;
  addNode(kind: GraphNode['kind'], params: Record<string, unknown>, position?: { x: number; y: number }): string;
  updateParams(id: string, params: Record<string, unknown>): void;
  /** the image config exporter `id` writes: edits its config node, or inserts one (./exportConfig.ts) */
  setExportConfig(id: string, params: Record<string, unknown>): void;
  moveNode(id: string, position: { x: number; y: number }): void;
  connect(e: Omit<GraphEdge, 'id'>): string | undefined;
  removeEdge(id: string): void;
  deleteSelected(): void;
  select(ids: string[]): void;
  copy(): void;
  paste(): void;
  autoLayout(): void;
  markSaved(fileName?: string, filePath?: string): void;
  setNotice(msg?: string): void;
  toggleTheme(): void;
  startRun(buildId: string, exportNodes?: string[]): void;
  /** the solve's exports (one response per output, in order) */
  finishExports(exports: Record<string, string>[]): void;
  applyEvent(e: ProgressEvent): void;
  endRun(error?: { message: string; exitCode?: number; nodeId?: string; canceled?: boolean }): void;
}

export interface Opened {
  path?: string;
  context?: string;
}

/** what an open sets: a given context replaces the current one, else the user's choice stays */
const openedState = (o: Opened | undefined, graph: boolean) => ({ filePath: graph ? o?.path : undefined, ...(o?.context ? { contextDir: o.context } : {}), lastRun: undefined, runningDoc: undefined });

let seq = 0;
const newId = (doc: GraphDocument, prefix: string) => {
  let id: string;
  do id = `${prefix}${++seq}`;
  while (doc.nodes.some((n) => n.id === id));
  return id;
};

/** vertex names carry their node id as "[id] …" (graphToLLB's description) */
export function nodeIdOfVertexName(name: string): string | undefined {
  return /^\[([^\]\s]+)\]/.exec(name)?.[1];
}

export function downstreamOf(doc: GraphDocument, ids: string[]): Set<string> {
  const out = new Set<string>(ids);
  const queue = [...ids];
  while (queue.length) {
    const id = queue.shift()!;
    for (const e of doc.edges) if (e.source === id && !out.has(e.target)) out.add(e.target), queue.push(e.target);
  }
  return out;
}

const THEME_KEY = 'kiln.theme';

// the chosen theme outlives a reload; the store also runs under node (unit tests), without storage
function savedTheme(): 'dark' | 'light' {
  try {
    return globalThis.localStorage?.getItem(THEME_KEY) === 'light' ? 'light' : 'dark';
  } catch {
    return 'dark';
  }
}

function saveTheme(theme: 'dark' | 'light'): void {
  try {
    globalThis.localStorage?.setItem(THEME_KEY, theme);
  } catch {
    // private mode or no storage: the choice lasts for this page only
  }
}

export const useEditor = create<EditorState>()(
  temporal(
    (set, get) => ({
      doc: emptyDocument(),
      selected: [],
      dirty: false,
      status: {},
      logs: {},
      sources: {},
      running: false,
      transfers: {},
      exportNodes: [],
      theme: savedTheme(),
      clipboard: [],
      changed: [],
      warnings: {},
      setWarnings: (ws) => {
        const out: Record<string, string[]> = {};
        for (const w of ws) {
          const loc = w.location;
          const n = loc && get().doc.nodes.find((x) => x.location && x.location.startLine <= loc.endLine && loc.startLine <= x.location.endLine);
          if (n) (out[n.id] ??= []).push(`${w.rule}: ${w.message}`);
        }
        set({ warnings: out });
      },

      setContextDir: (contextDir) => set({ contextDir: contextDir || undefined }),
      newDocument: () => set({ doc: emptyDocument(), selected: [], dirty: false, fileName: undefined, filePath: undefined, lastRun: undefined, runningDoc: undefined, dockerfile: undefined, project: undefined, sources: {}, status: {}, logs: {}, changed: [] }),
      loadDocument: (doc, fileName, opened) => {
        const needsLayout = doc.nodes.length > 0 && doc.nodes.every((n) => n.position.x === 0 && n.position.y === 0);
        set({ doc: needsLayout ? { ...doc, nodes: layoutNodes(doc.nodes, doc.edges, doc.groups) } : doc, fileName, dirty: false, selected: [], status: {}, logs: {}, dockerfile: undefined, project: undefined, sources: {}, changed: [], ...openedState(opened, true) });
      },
      openDockerfile: (text, filename = 'Dockerfile', opened) => {
        const doc = dockerfileToGraph(text, filename);
        set({ doc: { ...doc, nodes: layoutNodes(doc.nodes, doc.edges, doc.groups) }, warnings: {}, dockerfile: { text, filename }, project: undefined, sources: { [filename]: text }, fileName: undefined, dirty: false, selected: [], status: {}, logs: {}, changed: [], ...openedState(opened, false) });
      },
      loadProject: (opened, file, dir) => {
        const base = file.split(/[\\/]/).pop() ?? file;
        set({ doc: opened.doc, project: { file, dir, tails: opened.tails }, sources: opened.sources, dockerfile: undefined, warnings: {}, fileName: base, filePath: undefined, lastRun: undefined, runningDoc: undefined, dirty: false, selected: [], status: {}, logs: {}, changed: [] });
      },
      addNode: (kind, params, position = { x: 80, y: 80 }) => {
        const doc = get().doc;
        const id = newId(doc, kind.replace(/^export-/, 'x-'));
        set({ doc: { ...doc, nodes: [...doc.nodes, { id, kind, params: structuredClone(params), position }] }, dirty: true, selected: [id] });
        return id;
      },
      updateParams: (id, params) => {
        const doc = get().doc;
        set({ doc: { ...doc, nodes: doc.nodes.map((n) => (n.id === id ? { ...n, params } : n)) }, dirty: true, changed: [...new Set([...get().changed, id])] });
      },
      setExportConfig: (id, params) => {
        const doc = get().doc;
        const next = withExportConfig(doc, id, params, newId(doc, 'config'));
        if (next === doc) return;
        const cfg = configNodeOf(next, id);
        set({ doc: next, dirty: true, changed: [...new Set([...get().changed, ...(cfg ? [cfg.id] : [])])] });
      },
      moveNode: (id, position) => {
        const doc = get().doc;
        set({ doc: { ...doc, nodes: doc.nodes.map((n) => (n.id === id ? { ...n, position } : n)) }, dirty: true });
      },
      connect: (e) => {
        const doc = get().doc;
        const problem = connectionProblem(doc, e);
        if (problem) {
          set({ notice: problem });
          return problem;
        }
        // an input that takes one edge is replaced, as when re-plugging a cable
        const multiple = doc.nodes.find((n) => n.id === e.target)?.kind === 'merge';
        const edges = doc.edges.filter((x) => multiple || !(x.target === e.target && x.targetPort === e.targetPort));
        set({ doc: { ...doc, edges: [...edges, { ...e, id: `e-${e.source}-${e.sourcePort}-${e.target}-${e.targetPort}` }] }, dirty: true });
        return undefined;
      },
      removeEdge: (id) => {
        const doc = get().doc;
        set({ doc: { ...doc, edges: doc.edges.filter((e) => e.id !== id) }, dirty: true });
      },
      deleteSelected: () => {
        const { doc, selected } = get();
        if (!selected.length) return;
        const gone = new Set(selected);
        set({
          doc: { ...doc, nodes: doc.nodes.filter((n) => !gone.has(n.id)), edges: doc.edges.filter((e) => !gone.has(e.source) && !gone.has(e.target) && !gone.has(e.id)), groups: doc.groups.map((g) => ({ ...g, nodes: g.nodes.filter((x) => !gone.has(x)) })) },
          selected: [],
          dirty: true,
        });
      },
      select: (ids) => set({ selected: ids }),
      copy: () => {
        const { doc, selected } = get();
        set({ clipboard: doc.nodes.filter((n) => selected.includes(n.id)).map((n) => structuredClone(n)) });
      },
      paste: () => {
        const { doc, clipboard } = get();
        if (!clipboard.length) return;
        const map = new Map<string, string>();
        const nodes = clipboard.map((n) => {
          const id = newId({ ...doc, nodes: [...doc.nodes] }, n.kind.replace(/^export-/, 'x-'));
          map.set(n.id, id);
          return { ...structuredClone(n), id, position: { x: n.position.x + 40, y: n.position.y + 40 }, location: undefined };
        });
        // edges among the copied nodes come along
        const edges = doc.edges.filter((e) => map.has(e.source) && map.has(e.target)).map((e) => ({ ...e, id: `${e.id}-copy${seq}`, source: map.get(e.source)!, target: map.get(e.target)! }));
        set({ doc: { ...doc, nodes: [...doc.nodes, ...nodes], edges: [...doc.edges, ...edges] }, selected: nodes.map((n) => n.id), dirty: true });
      },
      autoLayout: () => {
        const doc = get().doc;
        set({ doc: { ...doc, nodes: layoutNodes(doc.nodes, doc.edges, doc.groups) }, dirty: true });
      },
      markSaved: (fileName, filePath) => set({ dirty: false, ...(fileName ? { fileName } : {}), ...(filePath ? { filePath } : {}) }),
      setNotice: (notice) => set({ notice }),
      showBuild: (replay, status) => set({ replay, status, logs: {} }),
      clearReplay: () => set({ replay: undefined, status: {} }),
      toggleTheme: () => {
        const theme = get().theme === 'dark' ? 'light' : 'dark';
        saveTheme(theme);
        set({ theme });
      },
      startRun: (buildId, exportNodes = []) => set({ buildId, running: true, runningDoc: get().doc, replay: undefined, status: Object.fromEntries(get().doc.nodes.map((n) => [n.id, { state: 'queued' as RunState }])), logs: {}, notice: undefined, exportNodes, transfers: {} }),
      finishExports: (exports) => {
        const { exportNodes, transfers } = get();
        const next = { ...transfers };
        exports.forEach((r, i) => {
          const id = exportNodes[i];
          if (id && next[id]) next[id] = { ...next[id], state: 'done', result: r };
        });
        set({ transfers: next });
      },
      applyEvent: (e) => {
        const { status, logs } = get();
        const exportNode = exportNodeOf(e.type === 'vertex' ? e.digest : e.vertex, get().exportNodes);
        if (exportNode !== undefined) {
          // the service's export vertices (export:<build>:<i>): their progress belongs to the exported node
          const t = get().transfers[exportNode];
          if (e.type === 'vertex') {
            const state: Transfer['state'] = e.error ? 'failed' : e.completed ? 'done' : 'running';
            set({ transfers: { ...get().transfers, [exportNode]: { ...t, name: e.name, state, ...(e.error ? { error: e.error } : {}) } } });
          } else if (e.type === 'status') {
            const name = pushProgressName(e.id);
            if (name !== undefined && e.total !== undefined) set({ transfers: { ...get().transfers, [exportNode]: { ...(t ?? { name: 'exporting', state: 'running' }), pushed: { name, current: e.current, total: e.total } } } });
          }
          return;
        }
        if (e.type === 'vertex') {
          const id = nodeIdOfVertexName(e.name);
          if (!id) return;
          const state: RunState = e.error ? 'failed' : e.cached ? 'cached' : e.completed ? 'done' : e.started ? 'running' : 'queued';
          const exit = e.error ? /exit code:? (\d+)/i.exec(e.error)?.[1] : undefined;
          set({ status: { ...status, [id]: { ...status[id], state, started: e.started, completed: e.completed, error: e.error, ...(exit ? { exitCode: Number(exit) } : {}) } } });
          vertexNode.set(e.digest, id);
        } else if (e.type === 'log') {
          const id = vertexNode.get(e.vertex);
          if (!id) return;
          const lines = (logs[id] ?? []).concat(e.data.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1));
          set({ logs: { ...logs, [id]: lines.slice(-2000) } });
        } else if (e.type === 'status') {
          const id = vertexNode.get(e.vertex);
          if (id) set({ status: { ...status, [id]: { ...(status[id] ?? { state: 'running' }), current: e.current, total: e.total } } });
        }
      },
      endRun: (error) => {
        const status = { ...get().status };
        // nodes that never started did not run: drop their queued mark; nodes still running when
        // the build stopped (canceled, or another step failed) were interrupted, not finished
        for (const [k, v] of Object.entries(status)) {
          if (v.state === 'queued') delete status[k];
          else if (error && (v.state === 'running' || (error.canceled && v.state === 'failed' && /cancel|abort/i.test(v.error ?? '')))) status[k] = { ...v, state: 'canceled', completed: v.completed ?? Date.now() };
        }
        if (error?.nodeId && !error.canceled) status[error.nodeId] = { ...status[error.nodeId], state: 'failed', error: error.message, exitCode: error.exitCode };
        // the failing step gets selected, so the bottom panel shows its Dockerfile line and its log
        const failed = error && !error.canceled ? (error.nodeId && get().doc.nodes.some((n) => n.id === error.nodeId) ? error.nodeId : Object.keys(status).find((k) => status[k]!.state === 'failed')) : undefined;
        set({
          running: false,
          status,
          changed: error ? get().changed : [],
          notice: error ? error.message : undefined,
          ...(error ? {} : { lastRun: get().runningDoc }),
          runningDoc: undefined,
          ...(failed ? { selected: [failed] } : {}),
        });
      },
    }),
    { partialize: (s) => ({ doc: s.doc }), limit: 200, equality: (a, b) => a.doc === b.doc },
  ),
);

const vertexNode = new Map<string, string>();

/** export:<build>:<i> → the node exported as output i (engine/control/service.ts numbers them) */
function exportNodeOf(vertex: string, exportNodes: string[]): string | undefined {
  const m = /^export:.+:(\d+)$/.exec(vertex);
  return m ? exportNodes[Number(m[1])] : undefined;
}

/** Live validation: issues per node id. */
const issuesOf = new WeakMap<GraphDocument, Record<string, GraphIssue[]>>();

/** The document's issues by node; the canvas and the panels ask for the same document's, so it is checked once. */
export function issuesByNode(doc: GraphDocument): Record<string, GraphIssue[]> {
  const known = issuesOf.get(doc);
  if (known) return known;
  const out: Record<string, GraphIssue[]> = {};
  for (const i of checkGraph(doc)) if (i.nodeId) (out[i.nodeId] ??= []).push(i);
  issuesOf.set(doc, out);
  return out;
}
