// Cache import before a solve and cache export after it, each shown as one progress vertex as
// BuildKit shows them ("importing cache manifest from …", "exporting cache to …"), for the
// `local` (./local.ts) and `registry` (./registry.ts) backends.
import path from 'node:path';
import type { ProgressEvent, Result } from '../../solver/types.js';
import type { Worker } from '../../worker/types.js';
import type { BuildWarning } from '../../llb/definition.js';
import type { CacheSpec } from './spec.js';
import { exportLocalCache, importLocalCache } from './local.js';
import type { CacheRecords } from './records.js';

export type { CacheSpec } from './spec.js';
export { parseCacheSpec, CacheSpecError } from './spec.js';

interface Ctx {
  jobId: string;
  cache: unknown;
  worker: Worker;
  emit(e: ProgressEvent): void;
  signal?: AbortSignal;
}

/** the registry caches a job imported (by its ctx): cross-mount sources for its registry exports */
const importedFrom = new WeakMap<object, { registry: string; repository: string }[]>();

function records(cache: unknown): CacheRecords {
  const c = cache as Partial<CacheRecords>;
  if (typeof c.records !== 'function' || typeof c.save !== 'function' || typeof c.load !== 'function') throw new Error('this engine has no cache manager that can import or export cache');
  return c as CacheRecords;
}

interface Step {
  log(s: string): void;
  status(e: { id: string; current: number; total?: number }): void;
}

async function step<T>(ctx: Ctx, digest: string, name: string, fn: (s: Step) => Promise<T>): Promise<T> {
  const started = Date.now();
  const base = { type: 'vertex' as const, jobId: ctx.jobId, digest, name, inputs: [], started };
  ctx.emit(base);
  const log = (s: string) => ctx.emit({ type: 'log', jobId: ctx.jobId, vertex: digest, stream: 1, data: s + '\n', timestamp: Date.now() } as ProgressEvent);
  const status = (e: { id: string; current: number; total?: number }) =>
    ctx.emit({ type: 'status', jobId: ctx.jobId, vertex: digest, id: e.id, current: e.current, ...(e.total !== undefined ? { total: e.total } : {}), timestamp: Date.now() });
  try {
    const r = await fn({ log, status });
    ctx.emit({ ...base, completed: Date.now() });
    return r;
  } catch (e) {
    ctx.emit({ ...base, completed: Date.now(), error: (e as Error).message });
    throw e;
  }
}

const insecure = (s: CacheSpec) => (s.attrs['registry.insecure'] !== undefined ? { insecure: s.attrs['registry.insecure'] === 'true' } : {});
const signal = (ctx: Ctx) => (ctx.signal ? { signal: ctx.signal } : {});

/** imports every `--cache-from`; no cache there (or, for a registry, one out of reach) is a warning, a corrupt one an error */
export async function importCaches(ctx: Ctx, specs: CacheSpec[]): Promise<BuildWarning[]> {
  const warnings: BuildWarning[] = [];
  for (const [i, s] of specs.entries()) {
    const digest = `cache-import:${ctx.jobId}:${i}`;
    if (s.type === 'registry') {
      const ref = s.attrs['ref']!;
      await step(ctx, digest, `importing cache manifest from ${ref}`, async ({ log, status }) => {
        const { importRegistryCache } = await import('./registry.js');
        const r = await importRegistryCache({ ref, ...insecure(s), ...signal(ctx), onProgress: status }, records(ctx.cache), ctx.worker);
        if (!r.found) {
          const message = `--cache-from type=registry,ref=${ref}: ${r.reason}; building without it`;
          log(`WARNING: ${message}`);
          warnings.push({ rule: 'CacheImport', message });
          return;
        }
        if (r.source) importedFrom.set(ctx, [...(importedFrom.get(ctx) ?? []), r.source]);
        log(`${r.records} cache records, ${r.imported} imported (${r.downloaded} layer blobs downloaded)`);
      });
      continue;
    }
    const dir = path.resolve(s.attrs['src']!);
    const tag = s.attrs['tag'] ?? 'latest';
    await step(ctx, digest, `importing cache manifest from local:${dir}`, async ({ log }) => {
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
    const mode = (s.attrs['mode'] ?? 'min') as 'min' | 'max';
    const where = s.type === 'registry' ? s.attrs['ref']! : path.resolve(s.attrs['dest']!);
    const digest = `cache-export:${ctx.jobId}:${i}`;
    try {
      if (s.type === 'registry') {
        const ociMediaTypes = s.attrs['oci-mediatypes'] !== 'false';
        // BuildKit ≥ 0.21: an image manifest unless asked otherwise (or Docker media types are asked for)
        const imageManifest = s.attrs['image-manifest'] !== undefined ? s.attrs['image-manifest'] === 'true' : ociMediaTypes;
        await step(ctx, digest, `exporting cache to ${where} (mode=${mode})`, async ({ log, status }) => {
          const { exportRegistryCache } = await import('./registry.js');
          const r = await exportRegistryCache(
            { ref: where, mode, ociMediaTypes, imageManifest, mountFrom: importedFrom.get(ctx) ?? [], ...insecure(s), ...signal(ctx), onProgress: status },
            records(ctx.cache),
            ctx.worker,
            outputs,
          );
          log(`${r.records} cache records, ${r.layers} layers (${r.written} uploaded, ${r.skipped} already there, ${r.mounted} mounted); manifest ${r.digest}`);
        });
      } else
        await step(ctx, digest, `exporting cache to local:${where} (mode=${mode})`, async ({ log }) => {
          const r = await exportLocalCache({ dir: where, mode, tag: s.attrs['tag'] ?? 'latest' }, records(ctx.cache), ctx.worker, outputs);
          log(`${r.records} cache records, ${r.layers} layers (${r.written} new)`);
        });
    } catch (e) {
      if (s.attrs['ignore-error'] !== 'true') throw new Error(`cache export to ${where} failed: ${(e as Error).message}`, { cause: e });
      warnings.push({ rule: 'CacheExport', message: `cache export to ${where} failed (ignored): ${(e as Error).message}` });
    }
  }
  return warnings;
}
