// The runc worker on real runc, overlayfs and the Docker Engine: what its snapshots hold (layer
// tars with whiteouts and opaque dirs), that its results load and run in Docker, and that
// failures, cancels and crashes leave no containers, mounts or half-written layers behind.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../engine/engine.js';
import { copy, image, mkfile } from '../../engine/llb/builder.js';
import type { State } from '../../engine/llb/builder.js';
import type { ProgressEvent, Result } from '../../engine/solver/types.js';
import { loadImage } from '../../engine/worker/docker/load.js';
import { runcUnavailable, type RuncWorker } from '../../engine/worker/runc/index.js';
import { BUSYBOX, DOCKER_HOST, describeWith } from '../helpers/env.js';

let engine: Engine;
let root: string;
const docker = new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, '') });
let n = 0;

const build = async (s: State, o: { signal?: AbortSignal; secrets?: Map<string, Buffer>; onProgress?: (e: ProgressEvent) => void } = {}): Promise<Result> =>
  (await engine.build(s.marshal(), { jobId: `runc-${process.pid}-${n++}`, signal: o.signal, session: { secrets: o.secrets }, ...(o.onProgress ? { onProgress: o.onProgress } : {}) })).result;

/** the entries of one layer tar: name → type (and content for files) */
async function layerEntries(r: Result, index = -1): Promise<Map<string, { type: string; body: string; mode: number }>> {
  const layers = await engine.worker.layers(r);
  const l = layers.at(index)!;
  const out = new Map<string, { type: string; body: string; mode: number }>();
  const ex = tar.extract();
  ex.on('entry', (h, s, next) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: unknown) => chunks.push(d as Buffer));
    s.on('end', () => {
      out.set(h.name.replace(/\/$/, ''), { type: h.type ?? 'file', body: Buffer.concat(chunks).toString(), mode: h.mode ?? 0 });
      next();
    });
  });
  await pipeline(await l.open(), ex);
  return out;
}

const containers = () => {
  const r = spawnSync('runc', ['--root', join(root, 'runc'), 'list', '-q'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').filter(Boolean);
};
const mountsUnder = (dir: string) => readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[1]?.startsWith(dir));
const layerDirs = () => readdirSync(join(root, 'overlay', 'l'));

describeWith(['engine'], 'runc worker', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kiln-runc-'));
    engine = await createEngine({ root, dockerHost: DOCKER_HOST, workerKind: 'runc', gcPolicy: [] });
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('is chosen here, and says why where it cannot run', () => {
    expect(runcUnavailable()).toBeUndefined();
    expect(engine.worker.id).toMatch(/^runc:/);
    expect((engine.worker as RuncWorker).store.root).toBe(join(root, 'overlay'));
  });

  it('a step layer holds only its changes: files, whiteouts for removed lower files, opaque dirs', async () => {
    const base = image(BUSYBOX).run({ shell: 'mkdir -p /d/sub && echo a > /d/a && echo b > /d/sub/b && echo keep > /k', network: 'none' }).root();
    const next = base.run({ shell: 'rm /k && rm -rf /d && mkdir /d && echo new > /d/n && echo hi > /out', network: 'none' }).root();
    const r = await build(next);
    const e = await layerEntries(r);
    expect(e.get('out')?.body).toBe('hi\n');
    expect(e.get('.wh.k')?.type).toBe('file');
    // the directory was removed and made again: its old content is hidden by an opaque marker
    expect(e.has('d/.wh..wh..opq')).toBe(true);
    expect(e.get('d/n')?.body).toBe('new\n');
    expect(e.has('d/a')).toBe(false);
    expect(e.has('bin/busybox')).toBe(false);
    // mount-point file stubs (/etc/hosts, /etc/resolv.conf) never reach the layer
    expect(e.has('etc/hosts')).toBe(false);
    expect(e.has('etc/resolv.conf')).toBe(false);
  }, 120_000);

  it('results load into the Docker Engine and run there with the same filesystem', async () => {
    const s = image(BUSYBOX)
      .run({ shell: 'echo one > /f1 && ln -s f1 /lnk && ln /f1 /hard', network: 'none' })
      .root()
      .file([mkfile('/f2', 0o600, 'two')]);
    const r = await build(s);
    const layers = await engine.worker.layers(r);
    expect(layers[0]!.inEngine).toBe(true); // the base image's layer is not sent again
    expect(layers.at(-1)!.inEngine).toBe(false);
    const config = { architecture: 'amd64', os: 'linux', config: { Cmd: ['sh', '-c', 'cat /f1 /lnk /hard /f2; stat -c %a /f2'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } };
    const tag = `kiln-runc-test:${process.pid}`;
    const id = await loadImage(docker, layers, config, [tag]);
    expect((await docker.getImage(tag).inspect()).Id).toBe(id);
    const c = await docker.createContainer({ Image: tag, HostConfig: { NetworkMode: 'none' } });
    await c.start();
    await c.wait();
    const logs = (await c.logs({ stdout: true, stderr: true })).toString().replace(/[\x00-\x08]/g, '');
    await c.remove({ force: true });
    await docker.getImage(tag).remove({ force: true });
    expect(logs).toContain('one\none\none\ntwo');
    expect(logs).toContain('600');
  }, 120_000);

  it('user, env, cwd, network and mounts reach the process; tmpfs, secret and cache mounts stay out of the layer', async () => {
    const other = image(BUSYBOX).run({ shell: 'mkdir /data && echo shared > /data/x', network: 'none' }).root();
    const s = image(BUSYBOX).run({
      shell: [
        'id -u > /res-uid', 'echo "$WHO" > /res-env', 'pwd > /res-cwd', 'ls /sys/class/net | wc -l > /res-net',
        'cat /m/x > /res-bind', '(echo nope > /m/y) 2>/dev/null || echo ro > /res-ro', 'echo w > /rw/y', 'cat /rw/x /rw/y > /res-rw', 'echo t > /t/f', 'cat /run/secrets/s > /res-secret',
        'echo $(( $(cat /c/n 2>/dev/null || echo 0) + 1 )) > /c/n', 'cp /c/n /res-cache',
      ].join(' && '),
      user: '0:0', env: { WHO: 'kiln', PATH: '/bin' }, cwd: '/w', network: 'none',
      mounts: [
        { type: 'bind', from: other, target: '/m', selector: '/data', readonly: true },
        // without readonly a bind is writable; the writes are the mount's own, never the source's
        { type: 'bind', from: other, target: '/rw', selector: '/data' },
        { type: 'tmpfs', target: '/t' },
        { type: 'secret', id: 's', target: '/run/secrets/s' },
        { type: 'cache', id: `c-${process.pid}`, target: '/c' },
      ],
    }).root();
    const secrets = new Map([['s', Buffer.from('sekrit')]]);
    const e = await layerEntries(await build(s, { secrets }));
    expect(e.get('res-uid')?.body).toBe('0\n');
    expect(e.get('res-env')?.body).toBe('kiln\n');
    expect(e.get('res-cwd')?.body).toBe('/w\n');
    expect(e.get('res-net')?.body.trim()).toBe('1'); // network none: loopback only
    expect(e.get('res-bind')?.body).toBe('shared\n');
    expect(e.get('res-ro')?.body).toBe('ro\n');
    expect(e.get('res-rw')?.body).toBe('shared\nw\n');
    expect(e.has('rw/y')).toBe(false);
    expect((await layerEntries(await build(other))).has('data/y')).toBe(false);
    expect(e.get('res-secret')?.body).toBe('sekrit');
    expect(e.get('res-cache')?.body).toBe('1\n');
    expect(e.has('t/f')).toBe(false);
    expect(e.has('c/n')).toBe(false);
    expect(e.has('run/secrets/s')).toBe(false); // the empty file stub is removed
    expect([...e.values()].some((x) => x.body.includes('sekrit') && x.type === 'file' && !x.body.startsWith('sekrit'))).toBe(false);
    // the cache mount outlives the step: a second step (different command) sees the count
    const again = image(BUSYBOX).run({ shell: 'cat /c/n > /seen', network: 'none', mounts: [{ type: 'cache', id: `c-${process.pid}`, target: '/c' }] }).root();
    expect((await layerEntries(await build(again))).get('seen')?.body).toBe('1\n');
  }, 120_000);

  it('a failing step reports exit code and output tail; nothing is left behind', async () => {
    const before = layerDirs().length;
    const s = image(BUSYBOX).run({ shell: 'echo about to fail >&2; exit 7', network: 'none' }).root();
    const err = (await build(s).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('exit code: 7');
    expect(err.message).toContain('about to fail');
    expect(containers()).toEqual([]);
    expect(mountsUnder(join(root, 'overlay'))).toEqual([]);
    expect(layerDirs().length).toBe(before);
  }, 120_000);

  it('cancelling a running step kills it at once and leaves no container, mount or layer', async () => {
    const before = layerDirs().length;
    const ac = new AbortController();
    const s = image(BUSYBOX).run({ shell: `sleep 60; echo ${Date.now()}`, network: 'none' }).root();
    const started = Date.now();
    const p = build(s, { signal: ac.signal }).catch((e: unknown) => e);
    for (let i = 0; i < 100 && containers().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(containers().length).toBe(1);
    ac.abort();
    const err = await p;
    expect(err).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(containers()).toEqual([]);
    expect(mountsUnder(join(root, 'overlay'))).toEqual([]);
    expect(layerDirs().length).toBe(before);
  }, 120_000);

  it('a cancel that lands while the container is still being created kills it too (the step does not run on)', async () => {
    const before = layerDirs().length;
    // cancelled as the step starts, and a few ms into it: before runc has made the container
    for (const delay of [0, 2, 5, 10, 20, 40]) {
      const ac = new AbortController();
      const s = image(BUSYBOX).run({ shell: `sleep 60; echo ${delay}-${Date.now()}`, network: 'none' }).root();
      const p = build(s, {
        signal: ac.signal,
        onProgress: (e) => {
          if (e.type === 'vertex' && e.started && !e.completed && e.name.includes('sleep 60')) setTimeout(() => ac.abort(), delay);
        },
      }).then(() => 'finished', (e: unknown) => e);
      // killed: it ends long before the step's 60 s (a missed kill runs it out, and the job waits)
      const err = await Promise.race([p, new Promise((r) => setTimeout(() => r('still running after 10 s'), 10_000))]);
      expect(err, `cancelled ${delay} ms after start`).toBeInstanceOf(Error);
      expect(containers(), `cancelled ${delay} ms after start`).toEqual([]);
    }
    expect(mountsUnder(join(root, 'overlay'))).toEqual([]);
    expect(layerDirs().length).toBe(before);
  }, 180_000);

  it('after a crash, the next start collects unfinished layers, stale mounts and bundles', async () => {
    const store = (engine.worker as RuncWorker).store;
    const dead = join(store.root, 'l', 'deadbeef0001');
    mkdirSync(join(dead, 'fs'), { recursive: true });
    writeFileSync(join(dead, 'pid'), '999999999'); // no such process
    const stale = join(store.root, 'm', '999999999-x');
    mkdirSync(stale, { recursive: true });
    spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', stale]);
    expect(mountsUnder(stale).length).toBe(1);
    const e2 = await createEngine({ root, dockerHost: DOCKER_HOST, workerKind: 'runc', gcPolicy: [] });
    try {
      expect(existsSync(dead)).toBe(false);
      expect(mountsUnder(stale)).toEqual([]);
      expect(existsSync(stale)).toBe(false);
      // finished layers of the live engine are kept
      expect(layerDirs().length).toBeGreaterThan(0);
    } finally {
      await e2.close();
    }
  }, 120_000);

  it('copy between snapshots and pruning: a released layer goes once no child needs it', async () => {
    const a = image(BUSYBOX).run({ shell: 'echo from-a > /a', network: 'none' }).root();
    const b = image(BUSYBOX).file([copy(a, '/a', '/copied')]);
    const r = await build(b);
    expect((await layerEntries(r)).get('copied')?.body).toBe('from-a\n');
    const before = layerDirs().length;
    await engine.cache.prune({ all: true });
    expect(layerDirs().length).toBeLessThan(before);
    expect(await engine.worker.exists(r)).toBe(false);
  }, 120_000);
});
