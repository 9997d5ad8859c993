// The on-disk form of a local cache (BuildKit's `type=local`): an OCI image layout.
//
//   DIR/oci-layout                     {"imageLayoutVersion":"1.0.0"}
//   DIR/index.json                     an OCI index; one manifest per tag (annotation ref.name)
//   DIR/blobs/sha256/<manifest>        an OCI manifest: config = the cache config, layers = blobs
//   DIR/blobs/sha256/<cache config>    application/vnd.kiln.cache.config.v1+json (below)
//   DIR/blobs/sha256/<diff id>         uncompressed layer tars (digest = diff id)
//
// The cache config lists records: a cache key, what produced it (vertex digest and name, record
// type), the layer chain of its snapshot (base first) and its parents' keys. Everything read
// back is validated here: JSON shapes, digests of the manifest and config bytes, blob names.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const CACHE_CONFIG_TYPE = 'application/vnd.kiln.cache.config.v1+json';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
export const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar';
const REF_NAME = 'org.opencontainers.image.ref.name';

const digest = z.string().regex(/^sha256:[a-f0-9]{64}$/, 'a sha256 digest');
const descriptor = z.object({ mediaType: z.string(), digest, size: z.number().int().nonnegative(), annotations: z.record(z.string(), z.string()).optional() });
const indexSchema = z.object({ schemaVersion: z.literal(2), manifests: z.array(descriptor) });
const manifestSchema = z.object({ schemaVersion: z.literal(2), config: descriptor, layers: z.array(descriptor) });

export const cacheRecordSchema = z.object({
  key: z.string().min(1),
  vertex: z.string().optional(),
  type: z.string().min(1),
  description: z.string().optional(),
  /** the exporting root's result id: content checksums of non-local inputs stand on it, so the imported result keeps it */
  resultId: z.string().min(1).max(200),
  /** diff ids, base first (each is a blob of the layout) */
  layers: z.array(digest),
  parents: z.array(z.string()),
});
const cacheConfigSchema = z.object({ schemaVersion: z.literal(1), records: z.array(cacheRecordSchema) });

export type CacheRecordEntry = z.infer<typeof cacheRecordSchema>;
export type Descriptor = z.infer<typeof descriptor>;

export class CacheLayoutError extends Error {
  override name = 'CacheLayoutError';
}

export const blobPath = (dir: string, d: string) => path.join(dir, 'blobs', 'sha256', digest.parse(d).slice(7));
const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

function writeAtomic(file: string, data: Buffer | string): void {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** write a JSON blob; returns its descriptor */
export function putJsonBlob(dir: string, mediaType: string, value: unknown): Descriptor {
  const bytes = Buffer.from(JSON.stringify(value));
  const d = sha(bytes);
  const p = blobPath(dir, d);
  if (!fs.existsSync(p)) writeAtomic(p, bytes);
  return { mediaType, digest: d, size: bytes.length };
}

/** creates DIR's layout skeleton (an existing layout is kept: blobs are shared, tags replaced) */
export function initLayout(dir: string): void {
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  writeAtomic(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

/** points `tag` at a manifest of the cache config and its layers; other tags are kept */
export function writeCacheManifest(dir: string, tag: string, records: CacheRecordEntry[], layers: Descriptor[]): Descriptor {
  const config = putJsonBlob(dir, CACHE_CONFIG_TYPE, { schemaVersion: 1, records });
  const manifest = putJsonBlob(dir, MANIFEST_TYPE, { schemaVersion: 2, mediaType: MANIFEST_TYPE, config, layers });
  let others: Descriptor[] = [];
  try {
    others = readIndex(dir).filter((m) => m.annotations?.[REF_NAME] !== tag);
  } catch {
    /* no index yet, or one we cannot read: this export replaces it */
  }
  const entry = { ...manifest, annotations: { [REF_NAME]: tag } };
  writeAtomic(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [...others, entry] }, null, 2));
  return entry;
}

function readJson<T>(file: string, schema: z.ZodType<T>, what: string, want?: string): T {
  const bytes = fs.readFileSync(file);
  if (want && sha(bytes) !== want) throw new CacheLayoutError(`${what} ${want} does not match its digest`);
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new CacheLayoutError(`${what} is not JSON`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new CacheLayoutError(`${what} is malformed: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

function readIndex(dir: string): Descriptor[] {
  return readJson(path.join(dir, 'index.json'), indexSchema, 'index.json').manifests;
}

/** false when DIR holds no cache (BuildKit warns and builds without it) */
export const hasLayout = (dir: string) => fs.existsSync(path.join(dir, 'index.json'));

/** the records of `tag`, validated; each layer blob is checked to exist */
export function readCacheRecords(dir: string, tag: string): CacheRecordEntry[] {
  const m = readIndex(dir).find((x) => (x.annotations?.[REF_NAME] ?? 'latest') === tag);
  if (!m) throw new CacheLayoutError(`no cache tagged "${tag}" in ${dir}`);
  const manifest = readJson(blobPath(dir, m.digest), manifestSchema, 'cache manifest', m.digest);
  if (manifest.config.mediaType !== CACHE_CONFIG_TYPE) throw new CacheLayoutError(`cache manifest's config is ${manifest.config.mediaType}, not a Kiln cache config (${CACHE_CONFIG_TYPE})`);
  const config = readJson(blobPath(dir, manifest.config.digest), cacheConfigSchema, 'cache config', manifest.config.digest);
  const listed = new Set(manifest.layers.map((l) => l.digest));
  for (const r of config.records)
    for (const l of r.layers) {
      if (!listed.has(l)) throw new CacheLayoutError(`cache record ${r.key.slice(0, 19)} uses layer ${l}, which the manifest does not list`);
      if (!fs.existsSync(blobPath(dir, l))) throw new CacheLayoutError(`layer blob ${l} is missing from ${dir}`);
    }
  return config.records;
}
