// Build history in SQLite (a table of our own in the engine's state DB): one row per build, one
// per vertex with timings and cached flags, and logs per vertex capped in size so a chatty build
// cannot grow the DB without bound. A past build can be reopened with its timings and logs.
import type { Database } from 'better-sqlite3';
import type { BuildError, HistoryEntry, VertexRecord } from './api.js';
import type { ProgressEvent } from '../solver/types.js';

/** per-vertex log cap; the tail is what matters for a failure, so the head is dropped */
export const LOG_CAP_BYTES = 64 * 1024;

export class HistoryStore {
  constructor(private db: Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS control_builds (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL, completed_at INTEGER,
        status TEXT NOT NULL, error TEXT);
      CREATE TABLE IF NOT EXISTS control_vertices (
        build_id TEXT NOT NULL, digest TEXT NOT NULL, name TEXT NOT NULL, inputs TEXT NOT NULL,
        started INTEGER, completed INTEGER, cached INTEGER, error TEXT, location TEXT, logs TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (build_id, digest));
    `);
  }

  begin(id: string, name: string, createdAt = Date.now()): void {
    this.db.prepare(`INSERT OR REPLACE INTO control_builds (id, name, created_at, status) VALUES (?, ?, ?, 'running')`).run(id, name, createdAt);
    this.db.prepare(`DELETE FROM control_vertices WHERE build_id = ?`).run(id);
  }

  /** Folds one progress event into the stored vertex rows. */
  record(id: string, e: ProgressEvent, locations?: Map<string, VertexRecord['location']>): void {
    if (e.type === 'vertex') {
      const loc = locations?.get(e.digest);
      this.db
        .prepare(
          `INSERT INTO control_vertices (build_id, digest, name, inputs, started, completed, cached, error, location)
           VALUES (@b, @d, @n, @i, @s, @c, @k, @e, @l)
           ON CONFLICT (build_id, digest) DO UPDATE SET name = @n, inputs = @i,
             started = COALESCE(@s, started), completed = COALESCE(@c, completed),
             cached = COALESCE(@k, cached), error = COALESCE(@e, error), location = COALESCE(@l, location)`,
        )
        .run({
          b: id,
          d: e.digest,
          n: e.name,
          i: JSON.stringify(e.inputs),
          s: e.started ?? null,
          c: e.completed ?? null,
          k: e.cached === undefined ? null : e.cached ? 1 : 0,
          e: e.error ?? null,
          l: loc ? JSON.stringify(loc) : null,
        });
    } else if (e.type === 'log') {
      const row = this.db.prepare(`SELECT logs FROM control_vertices WHERE build_id = ? AND digest = ?`).get(id, e.vertex) as { logs: string } | undefined;
      let logs = (row?.logs ?? '') + e.data;
      if (logs.length > LOG_CAP_BYTES) logs = logs.slice(logs.length - LOG_CAP_BYTES);
      if (row) this.db.prepare(`UPDATE control_vertices SET logs = ? WHERE build_id = ? AND digest = ?`).run(logs, id, e.vertex);
      else
        this.db
          .prepare(`INSERT INTO control_vertices (build_id, digest, name, inputs, logs) VALUES (?, ?, ?, '[]', ?)`)
          .run(id, e.vertex, e.vertex, logs);
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
      if (v.logs) entry.logs[v.digest] = v.logs;
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
}

function toEntry(r: BuildRow): HistoryEntry {
  const e: HistoryEntry = { id: r.id, name: r.name, createdAt: r.created_at, status: r.status };
  if (r.completed_at !== null) e.completedAt = r.completed_at;
  if (r.error) e.error = JSON.parse(r.error) as BuildError;
  return e;
}
