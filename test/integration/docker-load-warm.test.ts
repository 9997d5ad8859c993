// A docker load opened ahead of its image (worker/docker/load.ts prewarmLoad), against the real
// engine: the image it then carries is complete and runs; an unused one is dropped without a
// trace; one whose connection died falls back to a plain load.
import { afterAll, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import tar from 'tar-stream';
import { dockerFromEnv } from '../../engine/worker/docker/connect.js';
import { loadImage, prewarmLoad } from '../../engine/worker/docker/load.js';
import type { LayerRef } from '../../engine/worker/types.js';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';

const { docker } = dockerFromEnv(DOCKER_HOST);
const tags: string[] = [];

function layerTar(name: string, text: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const p = tar.pack();
    const chunks: Buffer[] = [];
    p.on('data', (c: unknown) => chunks.push(c as Buffer));
    p.on('end', () => resolve(Buffer.concat(chunks)));
    p.entry({ name, mode: 0o644, mtime: new Date(0) }, text);
    p.finalize();
  });
}

/** busybox:local plus `n` new one-file layers, as loadImage takes them */
async function image(n: number): Promise<{ layers: LayerRef[]; config: object; texts: string[] }> {
  const base = await docker.getImage('busybox:local').inspect();
  const layers: LayerRef[] = base.RootFS.Layers!.map((d) => ({ diffId: d, size: 0, inEngine: true, open: () => Promise.reject(new Error('base layer opened')) }));
  const texts: string[] = [];
  for (let i = 0; i < n; i++) {
    const text = randomBytes(8).toString('hex');
    texts.push(text);
    const t = await layerTar(`f${i}`, text);
    layers.push({ diffId: 'sha256:' + createHash('sha256').update(t).digest('hex'), size: t.length, open: async () => Readable.from([t]) });
  }
  const config = { architecture: 'amd64', os: 'linux', config: { Cmd: ['cat', ...texts.map((_, i) => `/f${i}`)] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } };
  return { layers, config, texts };
}

function run(tag: string): string {
  return spawnSync('/usr/bin/docker', ['run', '--rm', '--network', 'none', tag], { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' }).stdout;
}
function dockerdTmp(): string[] {
  const r = spawnSync('bash', ['-c', 'ls -d /var/lib/docker-kiln/data/tmp/docker-import-* 2>/dev/null'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

describeWith(['engine'], 'docker load opened early', () => {
  afterAll(async () => {
    for (const t of tags) await docker.getImage(t).remove({ force: true }).catch(() => undefined);
  });

  it('carries the image that is ready later: all layers, the config, the tag', async () => {
    prewarmLoad(docker);
    await new Promise((r) => setTimeout(r, 300)); // steps running meanwhile
    const img = await image(3);
    const tag = `kiln-warm-test:${randomBytes(4).toString('hex')}`;
    tags.push(tag);
    const id = await loadImage(docker, img.layers, img.config, [tag]);
    const inspected = await docker.getImage(tag).inspect();
    expect(inspected.Id).toBe(id);
    expect(inspected.RootFS.Layers).toEqual(img.layers.map((l) => l.diffId));
    expect(run(tag)).toBe(img.texts.join(''));
    // a second load is a plain one (the early one was used once) and works as well
    const again = await image(1);
    const tag2 = `${tag}-2`;
    tags.push(tag2);
    await loadImage(docker, again.layers, again.config, [tag2]);
    expect(run(tag2)).toBe(again.texts.join(''));
  });

  it('two opens before one image are one early load; a dead early load falls back to a plain one', async () => {
    const before = dockerdTmp();
    prewarmLoad(docker);
    prewarmLoad(docker); // still one
    await new Promise((r) => setTimeout(r, 200));
    expect(dockerdTmp().length).toBe(before.length + 1);
    // the engine side of it goes away (as when dockerd restarts): the image must still load
    spawnSync('bash', ['-c', 'pkill -f "docker-untar" || true']);
    await new Promise((r) => setTimeout(r, 200));
    const img = await image(2);
    const tag = `kiln-warm-test:${randomBytes(4).toString('hex')}`;
    tags.push(tag);
    await loadImage(docker, img.layers, img.config, [tag]);
    expect(run(tag)).toBe(img.texts.join(''));
    expect(dockerdTmp()).toEqual(before);
  });
});
