// The generic solver with in-memory ops: scheduling order and limits, cache keys, hits, dedup
// across jobs, cancellation, noCache, errors and log caps. No Docker and no SQLite here.
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../engine/llb/digest.js';
import { CanceledError, MemoryCacheStore, SolveError, Solver, type SolveRequest } from '../../engine/solver/index.js';
import type { CacheMapDep, Edge, ProgressEvent, Result, Vertex } from '../../engine/solver/types.js';

interface World {
  execs: string[];
  running: number;
  maxRunning: number;
  gates: Map<string, Promise<void>>;
  signals: Map<string, AbortSignal>;
  config: Map<string, string>;
}

function world(): World {
  return { execs: [], running: 0, maxRunning: 0, gates: new Map(), signals: new Map(), config: new Map() };
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** a fake op named `name`: its result id spells out its inputs, so results show what ran on what */
function vtx(w: World, name: string, inputs: Vertex[] = [], o: { deps?: CacheMapDep[]; fail?: string; logs?: string | string[]; outputs?: number } = {}): Vertex {
  const edges: Edge[] = inputs.map((v) => ({ vertex: v, index: 0 }));
  return {
    digest: digestOf({ name, inputs: inputs.map((i) => i.digest) }),
    name,
    inputs: edges,
    op: {
      async cacheMap() {
        return { digest: digestOf({ name, config: w.config.get(name) ?? '' }), deps: o.deps ?? inputs.map(() => ({})) };
      },
      async contentChecksum(_ctx, input: Result) {
        // content = the result id with any "@version" suffix removed
        return input.id.replace(/@[^(]*/, '');
      },
      async exec(ctx, res) {
        w.execs.push(name);
        w.signals.set(name, ctx.signal);
        w.running++;
        w.maxRunning = Math.max(w.maxRunning, w.running);
        try {
          for (const chunk of [o.logs ?? []].flat()) ctx.progress.log(1, chunk);
          const g = w.gates.get(name);
          if (g) {
            await Promise.race([
              g,
              new Promise((_, rej) => ctx.signal.addEventListener('abort', () => rej(new CanceledError()), { once: true })),
            ]);
          } else await new Promise((r) => setImmediate(r));
          if (o.fail) throw new Error(o.fail);
          const id = `${name}${w.config.get(name) ? '@' + w.config.get(name) : ''}(${res.map((r) => r.id).join(',')})`;
          return Array.from({ length: o.outputs ?? 1 }, (_, i) => ({ id: i ? `${id}#${i}` : id }));
        } finally {
          w.running--;
        }
      },
    },
  };
}

const edge = (v: Vertex): Edge => ({ vertex: v, index: 0 });

describe('solver scheduling', () => {
  it('executes inputs before their dependents and returns the output result', async () => {
    const w = world();
    const a = vtx(w, 'a');
    const b = vtx(w, 'b', [a]);
    const c = vtx(w, 'c', [a]);
    const d = vtx(w, 'd', [b, c]);
    const s = new Solver({ store: new MemoryCacheStore(), parallelism: 4 });
    const r = await s.solve({ jobId: 'j', target: edge(d) });
    expect(r.id).toBe('d(b(a()),c(a()))');
    expect(w.execs.indexOf('a')).toBeLessThan(w.execs.indexOf('b'));
    expect(w.execs.indexOf('b')).toBeLessThan(w.execs.indexOf('d'));
    expect(w.execs.filter((x) => x === 'a')).toHaveLength(1);
  });

  it('never runs more vertices at once than the parallelism limit, and does use it', async () => {
    const w = world();
    const leaves = Array.from({ length: 6 }, (_, i) => vtx(w, `leaf${i}`));
    const top = vtx(w, 'top', leaves);
    const s = new Solver({ store: new MemoryCacheStore(), parallelism: 2 });
    await s.solve({ jobId: 'j', target: edge(top) });
    expect(w.maxRunning).toBe(2);
    expect(w.execs).toHaveLength(7);
  });
});

describe('solver cache', () => {
  const store = () => new MemoryCacheStore();
  /** solve with a fresh Solver (as after a restart) over a kept store; afterwards `w.execs` is what this solve ran */
  const solveFresh = (w: World, s: MemoryCacheStore, target: Vertex, req: Partial<SolveRequest> = {}) => {
    w.execs.length = 0;
    return new Solver({ store: s }).solve({ jobId: 'job', target: edge(target), ...req });
  };

  it('a second solve is fully cached and reports cached vertices', async () => {
    const w = world();
    const s = store();
    const top = vtx(w, 'top', [vtx(w, 'x'), vtx(w, 'y')]);
    const first = await solveFresh(w, s, top);
    const events: ProgressEvent[] = [];
    const second = await solveFresh(w, s, top, { onProgress: (e) => events.push(e) });
    expect(second).toEqual(first);
    expect(w.execs).toEqual([]);
    // the hit on top covers x and y (keyed, never loaded): they are reported cached too, once each
    expect(events.filter((e) => e.type === 'vertex' && e.cached).map((e) => (e as { name: string }).name).sort()).toEqual(['top', 'x', 'y']);
    expect(events.filter((e) => e.type === 'vertex' && !e.cached)).toEqual([]);
  });

  it('on a hit, the inputs are not resolved at all (only their keys are computed)', async () => {
    const w = world();
    const s = store();
    const top = vtx(w, 'top', [vtx(w, 'leaf')]);
    await solveFresh(w, s, top);
    // forget the leaf's record: a solver that needed the leaf's result would have to run it
    const leafKeys = [...s.records].filter(([, r]) => r.id === 'leaf()').map(([k]) => k);
    expect(leafKeys).toHaveLength(1);
    s.records.delete(leafKeys[0]!);
    await solveFresh(w, s, top);
    expect(w.execs).toEqual([]);
  });

  it('keys change exactly for the vertices downstream of a changed op', async () => {
    const w = world();
    const s = store();
    // built afresh for every solve, as a new Definition load would be
    const graph = () => vtx(w, 'top', [vtx(w, 'b', [vtx(w, 'a')]), vtx(w, 'other')]);
    await solveFresh(w, s, graph());
    // a middle op changes: it and its dependents re-run, its input does not
    w.config.set('b', 'v2');
    await solveFresh(w, s, graph());
    expect(w.execs.sort()).toEqual(['b', 'top']);
    // a leaf changes: everything downstream of it re-runs
    w.config.set('a', 'v2');
    const r = await solveFresh(w, s, graph());
    expect(w.execs.sort()).toEqual(['a', 'b', 'top']);
    expect(r.id).toBe('top(b@v2(a@v2()),other())');
    // nothing changed: the same graph from new vertex objects is fully cached
    await solveFresh(w, s, graph());
    expect(w.execs).toEqual([]);
  });

  it('content-checksummed deps hit when the input changed but its content did not', async () => {
    const w = world();
    const s = store();
    const copy = vtx(w, 'copy', [vtx(w, 'src')], { deps: [{ contentPaths: ['/f'] }] });
    await solveFresh(w, s, copy);
    // src's definition changes (new key) but its content (result id sans @version) is the same
    w.config.set('src', 'v2');
    await solveFresh(w, s, copy);
    expect(w.execs).toEqual(['src']);
  });

  it('noCache by vertex name re-runs that vertex and reuses the others', async () => {
    const w = world();
    const s = store();
    const b = vtx(w, 'b', [vtx(w, 'a')]);
    await solveFresh(w, s, b);
    await solveFresh(w, s, b, { noCache: ['b'] });
    expect(w.execs).toEqual(['b']);
    await solveFresh(w, s, b, { noCache: true });
    expect(w.execs).toEqual(['a', 'b']);
  });
});

/** per vertex name, the kinds of its vertex events in order */
function vertexKinds(events: ProgressEvent[]): Record<string, string> {
  const out: Record<string, string[]> = {};
  for (const e of events) {
    if (e.type !== 'vertex') continue;
    (out[e.name] ??= []).push(e.cached ? 'cached' : e.error ? 'error' : e.completed ? 'completed' : 'started');
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.join(' ')]));
}

describe('solver progress', () => {
  // a diamond under content-keyed deps (COPY --from): `base` is needed by left, right and the
  // keys of both copies while it runs, and again by the copies' executions once it has a record
  const diamond = (w: World) => {
    const content = { deps: [{ contentPaths: ['/f'] }] };
    const base = vtx(w, 'base');
    const left = vtx(w, 'left', [base]);
    const right = vtx(w, 'right', [base]);
    const copyL = vtx(w, 'copyL', [left], content);
    const copyR = vtx(w, 'copyR', [copyL, right], { deps: [{}, { contentPaths: ['/f'] }] });
    return vtx(w, 'top', [copyR, base], { deps: [{}, { contentPaths: ['/f'] }] });
  };
  const names = ['base', 'copyL', 'copyR', 'left', 'right', 'top'];

  it('a shared input is reported once, as executed, however many dependents ask for it', async () => {
    const w = world();
    const s = new Solver({ store: new MemoryCacheStore() });
    const events: ProgressEvent[] = [];
    await s.solve({ jobId: 'j', target: edge(diamond(w)), onProgress: (e) => events.push(e) });
    expect(w.execs.sort()).toEqual(names);
    expect(vertexKinds(events)).toEqual(Object.fromEntries(names.map((n) => [n, 'started completed'])));
  });

  it('a warm solve reports every vertex cached once', async () => {
    const w = world();
    const store = new MemoryCacheStore();
    await new Solver({ store }).solve({ jobId: 'j1', target: edge(diamond(w)) });
    const events: ProgressEvent[] = [];
    await new Solver({ store }).solve({ jobId: 'j2', target: edge(diamond(w)), onProgress: (e) => events.push(e) });
    expect(vertexKinds(events)).toEqual(Object.fromEntries(names.map((n) => [n, 'cached'])));
  });

  it('solves of one job id at the same time are one job: a shared vertex is reported to it once', async () => {
    const w = world();
    const g = gate();
    w.gates.set('shared', g.promise);
    const s = new Solver({ store: new MemoryCacheStore() });
    const shared = vtx(w, 'shared', [], { logs: 'hi\n' });
    const events: ProgressEvent[] = [];
    const onProgress = (e: ProgressEvent) => events.push(e);
    const p1 = s.solve({ jobId: 'j', target: edge(vtx(w, 't1', [shared])), onProgress });
    const p2 = s.solve({ jobId: 'j', target: edge(vtx(w, 't2', [shared])), onProgress });
    while (!w.execs.includes('shared')) await new Promise((r) => setImmediate(r));
    g.open();
    await Promise.all([p1, p2]);
    // and once more after it finished: the later solve hits the record the first one wrote
    await Promise.all([s.solve({ jobId: 'k', target: edge(vtx(w, 't3', [shared])), onProgress }), s.solve({ jobId: 'k', target: edge(shared), onProgress })]);
    const j = events.filter((e) => e.jobId === 'j');
    expect(vertexKinds(j)).toEqual({ shared: 'started completed', t1: 'started completed', t2: 'started completed' });
    expect(j.filter((e) => e.type === 'log').map((e) => (e as { data: string }).data)).toEqual(['hi\n']);
    expect(vertexKinds(events.filter((e) => e.jobId === 'k'))).toEqual({ shared: 'cached', t3: 'started completed' });
  });
});

describe('solver jobs', () => {
  it('two concurrent jobs needing the same vertex execute it once and both see its progress', async () => {
    const w = world();
    const g = gate();
    w.gates.set('shared', g.promise);
    const s = new Solver({ store: new MemoryCacheStore() });
    const shared = s.vertex('shared', () => vtx(w, 'shared', [], { logs: 'hello\n' }));
    const t1 = vtx(w, 't1', [shared]);
    const t2 = vtx(w, 't2', [shared]);
    const ev: Record<string, ProgressEvent[]> = { j1: [], j2: [] };
    const p1 = s.solve({ jobId: 'j1', target: edge(t1), onProgress: (e) => ev.j1!.push(e) });
    const p2 = s.solve({ jobId: 'j2', target: edge(t2), onProgress: (e) => ev.j2!.push(e) });
    while (!w.execs.includes('shared')) await new Promise((r) => setImmediate(r));
    g.open();
    const [r1, r2] = await Promise.all([p1, p2]);
    expect(r1.id).toBe('t1(shared())');
    expect(r2.id).toBe('t2(shared())');
    expect(w.execs.filter((x) => x === 'shared')).toHaveLength(1);
    for (const j of ['j1', 'j2']) {
      const logs = ev[j]!.filter((e) => e.type === 'log' && e.vertex === shared.digest);
      expect(logs.map((e) => (e as { data: string }).data).join('')).toBe('hello\n');
      expect(ev[j]!.every((e) => e.jobId === j)).toBe(true);
      expect(ev[j]!.some((e) => e.type === 'vertex' && e.digest === shared.digest && e.completed)).toBe(true);
    }
  });

  it('cancelling one job keeps a vertex another job needs running', async () => {
    const w = world();
    const g = gate();
    w.gates.set('shared', g.promise);
    const s = new Solver({ store: new MemoryCacheStore() });
    const shared = vtx(w, 'shared');
    const c1 = new AbortController();
    const p1 = s.solve({ jobId: 'j1', target: edge(shared), signal: c1.signal });
    const p2 = s.solve({ jobId: 'j2', target: edge(shared) });
    while (!w.execs.includes('shared')) await new Promise((r) => setImmediate(r));
    c1.abort();
    await expect(p1).rejects.toBeInstanceOf(CanceledError);
    expect(w.signals.get('shared')!.aborted).toBe(false);
    g.open();
    expect((await p2).id).toBe('shared()');
    expect(w.execs).toEqual(['shared']);
  });

  it('cancelling the only job aborts the running step and writes no record for it', async () => {
    const w = world();
    w.gates.set('slow', new Promise(() => {}));
    const store = new MemoryCacheStore();
    const s = new Solver({ store });
    const fast = vtx(w, 'fast');
    const slow = vtx(w, 'slow', [fast]);
    const c = new AbortController();
    const p = s.solve({ jobId: 'j', target: edge(slow), signal: c.signal });
    while (!w.execs.includes('slow')) await new Promise((r) => setImmediate(r));
    c.abort();
    await expect(p).rejects.toBeInstanceOf(CanceledError);
    expect(w.signals.get('slow')!.aborted).toBe(true);
    expect([...store.records.values()].map((r) => r.id)).toEqual(['fast()']);
  });

  it('a failing step rejects with a SolveError naming the vertex and emits an error event', async () => {
    const w = world();
    const s = new Solver({ store: new MemoryCacheStore() });
    const bad = vtx(w, 'bad', [], { fail: 'exit code 3' });
    const top = vtx(w, 'top', [bad]);
    const events: ProgressEvent[] = [];
    const err = await s.solve({ jobId: 'j', target: edge(top), onProgress: (e) => events.push(e) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SolveError);
    expect((err as SolveError).vertex).toBe(bad.digest);
    expect(((err as SolveError).cause as Error).message).toBe('exit code 3');
    expect((err as SolveError).message).toContain('exit code 3');
    expect(events.some((e) => e.type === 'vertex' && e.digest === bad.digest && e.error === 'exit code 3')).toBe(true);
    expect(w.execs).not.toContain('top');
  });

  it('caps a vertex log across chunks and says so once', async () => {
    const w = world();
    const s = new Solver({ store: new MemoryCacheStore(), logLimit: 1000 });
    const noisy = vtx(w, 'noisy', [], { logs: ['x'.repeat(600), 'x'.repeat(600), 'x'.repeat(5000)] });
    const events: ProgressEvent[] = [];
    await s.solve({ jobId: 'j', target: edge(noisy), onProgress: (e) => events.push(e) });
    const text = events.filter((e) => e.type === 'log').map((e) => (e as { data: string }).data).join('');
    expect(text.split('x').length - 1).toBe(1000);
    expect(text.match(/log limit/g)).toHaveLength(1);
  });

  it('serves other outputs of a multi-output vertex', async () => {
    const w = world();
    const s = new Solver({ store: new MemoryCacheStore() });
    const multi = vtx(w, 'multi', [], { outputs: 2 });
    const r = await s.solve({ jobId: 'j', target: { vertex: multi, index: 1 } });
    expect(r.id).toBe('multi()#1');
  });

  it('shares one vertex object per digest across loads', () => {
    const w = world();
    const s = new Solver({ store: new MemoryCacheStore() });
    const a1 = vtx(w, 'a');
    const a2 = vtx(w, 'a');
    expect(a1.digest).toBe(a2.digest);
    expect(s.vertex(a1.digest, () => a1)).toBe(a1);
    expect(s.vertex(a2.digest, () => a2)).toBe(a1);
  });
});
