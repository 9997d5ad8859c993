// The GC policy applied after builds, after BuildKit's defaults: source/cache-mount records unused
// for 2 days go first; then everything beyond a storage budget of 10% of the root's filesystem
// (at most 20 GB), least recently used first.
import { statfsSync } from 'node:fs';
import type { CacheManager, PruneOptions, PruneResult } from './manager.js';

export function defaultGCPolicy(root: string): PruneOptions[] {
  let budget = 20e9;
  try {
    const s = statfsSync(root);
    budget = Math.min(budget, Math.floor(s.blocks * s.bsize * 0.1));
  } catch {
    /* keep the fixed budget */
  }
  return [{ keepDurationMs: 48 * 3600_000, filters: { type: ['source.local', 'source.git', 'exec.cachemount'] } }, { keepStorage: budget }];
}

export async function runGC(cache: CacheManager, policy: PruneOptions[]): Promise<PruneResult> {
  const out: PruneResult = { removed: [], reclaimed: 0 };
  for (const p of policy) {
    const r = await cache.prune(p);
    out.removed.push(...r.removed);
    out.reclaimed += r.reclaimed;
  }
  return out;
}
