// git, http and registry image sources through the Docker worker, against loopback servers the
// test starts itself (a bare git repository by path, an http server on 127.0.0.1, the local
// registry).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import tar from 'tar-stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { digestOf } from '../../engine/llb/digest.js';
import type { Op } from '../../engine/llb/ops.js';
import type { OpContext, Result } from '../../engine/solver/types.js';
import { createDockerWorker, type DockerWorker } from '../../engine/worker/docker/index.js';
import { AUTH_REGISTRY, BUSYBOX, DOCKER_HOST, REGISTRY, describeWith } from '../helpers/env.js';

let worker: DockerWorker;
let root: string;

const ctx = (): OpContext => ({ signal: new AbortController().signal, session: {}, progress: { log: () => undefined, status: () => undefined } });

async function keyAndRun(op: Op): Promise<{ key: string; result: Result }> {
  const o = worker.resolveOp({ digest: digestOf(op), op, inputs: [] });
  const c = ctx();
  const m = await o.cacheMap(c);
  return { key: digestOf(m), result: (await o.exec(c, []))[0]! };
}

async function files(r: Result): Promise<Map<string, { data: string; mode: number }>> {
  const out = new Map<string, { data: string; mode: number }>();
  for (const l of await worker.layers(r)) {
    const ex = tar.extract();
    ex.on('entry', (h, s, next) => {
      const chunks: Buffer[] = [];
      s.on('data', (d: unknown) => chunks.push(d as Buffer));
      s.on('end', () => {
        out.set(h.name.replace(/^\.\//, '').replace(/\/$/, ''), { data: Buffer.concat(chunks).toString(), mode: (h.mode ?? 0) & 0o7777 });
        next();
      });
    });
    await pipeline(await l.open(), ex);
  }
  return out;
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=k@k', '-c', 'user.name=k', ...args], { cwd }).toString().trim();

describeWith(['engine'], 'sources: git and http', () => {
  let server: Server;
  let base: string;
  const body = Buffer.from('#!/bin/sh\necho downloaded\n');
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kiln-src-'));
    worker = await createDockerWorker({ dockerHost: DOCKER_HOST, root, db: new Database(':memory:') });
    server = createServer((req, res) => {
      if (req.url === '/tool.sh') res.end(body);
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    server?.close();
    await worker?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('git: branch, tag, commit and subdir of a local repository; keep-git-dir', async () => {
    const work = mkdtempSync(join(tmpdir(), 'kiln-git-'));
    git(work, 'init', '-q', '-b', 'main');
    mkdirSync(join(work, 'sub'));
    writeFileSync(join(work, 'sub', 'f'), 'v1');
    writeFileSync(join(work, 'top'), 'top');
    git(work, 'add', '.');
    git(work, 'commit', '-q', '-m', 'one');
    git(work, 'tag', 'v1');
    const first = git(work, 'rev-parse', 'HEAD');
    writeFileSync(join(work, 'sub', 'f'), 'v2');
    git(work, 'commit', '-q', '-am', 'two');
    const bare = join(work, '..', `bare-${Date.now()}.git`);
    execFileSync('git', ['clone', '-q', '--bare', work, bare]);

    const main = await keyAndRun({ kind: 'source', identifier: `git://${bare}#main` });
    expect((await files(main.result)).get('sub/f')?.data).toBe('v2');
    const tag = await keyAndRun({ kind: 'source', identifier: `git://${bare}#v1:sub` });
    const tf = await files(tag.result);
    expect(tf.get('f')?.data).toBe('v1');
    expect(tf.has('top')).toBe(false);
    const bySha = await keyAndRun({ kind: 'source', identifier: `git://${bare}#${first}` });
    expect((await files(bySha.result)).get('sub/f')?.data).toBe('v1');
    expect(bySha.key).not.toBe(main.key);
    expect([...(await files(main.result)).keys()].some((k) => k.startsWith('.git'))).toBe(false);
    const kept = await keyAndRun({ kind: 'source', identifier: `git://${bare}#main`, attrs: { keepGitDir: 'true' } });
    expect([...(await files(kept.result)).keys()]).toContain('.git/HEAD');
    // the Dockerfile frontend's git.fullurl (what the user typed) is the remote, not the git:// form
    const typed = await keyAndRun({ kind: 'source', identifier: 'git://kiln.invalid/repo#v1', attrs: { 'git.fullurl': `${bare}#v1` } });
    expect((await files(typed.result)).get('sub/f')?.data).toBe('v1');
    rmSync(work, { recursive: true, force: true });
    rmSync(bare, { recursive: true, force: true });
  }, 120_000);

  it('http: checksum, filename and chmod; a wrong checksum fails', async () => {
    const sum = 'sha256:' + createHash('sha256').update(body).digest('hex');
    const ok = await keyAndRun({ kind: 'source', identifier: `${base}/tool.sh`, attrs: { checksum: sum, filename: 'bin/tool', chmod: '755' } });
    expect((await files(ok.result)).get('bin/tool')).toEqual({ data: body.toString(), mode: 0o755 });
    await expect(keyAndRun({ kind: 'source', identifier: `${base}/tool.sh`, attrs: { checksum: 'sha256:' + '0'.repeat(64) } })).rejects.toThrow(/checksum mismatch/);
    await expect(keyAndRun({ kind: 'source', identifier: `${base}/missing` })).rejects.toThrow(/404/);
  }, 60_000);
});

describeWith(['engine', 'registry'], 'sources: image pull from a registry', () => {
  it('pulls a missing image from the loopback registry and keys on its id', async () => {
    root = mkdtempSync(join(tmpdir(), 'kiln-src-'));
    worker = await createDockerWorker({ dockerHost: DOCKER_HOST, root, db: new Database(':memory:') });
    const docker = worker.context.docker;
    const ref = `${REGISTRY}/kiln-d-pull:t${Date.now()}`;
    const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
    await docker.getImage(BUSYBOX).tag({ repo, tag });
    await new Promise<void>((res, rej) =>
      docker.getImage(ref).push({ authconfig: { serveraddress: REGISTRY } }, (err: unknown, stream?: NodeJS.ReadableStream) => (err ? rej(err) : docker.modem.followProgress(stream!, (e: unknown) => (e ? rej(e) : res())))),
    );
    await docker.getImage(ref).remove({ noprune: true });
    await expect(docker.getImage(ref).inspect()).rejects.toThrow();
    const { key, result } = await keyAndRun({ kind: 'source', identifier: `docker-image://${ref}` });
    const id = (await docker.getImage(BUSYBOX).inspect()).Id;
    expect(result.id).toBe(id);
    expect(key).toMatch(/^sha256:/);
    const resolved = await worker.resolveImageConfig(ref);
    expect(resolved.digest).toMatch(/^sha256:/);
    await docker.getImage(ref).remove({ noprune: true });
    rmSync(root, { recursive: true, force: true });
  }, 120_000);
});

describeWith(['engine', 'registry'], 'sources: image pull with registry auth', () => {
  it('pulls from the basic-auth registry with credentials from DOCKER_CONFIG', async () => {
    const r = mkdtempSync(join(tmpdir(), 'kiln-src-'));
    const w = await createDockerWorker({ dockerHost: DOCKER_HOST, root: r, db: new Database(':memory:') });
    const docker = w.context.docker;
    const repo = `${AUTH_REGISTRY}/kiln-d-auth`;
    const tag = `t${Date.now()}`;
    const ref = `${repo}:${tag}`;
    await docker.getImage(BUSYBOX).tag({ repo, tag });
    await new Promise<void>((res, rej) =>
      docker.getImage(ref).push({ authconfig: { username: 'kiln', password: 'kiln', serveraddress: AUTH_REGISTRY } }, (err: unknown, stream?: NodeJS.ReadableStream) =>
        err ? rej(err) : docker.modem.followProgress(stream!, (e: unknown, out: { error?: string }[]) => (e ? rej(e) : out.some((o) => o.error) ? rej(new Error(String(out.find((o) => o.error)?.error))) : res())),
      ),
    );
    await docker.getImage(ref).remove({ noprune: true });
    const cfg = mkdtempSync(join(tmpdir(), 'kiln-dockercfg-'));
    writeFileSync(join(cfg, 'config.json'), JSON.stringify({ auths: { [AUTH_REGISTRY]: { auth: Buffer.from('kiln:kiln').toString('base64') } } }));
    const prev = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = cfg;
    try {
      const op: Op = { kind: 'source', identifier: `docker-image://${ref}` };
      const o = w.resolveOp({ digest: digestOf(op), op, inputs: [] });
      const [res] = await o.exec(ctx(), []);
      expect(res!.id).toBe((await docker.getImage(BUSYBOX).inspect()).Id);
    } finally {
      if (prev === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = prev;
      await docker.getImage(ref).remove({ noprune: true }).catch(() => undefined);
      rmSync(r, { recursive: true, force: true });
      rmSync(cfg, { recursive: true, force: true });
    }
  }, 120_000);
});
