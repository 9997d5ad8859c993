// The canvas: the document's nodes and edges in React Flow, with groups drawn as parent frames.
// The store keeps absolute positions; positions React Flow reports for children are relative to
// their frame and are mapped back here.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, type ReactNode } from 'react';
import { ReactFlow, MiniMap, Controls, Background, getViewportForBounds, useReactFlow, useStore, useStoreApi, type Connection, type NodeChange, type EdgeChange, type Edge, type Node } from '@xyflow/react';
import { useEditor, issuesByNode } from './store.js';
import { useAffected } from './affected.js';
import { openDroppedFile } from './shell.js';
import { KilnNode, type KilnFlowNode } from './KilnNode.js';
import { FrameNode, type FrameFlowNode } from './FrameNode.js';
import { PALETTE, kindFamily } from './titles.js';
import { NODE_W, NODE_H } from './layout.js';
import { nodeHandles, type NodeSize } from './nodeGeometry.js';
import { crossTargetEdge } from './project.js';
import { computeFrames, isFrameId, nodeParents, type Frame } from './groups.js';

const nodeTypes = { kiln: KilnNode, frame: FrameNode };
type FlowNode = KilnFlowNode | FrameFlowNode;

/** Below this zoom a node shows its status in place of its details, scaled to stay readable. */
export const FAR_ZOOM = 0.5;

/** Publishes the zoom as CSS variables (--iz = 1/zoom) so status marks keep their on-screen size. */
function ZoomScale({ target }: { target: React.RefObject<HTMLDivElement | null> }) {
  const zoom = useStore((s) => s.transform[2]);
  useEffect(() => {
    const el = target.current;
    if (!el) return;
    el.style.setProperty('--iz', String(1 / zoom));
    el.dataset.far = zoom < FAR_ZOOM ? 'true' : 'false';
  }, [zoom, target]);
  return null;
}

const mmColor = (n: Node) => {
  if (n.type === 'frame') return 'transparent';
  const kind = (n.data as { node?: { kind: string } }).node?.kind;
  return `var(--${kind ? kindFamily(kind as Parameters<typeof kindFamily>[0]) : 'op'})`;
};
const mmClass = (n: Node) => (n.type === 'frame' ? 'mm-frame' : `mm-fam-${kindFamily(((n.data as { node: { kind: string } }).node.kind) as Parameters<typeof kindFamily>[0])}`);

const MIN_ZOOM = 0.05;
const FIT = { padding: 0.1, maxZoom: 1.2 };

/** the box around every frame and node, in flow coordinates (undefined for an empty document) */
function docBounds(frames: Frame[], nodes: { id: string; position: { x: number; y: number } }[], sizes: Map<string, NodeSize>) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const add = (x: number, y: number, w: number, h: number) => {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x + w);
    y1 = Math.max(y1, y + h);
  };
  for (const f of frames) add(f.x, f.y, f.w, f.h);
  for (const n of nodes) {
    const s = sizes.get(n.id);
    add(n.position.x, n.position.y, s?.width ?? NODE_W, s?.height ?? NODE_H);
  }
  return x1 > x0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : undefined;
}

export function Canvas({ empty }: { empty: ReactNode }) {
  const doc = useEditor((s) => s.doc);
  const selected = useEditor((s) => s.selected);
  const running = useEditor((s) => s.running);
  const status = useEditor((s) => s.status);
  const project = useEditor((s) => s.project);
  const { screenToFlowPosition, fitView, setViewport } = useReactFlow();
  const rf = useStoreApi<FlowNode>();
  const wrap = useRef<HTMLDivElement>(null);
  const issues = useMemo(() => issuesByNode(doc), [doc]);
  const affected = useAffected(doc);
  const frames = useMemo(() => computeFrames(doc), [doc]);
  const parents = useMemo(() => nodeParents(frames), [frames]);
  // what the last render gave React Flow, to map its relative positions back to absolute ones
  const geo = useRef<{ frames: Map<string, Frame>; parents: Map<string, Frame> }>({ frames: new Map(), parents: new Map() });
  geo.current = { frames: new Map(frames.map((f) => [f.id, f])), parents };

  // each node's data object is kept while what it shows is unchanged, so the memoised KilnNode
  // skips re-rendering when another node is selected, moved or edited
  const dataCache = useRef(new Map<string, KilnFlowNode['data']>());
  // each node's size as React Flow last measured it (a node with a warning or a log tail is taller):
  // handed back with the node so a re-created node object is not hidden and measured again
  const measured = useRef(new Map<string, NodeSize>());
  const nodes: FlowNode[] = useMemo(() => {
    const cache = dataCache.current;
    const nextCache = new Map<string, KilnFlowNode['data']>();
    const dataFor = (n: (typeof doc.nodes)[number], vertical: boolean): KilnFlowNode['data'] => {
      const msgs = (issues[n.id] ?? []).map((i) => i.message);
      const prev = cache.get(n.id);
      const d = prev && prev.node === n && prev.affected === affected.has(n.id) && prev.vertical === vertical && prev.issues.length === msgs.length && prev.issues.every((m, i) => m === msgs[i]) ? prev : { node: n, issues: msgs, affected: affected.has(n.id), vertical };
      nextCache.set(n.id, d);
      return d;
    };
    const byId = new Map(frames.map((f) => [f.id, f]));
    const rel = (x: number, y: number, parent?: string) => {
      const p = parent ? byId.get(parent) : undefined;
      return p ? { x: x - p.x, y: y - p.y } : { x, y };
    };
    const out: FlowNode[] = frames.map((f) => ({
      id: f.id,
      type: 'frame',
      position: rel(f.x, f.y, f.parent),
      ...(f.parent ? { parentId: f.parent } : {}),
      data: { name: f.name, kind: f.kind, members: f.members },
      style: { width: f.w, height: f.h },
      width: f.w,
      height: f.h,
      // known size and no ports: React Flow has nothing to measure (nodeGeometry.ts)
      measured: { width: f.w, height: f.h },
      handles: [],
      selectable: false,
      dragHandle: '.frame-drag',
      zIndex: f.depth - 10,
      className: 'rf-frame',
    }));
    for (const n of doc.nodes) {
      const parent = parents.get(n.id);
      const vertical = parent?.kind === 'stage';
      const size = measured.current.get(n.id);
      out.push({
        id: n.id,
        type: 'kiln',
        position: rel(n.position.x, n.position.y, parent?.id),
        ...(parent ? { parentId: parent.id } : {}),
        selected: selected.includes(n.id),
        zIndex: 1,
        // the size and ports known before React Flow measures, so edges are drawn in the first render (nodeGeometry.ts)
        measured: size ?? { width: NODE_W, height: NODE_H },
        handles: nodeHandles(n, vertical, size),
        data: dataFor(n, vertical),
      });
    }
    dataCache.current = nextCache;
    return out;
  }, [doc.nodes, frames, parents, selected, issues, affected]);
  const edges: Edge[] = useMemo(
    () => doc.edges.map((e) => ({ id: e.id, source: e.source, sourceHandle: e.sourcePort, target: e.target, targetHandle: e.targetPort, zIndex: 1, animated: running && status[e.target]?.state === 'running', className: `${e.sourcePort === 'config' ? 'edge-config' : 'edge-fs'}${project && crossTargetEdge(e) ? ' edge-target' : ''}` })),
    [doc.edges, running, status, project],
  );

  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => {
    const st = useEditor.getState();
    const { frames: fr, parents: pa } = geo.current;
    let sel: string[] | undefined;
    for (const c of changes) {
      if (c.type === 'position' && c.position) {
        // a drag is one undo step: history pauses while dragging and records the drop
        const t = useEditor.temporal.getState();
        if (c.dragging) t.pause();
        else t.resume();
        const doc = useEditor.getState().doc;
        let moved: Map<string, { x: number; y: number }>;
        if (isFrameId(c.id)) {
          const f = fr.get(c.id);
          if (!f) continue;
          const parent = f.parent ? fr.get(f.parent) : undefined;
          const dx = c.position.x + (parent?.x ?? 0) - f.x;
          const dy = c.position.y + (parent?.y ?? 0) - f.y;
          if (!dx && !dy && c.dragging) continue;
          const members = new Set(f.members);
          moved = new Map(doc.nodes.filter((n) => members.has(n.id)).map((n) => [n.id, { x: n.position.x + dx, y: n.position.y + dy }]));
        } else {
          const p = pa.get(c.id);
          moved = new Map([[c.id, { x: c.position.x + (p?.x ?? 0), y: c.position.y + (p?.y ?? 0) }]]);
        }
        const nodes = doc.nodes.map((n) => (moved.has(n.id) ? { ...n, position: moved.get(n.id)! } : n));
        useEditor.setState({ doc: { ...doc, nodes }, ...(c.dragging ? {} : { dirty: true }) });
      } else if (c.type === 'dimensions' && c.dimensions && !isFrameId(c.id)) {
        measured.current.set(c.id, c.dimensions);
      } else if (c.type === 'select' && !isFrameId(c.id)) {
        sel ??= [...st.selected];
        sel = c.selected ? [...new Set([...sel, c.id])] : sel.filter((x) => x !== c.id);
      }
    }
    if (sel) st.select(sel);
  }, []);
  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    for (const c of changes) if (c.type === 'remove') useEditor.getState().removeEdge(c.id);
  }, []);
  const onConnect = useCallback((c: Connection) => {
    useEditor.getState().connect({ source: c.source, sourcePort: c.sourceHandle ?? 'out', target: c.target, targetPort: c.targetHandle ?? 'in' });
  }, []);
  // A newly opened document is shown whole from its first render: the view is fitted to the
  // frames and nodes as laid out, before React Flow takes the new nodes (a passive effect), so
  // they are drawn once, at the zoom they will be seen at. Fitting after they were drawn meant a
  // render at the old zoom, a wait, and a second render of everything.
  useLayoutEffect(() => {
    const { width, height, panZoom } = rf.getState();
    const b = docBounds(frames, doc.nodes, measured.current);
    if (!panZoom || !width || !height || !b) return void fitView(FIT);
    void setViewport(getViewportForBounds(b, width, height, MIN_ZOOM, FIT.maxZoom, FIT.padding));
    // only when another document is opened (or stages are added or removed)
  }, [doc.name, doc.groups.length]);
  useEffect(() => {
    const onFit = () => fitView(FIT);
    window.addEventListener('kiln:fit', onFit);
    return () => window.removeEventListener('kiln:fit', onFit);
  }, [fitView]);
  return (
    <div
      className="canvas"
      ref={wrap}
      onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = e.dataTransfer.types.includes('Files') ? 'copy' : 'move'; }}
      onDrop={(e) => {
        e.preventDefault();
        // a Dockerfile or *.kiln.json dragged in from the desktop opens it
        const file = e.dataTransfer.files[0];
        if (file) return void openDroppedFile(file);
        const kind = e.dataTransfer.getData('application/kiln-node');
        const item = PALETTE.find((p) => p.kind === kind);
        if (item) useEditor.getState().addNode(item.kind, item.params, screenToFlowPosition({ x: e.clientX, y: e.clientY }));
      }}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onPaneClick={() => useEditor.getState().select([])}
        deleteKeyCode={null}
        minZoom={MIN_ZOOM}
        onlyRenderVisibleElements
        fitView
        fitViewOptions={FIT}
      >
        <ZoomScale target={wrap} />
        <MiniMap pannable zoomable nodeColor={mmColor} nodeClassName={mmClass} nodeStrokeColor={(n) => (n.type === 'frame' ? 'var(--muted)' : 'transparent')} nodeStrokeWidth={4} />
        <Controls />
        <Background />
      </ReactFlow>
      {doc.nodes.length === 0 && empty}
    </div>
  );
}
