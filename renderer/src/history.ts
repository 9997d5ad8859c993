// Past builds on the graph: a history entry's vertex records, mapped back onto the nodes that made
// them (graph vertices are named "[nodeId] …"), and two runs compared node by node.
import type { HistoryEntry } from '../../engine/control/api.js';
import type { NodeStatus } from './store.js';
import { nodeIdOfVertexName } from './store.js';

export interface NodeTiming {
  state: 'done' | 'cached' | 'failed' | 'running';
  ms?: number;
}

export function nodeTimings(entry: Pick<HistoryEntry, 'vertices'>): Record<string, NodeTiming> {
  const out: Record<string, NodeTiming> = {};
  for (const v of entry.vertices ?? []) {
    const id = nodeIdOfVertexName(v.name);
    if (!id) continue;
    const state: NodeTiming['state'] = v.error ? 'failed' : v.cached ? 'cached' : v.completed ? 'done' : 'running';
    out[id] = { state, ...(v.started !== undefined && v.completed !== undefined ? { ms: v.completed - v.started } : {}) };
  }
  return out;
}

/** the run's timings as the node status the badges draw */
export function statusFromHistory(entry: HistoryEntry): Record<string, NodeStatus> {
  const out: Record<string, NodeStatus> = {};
  for (const v of entry.vertices ?? []) {
    const id = nodeIdOfVertexName(v.name);
    if (!id) continue;
    out[id] = { state: v.error ? 'failed' : v.cached ? 'cached' : v.completed ? 'done' : 'running', ...(v.started !== undefined ? { started: v.started } : {}), ...(v.completed !== undefined ? { completed: v.completed } : {}), ...(v.error ? { error: v.error } : {}) };
  }
  return out;
}

export interface CompareRow {
  nodeId: string;
  a?: NodeTiming;
  b?: NodeTiming;
  /** b − a in ms, when both ran */
  deltaMs?: number;
}

export function compareRuns(a: HistoryEntry, b: HistoryEntry, order: string[] = []): CompareRow[] {
  const ta = nodeTimings(a);
  const tb = nodeTimings(b);
  const ids = [...new Set([...order.filter((id) => ta[id] || tb[id]), ...Object.keys(ta), ...Object.keys(tb)])];
  return ids.map((nodeId) => {
    const x = ta[nodeId];
    const y = tb[nodeId];
    return { nodeId, ...(x ? { a: x } : {}), ...(y ? { b: y } : {}), ...(x?.ms !== undefined && y?.ms !== undefined ? { deltaMs: y.ms - x.ms } : {}) };
  });
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}
