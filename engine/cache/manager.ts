// The cache manager, after BuildKit's cache/manager.go + solver's cache storage: cache key →
// result records in SQLite, written only once the snapshot exists; du, prune and a GC policy; and
// reconcile on start so the DB and the engine's images agree after a crash or a manual `docker rmi`.
import { statfsSync } from 'node:fs';
import type { DuRecord, DuResponse, PruneRequest, PruneResponse } from '../control/api.js';
import type { CacheStore, Result, Vertex } from '../solver/types.js';
import type { Worker } from '../worker/types.js';
import type { StateDB } from './db.js';
import { matchesFilters, parseFilters } from './filters.js';

type RecordType = DuRecord['type'];
const TYPES: RecordType[] = ['regular', 'source.local', 'exec.cachemount', 'source.git'];

interface Row {
  key: string;
  result_id: string;
  sys: string | null;
  vertex: string;
  output: number;
  type: string;
  description: string | null;
  size: number;
  created_at: number;
  last_used_at: number;
  usage_count: number;
}

export interface GCPolicy {
  /** records unused for longer than this are collected */
  keepDurationMs: number;
  /** then the least recently used go until the total is at most this many bytes */
  keepStorage: number;
}

/** a result id that the worker never stores on disk: nothing to remove, nothing to reconcile */
const VIRTUAL = new Set(['scratch']);

export class CacheManager implements CacheStore {
  /** keys loaded or saved by running builds; prune leaves them alone */
  private readonly pinned = new Map<string, number>();

  constructor(
    readonly db: StateDB,
    private readonly worker: Worker,
    readonly policy: GCPolicy = defaultPolicy(),
  ) {}

  async load(key: string): Promise<Result | undefined> {
    const row = this.db.prepare('SELECT * FROM cache_records WHERE key = ?').get(key) as Row | undefined;
    if (!row) return undefined;
    const result: Result = { id: row.result_id, sys: row.sys ? JSON.parse(row.sys) : undefined };
    // a record whose snapshot vanished (docker rmi behind our back) is a miss, not a broken build
    if (!VIRTUAL.has(row.result_id) && !(await this.worker.exists(result).catch(() => false))) {
      this.db.prepare('DELETE FROM cache_records WHERE key = ?').run(key);
      return undefined;
    }
    this.db.prepare('UPDATE cache_records SET last_used_at = ?, usage_count = usage_count + 1 WHERE key = ?').run(Date.now(), key);
    return result;
  }

  async save(key: string, result: Result, info: { vertex: Vertex; outputIndex: number; durationMs: number; inputKeys?: string[] }): Promise<void> {
    const type = recordType(info.vertex, result);
    // Local contexts are read in place from the client's directory: a record would point at a
    // directory Kiln does not own, so they are never recorded (their key is their content anyway).
    if (type === 'source.local') return;
    const size = VIRTUAL.has(result.id) ? 0 : await this.worker.size(result).catch(() => 0);
    const now = Date.now();
    const write = this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO cache_records (key, result_id, sys, vertex, output, type, description, size, created_at, last_used_at, usage_count, duration_ms)
           VALUES (@key, @result_id, @sys, @vertex, @output, @type, @description, @size, @now, @now, 0, @duration)
           ON CONFLICT(key) DO UPDATE SET result_id = excluded.result_id, sys = excluded.sys, size = excluded.size, last_used_at = excluded.last_used_at`,
        )
        .run({ key, result_id: result.id, sys: result.sys === undefined ? null : JSON.stringify(result.sys), vertex: info.vertex.digest, output: info.outputIndex, type, description: info.vertex.name, size, now, duration: Math.round(info.durationMs) });
      const link = this.db.prepare('INSERT OR IGNORE INTO cache_parents (key, parent) VALUES (?, ?)');
      for (const p of new Set(info.inputKeys ?? [])) link.run(key, p);
    });
    write();
  }

  /** keep these records out of prune/GC while a build uses them; returns the release */
  pin(keys: Iterable<string>): () => void {
    const list = [...keys];
    for (const k of list) this.pinned.set(k, (this.pinned.get(k) ?? 0) + 1);
    return () => {
      for (const k of list) {
        const n = (this.pinned.get(k) ?? 1) - 1;
        if (n <= 0) this.pinned.delete(k);
        else this.pinned.set(k, n);
      }
    };
  }

  du(): DuResponse {
    const rows = this.db.prepare('SELECT * FROM cache_records ORDER BY last_used_at DESC').all() as Row[];
    const records = rows.map(toDu);
    const byType: Record<string, number> = Object.fromEntries(TYPES.map((t) => [t, 0]));
    // a snapshot shared by several records (same image, different keys) counts once
    const counted = new Set<string>();
    let total = 0;
    for (const r of rows) {
      if (counted.has(r.result_id)) continue;
      counted.add(r.result_id);
      total += r.size;
      byType[r.type] = (byType[r.type] ?? 0) + r.size;
    }
    return { records, total, byType };
  }

  /**
   * Remove records (and their snapshots once no record points at them). With no criteria, or
   * `all`, every record goes; otherwise records unused for keepDurationMs, then the least recently
   * used until the total is within keepStorage. Children are removed before their parents so the
   * engine never refuses an image that still has dependants.
   */
  async prune(req: PruneRequest = {}): Promise<PruneResponse> {
    const filters = parseFilters(req.filters ?? []);
    const rows = (this.db.prepare('SELECT * FROM cache_records ORDER BY last_used_at ASC').all() as Row[]).filter((r) => !this.pinned.has(r.key) && matchesFilters(toDu(r), filters));
    const chosen = new Set<Row>();
    const criteria = req.keepDurationMs !== undefined || req.keepStorage !== undefined;
    if (req.all || !criteria) rows.forEach((r) => chosen.add(r));
    else {
      if (req.keepDurationMs !== undefined) {
        const cutoff = Date.now() - req.keepDurationMs;
        for (const r of rows) if (r.last_used_at < cutoff) chosen.add(r);
      }
      if (req.keepStorage !== undefined) {
        let total = this.du().total - [...chosen].reduce((n, r) => n + r.size, 0);
        for (const r of rows) {
          if (total <= req.keepStorage) break;
          if (chosen.has(r)) continue;
          chosen.add(r);
          total -= r.size;
        }
      }
    }
    const removed: DuRecord[] = [];
    let reclaimed = 0;
    for (const r of childrenFirst(this.db, [...chosen])) {
      this.db.prepare('DELETE FROM cache_records WHERE key = ?').run(r.key);
      removed.push(toDu(r));
      const still = this.db.prepare('SELECT 1 FROM cache_records WHERE result_id = ? LIMIT 1').get(r.result_id);
      if (still || VIRTUAL.has(r.result_id)) continue;
      try {
        await this.worker.remove({ id: r.result_id, sys: r.sys ? JSON.parse(r.sys) : undefined });
        reclaimed += r.size;
      } catch {
        /* an image still used by a container or a tag stays; the record is gone either way */
      }
    }
    return { removed, reclaimed };
  }

  /** the automatic GC after builds */
  gc(): Promise<PruneResponse> {
    return this.prune({ keepDurationMs: this.policy.keepDurationMs, keepStorage: this.policy.keepStorage });
  }

  /**
   * On start: drop records whose snapshot vanished, and collect labelled images no record points
   * at (left by a crash between commit and record, or by a cancelled step).
   */
  async reconcile(): Promise<{ dropped: number; collected: number }> {
    let dropped = 0;
    let collected = 0;
    const rows = this.db.prepare('SELECT key, result_id, sys FROM cache_records').all() as Pick<Row, 'key' | 'result_id' | 'sys'>[];
    for (const r of rows) {
      if (VIRTUAL.has(r.result_id)) continue;
      const ok = await this.worker.exists({ id: r.result_id, sys: r.sys ? JSON.parse(r.sys) : undefined }).catch(() => true);
      if (!ok) {
        this.db.prepare('DELETE FROM cache_records WHERE key = ?').run(r.key);
        dropped++;
      }
    }
    const owned = await this.worker.listOwned?.().catch(() => undefined);
    if (owned) {
      const referenced = new Set((this.db.prepare('SELECT DISTINCT result_id FROM cache_records').all() as { result_id: string }[]).map((r) => r.result_id));
      for (const id of owned.images) {
        if (referenced.has(id)) continue;
        try {
          await this.worker.remove({ id, sys: { kind: 'image', imageId: id } });
          collected++;
        } catch {
          /* a parent of a recorded image, or in use: leave it */
        }
      }
    }
    return { dropped, collected };
  }
}

export function defaultPolicy(root?: string): GCPolicy {
  // BuildKit's defaults: keep 10% of the disk, collect what was unused for 48 hours
  let keepStorage = 10 * 1024 ** 3;
  try {
    if (root) {
      const s = statfsSync(root);
      keepStorage = Math.max(512 * 1024 ** 2, Math.floor(s.blocks * s.bsize * 0.1));
    }
  } catch {
    /* keep the fixed default */
  }
  return { keepDurationMs: 48 * 3600 * 1000, keepStorage };
}

function recordType(v: Vertex, r: Result): RecordType {
  const t = v.recordType;
  if (t && (TYPES as string[]).includes(t)) return t as RecordType;
  const sys = r.sys as { kind?: string } | undefined;
  if (sys?.kind === 'local') return 'source.local';
  return 'regular';
}

function toDu(r: Row): DuRecord {
  return {
    id: r.result_id,
    key: r.key,
    type: ((TYPES as string[]).includes(r.type) ? r.type : 'regular') as RecordType,
    size: r.size,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    usageCount: r.usage_count,
    description: r.description ?? undefined,
  };
}

/** order rows so that a record comes before every record it was built from */
function childrenFirst(db: StateDB, rows: Row[]): Row[] {
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const parentsOf = db.prepare('SELECT parent FROM cache_parents WHERE key = ?');
  const depth = new Map<string, number>();
  // depth = longest chain of parents within the chosen set; deeper (more derived) goes first
  const d = (k: string, stack: Set<string>): number => {
    const known = depth.get(k);
    if (known !== undefined) return known;
    if (stack.has(k)) return 0;
    stack.add(k);
    let n = 0;
    for (const { parent } of parentsOf.all(k) as { parent: string }[]) if (byKey.has(parent)) n = Math.max(n, d(parent, stack) + 1);
    stack.delete(k);
    depth.set(k, n);
    return n;
  };
  return [...rows].sort((a, b) => d(b.key, new Set()) - d(a.key, new Set()));
}
