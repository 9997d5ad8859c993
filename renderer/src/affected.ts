// Cache-invalidation preview: which nodes would rebuild if the graph ran now. A step reruns when its
// vertex digest differs from the last run's (BuildKit's cache key starts from the op digest, which
// covers the op and its inputs' digests), so rewiring, deleting and undo are right by construction.
// Digests come from the engine's own graph → LLB conversion (ControlAPI.graph), because the
// renderer cannot hash (node:crypto) and a second copy of the conversion would drift.
import { useEffect, useMemo, useState } from 'react';
import type { GraphResponse, SolveInput } from '../../engine/control/api.js';
import type { GraphDocument } from '../../engine/frontend/graph/document.js';
import { getApi } from './api/index.js';
import { downstreamOf, useEditor } from './store.js';

export type GraphFn = (input: SolveInput) => Promise<Pick<GraphResponse, 'vertices'>>;

/** what decides the vertices: kinds, params and wiring (positions and names do not) */
export function structureKey(doc: GraphDocument): string {
  return JSON.stringify([doc.nodes.map((n) => [n.id, n.kind, n.params]), doc.edges.map((e) => [e.source, e.sourcePort, e.target, e.targetPort])]);
}

/**
 * node id → its own vertex digest. The engine marshals only a target's ancestors, so the graph is
 * asked once per end node (a node nothing reads from); together they cover every node.
 */
export async function nodeVertices(doc: GraphDocument, graph: GraphFn): Promise<Map<string, string>> {
  const ends = doc.nodes.filter((n) => !doc.edges.some((e) => e.source === n.id));
  const parts = await Promise.all(ends.map((n) => graph({ kind: 'graph', document: doc, target: n.id })));
  const out = new Map<string, string>();
  for (const p of parts) for (const v of p.vertices) if (v.location?.nodeId) out.set(v.location.nodeId, v.digest);
  return out;
}

/**
 * The nodes that would rebuild: a node with a vertex when its digest moved (or it is new); a node
 * without one (config, exporters, scratch) when its params or inputs changed, or an input rebuilds.
 */
export function affectedNodes(base: GraphDocument, baseV: Map<string, string>, cur: GraphDocument, curV: Map<string, string>): Set<string> {
  const out = new Set<string>();
  const before = new Map(base.nodes.map((n) => [n.id, n]));
  const inputs = (d: GraphDocument, id: string) => JSON.stringify(d.edges.filter((e) => e.target === id).map((e) => [e.source, e.sourcePort, e.targetPort]).sort());
  for (const n of cur.nodes) {
    const v = curV.get(n.id);
    if (v !== undefined) {
      if (baseV.get(n.id) !== v) out.add(n.id);
      continue;
    }
    const b = before.get(n.id);
    if (!b || b.kind !== n.kind || JSON.stringify(b.params) !== JSON.stringify(n.params) || inputs(base, n.id) !== inputs(cur, n.id)) out.add(n.id);
  }
  // vertex-less nodes pass their inputs through: they follow what feeds them (the doc is acyclic)
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of cur.edges) {
      if (out.has(e.source) && !out.has(e.target) && !curV.has(e.target)) out.add(e.target), (grew = true);
    }
  }
  return out;
}

const cache = new Map<string, Promise<Map<string, string>>>();
function verticesOf(doc: GraphDocument): Promise<Map<string, string>> {
  const key = structureKey(doc);
  let p = cache.get(key);
  if (!p) {
    if (cache.size > 8) cache.delete(cache.keys().next().value!);
    p = nodeVertices(doc, (input) => getApi().graph(input));
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/**
 * The canvas's preview set. Before any successful run, or while the document does not convert
 * (an invalid node), it falls back to what was edited since and its downstream.
 */
export function useAffected(doc: GraphDocument): Set<string> {
  const lastRun = useEditor((s) => s.lastRun);
  const changed = useEditor((s) => s.changed);
  const key = useMemo(() => structureKey(doc), [doc]);
  const baseKey = useMemo(() => (lastRun ? structureKey(lastRun) : ''), [lastRun]);
  const fallback = useMemo(() => downstreamOf(doc, changed), [doc, changed]);
  const [exact, setExact] = useState<{ key: string; set: Set<string> } | undefined>();
  useEffect(() => {
    if (!lastRun) return;
    let live = true;
    // debounced: typing a command changes the document on every key
    const t = setTimeout(() => {
      Promise.all([verticesOf(lastRun), verticesOf(doc)]).then(
        ([a, b]) => live && setExact({ key: `${structureKey(lastRun)}|${key}`, set: affectedNodes(lastRun, a, doc, b) }),
        () => live && setExact(undefined),
      );
    }, 200);
    return () => ((live = false), clearTimeout(t));
    // doc is read through key on purpose: moving a node does not ask the engine again
  }, [key, lastRun]);
  if (!lastRun) return fallback;
  return exact && exact.key === `${baseKey}|${key}` ? exact.set : fallback;
}
