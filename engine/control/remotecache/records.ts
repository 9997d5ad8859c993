// What every cache backend shares (./local.ts, ./registry.ts): choosing the records a cache
// export holds, and recreating imported records in this state root. A backend only moves the
// blobs (a directory, a registry) and the cache config (./layout.ts).
//
// Export: the cache records behind a build's result — the output's record and, through the
// records' parent links, every record it was computed from (mode=max), or only those whose
// snapshot is a layer prefix of the result (mode=min, BuildKit's default: the final image's own
// layers) — and the layer chain of each.
// Import: each record not already present is recreated: its layer chain is loaded into the Docker
// Engine as an image (labelled kiln=1; layers the engine holds are not re-sent) and saved as a
// cache record under the same key. Cache keys are content digests that do not depend on the state
// root, so a build in a fresh root then hits them. Both workers read engine images as inputs (the
// runc worker materialises an image once as its lowest overlay layer), so imported results serve
// either worker. A record this root already holds is never replaced, and a record is saved only
// after its image is in the engine, so an import that fails half way loses nothing.
import type Dockerode from 'dockerode';
import type { CacheRecord } from '../../cache/manager.js';
import type { CacheStore, Result, Vertex } from '../../solver/types.js';
import type { LayerRef, Worker } from '../../worker/types.js';
import type { CacheRecordEntry } from './layout.js';

/** the parts of the cache manager used here */
export type CacheRecords = Pick<CacheStore, 'save' | 'load'> & { records(): CacheRecord[] };

/** record types that are not content (a local context is re-read each build; cache mounts are per root) */
const SKIP = new Set(['source.local', 'exec.cachemount']);

export interface CacheExportSet {
  /** the records, as the cache config lists them (parents only inside the set) */
  entries: CacheRecordEntry[];
  /** every layer the records use, once each, in first-use order */
  layers: LayerRef[];
}

/** the records behind `outputs` (and their layers) that a `mode` export holds */
export async function exportSet(mode: 'min' | 'max', cache: CacheRecords, worker: Worker, outputs: { vertex: string; result: Result }[]): Promise<CacheExportSet> {
  const all = cache.records();
  const byKey = new Map(all.map((r) => [r.key, r]));
  const tops = outputs.map((out) => ({ out, rec: all.find((r) => r.vertex === out.vertex && r.resultId === out.result.id) }));
  if (tops.some((t) => !t.rec)) throw new Error('the build result has no cache record to export (a scratch or local-context result)');
  // the outputs' records and their ancestors, through parent links
  const chosen = new Map<string, CacheRecord>();
  const walk = tops.map((t) => t.rec!);
  while (walk.length) {
    const r = walk.pop()!;
    if (chosen.has(r.key) || SKIP.has(r.type)) continue;
    chosen.set(r.key, r);
    for (const p of r.parents) if (byKey.has(p)) walk.push(byKey.get(p)!);
  }
  const layersOf = new Map<string, LayerRef[]>();
  for (const r of chosen.values()) {
    // load() gives the result with the worker's snapshot data (and drops a record whose snapshot vanished)
    const res = tops.find((t) => t.rec!.key === r.key)?.out.result ?? (await cache.load(r.key));
    if (res) layersOf.set(r.key, await worker.layers(res));
    else chosen.delete(r.key);
  }
  const own = tops.map((t) => layersOf.get(t.rec!.key)!.map((l) => l.diffId));
  const isPrefix = (ls: LayerRef[]) => own.some((o) => ls.length <= o.length && ls.every((l, i) => l.diffId === o[i]));
  const records = [...chosen.values()].filter((r) => mode === 'max' || isPrefix(layersOf.get(r.key)!));
  const layers = new Map<string, LayerRef>();
  for (const r of records) for (const l of layersOf.get(r.key)!) if (!layers.has(l.diffId)) layers.set(l.diffId, l);
  const keys = new Set(records.map((r) => r.key));
  const entries: CacheRecordEntry[] = records.map((r) => ({
    key: r.key,
    ...(r.vertex ? { vertex: r.vertex } : {}),
    type: r.type,
    resultId: r.resultId,
    ...(r.description ? { description: r.description } : {}),
    layers: layersOf.get(r.key)!.map((l) => l.diffId),
    parents: r.parents.filter((p) => keys.has(p)),
  }));
  return { entries, layers: [...layers.values()] };
}

/** the Docker Engine behind a worker (the Docker worker, or the one the runc worker stands on) */
function dockerOf(worker: Worker): Dockerode {
  const w = worker as { context?: { docker?: Dockerode }; dockerWorker?: { context?: { docker?: Dockerode } } };
  const d = w.context?.docker ?? w.dockerWorker?.context?.docker;
  if (!d) throw new Error(`cache import needs a worker on a Docker Engine; ${worker.id} has none`);
  return d;
}

/** a record's producer, as the cache manager stores it (an imported record is never executed) */
const importedVertex = (e: CacheRecordEntry): Vertex => ({
  digest: e.vertex ?? '',
  name: e.description ?? '',
  inputs: [],
  recordType: e.type,
  op: {
    cacheMap: () => Promise.reject(new Error('an imported cache record has no op')),
    exec: () => Promise.reject(new Error('an imported cache record has no op')),
  },
});

/**
 * Recreates `entries` in this root. `layer(diffId, inEngine)` gives a layer's blob; its stream must
 * deliver exactly the layer's bytes (a backend checks them against the digest before or while it
 * hands them out). Returns how many records were imported.
 */
export async function importEntries(entries: CacheRecordEntry[], cache: CacheRecords, worker: Worker, layer: (diffId: string, inEngine: boolean) => Promise<LayerRef>): Promise<number> {
  const have = new Set(cache.records().map((r) => r.key));
  const { loadImage } = await import('../../worker/docker/load.js');
  // shorter chains first: a record's parents are loaded before it, so its leading layers are in
  // the engine already and are left out of its archive
  const loaded = new Set<string>();
  let imported = 0;
  for (const e of [...entries].sort((a, b) => a.layers.length - b.layers.length)) {
    // a record this root holds whose snapshot still exists is kept (load drops one that vanished)
    if (have.has(e.key) && (await cache.load(e.key))) continue;
    let result: Result;
    // The result keeps the exporting root's id: a COPY's key from a built stage includes its input's
    // result id (the id stands for the content), and the loaded image holds exactly that content.
    if (!e.layers.length) result = { id: 'scratch', sys: { kind: 'scratch' } };
    else {
      let inEngine = 0;
      for (let i = e.layers.length; i > 0 && !inEngine; i--) if (loaded.has(e.layers.slice(0, i).join(','))) inEngine = i;
      const layers = await Promise.all(e.layers.map((d, i) => layer(d, i < inEngine)));
      // one image per layer chain (records sharing a snapshot share it, as they did where they were made)
      const config = { architecture: 'amd64', os: 'linux', config: { Labels: { kiln: '1' } }, rootfs: { type: 'layers', diff_ids: e.layers }, history: [{ created_by: 'kiln cache import', comment: 'kiln.cache.import' }] };
      const imageId = await loadImage(dockerOf(worker), layers, config);
      for (let i = 1; i <= e.layers.length; i++) loaded.add(e.layers.slice(0, i).join(','));
      result = { id: e.resultId, sys: { kind: 'image', imageId } };
    }
    await cache.save(e.key, result, { vertex: importedVertex(e), outputIndex: 0, durationMs: 0, inputKeys: e.parents });
    imported++;
  }
  return imported;
}
