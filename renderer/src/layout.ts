// Auto-layout with dagre: left-to-right ranks, so a 49-stage Dockerfile reads as a flow. Groups
// (stages, bake targets) are dagre clusters, so their frames never overlap.
import dagre from '@dagrejs/dagre';
import type { GraphNode, GraphEdge, GraphGroup } from '../../engine/frontend/graph/document.js';

export const NODE_W = 240;
export const NODE_H = 64;

export function layoutNodes(nodes: GraphNode[], edges: GraphEdge[], groups: GraphGroup[] = []): GraphNode[] {
  const compound = groups.length > 0;
  const g = new dagre.graphlib.Graph({ compound });
  // room between ranks and rows for the frames' padding and title bars
  g.setGraph({ rankdir: 'LR', nodesep: compound ? 40 : 24, ranksep: compound ? 56 : 60, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: NODE_W, height: NODE_H + (compound ? 12 : 0) });
  if (compound) {
    const ids = new Set(nodes.map((n) => n.id));
    const sets = groups.map((gr) => ({ id: `cluster:${gr.id}`, nodes: new Set(gr.nodes.filter((x) => ids.has(x))) })).filter((s) => s.nodes.size);
    for (const s of sets) g.setNode(s.id, { paddingTop: 40 });
    // each node (and group) hangs off the smallest group that holds it
    const smallest = (pred: (s: (typeof sets)[number]) => boolean) => sets.filter(pred).sort((a, b) => a.nodes.size - b.nodes.size)[0];
    for (const n of nodes) {
      // the innermost group: the smallest, and a stage before a target of the same size
      const s = sets.filter((x) => x.nodes.has(n.id)).sort((a, b) => a.nodes.size - b.nodes.size || Number(a.id.startsWith('cluster:target:')) - Number(b.id.startsWith('cluster:target:')))[0];
      if (s) g.setParent(n.id, s.id);
    }
    for (const s of sets) {
      const wraps = (x: (typeof sets)[number]) => x.nodes.size > s.nodes.size || (x.nodes.size === s.nodes.size && x.id.startsWith('cluster:target:') && !s.id.startsWith('cluster:target:'));
      const outer = smallest((x) => x !== s && wraps(x) && [...s.nodes].every((m) => x.nodes.has(m)));
      if (outer) g.setParent(s.id, outer.id);
    }
  }
  for (const e of edges) if (g.hasNode(e.source) && g.hasNode(e.target) && e.source !== e.target) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return nodes.map((n) => {
    const p = g.node(n.id);
    return p ? { ...n, position: { x: p.x - NODE_W / 2, y: p.y - NODE_H / 2 } } : n;
  });
}
