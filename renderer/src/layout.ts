// Auto-layout with dagre. A graph without groups flows left to right. With groups (Dockerfile
// stages, bake targets), stages and targets flow left to right and a stage's instructions read
// top to bottom, as in the file — so a 49-stage Dockerfile stays a shape a screen can fit.
// Groups are laid out from the inside out: each group's own nodes and
// inner groups are ranked by dagre on their own, the group becomes one box of that size, and its
// parent ranks the boxes, with edges lifted to the level where they cross. That is many small
// plain dagre runs instead of one compound layout — dagre's compound mode took 3.5–5.5 s on a
// 49-stage file here, this takes tens of milliseconds — and frames can never overlap, because
// siblings are separate dagre nodes. Frame boxes match groups.ts (same padding and title bar).
import dagre from '@dagrejs/dagre';
import type { GraphNode, GraphEdge, GraphGroup } from '../../engine/frontend/graph/document.js';
import { FRAME_HEAD, FRAME_PAD, groupKind, nestGroups } from './groups.js';
import { layered } from './layered.js';

/** from this many items on, dagre's run costs more than an open may take (layered.ts) */
const LAYERED_FROM = 24;

export const NODE_W = 240;
export const NODE_H = 64;

interface Box { w: number; h: number; /** item id → top-left inside the box */ at: Map<string, { x: number; y: number }> }

/** dagre on plain items; returns each item's top-left and the bounding box, from (0,0) */
function rank(items: { id: string; w: number; h: number }[], edges: [string, string][], opts: { nodesep: number; ranksep: number; dir?: 'LR' | 'TB' }): Box {
  const at = new Map<string, { x: number; y: number }>();
  const dir = opts.dir ?? 'LR';
  const path = chainOrder(items.map((i) => i.id), edges);
  if (path) {
    // a chain (FROM → RUN → COPY …, the usual stage): one rank after another, no dagre run
    const byId = new Map(items.map((i) => [i.id, i]));
    let off = 0, cross = 0;
    for (const id of path) {
      const it = byId.get(id)!;
      at.set(id, dir === 'LR' ? { x: off, y: 0 } : { x: 0, y: off });
      off += (dir === 'LR' ? it.w : it.h) + opts.ranksep;
      cross = Math.max(cross, dir === 'LR' ? it.h : it.w);
    }
    off -= opts.ranksep;
    return dir === 'LR' ? { w: off, h: cross, at } : { w: cross, h: off, at };
  }
  if (items.length >= LAYERED_FROM) return layered(items, edges, { ...opts, dir });
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: dir, nodesep: opts.nodesep, ranksep: opts.ranksep, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const it of items) g.setNode(it.id, { width: it.w, height: it.h });
  for (const [s, t] of edges) if (s !== t) g.setEdge(s, t);
  dagre.layout(g);
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const it of items) {
    const p = g.node(it.id);
    const x = p.x - it.w / 2, y = p.y - it.h / 2;
    at.set(it.id, { x, y });
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + it.w); y1 = Math.max(y1, y + it.h);
  }
  for (const p of at.values()) p.x -= x0, p.y -= y0;
  return { w: x1 - x0, h: y1 - y0, at };
}

/** the items in path order when the edges make one simple path through all of them (or there is one item) */
function chainOrder(ids: string[], edges: [string, string][]): string[] | undefined {
  if (ids.length === 1) return ids;
  const uniq = new Map<string, [string, string]>();
  for (const e of edges) if (e[0] !== e[1]) uniq.set(`${e[0]}\n${e[1]}`, e);
  if (uniq.size !== ids.length - 1) return undefined;
  const next = new Map<string, string>();
  const indeg = new Map<string, number>();
  for (const [s, t] of uniq.values()) {
    if (next.has(s)) return undefined;
    next.set(s, t);
    indeg.set(t, (indeg.get(t) ?? 0) + 1);
  }
  const heads = ids.filter((id) => !indeg.has(id));
  if (heads.length !== 1) return undefined;
  const out: string[] = [];
  for (let c: string | undefined = heads[0]; c !== undefined && out.length <= ids.length; c = next.get(c)) out.push(c);
  return out.length === ids.length && new Set(out).size === ids.length ? out : undefined;
}

/** stage groups read top to bottom; targets and the top level flow left to right */
export function groupDirection(groupId: string): 'LR' | 'TB' {
  return groupKind(groupId) === 'stage' ? 'TB' : 'LR';
}

export function layoutNodes(nodes: GraphNode[], edges: GraphEdge[], groups: GraphGroup[] = []): GraphNode[] {
  const ids = new Set(nodes.map((n) => n.id));
  const plain = (es: GraphEdge[]) => es.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => [e.source, e.target] as [string, string]);
  if (!nodes.length) return nodes;
  const nest = nestGroups(nodes.map((n) => n.id), groups);
  if (!nest.groups.length) {
    const box = rank(nodes.map((n) => ({ id: n.id, w: NODE_W, h: NODE_H })), plain(edges), { nodesep: 24, ranksep: 60 });
    return nodes.map((n) => ({ ...n, position: { x: Math.round(20 + box.at.get(n.id)!.x), y: Math.round(20 + box.at.get(n.id)!.y) } }));
  }
  // the container of each item: a node's innermost group, a group's parent group (undefined: top level)
  const ROOT = '\0root';
  const G = '\u0000g:';
  const key = (g: string) => `${G}${g}`;
  const containerOf = new Map<string, string>();
  for (const n of nodes) containerOf.set(n.id, nest.nodeGroup.get(n.id) ?? ROOT);
  for (const g of nest.groups) containerOf.set(key(g.id), nest.parentOf.get(g.id) ?? ROOT);
  const children = new Map<string, string[]>();
  for (const [item, c] of containerOf) (children.get(c) ?? children.set(c, []).get(c)!).push(item);
  // the chain of containers above an item, innermost first, for lifting edges
  const chain = (item: string): string[] => {
    const out: string[] = [];
    for (let c = containerOf.get(item); c && c !== ROOT; c = nest.parentOf.get(c) ?? ROOT) out.push(c);
    return out;
  };
  const chains = new Map(nodes.map((n) => [n.id, chain(n.id)]));
  /** the item of container `c` that holds node `id` (the node itself, or the child group around it) */
  const itemIn = (c: string, id: string): string | undefined => {
    const ch = chains.get(id)!;
    if (c === ROOT) return ch.length ? key(ch[ch.length - 1]!) : id;
    const i = ch.indexOf(c);
    if (i < 0) return undefined;
    return i === 0 ? id : key(ch[i - 1]!);
  };
  const liftedEdges = new Map<string, [string, string][]>();
  for (const [s, t] of plain(edges)) {
    // the innermost container holding both ends: the edge ranks its two items there
    const cs = [...chains.get(s)!, ROOT];
    const ct = new Set([...chains.get(t)!, ROOT]);
    const c = cs.find((x) => ct.has(x))!;
    const a = itemIn(c, s), b = itemIn(c, t);
    if (a && b && a !== b) (liftedEdges.get(c) ?? liftedEdges.set(c, []).get(c)!).push([a, b]);
  }
  // inside out: deepest groups first, so a group's inner boxes are sized before it is ranked
  const boxes = new Map<string, Box>();
  const size = (item: string) => {
    if (!item.startsWith(G)) return { w: NODE_W, h: NODE_H };
    const b = boxes.get(item.slice(G.length))!;
    return { w: b.w + 2 * FRAME_PAD, h: b.h + 2 * FRAME_PAD + FRAME_HEAD };
  };
  const layoutContainer = (c: string) => {
    const items = (children.get(c) ?? []).map((id) => ({ id, ...size(id) }));
    const seen = new Set<string>();
    const es = (liftedEdges.get(c) ?? []).filter(([a, b]) => !seen.has(`${a}\n${b}`) && !!seen.add(`${a}\n${b}`));
    const dir = c === ROOT ? 'LR' : groupDirection(c);
    boxes.set(c, rank(items, es, c === ROOT ? { nodesep: 40, ranksep: 56 } : dir === 'TB' ? { nodesep: 28, ranksep: 28, dir } : { nodesep: 28, ranksep: 48, dir }));
  };
  for (const g of [...nest.groups].sort((a, b) => nest.depth(b.id) - nest.depth(a.id))) layoutContainer(g.id);
  layoutContainer(ROOT);
  // outside in: absolute top-left of every item
  const pos = new Map<string, { x: number; y: number }>();
  const place = (c: string, ox: number, oy: number) => {
    const box = boxes.get(c)!;
    for (const [item, p] of box.at) {
      const x = ox + p.x, y = oy + p.y;
      if (item.startsWith(G)) place(item.slice(G.length), x + FRAME_PAD, y + FRAME_PAD + FRAME_HEAD);
      // whole pixels: a frame sized from fractional positions measures differently in the DOM, and React Flow re-renders it
      else pos.set(item, { x: Math.round(x), y: Math.round(y) });
    }
  };
  place(ROOT, 20, 20);
  return nodes.map((n) => (pos.has(n.id) ? { ...n, position: pos.get(n.id)! } : n));
}
