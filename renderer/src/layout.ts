// Auto-layout with dagre: left-to-right ranks, so a 49-stage Dockerfile reads as a flow.
import dagre from '@dagrejs/dagre';
import type { GraphNode, GraphEdge } from '../../engine/frontend/graph/document.js';

export const NODE_W = 240;
export const NODE_H = 64;

export function layoutNodes(nodes: GraphNode[], edges: GraphEdge[]): GraphNode[] {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 60 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: NODE_W, height: NODE_H });
  for (const e of edges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return nodes.map((n) => {
    const p = g.node(n.id);
    return p ? { ...n, position: { x: p.x - NODE_W / 2, y: p.y - NODE_H / 2 } } : n;
  });
}
