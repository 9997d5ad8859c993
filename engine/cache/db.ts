// The state DB: one SQLite file <root>/kiln.db in WAL mode, so the engine, `kiln du` and the
// checksum index can read while a build writes. Other modules may add their own tables to it.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type StateDB = Database.Database;

export function openStateDB(root: string): StateDB {
  mkdirSync(root, { recursive: true });
  const db = new Database(join(root, 'kiln.db'));
  db.pragma('journal_mode = WAL');
  // several processes (serve + CLI) may share the file: wait for a writer instead of failing
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

function migrate(db: StateDB): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS cache_records (
      key TEXT PRIMARY KEY,
      result_id TEXT NOT NULL,
      sys TEXT,
      vertex TEXT NOT NULL,
      output INTEGER NOT NULL DEFAULT 0,
      type TEXT NOT NULL DEFAULT 'regular',
      description TEXT,
      size INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL,
      last_used_at INTEGER NOT NULL,
      usage_count INTEGER NOT NULL DEFAULT 0,
      duration_ms INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS cache_records_result ON cache_records(result_id);
    CREATE TABLE IF NOT EXISTS cache_parents (
      key TEXT NOT NULL REFERENCES cache_records(key) ON DELETE CASCADE,
      parent TEXT NOT NULL,
      PRIMARY KEY (key, parent)
    );
    CREATE INDEX IF NOT EXISTS cache_parents_parent ON cache_parents(parent);
  `);
}
