// Image assembly: layers + config → layer blobs, config blob and a manifest (Docker schema2 or
// OCI media types). rootfs.diff_ids and history are made consistent with the layers so every
// consumer (docker load, registries, skopeo, umoci) accepts the result.
import type { ImageConfig, HistoryEntry } from '../llb/image.js';
import type { LayerRef } from '../worker/types.js';
import { sha256 } from '../llb/digest.js';
import { layerBlob, type BlobFile, type Compression } from './compress.js';

export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export interface Descriptor { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }

export interface AssembledImage {
  config: ImageConfig;
  configBytes: Buffer;
  configDesc: Descriptor;
  layers: Array<Descriptor & { path: string; diffId: string }>;
  manifestBytes: Buffer;
  manifestDesc: Descriptor;
  oci: boolean;
}

export interface AssembleOpts {
  compression?: Compression;
  compressionLevel?: number;
  oci?: boolean;
  /** SOURCE_DATE_EPOCH: used for created times; with rewriteTimestamp also clamps layer mtimes */
  epoch?: number;
  rewriteTimestamp?: boolean;
  cacheDir: string;
  onProgress?: (e: { id: string; current: number; total?: number; message?: string }) => void;
}

export function minimalConfig(): ImageConfig {
  return { architecture: process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : process.arch, os: 'linux', config: {} };
}

/** Keep the frontend's history, but make the number of non-empty entries match the layer count. */
export function fixHistory(history: HistoryEntry[] | undefined, layerCount: number, created: string | undefined): HistoryEntry[] {
  const h = (history ?? []).map((e) => ({ ...e }));
  let nonEmpty = h.filter((e) => !e.empty_layer).length;
  // too many: mark the last non-empty ones empty (the layers were squashed or merged away)
  for (let i = h.length - 1; i >= 0 && nonEmpty > layerCount; i--) {
    if (!h[i]!.empty_layer) { h[i]!.empty_layer = true; nonEmpty--; }
  }
  // too few: describe the unexplained layers (e.g. a bare op graph) at the front, base first
  const missing: HistoryEntry[] = [];
  for (; nonEmpty < layerCount; nonEmpty++) missing.push({ ...(created ? { created } : {}), created_by: 'kiln', comment: 'kiln.layer' });
  return [...missing, ...h];
}

export function mediaTypes(oci: boolean, compression: Compression): { manifest: string; config: string; layer: string } {
  if (oci) {
    const suf = compression === 'gzip' ? '+gzip' : compression === 'zstd' ? '+zstd' : '';
    return { manifest: MT.ociManifest, config: MT.ociConfig, layer: MT.ociLayer + suf };
  }
  const layer = compression === 'gzip' ? MT.dockerLayerGzip
    : compression === 'zstd' ? 'application/vnd.oci.image.layer.v1.tar+zstd' // no docker type for zstd: buildx uses the OCI one
      : 'application/vnd.docker.image.rootfs.diff.tar';
  return { manifest: MT.dockerManifest, config: MT.dockerConfig, layer };
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The image config as exported: the frontend's config with rootfs and history matching
 * `diffIds`. Created times are SOURCE_DATE_EPOCH when given; otherwise, as in BuildKit, a step's
 * history entry is dated when its layer was made (`layerTimes`, base first, where the worker
 * knows them) and the image when its newest layer was — so a rebuild from cache is the same image.
 */
export function finalConfig(imageConfig: ImageConfig | undefined, diffIds: string[], epoch?: number, layerTimes: (number | undefined)[] = []): ImageConfig {
  const base = imageConfig ?? minimalConfig();
  const created = epoch !== undefined ? new Date(epoch * 1000).toISOString().replace('.000Z', 'Z') : undefined;
  const config: ImageConfig = {
    ...base,
    ...(created ? { created } : {}),
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: fixHistory(base.history, diffIds.length, created),
  };
  if (created) config.history = config.history!.map((h) => ({ ...h, created }));
  else if (layerTimes.some((t) => t !== undefined)) datedFromLayers(config, layerTimes);
  return config;
}

function datedFromLayers(config: ImageConfig, layerTimes: (number | undefined)[]): void {
  let layer = -1;
  let last: number | undefined;
  for (const h of config.history!) {
    if (!h.empty_layer) layer++;
    const t = h.empty_layer ? last : layerTimes[layer];
    if (t !== undefined) last = t;
    // entries that carry a time (the base image's) keep it; metadata-only steps take the time of
    // the layer they follow
    if (!h.created && t !== undefined) h.created = iso(t);
  }
  const newest = Math.max(...layerTimes.filter((t): t is number => t !== undefined));
  if (!config.created || Date.parse(config.created) < newest) config.created = iso(newest);
}

export async function assembleImage(layers: LayerRef[], imageConfig: ImageConfig | undefined, o: AssembleOpts): Promise<AssembledImage> {
  const compression = o.compression ?? 'gzip';
  const oci = o.oci ?? false;
  const mt = mediaTypes(oci, compression);
  const blobs: BlobFile[] = [];
  for (const [i, l] of layers.entries()) {
    o.onProgress?.({ id: `layer ${l.diffId.slice(7, 19)}`, current: 0, total: l.size, message: `compressing layer ${i + 1}/${layers.length}` });
    blobs.push(await layerBlob(l.diffId, l.open, {
      compression, level: o.compressionLevel, epoch: o.rewriteTimestamp ? o.epoch : undefined, cacheDir: o.cacheDir,
    }));
    o.onProgress?.({ id: `layer ${l.diffId.slice(7, 19)}`, current: l.size, total: l.size });
  }
  // with rewrite-timestamp the layer bytes change, so diff ids must be recomputed from the blob
  const diffIds = o.rewriteTimestamp && o.epoch !== undefined
    ? await Promise.all(blobs.map((b, i) => (compression === 'uncompressed' ? Promise.resolve(b.digest) : uncompressedDigest(b, compression, layers[i]!.diffId))))
    : layers.map((l) => l.diffId);
  const config = finalConfig(imageConfig, diffIds, o.epoch, layers.map((l) => l.created));
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDesc: Descriptor = { mediaType: mt.config, digest: sha256(configBytes), size: configBytes.length };
  const layerDescs = blobs.map((b, i) => ({ mediaType: mt.layer, digest: b.digest, size: b.size, path: b.path, diffId: diffIds[i]! }));
  const manifest = {
    schemaVersion: 2,
    mediaType: mt.manifest,
    config: configDesc,
    layers: layerDescs.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    config, configBytes, configDesc, layers: layerDescs, oci,
    manifestBytes, manifestDesc: { mediaType: mt.manifest, digest: sha256(manifestBytes), size: manifestBytes.length },
  };
}

async function uncompressedDigest(b: BlobFile, compression: Compression, fallback: string): Promise<string> {
  const { createReadStream } = await import('node:fs');
  const { createHash } = await import('node:crypto');
  const { spawn } = await import('node:child_process');
  const zlib = await import('node:zlib');
  const h = createHash('sha256');
  if (compression === 'gzip') {
    for await (const c of createReadStream(b.path).pipe(zlib.createGunzip())) h.update(c as Buffer);
  } else if (compression === 'zstd') {
    const child = spawn('zstd', ['-d', '-c', '-q', b.path], { stdio: ['ignore', 'pipe', 'inherit'] });
    for await (const c of child.stdout) h.update(c as Buffer);
  } else return fallback;
  return 'sha256:' + h.digest('hex');
}
