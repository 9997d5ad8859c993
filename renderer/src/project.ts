// An opened bake/compose project as one canvas: every target's Dockerfile converted by the graph
// frontend, its ids prefixed with the target name, wrapped in a target group around its stage
// groups. A `target:NAME` context becomes an edge from NAME's result, a directory context a local
// source named by its path under the project directory (what the service resolves it against).
import type { ProjectResponse } from '../../engine/control/api.js';
import { dockerfileToGraph } from '../../engine/frontend/graph/dockerfile.js';
import { emptyDocument, type GraphDocument, type GraphNode } from '../../engine/frontend/graph/document.js';
import { layoutNodes } from './layout.js';

export interface OpenedProject {
  doc: GraphDocument;
  /** target name → the node whose result is that target (what Run builds) */
  tails: Record<string, string>;
  /** Dockerfile path (as nodes' locations name it) → text, for the source panel */
  sources: Record<string, string>;
}

const localName = (rel: string) => (rel === '.' ? 'context' : rel);

export function projectToGraph(p: ProjectResponse, name = 'project'): OpenedProject {
  const doc = emptyDocument();
  doc.name = name;
  const tails: Record<string, string> = {};
  const sources: Record<string, string> = {};
  for (const t of p.targets) {
    const g = dockerfileToGraph(t.dockerfile, t.dockerfilePath);
    sources[t.dockerfilePath] = t.dockerfile;
    const pre = (id: string) => `${t.name}/${id}`;
    const nodes: GraphNode[] = g.nodes.map((n) => ({ ...n, id: pre(n.id) }));
    let edges = g.edges.map((e) => ({ ...e, id: pre(e.id), source: pre(e.source), target: pre(e.target) }));
    const groups = g.groups.map((gr) => ({ id: pre(gr.id), name: gr.name, nodes: gr.nodes.map(pre) }));
    const drop = new Set<string>();
    for (const n of nodes) {
      if (n.kind === 'local' && n.params['name'] === 'context') n.params = { ...n.params, name: localName(t.context) };
      if (n.kind !== 'image') continue;
      const ref = String(n.params['ref']);
      const ctx = t.contexts[ref];
      if (ctx === undefined) continue;
      if (ctx.startsWith('target:')) {
        const from = tails[ctx.slice('target:'.length)];
        if (!from) continue;
        if (n.location) {
          // a FROM line reading another target: it continues from that target's result
          n.kind = 'config';
          n.params = { instruction: n.label ?? `FROM ${ref}` };
          edges.push({ id: pre(`from-${from}`), source: from, sourcePort: 'out', target: n.id, targetPort: 'in' });
        } else {
          // COPY --from / RUN --mount from= another target: its readers read the target directly
          drop.add(n.id);
          edges = edges.map((e) => (e.source === n.id ? { ...e, source: from } : e));
        }
      } else if (ctx.startsWith('docker-image://')) n.params = { ...n.params, ref: ctx.slice('docker-image://'.length) };
      else if (!ctx.includes('://')) {
        n.kind = 'local';
        n.params = { name: localName(ctx) };
      }
    }
    doc.nodes.push(...nodes.filter((n) => !drop.has(n.id)));
    doc.edges.push(...edges);
    const stage = (t.target && groups.find((gr) => gr.name.toLowerCase() === t.target!.toLowerCase())) || groups[groups.length - 1];
    const tail = stage?.nodes[stage.nodes.length - 1];
    if (tail) tails[t.name] = tail;
    doc.groups.push({ id: `target:${t.name}`, name: t.name, nodes: nodes.filter((n) => !drop.has(n.id)).map((n) => n.id) });
    doc.groups.push(...groups);
  }
  doc.nodes = layoutNodes(doc.nodes, doc.edges, doc.groups);
  return { doc, tails, sources };
}

/** edges that cross from one target into another (drawn so the feed stands out) */
export function crossTargetEdge(e: { source: string; target: string }): boolean {
  return e.source.includes('/') && e.target.includes('/') && e.source.split('/')[0] !== e.target.split('/')[0];
}
