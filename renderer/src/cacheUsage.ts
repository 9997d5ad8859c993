// The Cache panel's arithmetic: `du` records attributed to the graph's nodes. A record's
// description is the vertex name that produced it, and graph vertex names start with "[nodeId]".
import type { DuRecord } from '../../engine/control/api.js';
import { nodeIdOfVertexName } from './store.js';

export interface NodeUsage {
  /** a node id of the document, or undefined for "other" (other documents, Dockerfile builds, cache mounts) */
  nodeId?: string;
  size: number;
  records: number;
}

/** per node of `nodeIds`, biggest first; records that name no node of the document are summed as one "other" row, last */
export function usageByNode(records: DuRecord[], nodeIds: Iterable<string>): NodeUsage[] {
  const known = new Set(nodeIds);
  const by = new Map<string, NodeUsage>();
  const other: NodeUsage = { size: 0, records: 0 };
  for (const r of records) {
    const id = r.description ? nodeIdOfVertexName(r.description) : undefined;
    const row = id && known.has(id) ? (by.get(id) ?? by.set(id, { nodeId: id, size: 0, records: 0 }).get(id)!) : other;
    row.size += r.size;
    row.records++;
  }
  const rows = [...by.values()].sort((a, b) => b.size - a.size || a.nodeId!.localeCompare(b.nodeId!));
  return other.records ? [...rows, other] : rows;
}

/** bytes as docker system df writes them: 1024-based, 3 significant digits */
export function humanSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return i === 0 ? `${n} B` : `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}
