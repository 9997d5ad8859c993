// Push an assembled image: every blob first (skipping present ones), the manifest last, so a
// tag never points at a half-pushed image.
import type { AssembledImage } from '../exporter/image.js';
import { RegistryClient, type RegistryClientOptions } from './client.js';
import { parseReference } from './reference.js';

export interface PushResult { digest: string; ref: string; uploaded: number; skipped: number; mounted: number; bytes: number }

export async function pushImage(img: AssembledImage, name: string, o: RegistryClientOptions & { mountFrom?: string; client?: RegistryClient } = {}): Promise<PushResult> {
  const ref = parseReference(name);
  const client = o.client ?? new RegistryClient(ref.registry, o);
  const before = { ...client.stats };
  let uploaded = 0;
  for (const l of img.layers) {
    const r = await client.pushBlob(ref.repository, l, { path: l.path }, o.mountFrom);
    if (r === 'uploaded') uploaded++;
  }
  if ((await client.pushBlob(ref.repository, img.configDesc, { data: img.configBytes }, o.mountFrom)) === 'uploaded') uploaded++;
  const digest = await client.putManifest(ref.repository, ref.tag ?? img.manifestDesc.digest, img.manifestBytes, img.manifestDesc.mediaType);
  return {
    digest, ref: `${ref.registry}/${ref.repository}:${ref.tag}`, uploaded,
    skipped: client.stats.blobsSkipped - before.blobsSkipped, mounted: client.stats.blobsMounted - before.blobsMounted,
    bytes: client.stats.blobBytesUploaded - before.blobBytesUploaded,
  };
}
