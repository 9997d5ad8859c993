// du and prune agree on bytes (a real SQLite state DB, a worker whose snapshots are map entries):
// a base image's record has no size (prune never removes the user's image), a snapshot shared by
// two records counts once, and keep-storage budgets in those same terms.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateDB } from '../../engine/cache/db.js';
import { CacheManager } from '../../engine/cache/manager.js';
import type { Vertex } from '../../engine/solver/types.js';
import { memoryWorker } from '../helpers/memory-worker.js';

let root: string;
let db: ReturnType<typeof openStateDB>;
let cache: CacheManager;
const { worker, snapshots, removed } = memoryWorker();

async function put(key: string, id: string, size: number, type?: string, usedAt?: number, inputKeys: string[] = []): Promise<void> {
  snapshots.set(id, size);
  const v: Vertex = { digest: `sha256:${key}`, name: key, inputs: [], recordType: type, op: { cacheMap: async () => ({ digest: key, deps: [] }), exec: async () => [] } };
  await cache.save(key, { id }, { vertex: v, outputIndex: 0, durationMs: 1, inputKeys });
  if (usedAt !== undefined) db.prepare('UPDATE cache_records SET last_used_at = ?, created_at = ? WHERE key = ?').run(usedAt, usedAt, key);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kiln-prune-acct-'));
  db = openStateDB(root);
  cache = new CacheManager(db);
  cache.attach(worker);
  snapshots.clear();
  removed.length = 0;
});
afterEach(() => {
  db.close();
  rmSync(root, { recursive: true, force: true });
});

describe('du and prune accounting', () => {
  it('prune --all reclaims exactly du.total: base images count 0, shared snapshots once', async () => {
    await put('base', 'img-busybox', 1_000_000, 'source.image', 1000);
    await put('run1', 'layer-1', 300, undefined, 2000);
    await put('run1-alias', 'layer-1', 300, undefined, 3000);
    await put('run2', 'layer-2', 200, undefined, 4000);
    const du = cache.du();
    expect(du.total).toBe(500);
    expect(du.records.find((r) => r.key === 'base')?.size).toBe(0);
    const r = await cache.prune({ all: true });
    expect(r.reclaimed).toBe(du.total);
    expect(removed.sort()).toEqual(['layer-1', 'layer-2']);
    expect(snapshots.has('img-busybox')).toBe(true);
    expect(cache.records()).toEqual([]);
  });

  it('keep-storage counts what du counts: the base image does not push layers out', async () => {
    await put('base', 'img-busybox', 1_000_000, 'source.image', 1000);
    await put('old', 'layer-old', 300, undefined, 2000);
    await put('new', 'layer-new', 200, undefined, 3000);
    // 500 bytes in du's terms: a 250-byte budget drops the least recently used owned layer (and
    // the base image's record, older still, which frees nothing), and keeps the newest
    const r = await cache.prune({ keepStorage: 250 });
    expect(r.removed.map((x) => x.key).sort()).toEqual(['base', 'old']);
    expect(r.reclaimed).toBe(300);
    expect(cache.records().map((x) => x.key)).toEqual(['new']);
    expect(snapshots.has('layer-new')).toBe(true);
  });

  it('keep-storage keeps going past a record whose snapshot another record still holds', async () => {
    await put('a', 'layer-shared', 400, undefined, 1000);
    await put('b', 'layer-b', 100, undefined, 2000);
    await put('a-alias', 'layer-shared', 400, undefined, 3000);
    // du: 500. Budget 450: dropping `a` frees nothing (its alias holds the layer), so `b` goes too
    expect(cache.du().total).toBe(500);
    const r = await cache.prune({ keepStorage: 450 });
    expect(r.removed.map((x) => x.key).sort()).toEqual(['a', 'b']);
    expect(r.reclaimed).toBe(100);
    expect(cache.du().total).toBe(400);
  });

  it('a record that a kept record stands on is kept: keep-storage frees leaves first', async () => {
    // parent (old, big) ← child (recent, small): the parent's snapshot is part of the child's
    await put('ctx', 'dir-ctx', 0, 'source.local', 500);
    await put('parent', 'layer-p', 300, undefined, 1000);
    await put('child', 'layer-c', 100, undefined, 5000, ['parent', 'ctx']);
    await put('other', 'layer-o', 150, undefined, 3000);
    // du 550, budget 300: the parent is the least recently used but cannot go while the child
    // stays; the free ones go oldest first (ctx, other, child) until 300 fits
    const r = await cache.prune({ keepStorage: 300 });
    expect(r.removed.map((x) => x.key).sort()).toEqual(['child', 'ctx', 'other']);
    expect(r.reclaimed).toBe(250);
    expect(cache.records().map((x) => x.key)).toEqual(['parent']);
    expect(snapshots.has('layer-p')).toBe(true);
  });

  it('keep-duration keeps an old record a recent one depends on; the context record may go', async () => {
    const old = Date.now() - 10 * 86400_000;
    await put('ctx', 'dir-ctx', 0, 'source.local', old);
    await put('parent', 'layer-p', 300, undefined, old);
    await put('child', 'layer-c', 100, undefined, Date.now(), ['parent', 'ctx']);
    await put('stale', 'layer-s', 50, undefined, old);
    const r = await cache.prune({ keepDurationMs: 86400_000 });
    expect(r.removed.map((x) => x.key).sort()).toEqual(['ctx', 'stale']);
    expect(r.reclaimed).toBe(50);
    expect(cache.records().map((x) => x.key).sort()).toEqual(['child', 'parent']);
  });
});
