// Push through a fault proxy in front of the real registry: injected 500s and connection resets
// mid-upload are retried to completion, and a push that cannot finish leaves no tag behind.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, REGISTRY } from '../helpers/env.js';
import { startFaultProxy } from '../helpers/faultproxy.js';
import { assembleImage } from '../../engine/exporter/image.js';
import { pushImage } from '../../engine/registry/push.js';
import { RegistryClient } from '../../engine/registry/client.js';
import type { LayerRef } from '../../engine/worker/types.js';

let tmp: string;

async function uniqueLayer(): Promise<LayerRef> {
  // random content so the registry cannot already have the blob
  const pack = tar.pack();
  pack.entry({ name: 'data.bin', mtime: new Date(0) }, randomBytes(300_000));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  return { diffId: 'sha256:' + createHash('sha256').update(buf).digest('hex'), size: buf.length, open: async () => Readable.from([buf]) };
}

const isUpload = (r: { method?: string; url?: string }): boolean => (r.method === 'PUT' || r.method === 'PATCH') && (r.url ?? '').includes('/blobs/uploads/');

describeWith(['registry'], 'registry push under faults', () => {
  beforeAll(async () => { tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-fault-')); });
  afterAll(async () => { await fs.rm(tmp, { recursive: true, force: true }); });

  it('retries 500s and mid-upload resets, then the pushed image is intact', async () => {
    const proxy = await startFaultProxy(REGISTRY, [
      { match: isUpload, kind: '500', times: 1 },
      { match: isUpload, kind: 'reset', times: 1 },
      { match: (r) => r.method === 'POST', kind: '500', times: 1 },
    ]);
    try {
      const img = await assembleImage([await uniqueLayer()], undefined, { cacheDir: path.join(tmp, 'b') });
      const agg: number[] = [];
      const res = await pushImage(img, `${proxy.host}/kiln-f/faults:ok`, { onProgress: (e) => { if (e.id.startsWith('pushing ')) agg.push(e.current); } });
      expect(proxy.stats.faults).toBe(3);
      // retried uploads restart their blob, yet the aggregate figure never goes backwards
      for (let i = 1; i < agg.length; i++) expect(agg[i]!).toBeGreaterThanOrEqual(agg[i - 1]!);
      expect(agg.at(-1)).toBe(res.total);
      expect(res.digest).toBe(img.manifestDesc.digest);
      const insp = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${REGISTRY}/kiln-f/faults:ok`], { encoding: 'utf8' })) as { Digest: string; Layers: string[] };
      expect(insp.Digest).toBe(img.manifestDesc.digest);
      expect(insp.Layers).toEqual(img.layers.map((l) => l.digest));
    } finally { await proxy.close(); }
  }, 60_000);

  it('a push whose uploads always fail errors clearly and creates no tag', async () => {
    const proxy = await startFaultProxy(REGISTRY, [{ match: isUpload, kind: 'reset', times: Infinity }]);
    const tagName = `never${process.pid}${Date.now().toString(36)}`;
    try {
      const img = await assembleImage([await uniqueLayer()], undefined, { cacheDir: path.join(tmp, 'b') });
      const err = await pushImage(img, `${proxy.host}/kiln-f/faults:${tagName}`, { retries: 2 }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/registry 127\.0\.0\.1:\d+.*(PUT|PATCH)/);
      const direct = new RegistryClient(REGISTRY);
      const r = await direct.request('GET', `/v2/kiln-f/faults/manifests/${tagName}`, { repo: 'kiln-f/faults', headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
      expect(r.status).toBe(404);
    } finally { await proxy.close(); }
  }, 60_000);
});
