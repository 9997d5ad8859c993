// BuildKit's `local` cache backend for Kiln. Export: the cache records behind a build's result —
// the output's record and, through the records' parent links, every record it was computed from
// (mode=max), or only those whose snapshot is a layer prefix of the result (mode=min, BuildKit's
// default: the final image's own layers) — with their layer tars, into an OCI layout (./layout.ts).
// Import: each record not already present is recreated in this state root: its layer chain is
// loaded into the Docker Engine as an image (labelled kiln=1; layers the engine holds are not
// re-sent) and saved as a cache record under the same key. Cache keys are content digests that
// do not depend on the state root, so a build in a fresh root then hits them.
//
// Both workers read engine images as inputs (the runc worker materialises an image once as its
// lowest overlay layer), so imported results serve either worker.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import type { CacheRecord } from '../../cache/manager.js';
import type { CacheStore, Result, Vertex } from '../../solver/types.js';
import type { LayerRef, Worker } from '../../worker/types.js';
import { blobPath, hasLayout, initLayout, LAYER_TYPE, readCacheRecords, writeCacheManifest, CacheLayoutError, type CacheRecordEntry, type Descriptor } from './layout.js';

/** the parts of the cache manager used here */
export type CacheRecords = Pick<CacheStore, 'save' | 'load'> & { records(): CacheRecord[] };

/** record types that are not content (a local context is re-read each build; cache mounts are per root) */
const SKIP = new Set(['source.local', 'exec.cachemount']);

export interface CacheExportResult {
  records: number;
  layers: number;
  /** blobs written by this export (the rest were in DIR already) */
  written: number;
}

export async function exportLocalCache(
  o: { dir: string; mode: 'min' | 'max'; tag: string },
  cache: CacheRecords,
  worker: Worker,
  outputs: { vertex: string; result: Result }[],
): Promise<CacheExportResult> {
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
  const records = [...chosen.values()].filter((r) => o.mode === 'max' || isPrefix(layersOf.get(r.key)!));

  initLayout(o.dir);
  const blobs = new Map<string, Descriptor>();
  let written = 0;
  for (const r of records)
    for (const l of layersOf.get(r.key)!) {
      if (blobs.has(l.diffId)) continue;
      const p = blobPath(o.dir, l.diffId);
      if (fs.existsSync(p)) blobs.set(l.diffId, { mediaType: LAYER_TYPE, digest: l.diffId, size: fs.statSync(p).size });
      else {
        blobs.set(l.diffId, { mediaType: LAYER_TYPE, digest: l.diffId, size: await writeBlob(o.dir, l) });
        written++;
      }
    }
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
  writeCacheManifest(o.dir, o.tag, entries, [...blobs.values()]);
  return { records: entries.length, layers: blobs.size, written };
}

/** copies one layer tar into the layout, checking that its content is its diff id */
async function writeBlob(dir: string, l: LayerRef): Promise<number> {
  const dest = blobPath(dir, l.diffId);
  const tmp = `${dest}.${randomBytes(6).toString('hex')}.tmp`;
  const hash = createHash('sha256');
  let size = 0;
  try {
    await pipeline(
      await l.open(),
      new Transform({
        transform(c: Buffer, _e, cb) {
          hash.update(c);
          size += c.length;
          cb(null, c);
        },
      }),
      fs.createWriteStream(tmp),
    );
    const got = 'sha256:' + hash.digest('hex');
    if (got !== l.diffId) throw new Error(`layer ${l.diffId} read back as ${got}`);
    fs.renameSync(tmp, dest);
    return size;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export interface CacheImportResult {
  /** false: DIR holds no cache yet (a warning, as in BuildKit; the build goes on) */
  found: boolean;
  records: number;
  imported: number;
}

/** the Docker Engine behind a worker (the Docker worker, or the one the runc worker stands on) */
function dockerOf(worker: Worker): Dockerode {
  const w = worker as { context?: { docker?: Dockerode }; dockerWorker?: { context?: { docker?: Dockerode } } };
  const d = w.context?.docker ?? w.dockerWorker?.context?.docker;
  if (!d) throw new Error(`cache import needs a worker on a Docker Engine; ${worker.id} has none`);
  return d;
}

/** a blob as a layer (checked against its digest before it is first sent: see verifyBlob) */
function blobLayer(dir: string, diffId: string, inEngine: boolean): LayerRef {
  const p = blobPath(dir, diffId);
  return { diffId, size: fs.statSync(p).size, inEngine, open: async (): Promise<Readable> => fs.createReadStream(p) };
}

/** fails when a blob's content is not its digest (a corrupt or tampered cache) */
async function verifyBlob(dir: string, diffId: string): Promise<void> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(blobPath(dir, diffId)), new Writable({
      write(c: Buffer, _e, cb) {
        hash.update(c);
        cb();
      },
    }));
  const got = 'sha256:' + hash.digest('hex');
  if (got !== diffId) throw new CacheLayoutError(`layer blob ${diffId} in ${dir} is corrupt (its content hashes to ${got})`);
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

export async function importLocalCache(o: { dir: string; tag: string }, cache: CacheRecords, worker: Worker): Promise<CacheImportResult> {
  if (!hasLayout(o.dir)) return { found: false, records: 0, imported: 0 };
  const entries = readCacheRecords(o.dir, o.tag);
  const have = new Set(cache.records().map((r) => r.key));
  const { loadImage } = await import('../../worker/docker/load.js');
  // shorter chains first: a record's parents are loaded before it, so its leading layers are in
  // the engine already and are left out of its archive
  const loaded = new Set<string>();
  const verified = new Set<string>();
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
      const layers = e.layers.map((d, i) => blobLayer(o.dir, d, i < inEngine));
      for (const l of layers) {
        if (l.inEngine || verified.has(l.diffId)) continue;
        await verifyBlob(o.dir, l.diffId);
        verified.add(l.diffId);
      }
      // one image per layer chain (records sharing a snapshot share it, as they did where they were made)
      const config = { architecture: 'amd64', os: 'linux', config: { Labels: { kiln: '1' } }, rootfs: { type: 'layers', diff_ids: e.layers }, history: [{ created_by: 'kiln cache import', comment: 'kiln.cache.import' }] };
      const imageId = await loadImage(dockerOf(worker), layers, config);
      for (let i = 1; i <= e.layers.length; i++) loaded.add(e.layers.slice(0, i).join(','));
      result = { id: e.resultId, sys: { kind: 'image', imageId } };
    }
    await cache.save(e.key, result, { vertex: importedVertex(e), outputIndex: 0, durationMs: 0, inputKeys: e.parents });
    imported++;
  }
  return { found: true, records: entries.length, imported };
}
