// Exporters and registry push checked with tools Kiln did not write: docker load/run/pull,
// skopeo, umoci. Layers come from `docker save busybox:local` plus one generated layer (a file
// and a whiteout) so the LayerRefs are real tars, as the Docker worker's would be.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, DOCKER_HOST, REGISTRY, AUTH_REGISTRY, BUSYBOX } from '../helpers/env.js';
import { exportResult, parseOutputSpec, assembleImage } from '../../engine/exporter/index.js';
import { pushImage } from '../../engine/registry/push.js';
import { storeCredentials } from '../../engine/registry/credentials.js';
import type { LayerRef, Worker } from '../../engine/worker/types.js';
import type { ImageConfig } from '../../engine/llb/image.js';

const env = { ...process.env, DOCKER_HOST };
const docker = (...args: string[]): string => execFileSync('/usr/bin/docker', args, { env, encoding: 'utf8' });
let tmp: string;
let layers: LayerRef[];
const tag = `f${process.pid}${Date.now().toString(36)}`;
const config: ImageConfig = {
  architecture: 'amd64', os: 'linux',
  config: { Cmd: ['cat', '/hello.txt'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: { kiln: '1', 'kiln.test': 'exporter' }, WorkingDir: '/' },
  history: [{ created_by: 'busybox base' }, { created_by: 'COPY hello.txt /' }],
};

function fileLayer(p: string): LayerRef {
  const data = readFileSync(p);
  return { diffId: 'sha256:' + createHash('sha256').update(data).digest('hex'), size: statSync(p).size, open: async () => createReadStream(p) };
}

async function makeTar(p: string, entries: Array<{ name: string; data?: string; mode?: number }>): Promise<void> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, mode: e.mode ?? 0o644, mtime: new Date(1_700_000_000_000) }, e.data ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  await fs.writeFile(p, Buffer.concat(chunks));
}

function fakeWorker(ls: LayerRef[]): Worker {
  // only layers() is used by exporters; the layers are real tars
  return { layers: async () => ls } as unknown as Worker;
}
const req = () => ({ result: { id: 'r' }, imageConfig: config, worker: fakeWorker(layers), blobCacheDir: path.join(tmp, 'blobs') });

describeWith(['engine', 'registry'], 'exporters (real engine, registry, skopeo, umoci)', () => {
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-exp-'));
    docker('save', BUSYBOX, '-o', path.join(tmp, 'bb.tar'));
    execFileSync('tar', ['-xf', path.join(tmp, 'bb.tar'), '-C', tmp]);
    const m = JSON.parse(await fs.readFile(path.join(tmp, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>;
    await makeTar(path.join(tmp, 'top.tar'), [{ name: 'hello.txt', data: 'hello from kiln\n' }, { name: 'bin/.wh.vi' }]);
    layers = [...m[0]!.Layers.map((l) => fileLayer(path.join(tmp, l))), fileLayer(path.join(tmp, 'top.tar'))];
  }, 120_000);
  afterAll(async () => {
    try { docker('rmi', '-f', `kiln-f-load:${tag}`, `kiln-f-archive:${tag}`, `${REGISTRY}/kiln-f/push:${tag}`); } catch { /* already gone */ }
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('pushes to the registry; docker pull/run and skopeo inspect agree; a second push uploads no bytes', async () => {
    const ref = `${REGISTRY}/kiln-f/push:${tag}`;
    const res = await exportResult(parseOutputSpec(`type=image,name=${ref},push=true`), req());
    expect(res['containerimage.digest']).toMatch(/^sha256:/);
    docker('pull', ref);
    expect(docker('run', '--rm', '--network', 'none', '--label', 'kiln=1', ref)).toBe('hello from kiln\n');
    const insp = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${ref}`], { encoding: 'utf8' })) as ImageConfig;
    expect(insp.config.Cmd).toEqual(['cat', '/hello.txt']);
    expect(insp.rootfs?.diff_ids).toEqual(layers.map((l) => l.diffId));
    expect(insp.history!.filter((h) => !h.empty_layer)).toHaveLength(layers.length);
    const digest = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' })) as { Digest: string };
    expect(digest.Digest).toBe(res['containerimage.digest']);
    const img = await assembleImage(layers, config, { cacheDir: path.join(tmp, 'blobs') });
    const again = await pushImage(img, ref);
    expect(again.bytes).toBe(0);
    expect(again.skipped).toBe(layers.length + 1);
  }, 180_000);

  it('auth registry: wrong password is a clear error naming registry, repository and kiln login; right one pushes', async () => {
    const cfgDir = path.join(tmp, 'dockercfg');
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = cfgDir;
    try {
      const img = await assembleImage(layers, config, { cacheDir: path.join(tmp, 'blobs') });
      await storeCredentials(AUTH_REGISTRY, 'kiln', 'wrong');
      const err = await pushImage(img, `${AUTH_REGISTRY}/kiln-f/auth:${tag}`).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain(AUTH_REGISTRY);
      expect((err as Error).message).toContain('kiln-f/auth');
      expect((err as Error).message).toContain('kiln login');
      await storeCredentials(AUTH_REGISTRY, 'kiln', 'kiln');
      expect((await fs.stat(path.join(cfgDir, 'config.json'))).mode & 0o777).toBe(0o600);
      const ok = await pushImage(img, `${AUTH_REGISTRY}/kiln-f/auth:${tag}`);
      expect(ok.digest).toBe(img.manifestDesc.digest);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG; else process.env.DOCKER_CONFIG = saved;
    }
  }, 120_000);

  it('type=docker loads into the engine and dest= writes an archive docker load accepts', async () => {
    await exportResult(parseOutputSpec(`type=docker,name=kiln-f-load:${tag}`), req());
    expect(docker('run', '--rm', '--network', 'none', '--label', 'kiln=1', `kiln-f-load:${tag}`)).toBe('hello from kiln\n');
    const dest = path.join(tmp, 'd.tar');
    await exportResult(parseOutputSpec(`type=docker,dest=${dest},name=kiln-f-archive:${tag}`), req());
    expect(docker('load', '-i', dest)).toContain(`kiln-f-archive:${tag}`);
    expect(docker('run', '--rm', '--network', 'none', '--label', 'kiln=1', `kiln-f-archive:${tag}`, 'sh', '-c', 'test -e /bin/vi || echo vi-whited-out')).toBe('vi-whited-out\n');
  }, 120_000);

  it('OCI tarball passes skopeo inspect and umoci unpack, and is byte-identical across clean exports with SOURCE_DATE_EPOCH', async () => {
    const a = path.join(tmp, 'a.oci.tar');
    const b = path.join(tmp, 'b.oci.tar');
    const saved = process.env.SOURCE_DATE_EPOCH;
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    try {
      const r1 = await exportResult(parseOutputSpec(`type=oci,dest=${a},name=kiln/f:v1,rewrite-timestamp=true`), { ...req(), blobCacheDir: path.join(tmp, 'c1') });
      const r2 = await exportResult(parseOutputSpec(`type=oci,dest=${b},name=kiln/f:v1,rewrite-timestamp=true`), { ...req(), blobCacheDir: path.join(tmp, 'c2') });
      expect(r1['containerimage.digest']).toBe(r2['containerimage.digest']);
      expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH; else process.env.SOURCE_DATE_EPOCH = saved;
    }
    const insp = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci-archive:${a}`], { encoding: 'utf8' })) as ImageConfig;
    expect(insp.config.Cmd).toEqual(['cat', '/hello.txt']);
    expect(insp.created).toBe('2023-11-14T22:13:20Z');
    const lay = path.join(tmp, 'layout');
    await fs.mkdir(lay);
    execFileSync('tar', ['-xf', a, '-C', lay]);
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${lay}:v1`, path.join(tmp, 'bundle')]);
    expect(await fs.readFile(path.join(tmp, 'bundle', 'rootfs', 'hello.txt'), 'utf8')).toBe('hello from kiln\n');
    await expect(fs.lstat(path.join(tmp, 'bundle', 'rootfs', 'bin', 'vi'))).rejects.toThrow();
  }, 120_000);

  it('tar, local and zip outputs hold the image files with whiteouts applied', async () => {
    const t = path.join(tmp, 'rootfs.tar');
    await exportResult(parseOutputSpec(`type=tar,dest=${t}`), req());
    const listing = execFileSync('tar', ['-tf', t], { encoding: 'utf8', maxBuffer: 1 << 26 }).split('\n');
    expect(listing).toContain('hello.txt');
    expect(listing).toContain('bin/busybox');
    expect(listing).not.toContain('bin/vi');
    expect(listing.some((l) => l.includes('.wh.'))).toBe(false);
    const dir = path.join(tmp, 'local');
    await exportResult(parseOutputSpec(`type=local,dest=${dir}`), req());
    expect(await fs.readFile(path.join(dir, 'hello.txt'), 'utf8')).toBe('hello from kiln\n');
    expect((await fs.stat(path.join(dir, 'bin', 'busybox'))).mode & 0o111).not.toBe(0);
    const z = path.join(tmp, 'r.zip');
    await exportResult(parseOutputSpec(`type=zip,dest=${z}`), req());
    const py = `import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1])\ni=z.getinfo('bin/busybox')\nprint('|'.join([oct(i.external_attr>>16), z.read('hello.txt').decode().strip(), str('bin/vi' in z.namelist())]))`;
    const out = execFileSync('python3', ['-c', py, z], { encoding: 'utf8' }).trim().split('|');
    expect(Number.parseInt(out[0]!.slice(2), 8) & 0o170111).toBe(0o100111);
    expect(out[1]).toBe('hello from kiln');
    expect(out[2]).toBe('False');
  }, 120_000);

  it('zstd and gzip layers are accepted by the registry and by skopeo copy to a dir', async () => {
    for (const c of ['gzip', 'zstd']) {
      const ref = `${REGISTRY}/kiln-f/${c}:${tag}`;
      await exportResult(parseOutputSpec(`type=registry,name=${ref},compression=${c},oci-mediatypes=true`), req());
      const d = path.join(tmp, `copy-${c}`);
      execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `dir:${d}`]);
      const m = JSON.parse(await fs.readFile(path.join(d, 'manifest.json'), 'utf8')) as { layers: Array<{ mediaType: string }> };
      expect(m.layers.every((l) => l.mediaType.endsWith(`+${c}`))).toBe(true);
    }
  }, 180_000);
});
