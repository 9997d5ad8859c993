// Vertex progress events of real Dockerfile builds through the engine (runc worker where it can run,
// else docker): every vertex is reported once — one start and one completion when it executes, one
// cached event when it hits — however many dependents share it. Shapes that share inputs: six
// parallel stages merged by COPY --from (each COPY's content key resolves its source stage while the
// other stages still run), and a diamond whose base stage feeds two stages and the final COPYs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../engine/engine.js';
import { dockerfileToLLB } from '../../engine/frontend/dockerfile/index.js';
import type { ProgressEvent } from '../../engine/solver/types.js';
import { runcUnavailable } from '../../engine/worker/runc/index.js';
import { BUSYBOX, DOCKER_HOST, describeWith } from '../helpers/env.js';

type VertexEvent = Extract<ProgressEvent, { type: 'vertex' }>;

const workerKind = runcUnavailable() ? 'docker' : 'runc';
let root: string;
let ctxDir: string;
let engine: Engine;

function parallel(tag: string): string {
  const names = ['one', 'two', 'three', 'four', 'five', 'six'];
  const stages = names.map((n, i) => `FROM ${BUSYBOX} AS s${i + 1}\nRUN sleep 1 && echo ${n}-${tag} > /out\n`).join('');
  const copies = names.map((_, i) => `COPY --from=s${i + 1} /out /r/${i + 1}\n`).join('');
  return `${stages}FROM ${BUSYBOX}\n${copies}CMD ["cat", "/r/1"]\n`;
}

function diamond(tag: string): string {
  return [
    `FROM ${BUSYBOX} AS base`,
    `RUN echo base-${tag} > /base`,
    `FROM base AS left`,
    `RUN sleep 1 && cat /base > /left && echo left >> /left`,
    `FROM base AS right`,
    `RUN cat /base > /right && echo right >> /right`,
    `FROM ${BUSYBOX}`,
    `COPY --from=left /left /r/left`,
    `COPY --from=right /right /r/right`,
    `COPY --from=base /base /r/base`,
    '',
  ].join('\n');
}

interface Seen {
  /** vertex events by digest, in arrival order */
  byDigest: Map<string, VertexEvent[]>;
  names: Map<string, string>;
  /** digests of the definition's vertices */
  vertices: string[];
}

function convert(dockerfile: string, target?: string) {
  return dockerfileToLLB({
    dockerfile,
    filename: 'Dockerfile',
    contextName: 'context',
    contextDir: ctxDir,
    resolveImage: (ref) => engine.worker.resolveImageConfig(ref),
    ...(target ? { target } : {}),
  });
}

/**
 * Build the Dockerfile's output in one job; with `alsoStage`, that stage's vertex too, at the same
 * time in the same job (as `kiln` builds several targets of one build: one solve per target, one
 * job id, one progress stream).
 */
async function build(dockerfile: string, jobId: string, alsoStage?: string): Promise<Seen> {
  const { definition } = await convert(dockerfile);
  const extra = alsoStage ? (await convert(dockerfile, alsoStage)).definition.output!.digest : undefined;
  const byDigest = new Map<string, VertexEvent[]>();
  const names = new Map<string, string>();
  const onProgress = (e: ProgressEvent) => {
    if (e.type !== 'vertex') return;
    expect(e.jobId).toBe(jobId);
    names.set(e.digest, e.name);
    let list = byDigest.get(e.digest);
    if (!list) byDigest.set(e.digest, (list = []));
    list.push(e);
  };
  const session = { localDirs: new Map([['context', ctxDir]]) };
  await Promise.all([
    engine.build(definition, { jobId, onProgress, session }),
    ...(extra ? [engine.build(definition, { jobId, onProgress, session, target: extra })] : []),
  ]);
  return { byDigest, names, vertices: definition.vertices.map((v) => v.digest) };
}

/** per vertex: "<name>: <event kinds>" for readable failures */
function summary(s: Seen): string[] {
  return [...s.byDigest].map(([d, evs]) => `${s.names.get(d)}: ${evs.map(kind).join(' ')}`).sort();
}

function kind(e: VertexEvent): string {
  if (e.cached) return 'cached';
  if (e.error) return 'error';
  return e.completed ? 'completed' : 'started';
}

/** every vertex reported exactly once: started+completed when executed, one cached event when hit */
function expectOncePerVertex(s: Seen, want: 'executed' | 'cached'): void {
  const problems: string[] = [];
  for (const [d, evs] of s.byDigest) {
    const kinds = evs.map(kind);
    const expected = want === 'executed' ? ['started', 'completed'] : ['cached'];
    if (kinds.join(' ') !== expected.join(' ')) problems.push(`${s.names.get(d)}: ${kinds.join(' ')}`);
  }
  expect(problems, summary(s).join('\n')).toEqual([]);
  // every vertex of the definition was reported (the solver reports what it resolved: all of them here)
  expect([...s.byDigest.keys()].sort(), summary(s).join("\n")).toEqual([...new Set(s.vertices)].sort());
}

describeWith(['engine'], `solver progress events of real builds (${workerKind} worker)`, () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kiln-progress-events-'));
    ctxDir = mkdtempSync(join(tmpdir(), 'kiln-progress-ctx-'));
    engine = await createEngine({ root, dockerHost: DOCKER_HOST, gcPolicy: [], workerKind });
  }, 120_000);
  afterAll(async () => {
    await engine?.cache.prune({ all: true }).catch(() => undefined);
    await engine?.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(ctxDir, { recursive: true, force: true });
  });

  for (const [shape, make, alsoStage] of [
    ['six parallel stages merged by COPY --from', parallel, undefined],
    ['a diamond: one base stage under two stages and the final COPYs', diamond, undefined],
    ['the diamond and its left stage as two targets of one job', diamond, 'left'],
  ] as const) {
    it(`${shape}: cold build reports each vertex once as executed, warm build once as cached`, async () => {
      const tag = `${make.name}${alsoStage ?? ''}${Date.now()}`;
      const dockerfile = make(tag);
      // cold: no record of any step (the image metadata included) from an earlier case
      await engine.cache.prune({ all: true });

      const cold = await build(dockerfile, `cold-${tag}`, alsoStage);
      // on a cold build nothing is cached (BuildKit too reports no cached step after a prune)
      const coldCached = [...cold.byDigest].filter(([, evs]) => evs.some((e) => e.cached)).map(([d]) => cold.names.get(d));
      expect(coldCached, summary(cold).join('\n')).toEqual([]);
      expectOncePerVertex(cold, 'executed');
      // no vertex is both executed and cached
      for (const evs of cold.byDigest.values()) expect(evs.some((e) => e.cached) && evs.some((e) => !e.cached)).toBe(false);

      const warm = await build(dockerfile, `warm-${tag}`, alsoStage);
      expectOncePerVertex(warm, 'cached');
    }, 240_000);
  }
});
