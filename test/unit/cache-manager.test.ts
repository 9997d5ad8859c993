// The cache manager over a real SQLite file (WAL): records written after save, hits that count
// usage, records whose snapshot vanished dropped on load and on reconcile, du per type, prune by
// all / keep-storage / keep-duration / filters, children removed before parents.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateDB } from '../../engine/cache/db.js';
import { CacheManager } from '../../engine/cache/manager.js';
import { resolveRoot } from '../../engine/cache/root.js';
import { Solver } from '../../engine/solver/solver.js';
import type { Result, Vertex } from '../../engine/solver/types.js';
import { memoryWorker } from '../helpers/memory-worker.js';


function vertex(name: string, recordType?: string): Vertex {
  return { digest: `sha256:${name}`, name, inputs: [], recordType, op: { cacheMap: async () => ({ digest: name, deps: [] }), exec: async () => [] } };
}

let root: string;
let db: ReturnType<typeof openStateDB>;
let cache: CacheManager;
let mem: ReturnType<typeof memoryWorker>;

async function put(key: string, id: string, size: number, name = key, type?: string, inputKeys: string[] = []): Promise<void> {
  mem.snapshots.set(id, size);
  await cache.save(key, { id }, { vertex: vertex(name, type), outputIndex: 0, durationMs: 1, inputKeys });
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kiln-cache-'));
  db = openStateDB(root);
  cache = new CacheManager(db);
  mem = memoryWorker();
  cache.attach(mem.worker);
});
afterEach(() => {
  db.close();
  rmSync(root, { recursive: true, force: true });
});

describe('cache manager', () => {
  it('opens <root>/kiln.db in WAL mode and survives a reopen', async () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    await put('k1', 'img1', 10);
    db.close();
    db = openStateDB(root);
    cache = new CacheManager(db);
    cache.attach(mem.worker);
    expect((await cache.load('k1'))?.id).toBe('img1');
  });

  it('a hit bumps usage; a record whose snapshot vanished is dropped instead of served', async () => {
    await put('k1', 'img1', 10);
    await cache.load('k1');
    await cache.load('k1');
    expect(cache.records()[0]).toMatchObject({ key: 'k1', usageCount: 2, size: 10, type: 'regular' });
    mem.snapshots.delete('img1');
    expect(await cache.load('k1')).toBeUndefined();
    expect(cache.records()).toEqual([]);
  });

  it('keeps parent links and reports du per type, counting a shared snapshot once', async () => {
    await put('base', 'img1', 100, 'base');
    await put('child', 'img2', 30, 'child', undefined, ['base']);
    await put('alias', 'img2', 30, 'alias');
    await put('ctx', 'local:1', 0, 'ctx', 'source.local');
    const du = cache.du();
    expect(du.total).toBe(130);
    expect(du.byType.regular).toEqual({ count: 3, size: 130 });
    expect(du.byType['source.local']).toEqual({ count: 1, size: 0 });
    expect(du.records.find((r) => r.key === 'child')!.parents).toEqual(['base']);
  });

  it('local context records account but never hit (the directory is per session)', async () => {
    await put('ctx', 'local:1', 0, 'ctx', 'source.local');
    expect(await cache.load('ctx')).toBeUndefined();
  });

  it('prune all removes children before parents and a shared snapshot only with its last record', async () => {
    await put('base', 'img1', 100, 'base');
    await put('child', 'img2', 30, 'child', undefined, ['base']);
    await put('alias', 'img2', 30, 'alias');
    const r = await cache.prune({ all: true });
    expect(r.removed).toHaveLength(3);
    expect(mem.removed).toEqual(['img2', 'img1']);
    expect(r.reclaimed).toBe(130);
    expect(cache.records()).toEqual([]);
  });

  it('prune keepStorage drops least recently used records until the rest fits', async () => {
    await put('old', 'a', 100);
    await put('mid', 'b', 100);
    await put('new', 'c', 100);
    // use order: mid is the most recent, then new; old is least recently used
    db.prepare('UPDATE cache_records SET last_used_at = ? WHERE key = ?').run(1000, 'old');
    db.prepare('UPDATE cache_records SET last_used_at = ? WHERE key = ?').run(3000, 'mid');
    db.prepare('UPDATE cache_records SET last_used_at = ? WHERE key = ?').run(2000, 'new');
    const r = await cache.prune({ keepStorage: 150 });
    expect(r.removed.map((x) => x.key).sort()).toEqual(['new', 'old']);
    expect(cache.records().map((x) => x.key)).toEqual(['mid']);
  });

  it('prune keepDuration and filters select what goes', async () => {
    await put('fresh', 'a', 1);
    await put('stale', 'b', 1);
    await put('stalegit', 'c', 1, 'stalegit', 'source.git');
    db.prepare('UPDATE cache_records SET last_used_at = ? WHERE key IN (?, ?)').run(Date.now() - 10 * 86400_000, 'stale', 'stalegit');
    const byType = await cache.prune({ keepDurationMs: 86400_000, filters: { type: ['source.git'] } });
    expect(byType.removed.map((x) => x.key)).toEqual(['stalegit']);
    const byAge = await cache.prune({ keepDurationMs: 86400_000 });
    expect(byAge.removed.map((x) => x.key)).toEqual(['stale']);
    expect(cache.records().map((x) => x.key)).toEqual(['fresh']);
  });

  it('pulled base images lose their record on prune but are left in the engine', async () => {
    await put('busybox', 'sha256:busybox', 5, 'docker-image://busybox', 'source.image');
    await cache.prune({ all: true });
    expect(mem.removed).toEqual([]);
    expect(cache.records()).toEqual([]);
  });

  it('reconcile drops records whose snapshot vanished and keeps the rest', async () => {
    await put('k1', 'img1', 1);
    await put('k2', 'img2', 1);
    mem.snapshots.delete('img1');
    const r = await cache.reconcile(mem.worker);
    expect(r.dropped).toBe(1);
    expect(cache.records().map((x) => x.key)).toEqual(['k2']);
  });

  it('as the solver store, a record appears only once the step succeeded', async () => {
    const s = new Solver({ store: cache });
    const ok: Vertex = { ...vertex('ok'), op: { cacheMap: async () => ({ digest: 'ok', deps: [] }), exec: async (): Promise<Result[]> => (mem.snapshots.set('ok-img', 7), [{ id: 'ok-img' }]) } };
    const bad: Vertex = { ...vertex('bad'), inputs: [{ vertex: ok, index: 0 }], op: { cacheMap: async () => ({ digest: 'bad', deps: [{}] }), exec: async () => Promise.reject(new Error('no')) } };
    await expect(s.solve({ jobId: 'j', target: { vertex: bad, index: 0 } })).rejects.toThrow(/no/);
    expect(cache.records().map((r) => [r.description, r.resultId, r.size])).toEqual([['ok', 'ok-img', 7]]);
  });
});

describe('resolveRoot', () => {
  it('prefers KILN_ROOT, then XDG_DATA_HOME/kiln, then ~/.local/share/kiln', () => {
    expect(resolveRoot({ KILN_ROOT: '/x/y', XDG_DATA_HOME: '/d' })).toBe('/x/y');
    expect(resolveRoot({ XDG_DATA_HOME: '/d' })).toBe('/d/kiln');
    expect(resolveRoot({})).toMatch(/\.local\/share\/kiln$/);
  });
});
