// BuildKit's `registry` cache backend for Kiln: the records ./records.ts chooses are pushed to a
// registry ref, as BuildKit pushes them: the layer blobs and the cache config first (a blob the
// repository has already is not sent again: HEAD, then a cross-repository mount from a cache
// imported by the same job, then an upload), the manifest last, so the ref never points at a
// half-pushed cache. The manifest is what a local layout holds (./layout.ts):
//   image-manifest=true (the default, as since BuildKit v0.21): an OCI image manifest whose config
//     is the Kiln cache config and whose layers are the layer tars;
//   image-manifest=false: an image index listing the layers and the cache config (BuildKit's
//     older form), with Docker media types when oci-mediatypes=false.
// Import fetches the manifest (either form), validates it and the config with layout.ts's parsers,
// and recreates the records through ./records.ts; a layer blob is downloaded only when the engine
// needs it, into a temporary file, and checked against its digest before the engine sees it.
// Credentials: the docker config's, as the registry exporter finds them (engine/registry).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { RegistryClient, RegistryError } from '../../registry/client.js';
import { parseReference, type ImageReference } from '../../registry/reference.js';
import { pushProgressId } from '../../registry/progress.js';
import type { Result } from '../../solver/types.js';
import type { Worker } from '../../worker/types.js';
import { cacheConfigBlob, cacheManifestBlob, jsonBlob, parseCacheConfig, parseCacheIndex, parseCacheManifest, CACHE_CONFIG_TYPE, DOCKER_LAYER_TYPE, DOCKER_LIST_TYPE, INDEX_TYPE, LAYER_TYPE, MANIFEST_TYPE, type Descriptor } from './layout.js';
import { spoolLayer, spoolVerified, type CacheExportResult, type CacheImportResult } from './local.js';
import { exportSet, importEntries, type CacheRecords } from './records.js';

/** byte progress of one blob or of the whole push (`pushing <ref>`, ../../registry/progress.ts) */
export type CacheProgress = (e: { id: string; current: number; total?: number }) => void;

export interface RegistryCacheOptions {
  ref: string;
  insecure?: boolean;
  signal?: AbortSignal;
  onProgress?: CacheProgress;
}

function client(ref: ImageReference, o: RegistryCacheOptions): RegistryClient {
  return new RegistryClient(ref.registry, { ...(o.insecure !== undefined ? { insecure: o.insecure } : {}), ...(o.signal ? { signal: o.signal } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
}

function tempDir(): { dir: string; done(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-cache-'));
  return { dir, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface RegistryExportResult extends CacheExportResult {
  /** layers the repository had already (mounted: got by a cross-repository mount) */
  skipped: number;
  mounted: number;
  digest: string;
}

export async function exportRegistryCache(
  o: RegistryCacheOptions & { mode: 'min' | 'max'; ociMediaTypes: boolean; imageManifest: boolean; mountFrom?: { registry: string; repository: string }[] },
  cache: CacheRecords,
  worker: Worker,
  outputs: { vertex: string; result: Result }[],
): Promise<RegistryExportResult> {
  const ref = parseReference(o.ref);
  const repo = ref.repository;
  const set = await exportSet(o.mode, cache, worker, outputs);
  const c = client(ref, o);
  const layerType = o.ociMediaTypes ? LAYER_TYPE : DOCKER_LAYER_TYPE;
  const config = cacheConfigBlob(set.entries);
  const aggId = pushProgressId(o.ref);
  let done = 0;
  let total = config.desc.size + set.layers.reduce((n, l) => n + l.size, 0);
  const report = () => o.onProgress?.({ id: aggId, current: Math.min(done, total), total });
  const mounts = [...new Set((o.mountFrom ?? []).filter((m) => m.registry === ref.registry && m.repository !== repo).map((m) => m.repository))];
  const tmp = tempDir();
  const layers: Descriptor[] = [];
  let written = 0;
  let skipped = 0;
  let mounted = 0;
  try {
    report();
    for (const [i, l] of set.layers.entries()) {
      if (await c.hasBlob(repo, l.diffId, true)) {
        // the size the manifest lists is the registry's (a layer's own size is what its tar holds)
        const size = await blobSize(c, repo, l.diffId);
        total += size - l.size;
        layers.push({ mediaType: layerType, digest: l.diffId, size });
        skipped++;
      } else if (await mountFrom(c, repo, l.diffId, mounts)) {
        const size = await blobSize(c, repo, l.diffId);
        total += size - l.size;
        layers.push({ mediaType: layerType, digest: l.diffId, size });
        mounted++;
      } else {
        // spooled first: the upload needs the size, and the bytes are checked against the diff id
        const file = path.join(tmp.dir, `layer-${i}`);
        const size = await spoolLayer(l, file);
        total += size - l.size;
        const r = await c.pushBlob(repo, { digest: l.diffId, size }, { path: file });
        if (r === 'uploaded') written++;
        else skipped++;
        fs.rmSync(file, { force: true });
        layers.push({ mediaType: layerType, digest: l.diffId, size });
      }
      done += layers.at(-1)!.size;
      report();
    }
    // (the config is not counted: the figures are the layers')
    await c.pushBlob(repo, config.desc, { data: config.bytes });
    done += config.desc.size;
    const top = o.imageManifest
      ? cacheManifestBlob(config.desc, layers)
      : jsonBlob(o.ociMediaTypes ? INDEX_TYPE : DOCKER_LIST_TYPE, { schemaVersion: 2, mediaType: o.ociMediaTypes ? INDEX_TYPE : DOCKER_LIST_TYPE, manifests: [...layers, config.desc] });
    const digest = await c.putManifest(repo, ref.tag!, top.bytes, top.desc.mediaType);
    report();
    return { records: set.entries.length, layers: layers.length, written, skipped, mounted, digest };
  } finally {
    tmp.done();
  }
}

/** a cross-repository mount of `digest` from the first of `from` that has it (the registry answers 201) */
async function mountFrom(c: RegistryClient, repo: string, digest: string, from: string[]): Promise<boolean> {
  for (const src of from) {
    const r = await c.request('POST', `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(src)}`, { repo, push: true, ok: [201, 202] });
    await r.body?.cancel();
    if (r.status === 201) return true;
    // 202: the registry opened an upload session instead; it is left to expire
  }
  return false;
}

async function blobSize(c: RegistryClient, repo: string, digest: string): Promise<number> {
  const r = await c.request('HEAD', `/v2/${repo}/blobs/${digest}`, { repo, ok: [200] });
  const n = Number(r.headers.get('content-length'));
  if (!Number.isSafeInteger(n) || n < 0) throw new RegistryError(`registry ${c.registry}: HEAD of blob ${digest} gave no size`);
  return n;
}

export interface RegistryImportResult extends CacheImportResult {
  /** why nothing was imported, when found is false (no such ref, the registry out of reach…) */
  reason?: string;
  /** the registry and repository the cache came from (a cross-mount source for a later export to the same registry) */
  source?: { registry: string; repository: string };
  downloaded: number;
}

const MANIFEST_MEDIA = new Set([MANIFEST_TYPE, INDEX_TYPE, DOCKER_LIST_TYPE]);

/**
 * Imports the cache at `ref`. What BuildKit only warns about leaves found=false with a reason: the
 * registry out of reach, no such ref, credentials refused, a ref that holds something other than a
 * Kiln cache. A cache that is there but corrupt (a manifest, config or blob that is not what its
 * digest says, a malformed config) is an error.
 */
export async function importRegistryCache(o: RegistryCacheOptions, cache: CacheRecords, worker: Worker): Promise<RegistryImportResult> {
  const ref = parseReference(o.ref);
  const repo = ref.repository;
  const c = client(ref, o);
  const none = (reason: string): RegistryImportResult => ({ found: false, reason, records: 0, imported: 0, downloaded: 0 });
  let m: { bytes: Buffer; mediaType: string; digest: string };
  try {
    m = await c.getManifest(repo, ref.digest ?? ref.tag!);
  } catch (e) {
    if (o.signal?.aborted) throw e;
    const st = (e as RegistryError).status;
    return none(st === 404 ? 'no cache there (the ref does not exist)' : (e as Error).message);
  }
  if (ref.digest && m.digest !== ref.digest) throw new RegistryError(`registry ${ref.registry}: manifest ${ref.digest} has digest ${m.digest}`);
  let mediaType = m.mediaType;
  if (!MANIFEST_MEDIA.has(mediaType)) {
    try {
      mediaType = (JSON.parse(m.bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? mediaType;
    } catch {
      /* parsed (and refused) below */
    }
  }
  const isIndex = mediaType === INDEX_TYPE || mediaType === DOCKER_LIST_TYPE;
  // a ref holding an image (or another builder's cache) is not a Kiln cache: build without it
  const listed = (JSON.parse(m.bytes.toString('utf8')) as { config?: Descriptor; manifests?: Descriptor[] });
  const kiln = isIndex ? (listed.manifests ?? []).some((d) => d.mediaType === CACHE_CONFIG_TYPE) : listed.config?.mediaType === CACHE_CONFIG_TYPE;
  if (!kiln) return none(`${o.ref} is not a Kiln cache (no ${CACHE_CONFIG_TYPE} in its ${isIndex ? 'index' : 'manifest'})`);
  const top = isIndex ? parseCacheIndex(m.bytes, m.digest) : parseCacheManifest(m.bytes, m.digest);
  const entries = parseCacheConfig(await c.getBlob(repo, top.config.digest), top.config.digest, top.layers);
  const sizes = new Map(top.layers.map((l) => [l.digest, l.size]));
  const tmp = tempDir();
  const fetched = new Map<string, Promise<string>>();
  let downloaded = 0;
  // a blob is fetched once, on first use, and checked against its digest before it is handed out
  const fetchBlob = (digest: string): Promise<string> => {
    let p = fetched.get(digest);
    if (!p) {
      p = (async () => {
        const file = path.join(tmp.dir, digest.slice(7));
        const size = sizes.get(digest);
        const stream = await c.getBlobStream(repo, digest);
        let seen = 0;
        const id = digest.slice(7, 19);
        stream.on('data', (d: Buffer) => {
          seen += d.length;
          o.onProgress?.({ id, current: seen, ...(size !== undefined ? { total: size } : {}) });
        });
        await spoolVerified(stream, digest, file, 'layer blob').catch((e: Error) => {
          throw new RegistryError(`cache ${o.ref}: ${e.message.replace(/read back as/, 'is corrupt: its content hashes to')}`);
        });
        if (size !== undefined && fs.statSync(file).size !== size) throw new RegistryError(`cache ${o.ref}: layer blob ${digest} is ${fs.statSync(file).size} bytes, the manifest says ${size}`);
        downloaded++;
        return file;
      })();
      fetched.set(digest, p);
    }
    return p;
  };
  try {
    const imported = await importEntries(entries, cache, worker, async (diffId, inEngine) => ({
      diffId,
      size: sizes.get(diffId) ?? 0,
      inEngine,
      // the engine may ask for a layer it was said to hold (a load retried in full): fetched then
      open: async (): Promise<Readable> => fs.createReadStream(await fetchBlob(diffId)),
    }));
    return { found: true, records: entries.length, imported, downloaded, source: { registry: ref.registry, repository: repo } };
  } finally {
    tmp.done();
  }
}
