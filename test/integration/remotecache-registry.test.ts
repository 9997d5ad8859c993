// `kiln build --cache-to type=registry,ref=…` / `--cache-from type=registry,ref=…` end to end through
// bin/kiln.js on the real engine and the real registries (127.0.0.1:5000, and 5001 with basic auth):
// the pushed manifest (OCI image manifest, or BuildKit's older index form) lists a Kiln cache config
// and layer blobs the registry serves under their digests; a fresh KILN_ROOT importing it builds
// fully cached and right; a second export uploads nothing; a ref that holds an image or nothing, and
// an unreachable registry, are reported clearly.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AUTH_REGISTRY, describeWith, DOCKER_HOST, REGISTRY } from '../helpers/env.js';
import { rawEvents, rawLogs, stepStates } from '../helpers/cli.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
const CONFIG_TYPE = 'application/vnd.kiln.cache.config.v1+json';
let tmp: string;
let ctx: string;
let salt: string;
let dockerConfig: string;

function kiln(args: string[], root: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, KILN_ROOT: path.join(tmp, root), KILN_EMBEDDED: '1', DOCKER_HOST, DOCKER_CONFIG: dockerConfig },
    encoding: 'utf8',
    cwd: ctx,
    timeout: 240_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ACCEPT = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');
async function get(registry: string, p: string, auth?: string): Promise<{ status: number; type: string; bytes: Buffer }> {
  const r = await fetch(`http://${registry}${p}`, { headers: { accept: ACCEPT, ...(auth ? { authorization: 'Basic ' + Buffer.from(auth).toString('base64') } : {}) } });
  return { status: r.status, type: r.headers.get('content-type') ?? '', bytes: Buffer.from(await r.arrayBuffer()) };
}
const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

describeWith(['engine', 'registry'], 'kiln build --cache-to / --cache-from type=registry', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/control/remotecache/registry.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-rcache-'));
    ctx = path.join(tmp, 'ctx');
    fs.mkdirSync(ctx);
    dockerConfig = path.join(tmp, 'docker-config');
    fs.mkdirSync(dockerConfig);
    fs.writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [AUTH_REGISTRY]: { auth: Buffer.from('kiln:kiln').toString('base64') } } }));
    salt = Math.random().toString(36).slice(2);
    fs.writeFileSync(path.join(ctx, 'hello.txt'), `hello ${salt}\n`);
    fs.writeFileSync(
      path.join(ctx, 'Dockerfile'),
      `FROM busybox:local AS b\nRUN echo built-${salt} > /b\nFROM busybox:local\nCOPY hello.txt /h\nCOPY --from=b /b /b\nRUN cat /h /b > /out && head -c 4000 /bin/busybox > /blob\n`,
    );
  });
  afterAll(() => {
    for (const r of ['r1', 'r2', 'r3', 'r4', 'r5']) if (fs.existsSync(path.join(tmp, r))) kiln(['prune', '--all'], r);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('mode=max pushes an OCI manifest of a Kiln cache config and layer blobs; a fresh root imports it fully cached; a second push uploads nothing', async () => {
    const repoName = `kiln-cache-${salt}`;
    const ref = `${REGISTRY}/${repoName}:max`;
    const first = kiln(['build', '--progress', 'rawjson', '--cache-to', `type=registry,ref=${ref},mode=max`, '.'], 'r1');
    expect(first.stderr).not.toMatch(/ERROR/);
    expect(first.code).toBe(0);
    const evs1 = rawEvents(first.stdout);
    expect(evs1.some((e) => e['type'] === 'vertex' && e['name'] === `exporting cache to ${ref} (mode=max)` && e['completed'] && !e['error'])).toBe(true);
    // byte progress of the push, under the ref
    expect(evs1.some((e) => e['type'] === 'status' && typeof e['total'] === 'number' && e['current'] === e['total'] && (e['total'] as number) > 4000)).toBe(true);

    const m = await get(REGISTRY, `/v2/${repoName}/manifests/max`);
    expect(m.status).toBe(200);
    expect(m.type).toBe('application/vnd.oci.image.manifest.v1+json');
    const manifest = JSON.parse(m.bytes.toString()) as { config: { mediaType: string; digest: string; size: number }; layers: { mediaType: string; digest: string; size: number }[] };
    expect(manifest.config.mediaType).toBe(CONFIG_TYPE);
    const config = await get(REGISTRY, `/v2/${repoName}/blobs/${manifest.config.digest}`);
    expect(sha(config.bytes)).toBe(manifest.config.digest);
    const records = (JSON.parse(config.bytes.toString()) as { records: { description?: string; layers: string[]; parents: string[]; key: string; type: string }[] }).records;
    const names = records.map((r) => r.description ?? '');
    for (const want of [`[b 2/2] RUN echo built-${salt}`, '[stage-1 2/4] COPY hello.txt /h', '[stage-1 4/4] RUN cat /h /b']) expect(names.some((n) => n.startsWith(want)), want).toBe(true);
    expect(records.some((r) => r.type === 'source.local')).toBe(false);
    const listed = new Set(manifest.layers.map((l) => l.digest));
    for (const r of records) for (const l of r.layers) expect(listed.has(l)).toBe(true);
    for (const l of manifest.layers) {
      const b = await get(REGISTRY, `/v2/${repoName}/blobs/${l.digest}`);
      expect(sha(b.bytes)).toBe(l.digest);
      expect(b.bytes.length).toBe(l.size);
      expect(l.mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
    }

    const out = path.join(tmp, 'out2');
    const second = kiln(['build', '--progress', 'rawjson', '--cache-from', `type=registry,ref=${ref}`, '-o', `type=local,dest=${out}`, '.'], 'r2');
    expect(second.stderr).not.toMatch(/ERROR/);
    expect(second.code).toBe(0);
    const evs2 = rawEvents(second.stdout);
    expect(rawLogs(evs2)).toMatch(new RegExp(`${records.length} cache records, ${records.length} imported \\(\\d+ layer blobs downloaded\\)`));
    const s = stepStates(evs2);
    expect(s.size).toBe(4);
    for (const [name, st] of s) expect(st, name).toEqual({ cached: true, executed: false });
    expect(fs.readFileSync(path.join(out, 'out'), 'utf8')).toBe(`hello ${salt}\nbuilt-${salt}\n`);
    expect(fs.statSync(path.join(out, 'blob')).size).toBe(4000);

    // exported to another repository of the same registry by a job that imported it: the layers are
    // cross-repository mounts, not uploads
    const other = `${REGISTRY}/kiln-cache2-${salt}:max`;
    const moved = kiln(['build', '--progress', 'rawjson', '--cache-from', `type=registry,ref=${ref}`, '--cache-to', `type=registry,ref=${other},mode=max`, '.'], 'r2');
    expect(moved.code).toBe(0);
    expect(rawLogs(rawEvents(moved.stdout))).toContain(`${manifest.layers.length} layers (0 uploaded, 0 already there, ${manifest.layers.length} mounted)`);
    expect((await get(REGISTRY, `/v2/kiln-cache2-${salt}/manifests/max`)).status).toBe(200);

    // the same cache pushed again: every blob is there already, the manifest is the same
    const again = kiln(['build', '--progress', 'rawjson', '--cache-to', `type=registry,ref=${ref},mode=max`, '.'], 'r1');
    expect(again.code).toBe(0);
    expect(rawLogs(rawEvents(again.stdout))).toMatch(new RegExp(`${manifest.layers.length} layers \\(0 uploaded, ${manifest.layers.length} already there, 0 mounted\\); manifest ${sha(m.bytes)}`));
  });

  it('image-manifest=false pushes BuildKit\'s index form (Docker media types with oci-mediatypes=false), and imports from it', async () => {
    const repoName = `kiln-cache-${salt}`;
    const ref = `${REGISTRY}/${repoName}:index`;
    const r = kiln(['build', '--progress', 'plain', '--cache-to', `type=registry,ref=${ref},oci-mediatypes=false,image-manifest=false`, '.'], 'r1');
    expect(r.code).toBe(0);
    const m = await get(REGISTRY, `/v2/${repoName}/manifests/index`);
    expect(m.type).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    const index = JSON.parse(m.bytes.toString()) as { manifests: { mediaType: string; digest: string }[] };
    expect(index.manifests.filter((d) => d.mediaType === CONFIG_TYPE)).toHaveLength(1);
    const layers = index.manifests.filter((d) => d.mediaType !== CONFIG_TYPE);
    expect(layers.length).toBeGreaterThan(0);
    for (const l of layers) expect(l.mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar');

    // mode=min (the default): the final stage's own steps import; the other stage runs again
    const second = kiln(['build', '--progress', 'rawjson', '--cache-from', `type=registry,ref=${ref}`, '.'], 'r3');
    expect(second.code).toBe(0);
    const s = stepStates(rawEvents(second.stdout));
    expect(s.get('[stage-1 2/4] COPY hello.txt /h')).toEqual({ cached: true, executed: false });
    expect([...s].find(([n]) => n.includes(`echo built-${salt}`))![1].executed).toBe(true);
  });

  it('a registry with basic auth: the docker config\'s credentials push and pull the cache', async () => {
    const repoName = `kiln-cache-${salt}`;
    const ref = `${AUTH_REGISTRY}/${repoName}:auth`;
    const first = kiln(['build', '--progress', 'plain', '--cache-to', `type=registry,ref=${ref},mode=max`, '.'], 'r1');
    expect(first.stderr).not.toMatch(/ERROR/);
    expect(first.code).toBe(0);
    expect((await get(AUTH_REGISTRY, `/v2/${repoName}/manifests/auth`)).status).toBe(401);
    expect((await get(AUTH_REGISTRY, `/v2/${repoName}/manifests/auth`, 'kiln:kiln')).status).toBe(200);
    const second = kiln(['build', '--progress', 'rawjson', '--cache-from', `type=registry,ref=${ref}`, '.'], 'r4');
    expect(second.code).toBe(0);
    for (const [name, st] of stepStates(rawEvents(second.stdout))) expect(st, name).toEqual({ cached: true, executed: false });
  });

  it('no cache at the ref, a ref holding an image, and an unreachable registry are warnings for --cache-from; a failed --cache-to fails the build unless ignore-error=true', () => {
    const none = kiln(['build', '--progress', 'plain', '--cache-from', `type=registry,ref=${REGISTRY}/kiln-cache-${salt}:nothing-here`, '.'], 'r5');
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/kiln-cache-\w+:nothing-here: no cache there \(the ref does not exist\); building without it/);

    const image = kiln(['build', '--progress', 'plain', '--cache-from', `type=registry,ref=${REGISTRY}/busybox:local`, '.'], 'r5');
    expect(image.code).toBe(0);
    expect(image.stderr).toMatch(/busybox:local is not a Kiln cache \(no application\/vnd\.kiln\.cache\.config\.v1\+json in its (manifest|index)\); building without it/);

    // port 1 on loopback: nothing listens there
    const down = kiln(['build', '--progress', 'plain', '--cache-from', 'type=registry,ref=127.0.0.1:1/x:c', '.'], 'r5');
    expect(down.code).toBe(0);
    expect(down.stderr).toMatch(/--cache-from type=registry,ref=127\.0\.0\.1:1\/x:c: .*; building without it/);

    const failed = kiln(['build', '--progress', 'plain', '--cache-to', 'type=registry,ref=127.0.0.1:1/x:c', '.'], 'r5');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/cache export to 127\.0\.0\.1:1\/x:c failed: /);

    const ignored = kiln(['build', '--progress', 'plain', '--cache-to', 'type=registry,ref=127.0.0.1:1/x:c,ignore-error=true', '.'], 'r5');
    expect(ignored.code).toBe(0);
    expect(ignored.stderr).toMatch(/cache export to 127\.0\.0\.1:1\/x:c failed \(ignored\): /);
  });
});
