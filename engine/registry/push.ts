// Push an assembled image: every blob first (skipping present ones), the manifest last, so a
// tag never points at a half-pushed image. Progress: the client's per-blob events, plus one
// aggregate `pushing <name>` figure for the whole image (./progress.ts).
import type { AssembledImage } from '../exporter/image.js';
import { RegistryClient, type BlobSource, type Progress, type RegistryClientOptions } from './client.js';
import { pushProgressId } from './progress.js';
import { parseReference } from './reference.js';

export interface PushResult { digest: string; ref: string; uploaded: number; skipped: number; mounted: number; bytes: number; /** sum of the image's blob sizes (layers + config) */ total: number }

/** at most one aggregate event per this many ms while bytes flow (blob boundaries always report) */
const AGGREGATE_EVERY_MS = 50;

export async function pushImage(img: AssembledImage, name: string, o: RegistryClientOptions & { mountFrom?: string; client?: RegistryClient } = {}): Promise<PushResult> {
  const ref = parseReference(name);
  const blobs: { desc: { digest: string; size: number }; src: BlobSource }[] = [
    ...img.layers.map((l) => ({ desc: l, src: { path: l.path } as BlobSource })),
    { desc: img.configDesc, src: { data: img.configBytes } },
  ];
  const total = blobs.reduce((n, b) => n + b.desc.size, 0);
  const aggId = pushProgressId(name);
  let finished = 0;
  const inflight = new Map<string, number>();
  let last = 0;
  let shown = 0;
  const report = (force: boolean, message = 'pushing') => {
    if (!o.onProgress) return;
    const now = Date.now();
    if (!force && now - last < AGGREGATE_EVERY_MS) return;
    last = now;
    let current = finished;
    for (const v of inflight.values()) current += v;
    // a retried upload restarts its blob from 0: the figure holds still until it catches up
    // rather than going backwards (./progress.ts promises clients a figure that only grows)
    shown = Math.max(shown, Math.min(current, total));
    o.onProgress({ id: aggId, current: shown, total, message });
  };
  const blobIds = new Set(blobs.map((b) => b.desc.digest.slice(7, 19)));
  const onProgress: Progress | undefined = o.onProgress && ((e) => {
    o.onProgress!(e);
    if (blobIds.has(e.id)) {
      inflight.set(e.id, e.current);
      report(false);
    }
  });
  const client = o.client ?? new RegistryClient(ref.registry, { ...o, ...(onProgress ? { onProgress } : {}) });
  const before = { ...client.stats };
  let uploaded = 0;
  report(true);
  for (const b of blobs) {
    const r = await client.pushBlob(ref.repository, b.desc, b.src, o.mountFrom);
    if (r === 'uploaded') uploaded++;
    inflight.delete(b.desc.digest.slice(7, 19));
    finished += b.desc.size;
    report(true);
  }
  const digest = await client.putManifest(ref.repository, ref.tag ?? img.manifestDesc.digest, img.manifestBytes, img.manifestDesc.mediaType);
  report(true, 'pushed');
  return {
    digest, ref: `${ref.registry}/${ref.repository}:${ref.tag}`, uploaded,
    skipped: client.stats.blobsSkipped - before.blobsSkipped, mounted: client.stats.blobsMounted - before.blobsMounted,
    bytes: client.stats.blobBytesUploaded - before.blobBytesUploaded, total,
  };
}
