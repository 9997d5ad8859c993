// LLB built with engine/llb/builder.ts, run through the Docker worker by a tiny solver-less
// executor (vertices in order, each op given its inputs' results).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import tar from 'tar-stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { copy, image, local, mkdir, mkfile, rm } from '../../engine/llb/builder.js';
import type { Definition } from '../../engine/llb/definition.js';
import type { JobSession, OpContext, Result } from '../../engine/solver/types.js';
import { createDockerWorker, type DockerWorker } from '../../engine/worker/docker/index.js';
import { BUSYBOX, DOCKER_HOST, describeWith } from '../helpers/env.js';

let worker: DockerWorker;
let root: string;

async function solve(def: Definition, session: JobSession = {}): Promise<Result> {
  const results = new Map<string, Result[]>();
  const ctx: OpContext = { signal: new AbortController().signal, session, progress: { log: () => undefined, status: () => undefined } };
  for (const v of def.vertices) {
    const op = worker.resolveOp(v);
    await op.cacheMap(ctx);
    const inputs = v.inputs.map((i) => results.get(i.digest)![i.output ?? 0]!);
    results.set(v.digest, await op.exec(ctx, inputs));
  }
  return results.get(def.output!.digest)![def.output!.output ?? 0]!;
}

async function files(r: Result): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const l of await worker.layers(r)) {
    const ex = tar.extract();
    ex.on('entry', (h, s, next) => {
      const chunks: Buffer[] = [];
      s.on('data', (d: unknown) => chunks.push(d as Buffer));
      s.on('end', () => {
        const name = h.name.replace(/^\.\//, '');
        const base = name.split('/').pop()!;
        if (base.startsWith('.wh.')) out.delete(name.replace(/\.wh\./, ''));
        else out.set(name.replace(/\/$/, ''), Buffer.concat(chunks).toString());
        next();
      });
    });
    await pipeline(await l.open(), ex);
  }
  return out;
}

describeWith(['engine'], 'docker worker with the llb builder', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kiln-wb-'));
    worker = await createDockerWorker({ dockerHost: DOCKER_HOST, root, db: new Database(':memory:') });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('image → run → file(mkdir, mkfile, copy from context, rm) → layers', async () => {
    const ctxDir = mkdtempSync(join(tmpdir(), 'kiln-wbctx-'));
    writeFileSync(join(ctxDir, 'app.txt'), 'app');
    writeFileSync(join(ctxDir, 'ignored.txt'), 'no');
    const base = image(BUSYBOX)
      .env('WHO', 'kiln')
      .run({ shell: 'echo "hello $WHO" > /greeting; echo gone > /tmp/gone', network: 'none' })
      .root();
    const out = base.file([
      mkdir('/app', 0o755),
      mkfile('/app/config', 0o644, 'x=1'),
      copy(local('context', { exclude: ['ignored.txt'] }), '/app.txt', '/app/app.txt'),
      rm('/tmp/gone'),
    ]);
    const r = await solve(out.marshal(), { localDirs: new Map([['context', ctxDir]]) });
    const f = await files(r);
    expect(f.get('greeting')).toBe('hello kiln\n');
    expect(f.get('app/config')).toBe('x=1');
    expect(f.get('app/app.txt')).toBe('app');
    expect(f.has('tmp/gone')).toBe(false);
    expect(f.has('bin/busybox')).toBe(true);
    rmSync(ctxDir, { recursive: true, force: true });
  }, 120_000);

  it('a writable bind mount is an output of its own; the source is untouched', async () => {
    const data = image(BUSYBOX).run({ shell: 'mkdir -p /d && echo orig > /d/f', network: 'none' }).root();
    const e = image(BUSYBOX).run({ shell: 'echo more >> /work/f', network: 'none', mounts: [{ type: 'bind', from: data, target: '/work', selector: '/d' }] });
    const mount = await solve(e.getMount('/work').marshal());
    expect((await files(mount)).get('f')).toBe('orig\nmore\n');
    const src = await solve(data.marshal());
    expect((await files(src)).get('d/f')).toBe('orig\n');
  }, 120_000);
});
