// The Docker worker against the real engine: a solver-less harness calls resolveOp(v).exec(...)
// directly and checks what ended up in the snapshots.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import tar from 'tar-stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DefinitionVertex } from '../../engine/llb/definition.js';
import { digestOf } from '../../engine/llb/digest.js';
import type { Op } from '../../engine/llb/ops.js';
import type { JobSession, OpContext, Result } from '../../engine/solver/types.js';
import { createDockerWorker, type DockerWorker } from '../../engine/worker/docker/index.js';
import { ExecError } from '../../engine/worker/docker/errors.js';
import { BUSYBOX, DOCKER_HOST, describeWith } from '../helpers/env.js';

let worker: DockerWorker;
let root: string;
let logs: string[] = [];

function vertex(op: Op, inputs: string[] = []): DefinitionVertex {
  return { digest: digestOf({ op, inputs }), op, inputs: inputs.map((digest) => ({ digest })) };
}

function ctxFor(session: JobSession = {}, signal = new AbortController().signal): OpContext {
  return { signal, session, progress: { log: (_s, d) => logs.push(d.toString()), status: () => undefined } };
}

async function run(op: Op, inputs: Result[] = [], session: JobSession = {}, signal?: AbortSignal): Promise<Result> {
  const v = vertex(op, inputs.map((r) => r.id));
  const o = worker.resolveOp(v);
  const ctx = ctxFor(session, signal);
  await o.cacheMap(ctx);
  return (await o.exec(ctx, inputs))[0]!;
}

/** every file in a result's layers, top layer winning: path → { data, mode, uid, gid } */
async function filesOf(r: Result): Promise<Map<string, { data: string; mode: number; uid: number; gid: number; type: string }>> {
  const out = new Map<string, { data: string; mode: number; uid: number; gid: number; type: string }>();
  for (const l of await worker.layers(r)) {
    const ex = tar.extract();
    ex.on('entry', (h, s, next) => {
      const chunks: Buffer[] = [];
      s.on('data', (d: unknown) => chunks.push(d as Buffer));
      s.on('end', () => {
        out.set(h.name.replace(/\/$/, ''), { data: Buffer.concat(chunks).toString(), mode: (h.mode ?? 0) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, type: h.type ?? 'file' });
        next();
      });
    });
    await pipeline(await l.open(), ex);
  }
  return out;
}

/** layers of `top` that `base` does not have */
async function ownFiles(top: Result, base: Result): Promise<Map<string, { data: string; mode: number; uid: number; gid: number; type: string }>> {
  const baseIds = new Set((await worker.layers(base)).map((l) => l.diffId));
  const own = (await worker.layers(top)).filter((l) => !baseIds.has(l.diffId));
  const out = new Map<string, { data: string; mode: number; uid: number; gid: number; type: string }>();
  for (const l of own) {
    const ex = tar.extract();
    ex.on('entry', (h, s, next) => {
      const chunks: Buffer[] = [];
      s.on('data', (d: unknown) => chunks.push(d as Buffer));
      s.on('end', () => {
        out.set(h.name.replace(/\/$/, ''), { data: Buffer.concat(chunks).toString(), mode: (h.mode ?? 0) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, type: h.type ?? 'file' });
        next();
      });
    });
    await pipeline(await l.open(), ex);
  }
  return out;
}

const sh = (script: string, extra: Partial<Extract<Op, { kind: 'exec' }>> = {}): Op => ({
  kind: 'exec',
  rootfs: 0,
  args: ['/bin/sh', '-c', script],
  env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  cwd: '/',
  mounts: [],
  network: 'none',
  ...extra,
});

describeWith(['engine'], 'docker worker', () => {
  let busybox: Result;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kiln-worker-'));
    worker = await createDockerWorker({ dockerHost: DOCKER_HOST, root, db: new Database(':memory:') });
    busybox = await run({ kind: 'source', identifier: `docker-image://${BUSYBOX}` });
  }, 120_000);
  afterAll(async () => {
    await worker?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('info reports the engine', async () => {
    const i = await worker.info();
    expect(i.ok).toBe(true);
    expect(i.engineVersion).toMatch(/^\d+\./);
  });

  it('exec commits the files a step writes, with env, cwd and user', async () => {
    const r = await run(sh('mkdir -p /out && echo "$GREETING $(pwd) $(id -u)" > /out/hello', { env: ['GREETING=hi', 'PATH=/bin'], cwd: '/tmp', user: '0' }), [busybox]);
    expect(r.id).toMatch(/^sha256:/);
    const files = await ownFiles(r, busybox);
    expect(files.get('out/hello')?.data).toBe('hi /tmp 0\n');
    const hn = await run(sh('hostname > /hn'), [busybox]);
    expect((await ownFiles(hn, busybox)).get('hn')?.data).toBe('buildkitsandbox\n');
    const r2 = await run(sh('id -u > /tmp/uid', { user: 'nobody' }), [busybox]).catch((e) => e as Error);
    // nobody cannot write /tmp? busybox /tmp is 1777, so it can
    expect((await ownFiles(r2 as Result, busybox)).get('tmp/uid')?.data).toBe('65534\n');
  }, 60_000);

  it('the process sees exactly the op env, not keys an earlier step committed', async () => {
    const first = await run(sh('true', { env: ['PATH=/bin', 'LEAK=1'] }), [busybox]);
    const second = await run(sh('env | sort > /env', { env: ['PATH=/bin', 'KEEP=2'] }), [first]);
    const seen = (await ownFiles(second, first)).get('env')?.data ?? '';
    expect(seen).toContain('KEEP=2');
    expect(seen).not.toContain('LEAK=');
  }, 60_000);

  it('network none has only loopback; host sees the host interfaces', async () => {
    const none = await run(sh('ls /sys/class/net > /nets'), [busybox]);
    expect((await ownFiles(none, busybox)).get('nets')?.data.trim()).toBe('lo');
    const host = await run(sh('ls /sys/class/net > /nets', { network: 'host' }), [busybox]);
    expect((await ownFiles(host, busybox)).get('nets')?.data.trim().split('\n').length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('a failing step throws ExecError with exit code, command and output tail, and leaves no container', async () => {
    logs = [];
    const err = (await run(sh('for i in $(seq 1 30); do echo line$i; done; exit 7'), [busybox]).catch((e) => e)) as ExecError;
    expect(err).toBeInstanceOf(ExecError);
    expect(err.exitCode).toBe(7);
    expect(err.command).toEqual(['/bin/sh', '-c', expect.stringContaining('exit 7')]);
    expect(err.tail).toHaveLength(20);
    expect(err.tail.at(-1)).toBe('line30');
    expect(logs.join('')).toContain('line1\n');
    const owned = await worker.listOwned();
    const infos = await Promise.all(owned.containers.map((id) => worker.context.docker.getContainer(id).inspect().catch(() => undefined)));
    expect(infos.filter((i) => i?.Config.Cmd?.some((a) => a.includes('exit 7')))).toEqual([]);
  }, 60_000);

  it('an abort while the container is being created or started still kills it', async () => {
    for (const delay of [0, 20, 60, 120, 250]) {
      const ac = new AbortController();
      const tag = `race-${delay}-${Date.now()}`;
      const p = run(sh(`sleep 60; echo ${tag}`), [busybox], {}, ac.signal).then(() => 'finished', (e: unknown) => e);
      setTimeout(() => ac.abort(), delay);
      // killed: it ends long before the step's 60 s
      const err = await Promise.race([p, new Promise((r) => setTimeout(() => r('still running after 15 s'), 15_000))]);
      expect(err, `aborted ${delay} ms in`).toBeInstanceOf(Error);
      const owned = await worker.listOwned();
      const infos = await Promise.all(owned.containers.map((id) => worker.context.docker.getContainer(id).inspect().catch(() => undefined)));
      expect(infos.filter((i) => i?.Config.Cmd?.some((x) => x.includes(tag)))).toEqual([]);
    }
  }, 120_000);

  it('abort kills and removes the container', async () => {
    const ac = new AbortController();
    const p = run(sh('echo started; sleep 30'), [busybox], {}, ac.signal);
    await new Promise((r) => setTimeout(r, 1500));
    ac.abort();
    await expect(p).rejects.toThrow();
    const owned = await worker.listOwned();
    const infos = await Promise.all(owned.containers.map((id) => worker.context.docker.getContainer(id).inspect().catch(() => undefined)));
    expect(infos.filter((i) => i?.Config.Cmd?.some((a) => a.includes('sleep 30')))).toEqual([]);
  }, 60_000);

  it('a cache mount persists across runs and stays out of the layer', async () => {
    const id = `test-${Date.now()}`;
    const m = { type: 'cache' as const, target: '/cache', id, sharing: 'locked' as const };
    await run(sh('echo one >> /cache/log', { mounts: [m] }), [busybox]);
    const r = await run(sh('echo two >> /cache/log; cp /cache/log /seen', { mounts: [m] }), [busybox]);
    const files = await ownFiles(r, busybox);
    expect(files.get('seen')?.data).toBe('one\ntwo\n');
    expect(files.has('cache/log')).toBe(false);
    // a new cache id with from= starts as a copy of that snapshot's path
    const seed = await run(sh('mkdir -p /seed && echo seeded > /seed/s'), [busybox]);
    const seeded = { type: 'cache' as const, target: '/cache', id: `${id}-from`, sharing: 'shared' as const, input: 1, selector: '/seed' };
    const r2 = await run(sh('cat /cache/s > /got', { mounts: [seeded] }), [busybox, seed]);
    expect((await ownFiles(r2, busybox)).get('got')?.data).toBe('seeded\n');
  }, 60_000);

  it('a secret is readable in the step and absent from the layer and config', async () => {
    const secret = `s3cr3t-${Date.now()}`;
    const session: JobSession = { secrets: new Map([['tok', Buffer.from(secret)]]) };
    const r = await run(
      sh('cat /run/secrets/tok | wc -c > /len; [ "$TOKEN" = "$(cat /run/secrets/tok)" ] && echo same > /env', {
        mounts: [{ type: 'secret', target: '/run/secrets/tok', id: 'tok' }],
        secretEnv: [{ name: 'TOKEN', id: 'tok' }],
      }),
      [busybox],
      session,
    );
    const files = await ownFiles(r, busybox);
    expect(files.get('len')?.data.trim()).toBe(String(secret.length));
    expect(files.get('env')?.data.trim()).toBe('same');
    for (const f of files.values()) expect(f.data).not.toContain(secret);
    const inspect = await worker.context.docker.getImage(r.id).inspect();
    expect(JSON.stringify(inspect)).not.toContain(secret);
    const history = await worker.context.docker.getImage(r.id).history();
    expect(JSON.stringify(history)).not.toContain(secret);
  }, 60_000);

  it('file ops: mkdir, mkfile with chown by name, copy from a local context with wildcards, chmod, exclude', async () => {
    const ctxDir = mkdtempSync(join(tmpdir(), 'kiln-ctx-'));
    writeFileSync(join(ctxDir, 'a.txt'), 'A');
    writeFileSync(join(ctxDir, 'b.txt'), 'B');
    writeFileSync(join(ctxDir, 'c.md'), 'C');
    mkdirSync(join(ctxDir, 'dir'));
    writeFileSync(join(ctxDir, 'dir', 'keep'), 'K');
    writeFileSync(join(ctxDir, 'dir', 'skip.log'), 'S');
    const session: JobSession = { localDirs: new Map([['context', ctxDir]]) };
    const local = await run({ kind: 'source', identifier: 'local://context' }, [], session);
    expect(local.id).toMatch(/^local:sha256:/);
    const r = await run(
      {
        kind: 'file',
        base: 0,
        actions: [
          { action: 'mkdir', path: '/app/sub', mode: 0o750, makeParents: true, owner: { user: 'nobody' } },
          { action: 'mkfile', path: '/app/sub/f', mode: 0o600, data: Buffer.from('data').toString('base64'), owner: { user: 1234, group: 5678 } },
          { action: 'copy', src: 1, srcPath: '/*.txt', destPath: '/app/txt/', allowWildcard: true, createDestPath: true, mode: '0755' },
          { action: 'copy', src: 1, srcPath: '/dir', destPath: '/app/dir', dirCopyContents: true, createDestPath: true, excludePatterns: ['*.log'], owner: { user: 'nobody', group: 'nogroup' } },
          { action: 'copy', src: 1, srcPath: '/c.md', destPath: '/app/readme', createDestPath: true, mode: 'u=rw,go=r' },
        ],
      },
      [busybox, local],
    );
    const files = await ownFiles(r, busybox);
    expect(files.get('app/sub')).toMatchObject({ type: 'directory', mode: 0o750, uid: 65534 });
    expect(files.get('app/sub/f')).toMatchObject({ data: 'data', mode: 0o600, uid: 1234, gid: 5678 });
    expect(files.get('app/txt/a.txt')).toMatchObject({ data: 'A', mode: 0o755, uid: 0 });
    expect(files.get('app/txt/b.txt')?.data).toBe('B');
    expect(files.has('app/txt/c.md')).toBe(false);
    expect(files.get('app/dir/keep')).toMatchObject({ data: 'K', uid: 65534, gid: 65534 });
    expect(files.has('app/dir/skip.log')).toBe(false);
    expect(files.get('app/readme')).toMatchObject({ data: 'C', mode: 0o644 });

    const removed = await run({ kind: 'file', base: 0, actions: [{ action: 'rm', path: '/app/txt/a.txt' }] }, [r]);
    const after = await ownFiles(removed, r);
    expect(after.has('app/txt/.wh.a.txt')).toBe(true);
    expect([...after.keys()].filter((k) => k.startsWith('dev'))).toEqual([]);
    await expect(run({ kind: 'file', base: 0, actions: [{ action: 'rm', path: '/nope' }] }, [r])).rejects.toThrow(/not found/);
    rmSync(ctxDir, { recursive: true, force: true });
  }, 120_000);

  it('copy from another image snapshot keeps owners and follows the source layout', async () => {
    const built = await run(sh('mkdir -p /src && echo x > /src/x && chown 42:43 /src/x'), [busybox]);
    const scratch = { id: 'scratch', sys: { kind: 'scratch' } };
    const r = await run({ kind: 'file', base: -1, actions: [{ action: 'copy', src: 0, srcPath: '/src/x', destPath: '/y', createDestPath: true }] }, [built, scratch]);
    const files = await filesOf(r);
    expect([...files.keys()]).toEqual(['y']);
    expect(files.get('y')).toMatchObject({ data: 'x\n', uid: 42, gid: 43 });
  }, 60_000);

  it('mounts: bind from another vertex (selector, read-only), tmpfs; mount points stay as empty dirs like the 20.10 oracle, file stubs go', async () => {
    const other = await run(sh('mkdir -p /data/sub && echo payload > /data/sub/p'), [busybox]);
    const r = await run(
      sh('cat /mnt/in/p > /got; touch /mnt/in/x 2>/dev/null && echo rw > /rw || echo ro > /rw; echo t > /scratchpad/t; mount | grep -c scratchpad > /tmpfs', {
        rootfs: 0,
        mounts: [
          { type: 'bind', input: 1, target: '/mnt/in', selector: '/data/sub', readonly: true },
          { type: 'tmpfs', target: '/scratchpad' },
          { type: 'secret', target: '/run/secrets/none', id: 'absent' },
        ],
      }),
      [busybox, other],
    );
    const files = await ownFiles(r, busybox);
    expect(files.get('got')?.data).toBe('payload\n');
    expect(files.get('rw')?.data).toBe('ro\n');
    expect(files.get('tmpfs')?.data).toBe('1\n');
    expect(files.get('scratchpad')?.type).toBe('directory');
    expect(files.get('mnt/in')?.type).toBe('directory');
    expect(files.has('scratchpad/t')).toBe(false);
    expect(files.get('run/secrets/none')?.type ?? 'absent').not.toBe('file');
    const rw = await run(sh('echo changed > /mnt/in/p && cat /mnt/in/p > /got', { mounts: [{ type: 'bind', input: 1, target: '/mnt/in', selector: '/data/sub', readonly: false }] }), [busybox, other]);
    expect((await ownFiles(rw, busybox)).get('got')?.data).toBe('changed\n');
    const again = await run(sh('cat /mnt/in/p > /got', { mounts: [{ type: 'bind', input: 1, target: '/mnt/in', selector: '/data/sub' }] }), [busybox, other]);
    expect((await ownFiles(again, busybox)).get('got')?.data).toBe('payload\n');
  }, 60_000);

  it('copy from an image with wildcards and --parents; ADD-style unpack of a tar.gz from the context', async () => {
    const built = await run(sh('mkdir -p /src/a /src/b && echo 1 > /src/a/one.txt && echo 2 > /src/b/two.txt && echo n > /src/b/no.md'), [busybox]);
    const scratch = { id: 'scratch', sys: { kind: 'scratch' } };
    const ctxDir = mkdtempSync(join(tmpdir(), 'kiln-ctx-'));
    mkdirSync(join(ctxDir, 'pkg'));
    writeFileSync(join(ctxDir, 'pkg', 'inside'), 'in the archive');
    execFileSync('tar', ['-C', ctxDir, '-czf', join(ctxDir, 'pkg.tar.gz'), 'pkg']);
    rmSync(join(ctxDir, 'pkg'), { recursive: true });
    const local = await run({ kind: 'source', identifier: 'local://ctx' }, [], { localDirs: new Map([['ctx', ctxDir]]) });
    const r = await run(
      {
        kind: 'file',
        base: -1,
        actions: [
          { action: 'copy', src: 0, srcPath: '/src/*/*.txt', destPath: '/flat/', allowWildcard: true, createDestPath: true },
          { action: 'copy', src: 0, srcPath: '/src/*/*.txt', destPath: '/tree/', allowWildcard: true, createDestPath: true, parents: true },
          { action: 'copy', src: 1, srcPath: '/pkg.tar.gz', destPath: '/unpacked/', attemptUnpack: true, createDestPath: true },
        ],
      },
      [built, local, scratch],
    );
    const files = await filesOf(r);
    expect(files.get('flat/one.txt')?.data).toBe('1\n');
    expect(files.get('flat/two.txt')?.data).toBe('2\n');
    expect(files.has('flat/no.md')).toBe(false);
    expect(files.get('tree/src/a/one.txt')?.data).toBe('1\n');
    expect(files.get('unpacked/pkg/inside')?.data).toBe('in the archive');
    rmSync(ctxDir, { recursive: true, force: true });
  }, 60_000);

  it('ssh mount: the session agent socket is bind-mounted; missing agent is a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-ssh-'));
    const sock = join(dir, 'agent.sock');
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const m = { type: 'ssh' as const, target: '/run/buildkit/ssh_agent.0', id: 'default' };
      const r = await run(sh('[ -S /run/buildkit/ssh_agent.0 ] && echo socket > /ssh', { mounts: [m] }), [busybox], { sshAgent: sock });
      const files = await ownFiles(r, busybox);
      expect(files.get('ssh')?.data).toBe('socket\n');
      expect(files.has('run/buildkit/ssh_agent.0')).toBe(false);
      await expect(run(sh('true', { mounts: [m] }), [busybox])).rejects.toThrow(/no ssh agent/);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('BuildKit 0.8 semantics: proxyEnv reaches the process but not the key; unknown chown name is 0; created parents get the owner; a contents-copy destination is 0755; context excludes apply', async () => {
    const base = sh('echo "$HTTP_PROXY" > /proxy');
    const withProxy = { ...base, proxyEnv: ['HTTP_PROXY=http://127.0.0.1:9'] } as Op;
    const ctx = ctxFor();
    expect(await worker.resolveOp(vertex(withProxy, [busybox.id])).cacheMap(ctx)).toEqual(await worker.resolveOp(vertex(base, [busybox.id])).cacheMap(ctx));
    expect((await ownFiles(await run(withProxy, [busybox]), busybox)).get('proxy')?.data).toBe('http://127.0.0.1:9\n');

    const dir = mkdtempSync(join(tmpdir(), 'kiln-ctx-'));
    try {
      mkdirSync(join(dir, 'conf'), { mode: 0o555 });
      writeFileSync(join(dir, 'conf', 'a'), 'a');
      writeFileSync(join(dir, 'conf', 'secret.key'), 'k');
      const local = await run({ kind: 'source', identifier: 'local://ctx', attrs: { excludePatterns: JSON.stringify(['**/*.key']) } }, [], { localDirs: new Map([['ctx', dir]]) });
      const r = await run(
        {
          kind: 'file',
          base: 0,
          actions: [
            { action: 'copy', src: 1, srcPath: '/conf/', destPath: '/deep/x/c/', createDestPath: true, dirCopyContents: true, allowWildcard: true, owner: { user: 'daemon' }, mode: 0o700 },
            { action: 'mkdir', path: '/w/a/b', mode: 0o755, makeParents: true, owner: { user: 1000, group: 1000 } },
          ],
        } as Op,
        [busybox, local],
        { localDirs: new Map([['ctx', dir]]) },
      );
      const f = await ownFiles(r, busybox);
      expect(f.get('deep/x/c/a')).toMatchObject({ uid: 0, gid: 0, mode: 0o700 });
      expect(f.get('deep/x/c')?.mode).toBe(0o755);
      expect(f.has('deep/x/c/secret.key')).toBe(false);
      expect(f.get('w/a')).toMatchObject({ uid: 1000, gid: 1000, type: 'directory' });
      expect(f.get('w')).toMatchObject({ uid: 1000, gid: 1000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('merge layers later inputs onto the first; diff is upper minus lower', async () => {
    const scratch = { id: 'scratch', sys: { kind: 'scratch' } };
    const a = await run({ kind: 'file', base: -1, actions: [{ action: 'mkfile', path: '/a', mode: 0o644, data: Buffer.from('A').toString('base64') }] }, [scratch]);
    const b = await run({ kind: 'file', base: -1, actions: [{ action: 'mkfile', path: '/b', mode: 0o644, data: Buffer.from('B').toString('base64') }] }, [scratch]);
    const merged = await run({ kind: 'merge', inputs: [0, 1] }, [a, b]);
    const mf = await filesOf(merged);
    expect(mf.get('a')?.data).toBe('A');
    expect(mf.get('b')?.data).toBe('B');
    // deletions in a later input propagate
    const c1 = await run({ kind: 'file', base: -1, actions: [{ action: 'mkfile', path: '/a', mode: 0o644, data: '' }] }, [scratch]);
    const c2 = await run({ kind: 'file', base: 0, actions: [{ action: 'rm', path: '/a' }] }, [c1]);
    const merged2 = await run({ kind: 'merge', inputs: [0, 1, 2] }, [a, b, c2]);
    const m2 = await worker.context.images.createIdle(merged2.id);
    try {
      await expect(m2.getArchive({ path: '/a' })).rejects.toThrow();
      await expect(m2.getArchive({ path: '/b' })).resolves.toBeTruthy();
    } finally {
      await worker.context.images.removeContainer(m2);
    }
    const withFile = await run(sh('echo d > /d'), [busybox]);
    const diff = await run({ kind: 'diff', lower: 0, upper: 1 }, [busybox, withFile]);
    const df = await filesOf(diff);
    expect(df.get('d')?.data).toBe('d\n');
    expect(df.has('bin/busybox') || df.has('./bin/busybox')).toBe(false);
  }, 60_000);

  it('resolveImageConfig returns the config with history', async () => {
    const c = await worker.resolveImageConfig(BUSYBOX);
    expect(c.imageId).toBe(busybox.id);
    expect(c.config.rootfs?.diff_ids.length).toBeGreaterThan(0);
    expect(c.config.history?.length).toBeGreaterThan(0);
    expect(await worker.exists(busybox)).toBe(true);
    expect(await worker.size(busybox)).toBeGreaterThan(0);
  }, 60_000);
});
