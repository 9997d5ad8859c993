// Groups as frames. A document group (a Dockerfile stage, a bake target) is drawn as a React Flow
// parent node whose box wraps its members; members are its children, so dragging a frame moves
// its stage. The document keeps absolute positions (the file format stays flat); this module
// derives the frames and the children's parent-relative positions from them, and maps React
// Flow's relative positions back.
import type { GraphDocument } from '../../engine/frontend/graph/document.js';
import { NODE_W, NODE_H } from './layout.js';

export const FRAME_PAD = 18;
export const FRAME_HEAD = 30;

export interface Frame {
  id: string;
  groupId: string;
  name: string;
  /** a bake target wraps stage frames; a stage wraps instruction nodes */
  kind: 'target' | 'stage';
  /** absolute box */
  x: number;
  y: number;
  w: number;
  h: number;
  parent?: string;
  depth: number;
  members: string[];
}

export const frameId = (groupId: string) => `frame:${groupId}`;
export const isFrameId = (id: string) => id.startsWith('frame:');
export const groupKind = (groupId: string): Frame['kind'] => (groupId.startsWith('target:') ? 'target' : 'stage');

export interface GroupNesting {
  /** the groups that hold at least one of the nodes, with only those members */
  groups: { id: string; name: string; nodes: string[] }[];
  /** group id → the smallest group around it */
  parentOf: Map<string, string | undefined>;
  /** node id → the innermost group holding it */
  nodeGroup: Map<string, string>;
  depth(groupId: string): number;
}

/**
 * How groups nest: a group lies inside another when its members are a strict subset of the
 * other's (a target whose Dockerfile has one stage holds the same nodes as that stage: the target
 * wraps it); a node belongs to the innermost group that holds it.
 */
export function nestGroups(nodeIds: string[], docGroups: GraphDocument['groups']): GroupNesting {
  const present = new Set(nodeIds);
  const groups = docGroups.map((g) => ({ ...g, nodes: g.nodes.filter((id) => present.has(id)) })).filter((g) => g.nodes.length > 0);
  const sets = new Map(groups.map((g) => [g.id, new Set(g.nodes)]));
  const inside = (a: string, b: string) => {
    const A = sets.get(a)!;
    const B = sets.get(b)!;
    if (A.size > B.size || (A.size === B.size && !(groupKind(b) === 'target' && groupKind(a) === 'stage'))) return false;
    for (const x of A) if (!B.has(x)) return false;
    return true;
  };
  const parentOf = new Map<string, string | undefined>();
  for (const g of groups) {
    let best: string | undefined;
    for (const o of groups) if (o.id !== g.id && inside(g.id, o.id) && (!best || sets.get(o.id)!.size < sets.get(best)!.size)) best = o.id;
    parentOf.set(g.id, best);
  }
  const depths = new Map<string, number>();
  const depth = (id: string): number => {
    let d = depths.get(id);
    if (d === undefined) {
      const p = parentOf.get(id);
      depths.set(id, (d = p ? 1 + depth(p) : 0));
    }
    return d;
  };
  const nodeGroup = new Map<string, string>();
  for (const g of groups) for (const id of g.nodes) {
    const cur = nodeGroup.get(id);
    if (cur === undefined || depth(g.id) > depth(cur)) nodeGroup.set(id, g.id);
  }
  return { groups, parentOf, nodeGroup, depth };
}

/**
 * Frames of a document, outermost first. A group lies inside another when its members are a
 * strict subset of the other's; a node belongs to the smallest group that holds it.
 */
export function computeFrames(doc: Pick<GraphDocument, 'nodes' | 'groups'>, nodeHeight: (id: string) => number = () => NODE_H): Frame[] {
  const pos = new Map(doc.nodes.map((n) => [n.id, n.position]));
  const { groups, parentOf, depth } = nestGroups(doc.nodes.map((n) => n.id), doc.groups);
  const boxes = new Map<string, { x: number; y: number; w: number; h: number }>();
  // innermost first: an outer frame wraps its inner frames' boxes too
  const order = [...groups].sort((a, b) => depth(b.id) - depth(a.id));
  for (const g of order) {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const id of g.nodes) {
      const p = pos.get(id)!;
      x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y);
      x1 = Math.max(x1, p.x + NODE_W); y1 = Math.max(y1, p.y + nodeHeight(id));
    }
    for (const inner of groups) {
      if (parentOf.get(inner.id) !== g.id) continue;
      const b = boxes.get(inner.id)!;
      x0 = Math.min(x0, b.x); y0 = Math.min(y0, b.y);
      x1 = Math.max(x1, b.x + b.w); y1 = Math.max(y1, b.y + b.h);
    }
    boxes.set(g.id, { x: x0 - FRAME_PAD, y: y0 - FRAME_PAD - FRAME_HEAD, w: x1 - x0 + 2 * FRAME_PAD, h: y1 - y0 + 2 * FRAME_PAD + FRAME_HEAD });
  }
  return groups
    .map((g) => {
      const p = parentOf.get(g.id);
      return { id: frameId(g.id), groupId: g.id, name: g.name, kind: groupKind(g.id), ...boxes.get(g.id)!, ...(p ? { parent: frameId(p) } : {}), depth: depth(g.id), members: g.nodes };
    })
    .sort((a, b) => a.depth - b.depth);
}

/** node id → the frame that is its React Flow parent (the smallest group holding it) */
export function nodeParents(frames: Frame[]): Map<string, Frame> {
  const out = new Map<string, Frame>();
  // deepest frames last, so they win
  for (const f of [...frames].sort((a, b) => a.depth - b.depth)) for (const id of f.members) {
    const cur = out.get(id);
    if (!cur || f.depth > cur.depth) out.set(id, f);
  }
  return out;
}
