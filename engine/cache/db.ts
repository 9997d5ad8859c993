// The state DB: one SQLite file per root (<root>/kiln.db), WAL so the CLI, `kiln serve` and the
// app can read while one of them writes. Other modules add their own tables to the same DB.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export function openStateDB(root: string): Database.Database {
  mkdirSync(root, { recursive: true });
  const db = new Database(join(root, 'kiln.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}
