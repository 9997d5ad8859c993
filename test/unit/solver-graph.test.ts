// The generic solver against in-memory ops: ordering, parallelism, cache keys and hits, dedup
// across concurrent jobs, cancellation, noCache, errors and log caps.
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../engine/llb/digest.js';
import { CanceledError, MemoryCacheStore, SolveError, Solver } from '../../engine/solver/index.js';
import type { CacheMapDep, Edge, OpContext, ProgressEvent, Result, Vertex } from '../../engine/solver/types.js';

interface FakeSpec {
  name: string;
  inputs?: Vertex[];
  /** changes the op's own definition */
  salt?: string;
  deps?: CacheMapDep[];
  exec?: (ctx: OpContext, inputs: Result[]) => Promise<void> | void;
  checksum?: (r: Result) => string;
}

/** a tiny world of fake ops that records what ran */
function world() {
  const ran: string[] = [];
  let active = 0;
  let maxActive = 0;
  const make = (s: FakeSpec): Vertex => {
    const opDigest = digestOf({ name: s.name, salt: s.salt ?? '' });
    return {
      digest: digestOf({ op: opDigest, inputs: (s.inputs ?? []).map((v) => v.digest) }),
      name: s.name,
      inputs: (s.inputs ?? []).map((vertex) => ({ vertex, index: 0 })),
      op: {
        async cacheMap() {
          return { digest: opDigest, deps: s.deps ?? (s.inputs ?? []).map(() => ({})) };
        },
        contentChecksum: s.checksum ? async (_ctx, r) => s.checksum!(r) : undefined,
        async exec(ctx, inputs) {
          active++;
          maxActive = Math.max(maxActive, active);
          try {
            ran.push(s.name);
            await s.exec?.(ctx, inputs);
            for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
            return [{ id: `${s.name}(${inputs.map((r) => r.id).join(',')})${s.salt ?? ''}` }];
          } finally {
            active--;
          }
        },
      },
    };
  };
  return { ran, make, maxActive: () => maxActive };
}

const edge = (v: Vertex): Edge => ({ vertex: v, index: 0 });

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new Error('aborted'));
    signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), { once: true });
  });
}

describe('solver', () => {
  it('runs inputs before their users and respects the parallelism limit', async () => {
    const w = world();
    const leaves = ['a', 'b', 'c', 'd'].map((name) => w.make({ name }));
    const join = w.make({ name: 'join', inputs: leaves });
    const solver = new Solver({ store: new MemoryCacheStore(), parallelism: 2 });
    const r = await solver.solve({ jobId: 'j', target: edge(join) });
    expect(r.id).toBe('join(a(),b(),c(),d())');
    expect(w.ran.indexOf('join')).toBe(4);
    expect(w.maxActive()).toBe(2);
  });

  it('a second solve is fully cached, and a hit does not even compute its inputs', async () => {
    const store = new MemoryCacheStore();
    const w = world();
    const a = w.make({ name: 'a' });
    const b = w.make({ name: 'b', inputs: [a] });
    const first = await new Solver({ store }).solve({ jobId: '1', target: edge(b) });
    expect(w.ran).toEqual(['a', 'b']);

    // a fresh solver (new process) with the same store: nothing runs
    const events: ProgressEvent[] = [];
    const again = await new Solver({ store }).solve({ jobId: '2', target: edge(b), onProgress: (e) => events.push(e) });
    expect(again).toEqual(first);
    expect(w.ran).toEqual(['a', 'b']);
    const cached = events.filter((e) => e.type === 'vertex' && e.cached).map((e) => (e as { name: string }).name);
    expect(cached).toEqual(['b']);
  });

  it('changes a key exactly when an input changes', async () => {
    const store = new MemoryCacheStore();
    const w = world();
    const graph = (srcSalt: string, midSalt: string) => {
      const src = w.make({ name: 'src', salt: srcSalt });
      const other = w.make({ name: 'other' });
      const mid = w.make({ name: 'mid', salt: midSalt, inputs: [src] });
      return w.make({ name: 'top', inputs: [mid, other] });
    };
    await new Solver({ store }).solve({ jobId: '1', target: edge(graph('1', '1')) });
    w.ran.length = 0;
    await new Solver({ store }).solve({ jobId: '2', target: edge(graph('1', '2')) });
    expect(w.ran.sort()).toEqual(['mid', 'top']);
    w.ran.length = 0;
    await new Solver({ store }).solve({ jobId: '3', target: edge(graph('2', '2')) });
    expect(w.ran.sort()).toEqual(['mid', 'src', 'top']);
    w.ran.length = 0;
    await new Solver({ store }).solve({ jobId: '4', target: edge(graph('2', '2')) });
    expect(w.ran).toEqual([]);
  });

  it('content keys: a rebuilt input with the same content at the selected paths still hits', async () => {
    const store = new MemoryCacheStore();
    const w = world();
    const graph = (srcSalt: string) => {
      const src = w.make({ name: 'ctx', salt: srcSalt });
      // the copy depends on the input's content, which the checksum says is unchanged
      return w.make({ name: 'copy', inputs: [src], deps: [{ contentPaths: ['/app'] }], checksum: () => 'same-content' });
    };
    await new Solver({ store }).solve({ jobId: '1', target: edge(graph('v1')) });
    w.ran.length = 0;
    await new Solver({ store }).solve({ jobId: '2', target: edge(graph('v2')) });
    expect(w.ran).toEqual(['ctx']);
  });

  it('two concurrent jobs needing the same vertex execute it once and both see its progress', async () => {
    const w = world();
    const gate = deferred();
    const base = w.make({ name: 'base' });
    const shared = w.make({ name: 'shared', inputs: [base], exec: () => gate.promise });
    const solver = new Solver({ store: new MemoryCacheStore() });
    const seen: Record<string, string[]> = { x: [], y: [] };
    const run = (jobId: 'x' | 'y') =>
      solver.solve({ jobId, target: edge(shared), onProgress: (e) => e.type === 'vertex' && e.completed && !e.cached && seen[jobId]!.push(e.name) });
    const px = run('x');
    const py = run('y');
    await new Promise((r) => setTimeout(r, 20));
    gate.resolve();
    const [rx, ry] = await Promise.all([px, py]);
    expect(rx).toEqual(ry);
    expect(w.ran.filter((n) => n === 'shared')).toHaveLength(1);
    expect(seen.x).toContain('shared');
    expect(seen.y).toContain('shared');
  });

  it('cancelling a job aborts its running step and writes no record for it', async () => {
    const store = new MemoryCacheStore();
    const w = world();
    let sawAbort = false;
    const started = deferred();
    const slow = w.make({
      name: 'slow',
      exec: async (ctx) => {
        started.resolve();
        await untilAborted(ctx.signal).catch((e) => {
          sawAbort = true;
          throw e;
        });
      },
    });
    const ac = new AbortController();
    const p = new Solver({ store }).solve({ jobId: 'c', target: edge(slow), signal: ac.signal });
    await started.promise;
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(CanceledError);
    await new Promise((r) => setTimeout(r, 10));
    expect(sawAbort).toBe(true);
    expect(store.records.size).toBe(0);
  });

  it('a step shared with another job keeps running when one job cancels', async () => {
    const w = world();
    const gate = deferred();
    const started = deferred();
    const shared = w.make({
      name: 'shared',
      exec: async () => {
        started.resolve();
        await gate.promise;
      },
    });
    const solver = new Solver({ store: new MemoryCacheStore() });
    const ac = new AbortController();
    const pa = solver.solve({ jobId: 'a', target: edge(shared), signal: ac.signal });
    const pb = solver.solve({ jobId: 'b', target: edge(shared) });
    await started.promise;
    ac.abort();
    await expect(pa).rejects.toBeInstanceOf(CanceledError);
    gate.resolve();
    const rb = await pb;
    expect(rb.id).toBe('shared()');
    expect(w.ran).toEqual(['shared']);
  });

  it('noCache by name re-runs only that vertex', async () => {
    const store = new MemoryCacheStore();
    const w = world();
    const a = w.make({ name: 'a' });
    const b = w.make({ name: 'b', inputs: [a] });
    await new Solver({ store }).solve({ jobId: '1', target: edge(b) });
    w.ran.length = 0;
    await new Solver({ store }).solve({ jobId: '2', target: edge(b), noCache: ['b'] });
    expect(w.ran).toEqual(['b']);
    w.ran.length = 0;
    await new Solver({ store }).solve({ jobId: '3', target: edge(b), noCache: true });
    expect(w.ran).toEqual(['a', 'b']);
  });

  it('a failure is a SolveError naming the failing vertex', async () => {
    const w = world();
    const a = w.make({ name: 'a' });
    const bad = w.make({
      name: 'bad',
      inputs: [a],
      exec: () => {
        throw new Error('exit code 3');
      },
    });
    const err = await new Solver({ store: new MemoryCacheStore() }).solve({ jobId: 'f', target: edge(bad) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SolveError);
    expect((err as SolveError).vertex).toBe(bad.digest);
    expect((err as SolveError).message).toContain('exit code 3');
  });

  it('caps a chatty step’s logs and says so', async () => {
    const w = world();
    const chatty = w.make({
      name: 'chatty',
      exec: (ctx) => {
        for (let i = 0; i < 64; i++) ctx.progress.log(1, 'x'.repeat(1024));
      },
    });
    const logs: string[] = [];
    await new Solver({ store: new MemoryCacheStore(), logLimit: 8 * 1024 }).solve({ jobId: 'l', target: edge(chatty), onProgress: (e) => e.type === 'log' && logs.push(e.data) });
    const text = logs.join('');
    expect(text.replace(/[^x]/g, '').length).toBe(8 * 1024);
    expect(text).toContain('log limit');
  });

  it('shares one vertex object per digest across loads', () => {
    const w = world();
    const solver = new Solver({ store: new MemoryCacheStore() });
    const a1 = w.make({ name: 'a' });
    const a2 = w.make({ name: 'a' });
    expect(a1.digest).toBe(a2.digest);
    expect(solver.vertex(a1.digest, () => a1)).toBe(solver.vertex(a2.digest, () => a2));
  });
});
