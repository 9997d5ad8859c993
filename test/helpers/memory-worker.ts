// A Worker whose snapshots are entries of a map (id → size): enough for the cache manager's unit
// tests to observe what it measures and removes, without an engine.
import type { Worker } from '../../engine/worker/types.js';

/** a worker whose snapshots are entries of a map: enough to observe what the manager removes */
export function memoryWorker() {
  const snapshots = new Map<string, number>();
  const removed: string[] = [];
  const worker: Worker = {
    id: 'memory',
    info: async () => ({ id: 'memory', kind: 'memory', endpoint: 'memory', platforms: [], ok: true }),
    resolveOp: () => {
      throw new Error('not used');
    },
    resolveImageConfig: async () => {
      throw new Error('not used');
    },
    layers: async () => [],
    exists: async (r) => snapshots.has(r.id),
    remove: async (r) => {
      removed.push(r.id);
      snapshots.delete(r.id);
    },
    size: async (r) => snapshots.get(r.id) ?? 0,
    close: async () => {},
  };
  return { worker, snapshots, removed };
}
