// The engine's cache records against the real Docker Engine (or runc on overlay snapshots) and
// SQLite: records with sizes after a build, prune removing the snapshots, reconcile dropping
// records whose snapshot was removed behind Kiln's back (the next build re-runs the step), and
// noCache by vertex. Runs once per worker that can run here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../engine/engine.js';
import { image } from '../../engine/llb/builder.js';
import type { ProgressEvent } from '../../engine/solver/types.js';
import { runcUnavailable } from '../../engine/worker/runc/index.js';
import { BUSYBOX, DOCKER_HOST, describeWith } from '../helpers/env.js';

let root: string;
let engine: Engine;
const WORKERS = runcUnavailable() ? (['docker'] as const) : (['runc', 'docker'] as const);

/** names of the vertices that executed (not cached) during a build */
async function executed(e: Engine, def: ReturnType<ReturnType<typeof image>['marshal']>, jobId: string, noCache?: string[]): Promise<string[]> {
  const ran: string[] = [];
  const onProgress = (ev: ProgressEvent) => {
    if (ev.type === 'vertex' && ev.completed && !ev.cached && !ev.error) ran.push(ev.name);
  };
  await e.build(def, { jobId, onProgress, noCache });
  return ran;
}

for (const workerKind of WORKERS)
describeWith(['engine'], `engine cache records (${workerKind} worker)`, () => {
  const open = () => createEngine({ root, dockerHost: DOCKER_HOST, gcPolicy: [], workerKind });
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kiln-engine-cache-'));
    engine = await open();
  }, 120_000);
  afterAll(async () => {
    await engine?.cache.prune({ all: true }).catch(() => undefined);
    await engine?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const graph = (tag: string) => {
    const one = image(BUSYBOX).run({ shell: `echo ${tag} > /one`, network: 'none' }).root();
    return one.run({ shell: `head -c 4096 /dev/zero > /two-${tag}`, network: 'none' }).root();
  };

  it('records each step with its snapshot size; prune all removes the snapshots from the engine', async () => {
    const tag = `p${Date.now()}`;
    const def = graph(tag).marshal();
    const { result } = await engine.build(def, { jobId: 'c1' });
    const mine = engine.cache.du().records.filter((r) => r.description?.includes(tag));
    expect(mine).toHaveLength(2);
    const two = mine.find((r) => r.description!.includes('/two-'))!;
    expect(two.resultId).toBe(result.id);
    expect(two.size).toBeGreaterThanOrEqual(4096);
    expect(two.parents).toHaveLength(1);
    expect(await engine.worker.exists(result)).toBe(true);

    const pruned = await engine.cache.prune({ all: true, filters: { description: tag } });
    expect(pruned.removed).toHaveLength(2);
    expect(await engine.worker.exists(result)).toBe(false);
    expect(await executed(engine, def, 'c2')).toHaveLength(2);
  }, 180_000);

  it('a record whose image vanished is dropped by reconcile and the step runs again', async () => {
    const tag = `r${Date.now()}`;
    const def = graph(tag).marshal();
    const { result } = await engine.build(def, { jobId: 'r1' });
    await engine.worker.remove(result);
    expect(await engine.worker.exists(result)).toBe(false);
    await engine.close();
    engine = await open();
    expect(engine.cache.du().records.some((r) => r.resultId === result.id)).toBe(false);
    const ran = await executed(engine, def, 'r2');
    expect(ran).toHaveLength(1);
    expect(ran[0]).toContain('/two-');
  }, 180_000);

  it('noCache with a vertex digest re-runs that vertex only', async () => {
    const tag = `n${Date.now()}`;
    const top = graph(tag);
    const def = top.marshal();
    await engine.build(def, { jobId: 'n1' });
    const ran = await executed(engine, def, 'n2', [top.digest()!]);
    expect(ran).toHaveLength(1);
    expect(ran[0]).toContain('/two-');
  }, 180_000);
});
