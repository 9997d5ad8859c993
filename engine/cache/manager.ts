// The cache manager: the persistent CacheStore behind the solver. A record maps a cache key to a
// worker result (a snapshot) with accounting (size, created, last used, usage count, type) and
// parent links (the keys of the inputs it was computed from). Records are written only after the
// snapshot exists (the solver calls save() after exec), each in one transaction.
import type Database from 'better-sqlite3';
import type { CacheStore, Result, Vertex } from '../solver/types.js';
import type { Worker } from '../worker/types.js';

export type RecordType = 'regular' | 'source.local' | 'exec.cachemount' | 'source.git' | (string & {});

export interface CacheRecord {
  key: string;
  resultId: string;
  vertex?: string;
  type: RecordType;
  description?: string;
  size: number;
  createdAt: number;
  lastUsedAt: number;
  usageCount: number;
  parents: string[];
}

export interface PruneOptions {
  /** remove every matching record, ignoring keepDuration/keepStorage */
  all?: boolean;
  /** keep records used within this many ms */
  keepDurationMs?: number;
  /** keep the most recently used records up to this many bytes in total */
  keepStorage?: number;
  filters?: { type?: string[]; description?: string; id?: string };
}

export interface PruneResult {
  removed: { key: string; resultId: string; size: number; description?: string; type: string }[];
  reclaimed: number;
}

export interface DiskUsage {
  records: CacheRecord[];
  byType: Record<string, { count: number; size: number }>;
  total: number;
}

interface Row {
  key: string;
  result_id: string;
  result_sys: string | null;
  vertex: string | null;
  type: string;
  description: string | null;
  size: number;
  created_at: number;
  last_used_at: number;
  usage_count: number;
  external: number;
}

/**
 * The bytes of a record that prune can free. A base image (`source.image`) lives in the Docker
 * Engine's image store and is the user's: prune drops its record but never removes the image, so
 * du and prune's accounting give it no size — du must report what prune would free.
 */
function ownedSize(r: { type: string; size: number }): number {
  return r.type === 'source.image' ? 0 : r.size;
}

export class CacheManager implements CacheStore {
  private worker?: Worker;

  constructor(readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS cache_records (
        key TEXT PRIMARY KEY,
        result_id TEXT NOT NULL,
        result_sys TEXT,
        vertex TEXT,
        output_index INTEGER NOT NULL DEFAULT 0,
        type TEXT NOT NULL DEFAULT 'regular',
        description TEXT,
        size INTEGER NOT NULL DEFAULT 0,
        duration_ms INTEGER,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL,
        usage_count INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS cache_records_result ON cache_records(result_id);
      CREATE INDEX IF NOT EXISTS cache_records_used ON cache_records(last_used_at);
      CREATE TABLE IF NOT EXISTS cache_parents (
        key TEXT NOT NULL REFERENCES cache_records(key) ON DELETE CASCADE,
        parent TEXT NOT NULL,
        PRIMARY KEY (key, parent)
      );
    `);
  }

  /** the worker whose results the records point to (sizes, existence, removal) */
  attach(worker: Worker): void {
    this.worker = worker;
  }

  async load(key: string): Promise<Result | undefined> {
    const row = this.db.prepare('SELECT * FROM cache_records WHERE key = ?').get(key) as Row | undefined;
    if (!row) return undefined;
    // A local context record names the directory of the session that made it; the source is
    // re-read for each job (cheap), so such records only account, they never hit.
    if (row.type === 'source.local') return undefined;
    const result = toResult(row);
    if (this.worker && !(await this.worker.exists(result))) {
      // the snapshot vanished behind our back (docker rmi): the record is a lie, drop it
      this.db.prepare('DELETE FROM cache_records WHERE key = ?').run(key);
      return undefined;
    }
    this.db.prepare('UPDATE cache_records SET last_used_at = ?, usage_count = usage_count + 1 WHERE key = ?').run(Date.now(), key);
    return result;
  }

  async save(key: string, result: Result, info: { vertex: Vertex; outputIndex: number; durationMs: number; inputKeys?: string[] }): Promise<void> {
    let size = 0;
    try {
      size = this.worker ? await this.worker.size(result) : 0;
    } catch {
      /* size is accounting only */
    }
    const now = Date.now();
    const write = this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO cache_records (key, result_id, result_sys, vertex, output_index, type, description, size, duration_ms, created_at, last_used_at, usage_count)
           VALUES (@key, @id, @sys, @vertex, @out, @type, @desc, @size, @dur, @now, @now, 0)
           ON CONFLICT(key) DO UPDATE SET result_id = excluded.result_id, result_sys = excluded.result_sys, size = excluded.size, last_used_at = excluded.last_used_at`,
        )
        .run({
          key,
          id: result.id,
          sys: result.sys === undefined ? null : JSON.stringify(result.sys),
          vertex: info.vertex.digest,
          out: info.outputIndex,
          type: info.vertex.recordType ?? 'regular',
          desc: info.vertex.name,
          size,
          dur: Math.round(info.durationMs),
          now,
        });
      const link = this.db.prepare('INSERT OR IGNORE INTO cache_parents (key, parent) VALUES (?, ?)');
      for (const p of info.inputKeys ?? []) link.run(key, p);
    });
    write();
  }

  records(): CacheRecord[] {
    const rows = this.db.prepare('SELECT * FROM cache_records ORDER BY last_used_at DESC').all() as Row[];
    const parents = new Map<string, string[]>();
    for (const p of this.db.prepare('SELECT key, parent FROM cache_parents').all() as { key: string; parent: string }[]) {
      const l = parents.get(p.key) ?? [];
      l.push(p.parent);
      parents.set(p.key, l);
    }
    return rows.map((r) => ({
      key: r.key,
      resultId: r.result_id,
      vertex: r.vertex ?? undefined,
      type: r.type,
      description: r.description ?? undefined,
      size: r.size,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      usageCount: r.usage_count,
      parents: parents.get(r.key) ?? [],
    }));
  }

  du(): DiskUsage {
    const records = this.records().map((r) => ({ ...r, size: ownedSize(r) }));
    const byType: DiskUsage['byType'] = {};
    // a snapshot shared by several records is counted once
    const counted = new Set<string>();
    let total = 0;
    for (const r of records) {
      const t = (byType[r.type] ??= { count: 0, size: 0 });
      t.count++;
      if (counted.has(r.resultId)) continue;
      counted.add(r.resultId);
      t.size += r.size;
      total += r.size;
    }
    return { records, byType, total };
  }

  /** drop records whose snapshot vanished; collect labelled images no record points to */
  /** drops records whose snapshot vanished; `collectOrphans` (default): collectLeftovers too */
  async reconcile(worker: Worker, opts: { collectOrphans?: boolean } = {}): Promise<{ dropped: number; collected: number }> {
    this.attach(worker);
    let dropped = 0;
    for (const row of this.db.prepare('SELECT * FROM cache_records').all() as Row[]) {
      if (row.type === 'source.local') continue;
      let ok = true;
      try {
        ok = await worker.exists(toResult(row));
      } catch {
        continue; // engine unreachable: keep the record, decide next time
      }
      if (!ok) {
        this.db.prepare('DELETE FROM cache_records WHERE key = ?').run(row.key);
        dropped++;
      }
    }
    const collected = opts.collectOrphans === false ? 0 : await this.collectLeftovers(worker);
    return { dropped, collected };
  }

  /**
   * Removes what a killed process on this root left: its containers, and images no record names
   * (the worker lists only what a process that has ended made for this root). Returns the count.
   */
  async collectLeftovers(worker: Worker): Promise<number> {
    let collected = 0;
    if (worker.listLeftovers) {
      const known = new Set((this.db.prepare('SELECT DISTINCT result_id FROM cache_records').all() as { result_id: string }[]).map((r) => r.result_id));
      let left: { images: string[]; containers: string[] };
      try {
        left = await worker.listLeftovers();
      } catch {
        return 0; // engine unreachable: next start
      }
      collected += (await worker.removeContainers?.(left.containers)) ?? 0;
      // newest first, twice: a child image goes before its parent
      let images = left.images.filter((id) => !known.has(id));
      for (let pass = 0; pass < 2 && images.length; pass++) {
        const failed: string[] = [];
        for (const id of images) {
          try {
            await worker.remove({ id, sys: { kind: 'image', imageId: id } });
            collected++;
          } catch {
            failed.push(id);
          }
        }
        images = failed;
      }
    }
    collected += (await worker.collectRootfsCopies?.().catch(() => undefined))?.removed ?? 0;
    return collected;
  }

  async prune(opts: PruneOptions = {}): Promise<PruneResult> {
    const now = Date.now();
    const f = opts.filters ?? {};
    // newest first: a record is always created after the records of its inputs, so this removes
    // children before parents (an engine image cannot be removed while a child image exists)
    let rows = (this.db.prepare('SELECT * FROM cache_records ORDER BY last_used_at DESC, created_at DESC').all() as Row[]).filter(
      (r) => (!f.type?.length || f.type.includes(r.type)) && (!f.description || (r.description ?? '').includes(f.description)) && (!f.id || r.key.startsWith(f.id) || r.result_id.includes(f.id)),
    );
    let victims: Row[];
    if (opts.all || (opts.keepDurationMs === undefined && opts.keepStorage === undefined)) {
      victims = rows;
    } else {
      if (opts.keepDurationMs !== undefined) rows = rows.filter((r) => now - r.last_used_at > opts.keepDurationMs!);
      // A record whose dependents stay is in use: its snapshot is part of theirs (an overlay
      // parent, a parent image), so dropping the record would free nothing. Like BuildKit, only
      // records nothing kept depends on are candidates; this is repeated as the set shrinks.
      const dependents = new Map<string, string[]>();
      for (const l of this.db.prepare('SELECT key, parent FROM cache_parents').all() as { key: string; parent: string }[]) (dependents.get(l.parent) ?? dependents.set(l.parent, []).get(l.parent)!).push(l.key);
      // contexts, git checkouts and cache mounts are copied from, never built upon: no dependents hold them
      const standalone = new Set(rows.filter((r) => r.type === 'source.local' || r.type === 'source.git' || r.type === 'exec.cachemount').map((r) => r.key));
      const free = (set: Set<string>, key: string) => standalone.has(key) || (dependents.get(key) ?? []).every((k) => set.has(k) || k === key);
      for (let cand = new Set(rows.map((r) => r.key)); ; ) {
        const next = rows.filter((r) => free(cand, r.key));
        if (next.length === rows.length) break;
        rows = next;
        cand = new Set(rows.map((r) => r.key));
      }
      victims = rows;
      if (opts.keepStorage !== undefined) {
        // keep the most recently used records that fit, across all records (not only candidates),
        // in du's terms: a snapshot shared by several records counts once, base images not at all
        const all = this.db.prepare('SELECT result_id, type, size FROM cache_records').all() as Pick<Row, 'result_id' | 'type' | 'size'>[];
        const sizeOf = new Map<string, number>();
        for (const r of all) sizeOf.set(r.result_id, Math.max(sizeOf.get(r.result_id) ?? 0, ownedSize(r)));
        let over = [...sizeOf.values()].reduce((a, b) => a + b, 0) - opts.keepStorage;
        const users = new Map<string, number>();
        for (const r of all) users.set(r.result_id, (users.get(r.result_id) ?? 0) + 1);
        const byOldest = [...victims].reverse();
        const chosen = new Set<string>();
        // the least recently used record that nothing left depends on, one at a time (a leaf goes
        // before what it stands on, which may then be the oldest free one again)
        while (over > 0) {
          const r = byOldest.find((x) => !chosen.has(x.key) && free(chosen, x.key));
          if (!r) break;
          chosen.add(r.key);
          // the snapshot is freed once its last record goes
          const left = users.get(r.result_id)! - 1;
          users.set(r.result_id, left);
          if (left === 0) over -= sizeOf.get(r.result_id) ?? 0;
        }
        victims = victims.filter((r) => chosen.has(r.key));
      }
    }
    victims.sort((a, b) => b.created_at - a.created_at);
    const removed: PruneResult['removed'] = [];
    let reclaimed = 0;
    for (const r of victims) {
      this.db.prepare('DELETE FROM cache_records WHERE key = ?').run(r.key);
      const stillUsed = this.db.prepare('SELECT 1 FROM cache_records WHERE result_id = ? LIMIT 1').get(r.result_id);
      // a pulled base image belongs to the user's engine, not to Kiln: only the record goes
      if (!stillUsed && this.worker && r.type !== 'source.image') {
        try {
          await this.worker.remove(toResult(r));
        } catch {
          /* the record is gone; reconcile collects the snapshot later */
        }
        // counted only when the snapshot is really gone (the worker keeps one that is still a
        // part of another: an image's parent, an overlay layer's lower)
        if (!(await this.worker.exists(toResult(r)).catch(() => true))) reclaimed += r.size;
      }
      removed.push({ key: r.key, resultId: r.result_id, size: ownedSize(r), description: r.description ?? undefined, type: r.type });
    }
    // host copies of images that have left the engine (with what was pruned, or by docker rmi)
    if (victims.length || opts.all) reclaimed += (await this.worker?.collectRootfsCopies?.().catch(() => undefined))?.reclaimed ?? 0;
    return { removed, reclaimed };
  }
}

function toResult(r: Row): Result {
  return { id: r.result_id, sys: r.result_sys ? (JSON.parse(r.result_sys) as unknown) : undefined };
}
