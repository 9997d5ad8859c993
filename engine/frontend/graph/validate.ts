// Validation that names the node: the editor marks invalid nodes with these messages live, and
// `kiln build -f x.kiln.json` fails with them.
import { documentSchema, paramSchemas, type GraphDocument, type GraphEdge } from './document.js';
import { inputPorts, outputPorts } from './ports.js';

export interface GraphIssue {
  nodeId?: string;
  edgeId?: string;
  message: string;
}

export class GraphValidationError extends Error {
  constructor(readonly issues: GraphIssue[]) {
    super(issues.map((i) => (i.nodeId ? `node "${i.nodeId}": ` : i.edgeId ? `edge "${i.edgeId}": ` : '') + i.message).join('\n'));
    this.name = 'GraphValidationError';
  }
}

/** Parse and fully check a document; throws GraphValidationError. Returns params with defaults applied. */
export function validateGraphDocument(x: unknown): GraphDocument {
  const r = documentSchema.safeParse(x);
  if (!r.success) {
    throw new GraphValidationError(
      r.error.issues.map((i) => {
        const nodeIdx = i.path[0] === 'nodes' && typeof i.path[1] === 'number' ? i.path[1] : undefined;
        const raw = nodeIdx !== undefined ? (x as { nodes?: { id?: unknown }[] }).nodes?.[nodeIdx]?.id : undefined;
        return { nodeId: typeof raw === 'string' ? raw : undefined, message: `${i.path.join('.')}: ${i.message}` };
      }),
    );
  }
  const doc = r.data;
  const issues = checkGraph(doc);
  if (issues.length) throw new GraphValidationError(issues);
  for (const n of doc.nodes) n.params = paramSchemas[n.kind].parse(n.params) as Record<string, unknown>;
  return doc;
}

/** Every problem in a structurally valid document (params, ports, wiring, cycles), without throwing. */
export function checkGraph(doc: GraphDocument): GraphIssue[] {
  const issues: GraphIssue[] = [];
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  if (byId.size !== doc.nodes.length) {
    const seen = new Set<string>();
    for (const n of doc.nodes) {
      if (seen.has(n.id)) issues.push({ nodeId: n.id, message: 'duplicate node id' });
      seen.add(n.id);
    }
  }
  for (const n of doc.nodes) {
    const p = paramSchemas[n.kind].safeParse(n.params);
    if (!p.success) for (const i of p.error.issues) issues.push({ nodeId: n.id, message: `${i.path.join('.') || 'params'}: ${i.message}` });
  }
  for (const e of doc.edges) {
    const msg = edgeProblem(doc, e, byId);
    if (msg) issues.push({ edgeId: e.id, nodeId: e.target, message: msg });
  }
  // required inputs (edges counted once per port: a 500-line Dockerfile has hundreds of each)
  const wired = new Map<string, number>();
  for (const e of doc.edges) wired.set(`${e.target}\n${e.targetPort}`, (wired.get(`${e.target}\n${e.targetPort}`) ?? 0) + 1);
  for (const n of doc.nodes) {
    for (const port of inputPorts(n)) {
      const count = wired.get(`${n.id}\n${port.name}`) ?? 0;
      if (port.required && count === 0) issues.push({ nodeId: n.id, message: `input "${port.name}" is not connected` });
      if (!port.multiple && count > 1) issues.push({ nodeId: n.id, message: `input "${port.name}" has ${count} connections; it takes one` });
    }
  }
  const cycle = findCycle(doc.nodes.map((n) => n.id), doc.edges);
  if (cycle) issues.push({ nodeId: cycle[0], message: `cycle: ${cycle.join(' → ')}` });
  return issues;
}

/** Why this edge cannot exist (unknown node/port, type mismatch), or undefined. Cycles are checked separately. */
export function edgeProblem(doc: Pick<GraphDocument, 'nodes'>, e: Pick<GraphEdge, 'source' | 'sourcePort' | 'target' | 'targetPort'>, byId?: Map<string, GraphDocument['nodes'][number]>): string | undefined {
  const s = byId ? byId.get(e.source) : doc.nodes.find((n) => n.id === e.source);
  const t = byId ? byId.get(e.target) : doc.nodes.find((n) => n.id === e.target);
  if (!s) return `source node "${e.source}" does not exist`;
  if (!t) return `target node "${e.target}" does not exist`;
  const sp = outputPorts(s).find((p) => p.name === e.sourcePort);
  const tp = inputPorts(t).find((p) => p.name === e.targetPort);
  if (!sp) return `node "${s.id}" (${s.kind}) has no output "${e.sourcePort}"`;
  if (!tp) return `node "${t.id}" (${t.kind}) has no input "${e.targetPort}"`;
  if (sp.type !== tp.type) return `a ${sp.type} port cannot be wired to a ${tp.type} port (${s.id}.${sp.name} → ${t.id}.${tp.name})`;
  return undefined;
}

/** The editor's check as an edge is drawn: a message when refused. */
export function connectionProblem(doc: Pick<GraphDocument, 'nodes' | 'edges'>, e: Pick<GraphEdge, 'source' | 'sourcePort' | 'target' | 'targetPort'>): string | undefined {
  if (e.source === e.target) return 'a node cannot feed itself';
  const p = edgeProblem(doc, e);
  if (p) return p;
  const cycle = findCycle(doc.nodes.map((n) => n.id), [...doc.edges, e]);
  if (cycle) return `this would make a cycle: ${cycle.join(' → ')}`;
  return undefined;
}

/** A cycle as a node path (first node repeated at the end), or undefined. */
export function findCycle(ids: string[], edges: Pick<GraphEdge, 'source' | 'target'>[]): string[] | undefined {
  const out = new Map<string, string[]>(ids.map((i) => [i, []]));
  for (const e of edges) out.get(e.source)?.push(e.target);
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 1);
    stack.push(id);
    for (const next of out.get(id) ?? []) {
      const s = state.get(next);
      if (s === 1) return [...stack.slice(stack.indexOf(next)), next];
      if (!s) {
        const c = visit(next);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const id of ids) if (!state.has(id)) {
    const c = visit(id);
    if (c) return c;
  }
  return undefined;
}
