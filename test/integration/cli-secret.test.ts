// `kiln build --secret id=…,src=FILE` and `--secret id=…,env=VAR` with RUN --mount=type=secret,
// end to end: the steps see the values, and an OCI export holds them in no layer, no config and
// no history. Also the --metadata-file written for that export.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
let root: string;
let ctx: string;
let fileSecret: string;
let envSecret: string;

function kiln(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, KILN_ROOT: root, DOCKER_HOST, ...extraEnv }, encoding: 'utf8', cwd: ctx, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const events = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** every entry of a tar (buffer), by name */
async function untar(buf: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        out.set(h.name, Buffer.concat(chunks));
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(buf);
  await done;
  return out;
}
const inflate = (b: Buffer) => (b[0] === 0x1f && b[1] === 0x8b ? zlib.gunzipSync(b) : b);

describeWith(['engine'], 'kiln build --secret', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/cli/main.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-secret-root-'));
    ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-secret-ctx-'));
    const salt = Math.random().toString(36).slice(2);
    fileSecret = `filesecret-${salt}`;
    envSecret = `envsecret-${salt}`;
    // the secret file lives outside the context: it must reach the step only through --secret
    fs.writeFileSync(path.join(root, 'token.txt'), fileSecret);
    // the steps print the values (logs are not part of the image) and keep only their hashes
    fs.writeFileSync(
      path.join(ctx, 'Dockerfile'),
      [
        'FROM busybox:local',
        `RUN --mount=type=secret,id=fsec echo "seen-file:$(cat /run/secrets/fsec)" && sha256sum /run/secrets/fsec | cut -d' ' -f1 > /proof-file && ls -la /run/secrets`,
        `RUN --mount=type=secret,id=esec,env=ESEC echo "seen-env:$ESEC" && printf %s "$ESEC" | sha256sum | cut -d' ' -f1 > /proof-env`,
        `RUN echo ${salt} > /salt`,
        '',
      ].join('\n'),
    );
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(ctx, { recursive: true, force: true });
  });

  it('steps see src= and env= secrets; the OCI export and its metadata hold neither value', async () => {
    const out = path.join(root, 'image.oci.tar');
    const meta = path.join(root, 'meta.json');
    const r = kiln(
      ['build', '--progress', 'rawjson', '--secret', `id=fsec,src=${path.join(root, 'token.txt')}`, '--secret', 'id=esec,env=KILN_TEST_ENV_SECRET', '-o', `type=oci,dest=${out}`, '--metadata-file', meta, '.'],
      { KILN_TEST_ENV_SECRET: envSecret },
    );
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
    const evs = events(r.stdout);
    const logs = evs.filter((e) => e['type'] === 'log').map((e) => e['data']).join('');
    expect(logs).toContain(`seen-file:${fileSecret}`);
    expect(logs).toContain(`seen-env:${envSecret}`);
    const result = evs.find((e) => e['type'] === 'result')!;

    const files = await untar(fs.readFileSync(out));
    const index = JSON.parse(files.get('index.json')!.toString()) as { manifests: { digest: string }[] };
    const blob = (d: string) => files.get(`blobs/sha256/${d.replace(/^sha256:/, '')}`)!;
    const manifest = JSON.parse(blob(index.manifests[0]!.digest).toString()) as { config: { digest: string }; layers: { digest: string }[] };
    const config = JSON.parse(blob(manifest.config.digest).toString()) as { history: { created_by?: string }[]; config: { Env?: string[] } };

    // no file of the archive — index, manifest, config (with its history), any layer decompressed — holds a value
    expect(files.size).toBeGreaterThan(3);
    for (const [name, data] of files) {
      const text = inflate(data).toString('latin1');
      expect(text.includes(fileSecret), `${name} holds the file secret`).toBe(false);
      expect(text.includes(envSecret), `${name} holds the env secret`).toBe(false);
    }
    expect(config.history.some((h) => h.created_by?.includes('sha256sum /run/secrets/fsec'))).toBe(true);
    expect(JSON.stringify(config.config.Env ?? [])).not.toContain('ESEC');

    // the layers hold the proofs (so the steps ran with the right values) and no /run/secrets file
    const entries = new Map<string, Buffer>();
    for (const l of manifest.layers) for (const [k, v] of await untar(inflate(blob(l.digest)))) entries.set(k.replace(/^\.?\//, ''), v);
    expect(entries.get('proof-file')?.toString().trim()).toBe(sha(fileSecret));
    expect(entries.get('proof-env')?.toString().trim()).toBe(sha(envSecret));
    expect([...entries.keys()].filter((k) => k.startsWith('run/secrets/') && k !== 'run/secrets/')).toEqual([]);

    // --metadata-file: the build's ref, its output vertex and the exporter's response
    const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as Record<string, string>;
    expect(m['kiln.build.ref']).toBe(result['id']);
    expect(m['kiln.output.vertex']).toBe(result['output']);
    expect(m['containerimage.digest']).toBe(index.manifests[0]!.digest);
    expect(m['containerimage.config.digest']).toBe(manifest.config.digest);
    expect(m['dest']).toBe(out);
    expect(JSON.stringify(m)).not.toContain(fileSecret);
  });

  it('an unset env= secret and a missing id= are usage errors', () => {
    const r = kiln(['build', '--secret', 'id=esec,env=KILN_TEST_NO_SUCH_VAR', '.']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--secret esec: environment variable KILN_TEST_NO_SUCH_VAR is not set/);
    expect(kiln(['build', '--secret', 'src=/etc/hostname', '.']).code).toBe(2);
  });

  it('a required secret that was not given fails the step with exit 1', () => {
    fs.writeFileSync(path.join(ctx, 'Required.Dockerfile'), 'FROM busybox:local\nRUN --mount=type=secret,id=fsec,required=true cat /run/secrets/fsec\n');
    const r = kiln(['build', '--progress', 'plain', '-f', 'Required.Dockerfile', '--secret', 'id=esec,env=KILN_TEST_ENV_SECRET', '.'], { KILN_TEST_ENV_SECRET: envSecret });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/secret fsec not provided/);
  });
});
