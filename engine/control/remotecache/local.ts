// BuildKit's `local` cache backend for Kiln: the records ./records.ts chooses, with their layer
// tars, in an OCI layout directory (./layout.ts); import reads them back from it.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Result } from '../../solver/types.js';
import type { LayerRef, Worker } from '../../worker/types.js';
import { blobPath, hasLayout, initLayout, LAYER_TYPE, readCacheRecords, writeCacheManifest, CacheLayoutError, type Descriptor } from './layout.js';
import { exportSet, importEntries, type CacheRecords } from './records.js';

export type { CacheRecords } from './records.js';

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
  const set = await exportSet(o.mode, cache, worker, outputs);
  initLayout(o.dir);
  const blobs: Descriptor[] = [];
  let written = 0;
  for (const l of set.layers) {
    const p = blobPath(o.dir, l.diffId);
    if (fs.existsSync(p)) blobs.push({ mediaType: LAYER_TYPE, digest: l.diffId, size: fs.statSync(p).size });
    else {
      blobs.push({ mediaType: LAYER_TYPE, digest: l.diffId, size: await spoolLayer(l, p) });
      written++;
    }
  }
  writeCacheManifest(o.dir, o.tag, set.entries, blobs);
  return { records: set.entries.length, layers: blobs.length, written };
}

/** the bytes of `stream` into `dest` (atomically: a temp file renamed), checked to hash to `digest`; returns the size */
export async function spoolVerified(stream: Readable, digest: string, dest: string, what: string): Promise<number> {
  const tmp = `${dest}.${randomBytes(6).toString('hex')}.tmp`;
  const hash = createHash('sha256');
  let size = 0;
  try {
    await pipeline(
      stream,
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
    if (got !== digest) throw new CacheLayoutError(`${what} ${digest} read back as ${got}`);
    fs.renameSync(tmp, dest);
    return size;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** copies one layer tar to `dest`, checking that its content is its diff id */
export async function spoolLayer(l: LayerRef, dest: string): Promise<number> {
  return spoolVerified(await l.open(), l.diffId, dest, 'layer');
}

export interface CacheImportResult {
  /** false: no cache there yet (a warning, as in BuildKit; the build goes on) */
  found: boolean;
  records: number;
  imported: number;
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

export async function importLocalCache(o: { dir: string; tag: string }, cache: CacheRecords, worker: Worker): Promise<CacheImportResult> {
  if (!hasLayout(o.dir)) return { found: false, records: 0, imported: 0 };
  const entries = readCacheRecords(o.dir, o.tag);
  const verified = new Set<string>();
  // a blob is checked against its digest before it is first sent (a layer the engine holds is not sent)
  const imported = await importEntries(entries, cache, worker, async (diffId, inEngine) => {
    if (!inEngine && !verified.has(diffId)) {
      await verifyBlob(o.dir, diffId);
      verified.add(diffId);
    }
    const p = blobPath(o.dir, diffId);
    return { diffId, size: fs.statSync(p).size, inEngine, open: async (): Promise<Readable> => fs.createReadStream(p) };
  });
  return { found: true, records: entries.length, imported };
}
