// The engine end to end against the real Docker Engine and a real SQLite state DB, driven through
// the LLB builder: results, full cache hits with no container started, context-change
// invalidation, dedup of concurrent builds, cancellation and step failures.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../engine/engine.js';
import { copy, image, local, mkfile, scratch, type State } from '../../engine/llb/builder.js';
import type { ProgressEvent, Result } from '../../engine/solver/types.js';
import { SolveError } from '../../engine/solver/errors.js';
import { dockerFromEnv } from '../../engine/worker/docker/connect.js';
import { BUSYBOX, DOCKER_HOST, describeWith } from '../helpers/env.js';

let engine: Engine;
let root: string;
let ctxDir: string;
const docker = () => dockerFromEnv(DOCKER_HOST).docker;

/** the files of a result, top layer winning (whiteouts ignored: these graphs delete nothing) */
async function files(r: Result): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const layer of await engine.worker.layers(r)) {
    const extract = tar.extract();
    const done = new Promise<void>((resolve, reject) => {
      extract.on('entry', (h, stream, next) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: unknown) => chunks.push(c as Buffer));
        stream.on('end', () => {
          if (h.type === 'file') out.set(h.name.replace(/^\.?\/*/, '/'), Buffer.concat(chunks).toString());
          next();
        });
        stream.resume();
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
    });
    (await layer.open()).pipe(extract);
    await done;
  }
  return out;
}

/**
 * containers labelled kiln=1 created while `fn` ran from the graph's own (unique) images, from the
 * engine's event log: other suites share the engine, so busybox-based containers are not countable
 * here; the solver's execution counter covers the first step
 */
async function containersCreatedDuring(fn: () => Promise<unknown>, resultIds: string[]): Promise<number> {
  const images = new Set(resultIds);
  // event filters have one-second granularity: let the second in which earlier work (reading the
  // first build's files through a container) happened pass before the window opens
  await new Promise((r) => setTimeout(r, 1100));
  const since = Math.floor(Date.now() / 1000);
  await fn();
  await new Promise((r) => setTimeout(r, 1100));
  const until = Math.floor(Date.now() / 1000) + 1;
  const stream = (await docker().getEvents({ since, until, filters: { type: ['container'], event: ['create'], label: ['kiln=1'] } })) as NodeJS.ReadableStream;
  let text = '';
  for await (const c of stream) text += c.toString();
  const mine = text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { from?: string; Actor?: { Attributes?: Record<string, string> } })
    .filter((e) => images.has(e.from ?? '') || images.has(e.Actor?.Attributes?.image ?? ''));
  return mine.length;
}

async function labelledContainers(): Promise<string[]> {
  return (await docker().listContainers({ all: true, filters: { label: ['kiln=1'] } })).map((c) => c.Id);
}

function graph(tag: string): State {
  const ctx = local('context');
  const base = image(BUSYBOX);
  const a = base.run({ shell: `echo a-${tag} > /a.txt`, network: 'none' }).root();
  const b = a.run({ shell: 'cat /src/in.txt > /b.txt', network: 'none', mounts: [{ type: 'bind', from: ctx, target: '/src', readonly: true }] }).root();
  return b.file(copy(ctx, '/in.txt', '/copied.txt'));
}

const session = () => ({ localDirs: new Map([['context', ctxDir]]) });

describeWith(['engine'], 'engine build', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kiln-engine-'));
    ctxDir = mkdtempSync(join(tmpdir(), 'kiln-ctx-'));
    writeFileSync(join(ctxDir, 'in.txt'), 'one\n');
    engine = await createEngine({ root, dockerHost: DOCKER_HOST, parallelism: 2 });
  }, 120_000);

  afterAll(async () => {
    await engine?.cache.prune({ all: true }).catch(() => undefined);
    await engine?.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(ctxDir, { recursive: true, force: true });
  });

  it('builds a multi-step graph, then rebuilds it fully cached without starting a container', async () => {
    const tag = `${Date.now()}`;
    const def = graph(tag).marshal();
    const first = await engine.build(def, { jobId: 'b1', session: session() });
    const f = await files(first.result);
    expect(f.get('/a.txt')).toBe(`a-${tag}\n`);
    expect(f.get('/b.txt')).toBe('one\n');
    expect(f.get('/copied.txt')).toBe('one\n');
    expect(first.vertex).toBe(def.output!.digest);

    const events: ProgressEvent[] = [];
    let second: Awaited<ReturnType<Engine['build']>> | undefined;
    const executionsBefore = engine.solver.stats.executions;
    const created = await containersCreatedDuring(async () => {
      second = await engine.build(def, { jobId: 'b2', session: session(), onProgress: (e) => events.push(e) });
      // base images (source.image records) are shared with every other suite running at the same
      // time, so only the graph's own snapshots are watched
    }, [first.result.id, ...engine.cache.du().records.filter((r) => r.type !== 'source.image').map((r) => r.resultId)]);
    // nothing executed but the local context (re-read in place for every build, never a container),
    // and no container was made from the graph's images
    const executed = events.filter((e) => e.type === 'vertex' && e.started && !e.cached && !e.completed).map((e) => (e as { name: string }).name);
    expect(executed).toEqual(['local://context']);
    expect(engine.solver.stats.executions - executionsBefore).toBe(1);
    expect(created).toBe(0);
    expect(second!.result.id).toBe(first.result.id);
    expect(events.some((e) => e.type === 'vertex' && e.cached && e.digest === def.output!.digest)).toBe(true);
  }, 180_000);

  it('touching a context file re-runs exactly the vertices that read it', async () => {
    const tag = `t${Date.now()}`;
    const def = graph(tag).marshal();
    await engine.build(def, { jobId: 'c1', session: session() });
    writeFileSync(join(ctxDir, 'in.txt'), `changed ${tag}\n`);
    const ran: string[] = [];
    const r = await engine.build(def, { jobId: 'c2', session: session(), onProgress: (e) => e.type === 'vertex' && e.completed && !e.cached && !e.error && ran.push(e.name) });
    const f = await files(r.result);
    expect(f.get('/b.txt')).toBe(`changed ${tag}\n`);
    expect(f.get('/copied.txt')).toBe(`changed ${tag}\n`);
    // the first RUN does not read the context: cached; the second RUN and the COPY re-run
    expect(ran.some((n) => n.includes('echo a-'))).toBe(false);
    expect(ran.some((n) => n.includes('cat /src/in.txt'))).toBe(true);
    expect(ran.some((n) => n.includes('copy'))).toBe(true);
    writeFileSync(join(ctxDir, 'in.txt'), 'one\n');
  }, 180_000);

  it('two concurrent builds sharing a vertex execute it once', async () => {
    const tag = `${Date.now()}-${Math.random()}`;
    const shared = image(BUSYBOX).run({ shell: `sleep 1; echo ${tag} > /shared.txt`, network: 'none' }).root();
    const d1 = shared.file(mkfile('/one', 0o644, '1')).marshal();
    const d2 = shared.file(mkfile('/two', 0o644, '2')).marshal();
    const sharedDigest = shared.digest()!;
    const starts: string[] = [];
    const onProgress = (e: ProgressEvent) => e.type === 'vertex' && e.digest === sharedDigest && e.started && !e.completed && starts.push(e.jobId);
    const [r1, r2] = await Promise.all([engine.build(d1, { jobId: 'p1', onProgress }), engine.build(d2, { jobId: 'p2', onProgress })]);
    expect((await files(r1.result)).get('/shared.txt')).toBe(`${tag}\n`);
    expect((await files(r2.result)).get('/two')).toBe('2');
    // one execution, seen by both jobs
    expect(new Set(starts)).toEqual(new Set(['p1', 'p2']));
    expect(starts).toHaveLength(2);
  }, 180_000);

  it('cancelling mid-step leaves no labelled container and no record', async () => {
    const before = new Set(await labelledContainers());
    const tag = `${Date.now()}`;
    const def = image(BUSYBOX).run({ shell: `echo ${tag}; sleep 60`, network: 'none' }).root().marshal();
    const ac = new AbortController();
    let started = false;
    const p = engine.build(def, {
      jobId: 'x1',
      signal: ac.signal,
      onProgress: (e) => {
        if (e.type === 'log' && e.data.includes(tag) && !started) {
          started = true;
          ac.abort();
        }
      },
    });
    await expect(p).rejects.toThrow(/cancel/i);
    expect(started).toBe(true);
    // the worker removes its container on abort; give the engine a moment to finish removing
    for (let i = 0; i < 20 && (await labelledContainers()).some((c) => !before.has(c)); i++) await new Promise((r) => setTimeout(r, 250));
    expect((await labelledContainers()).filter((c) => !before.has(c))).toEqual([]);
    const recorded = engine.cache.du().records.filter((r) => (r.description ?? '').includes(tag));
    expect(recorded).toEqual([]);
  }, 120_000);

  it('a failing step reports its exit code, log tail and location', async () => {
    const def = image(BUSYBOX)
      .run({ shell: 'echo about to fail; echo boom >&2; exit 7', network: 'none', location: [{ file: 'Dockerfile', startLine: 3, endLine: 3 }] })
      .root()
      .marshal();
    const err = await engine.build(def, { jobId: 'e1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SolveError);
    const se = err as SolveError;
    const failing = def.vertices.find((v) => v.op.kind === 'exec')!;
    expect(se.vertex).toBe(failing.digest);
    expect(se.message).toContain('exit code: 7');
    expect(se.message).toContain('boom');
    expect((se.cause as { exitCode?: number }).exitCode).toBe(7);
    expect(se.location).toEqual([{ file: 'Dockerfile', startLine: 3, endLine: 3 }]);
  }, 120_000);

  it('a scratch-only graph builds without Docker work', async () => {
    const r = await engine.build(scratch().file(mkfile('/hello', 0o600, 'hi')).marshal(), { jobId: 's1' });
    expect((await files(r.result)).get('/hello')).toBe('hi');
  }, 60_000);
});
