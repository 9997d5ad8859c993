// The registry client against the real registry: chunked upload, cross-repo mount, pull
// (tag → manifest → config → layers) and byte progress.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, REGISTRY } from '../helpers/env.js';
import { assembleImage } from '../../engine/exporter/image.js';
import { pushImage } from '../../engine/registry/push.js';
import { pushProgressId } from '../../engine/registry/progress.js';
import { resolveImageManifest } from '../../engine/registry/pull.js';
import { RegistryClient } from '../../engine/registry/client.js';
import type { LayerRef } from '../../engine/worker/types.js';

let tmp: string;
const tag = `c${process.pid}${Date.now().toString(36)}`;

async function uniqueLayer(n: number): Promise<LayerRef> {
  const pack = tar.pack();
  pack.entry({ name: 'payload.bin', mtime: new Date(0) }, randomBytes(n));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  return { diffId: 'sha256:' + createHash('sha256').update(buf).digest('hex'), size: buf.length, open: async () => Readable.from([buf]) };
}

describeWith(['registry'], 'registry client', () => {
  beforeAll(async () => { tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-reg-')); });
  afterAll(async () => { await fs.rm(tmp, { recursive: true, force: true }); });

  it('chunked upload with progress, then pull resolves manifest, config and layer bytes', async () => {
    const layer = await uniqueLayer(200_000);
    const img = await assembleImage([layer], { architecture: 'amd64', os: 'linux', config: { Cmd: ['true'] } }, { cacheDir: path.join(tmp, 'b') });
    const progress: Array<{ id: string; current: number; total?: number }> = [];
    const res = await pushImage(img, `${REGISTRY}/kiln-f/chunked:${tag}`, { chunkSize: 64 * 1024, onProgress: (e) => progress.push(e) });
    expect(res.bytes).toBe(img.layers[0]!.size + img.configDesc.size);
    const layerId = img.layers[0]!.digest.slice(7, 19);
    const mine = progress.filter((p) => p.id === layerId);
    expect(mine.length).toBeGreaterThan(2);
    expect(mine.at(-1)!.current).toBe(img.layers[0]!.size);
    // the whole push as one figure (engine/registry/progress.ts): from 0 up to the image's size
    const total = img.layers[0]!.size + img.configDesc.size;
    expect(res.total).toBe(total);
    const agg = progress.filter((p) => p.id === pushProgressId(`${REGISTRY}/kiln-f/chunked:${tag}`));
    expect(agg.length).toBeGreaterThan(2);
    expect(new Set(agg.map((p) => p.total))).toEqual(new Set([total]));
    for (let i = 1; i < agg.length; i++) expect(agg[i]!.current).toBeGreaterThanOrEqual(agg[i - 1]!.current);
    expect(agg[0]!.current).toBe(0);
    expect(agg.some((p) => p.current > 0 && p.current < total)).toBe(true);
    expect(agg.at(-1)).toMatchObject({ current: total, message: 'pushed' });

    const pulled = await resolveImageManifest(`${REGISTRY}/kiln-f/chunked:${tag}`);
    expect(pulled.digest).toBe(img.manifestDesc.digest);
    expect(pulled.config.config.Cmd).toEqual(['true']);
    expect(pulled.config.rootfs?.diff_ids).toEqual([layer.diffId]);
    const blob = await pulled.client.getBlob(pulled.repository, pulled.layers[0]!.digest);
    expect('sha256:' + createHash('sha256').update(zlib.gunzipSync(blob)).digest('hex')).toBe(layer.diffId);
  }, 60_000);

  it('mounts blobs from another repository of the same registry instead of uploading them', async () => {
    const img = await assembleImage([await uniqueLayer(50_000)], undefined, { cacheDir: path.join(tmp, 'b') });
    await pushImage(img, `${REGISTRY}/kiln-f/mount-src:${tag}`);
    const client = new RegistryClient(REGISTRY);
    const progress: Array<{ id: string; current: number; total?: number }> = [];
    const res = await pushImage(img, `${REGISTRY}/kiln-f/mount-dst:${tag}`, { client, mountFrom: 'kiln-f/mount-src', onProgress: (e) => progress.push(e) });
    expect(res.mounted).toBe(2);
    expect(res.bytes).toBe(0);
    // mounted blobs count as pushed: the figure still ends at the image's size
    expect(progress.at(-1)).toMatchObject({ id: pushProgressId(`${REGISTRY}/kiln-f/mount-dst:${tag}`), current: res.total, total: res.total });
    expect(await client.hasBlob('kiln-f/mount-dst', img.layers[0]!.digest)).toBe(true);
  }, 60_000);
});
