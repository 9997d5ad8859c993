// `kiln build --cache-to type=local,dest=DIR` / `--cache-from type=local,src=DIR` end to end through
// bin/kiln.js on the real engine: the exported directory is an OCI layout whose blobs are what
// their digests say, a fresh KILN_ROOT that imports it builds fully cached (and right), mode=min
// leaves other stages out, and bad specs, a missing cache and a corrupt blob are reported clearly.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';
import { rawEvents, rawLogs, stepStates } from '../helpers/cli.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
let tmp: string;
let ctx: string;
let salt: string;

function kiln(args: string[], root: string, extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, KILN_ROOT: path.join(tmp, root), DOCKER_HOST, ...extra }, encoding: 'utf8', cwd: ctx, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const json = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
const blob = (dir: string, d: string) => path.join(dir, 'blobs', 'sha256', d.slice(7));
type Rec = { key: string; type: string; description?: string; layers: string[]; parents: string[]; resultId: string };

function readCache(dir: string): { records: Rec[]; layers: { digest: string; mediaType: string; size: number }[] } {
  const index = json(path.join(dir, 'index.json')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
  const m = index.manifests.find((x) => x.annotations['org.opencontainers.image.ref.name'] === 'latest')!;
  const manifest = json(blob(dir, m.digest)) as { config: { mediaType: string; digest: string }; layers: { digest: string; mediaType: string; size: number }[] };
  expect(manifest.config.mediaType).toBe('application/vnd.kiln.cache.config.v1+json');
  return { records: (json(blob(dir, manifest.config.digest)) as { records: Rec[] }).records, layers: manifest.layers };
}

describeWith(['engine'], 'kiln build --cache-to / --cache-from type=local', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/control/remotecache/local.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-cache-'));
    ctx = path.join(tmp, 'ctx');
    fs.mkdirSync(ctx);
    salt = Math.random().toString(36).slice(2);
    fs.writeFileSync(path.join(ctx, 'hello.txt'), `hello ${salt}\n`);
    fs.writeFileSync(
      path.join(ctx, 'Dockerfile'),
      `FROM busybox:local AS b\nRUN echo built-${salt} > /b\nFROM busybox:local\nCOPY hello.txt /h\nCOPY --from=b /b /b\nRUN cat /h /b > /out && head -c 4000 /bin/busybox > /blob\n`,
    );
  });
  afterAll(() => {
    for (const r of ['r1', 'r2', 'r3', 'r4', 'r5', 'r6']) if (fs.existsSync(path.join(tmp, r))) kiln(['prune', '--all'], r);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('bad specs are usage errors naming the flag', () => {
    const cases: [string, RegExp][] = [
      ['--cache-to=type=gha', /--cache-to type=gha: cache backend "gha" is not supported by Kiln \(only type=local and type=registry\)/],
      ['--cache-to=type=registry', /--cache-to type=registry: ref=REGISTRY\/REPOSITORY\[:TAG\] is required/],
      ['--cache-to=type=registry,ref=127.0.0.1:5000/x@sha256:' + 'a'.repeat(64), /a cache is pushed to a tag, not a digest/],
      ['--cache-to=type=registry,ref=127.0.0.1:5000/x:c,compression=zstd', /compression=zstd is not supported/],
      ['--cache-to=type=local', /--cache-to type=local: dest=DIR is required/],
      ['--cache-to=type=local,dest=x,mode=all', /--cache-to type=local,dest=x,mode=all: mode is min or max/],
      ['--cache-from=type=local,dest=x', /--cache-from type=local,dest=x: unknown attribute "dest" \(known: src, tag\)/],
      ['--cache-from=Bad Ref', /--cache-from Bad Ref: ref "Bad Ref" is not an image reference/],
      ['--cache-to=type=fancy,dest=x', /unknown cache type "fancy" \(type=local or type=registry\)/],
    ];
    for (const [flag, re] of cases) {
      const r = kiln(['build', flag, '.'], 'r0');
      expect(r.code, flag).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  });

  it('mode=max exports an OCI layout that a fresh root imports: every step cached, the result right', () => {
    const dir = path.join(tmp, 'cache-max');
    const first = kiln(['build', '--progress', 'rawjson', '--cache-to', `type=local,dest=${dir},mode=max`, '.'], 'r1');
    expect(first.stderr).not.toMatch(/ERROR/);
    expect(first.code).toBe(0);
    expect([...stepStates(rawEvents(first.stdout)).values()].every((s) => s.executed)).toBe(true);
    expect(json(path.join(dir, 'oci-layout'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const { records, layers } = readCache(dir);
    // every blob is what its digest says, and is listed with its size
    for (const l of layers) {
      const bytes = fs.readFileSync(blob(dir, l.digest));
      expect('sha256:' + createHash('sha256').update(bytes).digest('hex')).toBe(l.digest);
      expect(l.size).toBe(bytes.length);
      expect(l.mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
    }
    const names = records.map((r) => r.description ?? '');
    for (const want of [`[b 2/2] RUN echo built-${salt}`, '[stage-1 2/4] COPY hello.txt /h', '[stage-1 3/4] COPY --from=b /b /b', '[stage-1 4/4] RUN cat /h /b']) expect(names.some((n) => n.startsWith(want)), want).toBe(true);
    expect(records.some((r) => r.type === 'source.local')).toBe(false);
    // parent links stay inside the export
    const keys = new Set(records.map((r) => r.key));
    for (const r of records) for (const p of r.parents) expect(keys.has(p)).toBe(true);

    const out = path.join(tmp, 'out2');
    const second = kiln(['build', '--progress', 'rawjson', '--cache-from', `type=local,src=${dir}`, '-o', `type=local,dest=${out}`, '.'], 'r2');
    expect(second.stderr).not.toMatch(/ERROR/);
    expect(second.code).toBe(0);
    const evs = rawEvents(second.stdout);
    const log = rawLogs(evs);
    expect(log).toContain(`${records.length} cache records, ${records.length} imported`);
    const s = stepStates(evs);
    expect(s.size).toBe(4);
    for (const [name, st] of s) expect(st, name).toEqual({ cached: true, executed: false });
    expect(fs.readFileSync(path.join(out, 'out'), 'utf8')).toBe(`hello ${salt}\nbuilt-${salt}\n`);
    expect(fs.statSync(path.join(out, 'blob')).size).toBe(4000);
    // the second root now holds the records: its own du lists them
    const du = JSON.parse(kiln(['du', '--format', 'json'], 'r2').stdout) as { records: { description?: string }[] };
    expect(du.records.some((r) => r.description?.startsWith('[stage-1 4/4] RUN cat /h /b'))).toBe(true);
  });

  it('mode=min (the default) keeps only the result\'s own layers; a fresh root then rebuilds only the other stage', () => {
    const dir = path.join(tmp, 'cache-min');
    const r = kiln(['build', '--progress', 'rawjson', '--cache-to', `type=local,dest=${dir}`, '.'], 'r1');
    expect(r.code).toBe(0);
    const { records } = readCache(dir);
    const names = records.map((x) => x.description ?? '');
    expect(names.some((n) => n.includes(`echo built-${salt}`))).toBe(false);
    expect(names.some((n) => n.startsWith('[stage-1 2/4] COPY hello.txt /h'))).toBe(true);
    const top = records.find((x) => x.description?.startsWith('[stage-1 4/4]'))!;
    for (const x of records) expect(top.layers.slice(0, x.layers.length)).toEqual(x.layers);

    const second = kiln(['build', '--progress', 'rawjson', '--cache-from', `type=local,src=${dir}`, '.'], 'r3');
    expect(second.code).toBe(0);
    const s = stepStates(rawEvents(second.stdout));
    expect(s.get('[stage-1 2/4] COPY hello.txt /h')).toEqual({ cached: true, executed: false });
    expect([...s].find(([n]) => n.includes(`echo built-${salt}`))![1].executed).toBe(true);
  });

  it('kiln bake: --set TARGET.cache-to / cache-from export and import per target; a bad spec exits 2', () => {
    const s3 = Math.random().toString(36).slice(2);
    fs.writeFileSync(path.join(ctx, 'Bake.Dockerfile'), `FROM busybox:local\nCOPY hello.txt /h\nRUN echo bake-${s3} > /s\n`);
    fs.writeFileSync(path.join(ctx, 'docker-bake.hcl'), `target "app" {\n  dockerfile = "Bake.Dockerfile"\n}\n`);
    const dir = path.join(tmp, 'cache-bake');
    const bad = kiln(['bake', 'app', '--set', 'app.cache-to=type=gha'], 'r5');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--cache-to type=gha: cache backend "gha" is not supported by Kiln/);
    const printed = JSON.parse(kiln(['bake', '--print', 'app', '--set', `app.cache-to=type=local,dest=${dir},mode=max`], 'r5').stdout) as { target: Record<string, Record<string, unknown>> };
    expect(printed.target['app']!['cache-to']).toEqual([`type=local,dest=${dir},mode=max`]);
    const first = kiln(['bake', 'app', '--progress', 'rawjson', '--set', `app.cache-to=type=local,dest=${dir},mode=max`], 'r5');
    expect(first.code).toBe(0);
    expect(readCache(dir).records.some((r) => r.description?.includes(`echo bake-${s3}`))).toBe(true);
    const second = kiln(['bake', 'app', '--progress', 'rawjson', '--set', `*.cache-from=type=local,src=${dir}`], 'r6');
    expect(second.code).toBe(0);
    const s = stepStates(rawEvents(second.stdout));
    expect(s.size).toBe(2);
    for (const [name, st] of s) expect(st, name).toEqual({ cached: true, executed: false });
  });

  it('a --cache-from directory without a cache is a warning; a corrupt blob fails the build', () => {
    const none = kiln(['build', '--progress', 'plain', '--cache-from', `type=local,src=${path.join(tmp, 'no-such-cache')}`, '.'], 'r1');
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/no-such-cache: no cache there yet \(no index\.json\); building without it/);

    // a layer no engine has seen yet (a fresh salt), so the import must read the blob
    const s2 = Math.random().toString(36).slice(2);
    fs.writeFileSync(path.join(ctx, 'Other.Dockerfile'), `FROM busybox:local\nRUN echo ${s2} > /s && head -c 5000 /bin/busybox > /blob\n`);
    const dir = path.join(tmp, 'cache-bad');
    expect(kiln(['build', '-f', 'Other.Dockerfile', '--progress', 'plain', '--cache-to', `type=local,dest=${dir}`, '.'], 'r1').code).toBe(0);
    const top = readCache(dir).records.sort((a, b) => b.layers.length - a.layers.length)[0]!;
    const victim = top.layers.at(-1)!;
    const bytes = fs.readFileSync(blob(dir, victim));
    bytes[bytes.length - 2048] ^= 0xff;
    fs.writeFileSync(blob(dir, victim), bytes);
    const bad = kiln(['build', '-f', 'Other.Dockerfile', '--progress', 'plain', '--cache-from', `type=local,src=${dir}`, '.'], 'r4');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`ERROR: layer blob ${victim} in ${dir} is corrupt`);
  });
});
