// Cache import before a solve and cache export after it, each shown as one progress vertex as
// BuildKit shows them ("importing cache manifest from …", "exporting cache to …").
import path from 'node:path';
import type { ProgressEvent, Result } from '../../solver/types.js';
import type { Worker } from '../../worker/types.js';
import type { BuildWarning } from '../../llb/definition.js';
import type { CacheSpec } from './spec.js';
import { exportLocalCache, importLocalCache, type CacheRecords } from './local.js';

export type { CacheSpec } from './spec.js';
export { parseCacheSpec, CacheSpecError } from './spec.js';

interface Ctx {
  jobId: string;
  cache: unknown;
  worker: Worker;
  emit(e: ProgressEvent): void;
}

function records(cache: unknown): CacheRecords {
  const c = cache as Partial<CacheRecords>;
  if (typeof c.records !== 'function' || typeof c.save !== 'function' || typeof c.load !== 'function') throw new Error('this engine has no cache manager that can import or export cache');
  return c as CacheRecords;
}

async function step<T>(ctx: Ctx, digest: string, name: string, fn: (log: (s: string) => void) => Promise<T>): Promise<T> {
  const started = Date.now();
  const base = { type: 'vertex' as const, jobId: ctx.jobId, digest, name, inputs: [], started };
  ctx.emit(base);
  const log = (s: string) => ctx.emit({ type: 'log', jobId: ctx.jobId, vertex: digest, stream: 1, data: s + '\n', timestamp: Date.now() } as ProgressEvent);
  try {
    const r = await fn(log);
    ctx.emit({ ...base, completed: Date.now() });
    return r;
  } catch (e) {
    ctx.emit({ ...base, completed: Date.now(), error: (e as Error).message });
    throw e;
  }
}

/** imports every `--cache-from`; a directory without a cache is a warning, a corrupt one an error */
export async function importCaches(ctx: Ctx, specs: CacheSpec[]): Promise<BuildWarning[]> {
  const warnings: BuildWarning[] = [];
  for (const [i, s] of specs.entries()) {
    const dir = path.resolve(s.attrs['src']!);
    const tag = s.attrs['tag'] ?? 'latest';
    await step(ctx, `cache-import:${ctx.jobId}:${i}`, `importing cache manifest from local:${dir}`, async (log) => {
      const r = await importLocalCache({ dir, tag }, records(ctx.cache), ctx.worker);
      if (!r.found) {
        const message = `--cache-from type=local,src=${dir}: no cache there yet (no index.json); building without it`;
        log(`WARNING: ${message}`);
        warnings.push({ rule: 'CacheImport', message });
      } else log(`${r.records} cache records, ${r.imported} imported`);
    });
  }
  return warnings;
}

/** exports the records behind `outputs` to every `--cache-to` (ignore-error=true turns a failure into a warning) */
export async function exportCaches(ctx: Ctx, specs: CacheSpec[], outputs: { vertex: string; result: Result }[]): Promise<BuildWarning[]> {
  const warnings: BuildWarning[] = [];
  for (const [i, s] of specs.entries()) {
    const dir = path.resolve(s.attrs['dest']!);
    const mode = (s.attrs['mode'] ?? 'min') as 'min' | 'max';
    try {
      await step(ctx, `cache-export:${ctx.jobId}:${i}`, `exporting cache to local:${dir} (mode=${mode})`, async (log) => {
        const r = await exportLocalCache({ dir, mode, tag: s.attrs['tag'] ?? 'latest' }, records(ctx.cache), ctx.worker, outputs);
        log(`${r.records} cache records, ${r.layers} layers (${r.written} new)`);
      });
    } catch (e) {
      if (s.attrs['ignore-error'] !== 'true') throw new Error(`cache export to ${dir} failed: ${(e as Error).message}`, { cause: e });
      warnings.push({ rule: 'CacheExport', message: `cache export to ${dir} failed (ignored): ${(e as Error).message}` });
    }
  }
  return warnings;
}
