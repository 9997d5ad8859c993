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
// The registry backend (./registry.ts) pushes the same manifest (or an index of the same blobs)
// and reads it back through the same parsers (parseCacheManifest, parseCacheIndex, parseCacheConfig).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const CACHE_CONFIG_TYPE = 'application/vnd.kiln.cache.config.v1+json';
export const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
export const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar';
/** Docker media types (a registry cache with oci-mediatypes=false, as BuildKit writes it) */
export const DOCKER_LIST_TYPE = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_LAYER_TYPE = 'application/vnd.docker.image.rootfs.diff.tar';
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

/** a JSON blob's bytes and descriptor */
export function jsonBlob(mediaType: string, value: unknown): { bytes: Buffer; desc: Descriptor } {
  const bytes = Buffer.from(JSON.stringify(value));
  return { bytes, desc: { mediaType, digest: sha(bytes), size: bytes.length } };
}

/** the cache config blob of `records` */
export const cacheConfigBlob = (records: CacheRecordEntry[]) => jsonBlob(CACHE_CONFIG_TYPE, { schemaVersion: 1, records });

/** the cache manifest: config = the cache config, layers = the layer blobs */
export const cacheManifestBlob = (config: Descriptor, layers: Descriptor[]) => jsonBlob(MANIFEST_TYPE, { schemaVersion: 2, mediaType: MANIFEST_TYPE, config, layers });

/** write a JSON blob; returns its descriptor */
export function putJsonBlob(dir: string, mediaType: string, value: unknown): Descriptor {
  return putBlob(dir, jsonBlob(mediaType, value));
}

function putBlob(dir: string, b: { bytes: Buffer; desc: Descriptor }): Descriptor {
  const { bytes, desc } = b;
  const d = desc.digest;
  const p = blobPath(dir, d);
  if (!fs.existsSync(p)) writeAtomic(p, bytes);
  return desc;
}

/** creates DIR's layout skeleton (an existing layout is kept: blobs are shared, tags replaced) */
export function initLayout(dir: string): void {
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  writeAtomic(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

/** points `tag` at a manifest of the cache config and its layers; other tags are kept */
export function writeCacheManifest(dir: string, tag: string, records: CacheRecordEntry[], layers: Descriptor[]): Descriptor {
  const config = putBlob(dir, cacheConfigBlob(records));
  const manifest = putBlob(dir, cacheManifestBlob(config, layers));
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
  return parseJson(fs.readFileSync(file), schema, what, want);
}

function parseJson<T>(bytes: Buffer, schema: z.ZodType<T>, what: string, want?: string): T {
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

/** a cache manifest's bytes (checked against `want`, its digest): its config and layer descriptors */
export function parseCacheManifest(bytes: Buffer, want: string): { config: Descriptor; layers: Descriptor[] } {
  const manifest = parseJson(bytes, manifestSchema, 'cache manifest', want);
  if (manifest.config.mediaType !== CACHE_CONFIG_TYPE) throw new CacheLayoutError(`cache manifest's config is ${manifest.config.mediaType}, not a Kiln cache config (${CACHE_CONFIG_TYPE})`);
  return manifest;
}

/** a cache index (BuildKit's image-manifest=false form: the layers and the cache config listed as its manifests) */
export function parseCacheIndex(bytes: Buffer, want: string): { config: Descriptor; layers: Descriptor[] } {
  const index = parseJson(bytes, indexSchema, 'cache index', want);
  const configs = index.manifests.filter((m) => m.mediaType === CACHE_CONFIG_TYPE);
  if (configs.length !== 1) throw new CacheLayoutError(`cache index lists ${configs.length} Kiln cache configs (${CACHE_CONFIG_TYPE}); expected one`);
  return { config: configs[0]!, layers: index.manifests.filter((m) => m.mediaType !== CACHE_CONFIG_TYPE) };
}

/** a cache config's records (bytes checked against `want`); every layer a record uses must be in `layers` */
export function parseCacheConfig(bytes: Buffer, want: string, layers: Descriptor[]): CacheRecordEntry[] {
  const config = parseJson(bytes, cacheConfigSchema, 'cache config', want);
  const listed = new Set(layers.map((l) => l.digest));
  for (const r of config.records)
    for (const l of r.layers) if (!listed.has(l)) throw new CacheLayoutError(`cache record ${r.key.slice(0, 19)} uses layer ${l}, which the manifest does not list`);
  return config.records;
}

/** the records of `tag`, validated; each layer blob is checked to exist */
export function readCacheRecords(dir: string, tag: string): CacheRecordEntry[] {
  const m = readIndex(dir).find((x) => (x.annotations?.[REF_NAME] ?? 'latest') === tag);
  if (!m) throw new CacheLayoutError(`no cache tagged "${tag}" in ${dir}`);
  const manifest = parseCacheManifest(fs.readFileSync(blobPath(dir, m.digest)), m.digest);
  const records = parseCacheConfig(fs.readFileSync(blobPath(dir, manifest.config.digest)), manifest.config.digest, manifest.layers);
  for (const r of records)
    for (const l of r.layers) if (!fs.existsSync(blobPath(dir, l))) throw new CacheLayoutError(`layer blob ${l} is missing from ${dir}`);
  return records;
}
