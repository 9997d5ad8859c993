// Build history in SQLite (a table of our own in the engine's state DB): one row per build, one
// per vertex with timings and cached flags, and logs per vertex capped in size so a chatty build
// cannot grow the DB without bound, and only the newest builds are kept (BuildKit's history
// also ages out). A past build can be reopened with its timings and logs.
import type { Database } from 'better-sqlite3';
import type { BuildError, HistoryEntry, VertexRecord } from './api.js';
import type { ProgressEvent } from '../solver/types.js';

/** per-vertex log cap; the tail is what matters for a failure, so the head is dropped */
export const LOG_CAP_BYTES = 64 * 1024;
/** builds kept; beginning one more drops the oldest */
export const MAX_BUILDS = 500;

/** the first line of a vertex's log when its head was dropped (the stored tail follows) */
export function truncatedMarker(droppedBytes: number): string {
  return `[output clipped: ${droppedBytes} earlier bytes dropped, the last ${LOG_CAP_BYTES / 1024} KiB kept]\n`;
}

/** the last `cap` bytes of `s` as UTF-8, not starting inside a multi-byte character */
function tailBytes(s: string, cap: number): { text: string; dropped: number } {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= cap) return { text: s, dropped: 0 };
  let start = b.length - cap;
  while (start < b.length && (b[start]! & 0xc0) === 0x80) start++;
  return { text: b.subarray(start).toString('utf8'), dropped: start };
}

export class HistoryStore {
  private readonly maxBuilds: number;

  constructor(
    private db: Database,
    opts: { maxBuilds?: number } = {},
  ) {
    this.maxBuilds = opts.maxBuilds ?? MAX_BUILDS;
    db.exec(`
      CREATE TABLE IF NOT EXISTS control_builds (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL, completed_at INTEGER,
        status TEXT NOT NULL, error TEXT);
      CREATE TABLE IF NOT EXISTS control_vertices (
        build_id TEXT NOT NULL, digest TEXT NOT NULL, name TEXT NOT NULL, inputs TEXT NOT NULL,
        started INTEGER, completed INTEGER, cached INTEGER, error TEXT, location TEXT, logs TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (build_id, digest));
    `);
    // added after the first release: bytes of a vertex's log dropped by the cap
    const cols = db.prepare(`PRAGMA table_info(control_vertices)`).all() as { name: string }[];
    if (!cols.some((c) => c.name === 'logs_dropped')) db.exec(`ALTER TABLE control_vertices ADD COLUMN logs_dropped INTEGER NOT NULL DEFAULT 0`);
  }

  begin(id: string, name: string, createdAt = Date.now()): void {
    this.db.prepare(`INSERT OR REPLACE INTO control_builds (id, name, created_at, status) VALUES (?, ?, ?, 'running')`).run(id, name, createdAt);
    this.db.prepare(`DELETE FROM control_vertices WHERE build_id = ?`).run(id);
    // keep the newest maxBuilds: the table must not grow with every build ever run
    const old = this.db.prepare(`SELECT id FROM control_builds ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?`).all(this.maxBuilds) as { id: string }[];
    if (old.length) {
      const drop = this.db.transaction((ids: string[]) => {
        for (const b of ids) {
          this.db.prepare(`DELETE FROM control_vertices WHERE build_id = ?`).run(b);
          this.db.prepare(`DELETE FROM control_builds WHERE id = ?`).run(b);
        }
      });
      drop(old.map((r) => r.id));
    }
  }

  /** Folds one progress event into the stored vertex rows. */
  record(id: string, e: ProgressEvent, locations?: Map<string, VertexRecord['location']>): void {
    if (e.type === 'vertex') {
      const loc = locations?.get(e.digest);
      this.db
        .prepare(
          `INSERT INTO control_vertices (build_id, digest, name, inputs, started, completed, cached, error, location)
           VALUES (@b, @d, @n, @i, @s, @c, COALESCE(@k, @ran), @e, @l)
           ON CONFLICT (build_id, digest) DO UPDATE SET name = @n, inputs = @i,
             started = COALESCE(@s, started), completed = COALESCE(@c, completed),
             cached = COALESCE(@k, cached, @ran), error = COALESCE(@e, error), location = COALESCE(@l, location)`,
        )
        .run({
          b: id,
          d: e.digest,
          n: e.name,
          i: JSON.stringify(e.inputs),
          s: e.started ?? null,
          c: e.completed ?? null,
          k: e.cached === undefined ? null : e.cached ? 1 : 0,
          // a completion that says nothing about the cache ran the step: cached = false, unless
          // an event already said otherwise
          ran: e.cached === undefined && e.completed !== undefined ? 0 : null,
          e: e.error ?? null,
          l: loc ? JSON.stringify(loc) : null,
        });
    } else if (e.type === 'log') {
      const row = this.db.prepare(`SELECT logs, logs_dropped FROM control_vertices WHERE build_id = ? AND digest = ?`).get(id, e.vertex) as { logs: string; logs_dropped: number } | undefined;
      const { text, dropped } = tailBytes((row?.logs ?? '') + e.data, LOG_CAP_BYTES);
      const total = (row?.logs_dropped ?? 0) + dropped;
      if (row) this.db.prepare(`UPDATE control_vertices SET logs = ?, logs_dropped = ? WHERE build_id = ? AND digest = ?`).run(text, total, id, e.vertex);
      else
        this.db
          .prepare(`INSERT INTO control_vertices (build_id, digest, name, inputs, logs, logs_dropped) VALUES (?, ?, ?, '[]', ?, ?)`)
          .run(id, e.vertex, e.vertex, text, total);
    }
  }

  finish(id: string, status: HistoryEntry['status'], error?: BuildError, completedAt = Date.now()): void {
    this.db.prepare(`UPDATE control_builds SET status = ?, error = ?, completed_at = ? WHERE id = ?`).run(status, error ? JSON.stringify(error) : null, completedAt, id);
  }

  list(limit = 200): HistoryEntry[] {
    const rows = this.db.prepare(`SELECT * FROM control_builds ORDER BY created_at DESC, rowid DESC LIMIT ?`).all(limit) as BuildRow[];
    return rows.map(toEntry);
  }

  get(id: string): HistoryEntry | undefined {
    const row = this.db.prepare(`SELECT * FROM control_builds WHERE id = ?`).get(id) as BuildRow | undefined;
    if (!row) return undefined;
    const entry = toEntry(row);
    const vs = this.db.prepare(`SELECT * FROM control_vertices WHERE build_id = ? ORDER BY COALESCE(started, 9e15), rowid`).all(id) as VertexRow[];
    entry.vertices = [];
    entry.logs = {};
    for (const v of vs) {
      const rec: VertexRecord = { digest: v.digest, name: v.name, inputs: JSON.parse(v.inputs) as string[] };
      if (v.started !== null) rec.started = v.started;
      if (v.completed !== null) rec.completed = v.completed;
      if (v.cached !== null) rec.cached = v.cached === 1;
      if (v.error !== null) rec.error = v.error;
      if (v.location !== null) rec.location = JSON.parse(v.location) as VertexRecord['location'];
      entry.vertices.push(rec);
      if (v.logs) entry.logs[v.digest] = v.logs_dropped > 0 ? truncatedMarker(v.logs_dropped) + v.logs : v.logs;
    }
    return entry;
  }

  /** Builds left 'running' by a process that died are not running any more. */
  markInterrupted(): void {
    this.db.prepare(`UPDATE control_builds SET status = 'canceled', completed_at = COALESCE(completed_at, ?) WHERE status = 'running'`).run(Date.now());
  }
}

interface BuildRow {
  id: string;
  name: string;
  created_at: number;
  completed_at: number | null;
  status: HistoryEntry['status'];
  error: string | null;
}
interface VertexRow {
  digest: string;
  name: string;
  inputs: string;
  started: number | null;
  completed: number | null;
  cached: number | null;
  error: string | null;
  location: string | null;
  logs: string;
  logs_dropped: number;
}

function toEntry(r: BuildRow): HistoryEntry {
  const e: HistoryEntry = { id: r.id, name: r.name, createdAt: r.created_at, status: r.status };
  if (r.completed_at !== null) e.completedAt = r.completed_at;
  if (r.error) e.error = JSON.parse(r.error) as BuildError;
  return e;
}
