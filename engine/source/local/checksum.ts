// Content checksums of context paths, for cache keys of local sources and COPY sources. One
// sha256 covers each selected entry's path, type, mode, uid/gid, symlink target and content
// (not times: touching a file must not bust the cache). File contents are remembered in SQLite
// by (dev, ino, size, mtime_ns) so an unchanged file is never read twice.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import { walkContext, statEntry, type ContextEntry } from './walk.js';
import { createMatcher } from './dockerignore.js';
import { cleanPath } from './clean.js';

export interface ChecksumStats {
  /** files whose content was read and hashed */
  filesRead: number;
  /** files whose content hash came from the index */
  filesCached: number;
  entries: number;
}

export interface ChecksumOptions {
  /** the state DB: enables the local_file_index table */
  db?: Database;
  /** .dockerignore patterns applied before selection */
  excludePatterns?: string[];
  /** filled with what the call did (lets callers and tests observe the index) */
  stats?: ChecksumStats;
}

export class ChecksumError extends Error {
  override name = 'ChecksumError';
}

const GLOB = /[*?[\\]/;

function globToRegex(p: string): RegExp {
  let re = '^';
  const chars = Array.from(p);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') re += chars[i + 1] === '!' ? (i++, '[^') : '[';
    else if (c === ']') re += ']';
    else if (c === '\\' && i + 1 < chars.length) re += '\\' + chars[++i];
    else re += c.replace(/[.+^${}()|/\\-]/g, '\\$&');
  }
  return new RegExp(re + '$', 'u');
}

/** Prepared statements for the index, created once per DB. */
const INDEX = new WeakMap<Database, { get: Statement; put: Statement }>();
function indexFor(db: Database): { get: Statement; put: Statement } {
  let ix = INDEX.get(db);
  if (!ix) {
    db.exec(`CREATE TABLE IF NOT EXISTS local_file_index (
      dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
      sha TEXT NOT NULL, PRIMARY KEY (dev, ino))`);
    ix = {
      get: db.prepare('SELECT size, mtime_ns, sha FROM local_file_index WHERE dev = ? AND ino = ?').safeIntegers(true),
      put: db.prepare('INSERT OR REPLACE INTO local_file_index (dev, ino, size, mtime_ns, sha) VALUES (?, ?, ?, ?, ?)'),
    };
    INDEX.set(db, ix);
  }
  return ix;
}

/** The directory to walk for one selector: its longest wildcard-free leading segments. */
function baseOf(p: string): string {
  const segs = p.split('/');
  const i = segs.findIndex((s) => GLOB.test(s));
  return i < 0 ? p : segs.slice(0, i).join('/') || '.';
}

/** Select the entries named by `paths` (wildcards allowed; directories include their contents). */
function select(dir: string, paths: string[], exclude: string[] | undefined): ContextEntry[] {
  const cleaned = paths.map((p) => cleanPath(p.replace(/^\/+/, '') || '.'));
  for (const p of cleaned) if (p === '..' || p.startsWith('../')) throw new ChecksumError(`path ${JSON.stringify(p)} is outside of the context`);
  const ex = exclude?.length ? { excludePatterns: exclude } : {};
  if (cleaned.includes('.')) return walkContext(dir, ex);
  const excluder = exclude?.length ? createMatcher(exclude) : undefined;
  // Walk only the subtrees the selectors can reach, not the whole context.
  const byPath = new Map<string, ContextEntry>();
  for (const p of cleaned) {
    const base = baseOf(p);
    if (base !== '.') {
      let root: ContextEntry;
      try {
        root = statEntry(join(dir, base), base);
      } catch {
        if (!GLOB.test(p)) throw new ChecksumError(`${p}: not found in the context`);
        continue;
      }
      if (excluder?.matches(base)) {
        if (!GLOB.test(p) && !excluder.hasExclusions) throw new ChecksumError(`${p}: not found in the context (excluded by ${excluder.ruleFor(base)})`);
      } else byPath.set(base, root);
      if (root.type !== 'dir') continue;
    }
    for (const e of walkContext(dir, { ...ex, ...(base === '.' ? {} : { subdir: base }) })) byPath.set(e.path, e);
  }
  const all = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const matchers = cleaned.map((p) => (GLOB.test(p) ? globToRegex(p) : p));
  const roots = new Set<string>();
  for (const e of all) {
    for (const m of matchers) {
      if (typeof m === 'string' ? e.path === m : m.test(e.path)) roots.add(e.path);
    }
  }
  for (const p of cleaned) {
    if (!GLOB.test(p) && !roots.has(p)) throw new ChecksumError(`${p}: not found in the context`);
  }
  return all.filter((e) => {
    if (roots.has(e.path)) return true;
    for (let i = e.path.lastIndexOf('/'); i > 0; i = e.path.lastIndexOf('/', i - 1)) if (roots.has(e.path.slice(0, i))) return true;
    return false;
  });
}

/** sha256 (as `sha256:<hex>`) over the selected paths of `dir`. */
export function checksumPaths(dir: string, paths: string[], opts: ChecksumOptions = {}): string {
  const stats: ChecksumStats = opts.stats ?? { filesRead: 0, filesCached: 0, entries: 0 };
  stats.filesRead = 0;
  stats.filesCached = 0;
  // Plain path order (not walk order) so that any selector naming the same files hashes the same.
  const entries = select(dir, paths, opts.excludePatterns).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  stats.entries = entries.length;
  const ix = opts.db ? indexFor(opts.db) : undefined;
  const h = createHash('sha256');
  const writes: unknown[][] = [];
  for (const e of entries) {
    let content = '';
    if (e.type === 'file') content = fileSha(join(dir, e.path), e, ix, stats, writes);
    else if (e.type === 'symlink') content = e.linkTarget ?? '';
    // NUL separates fields: no path or link target can contain it.
    h.update(`${e.path}\0${e.type}\0${e.mode.toString(8)}\0${e.uid}\0${e.gid}\0${content}\0`);
  }
  if (opts.db && writes.length) {
    const put = ix!.put;
    opts.db.transaction(() => {
      for (const w of writes) put.run(...w);
    })();
  }
  return 'sha256:' + h.digest('hex');
}

function fileSha(abs: string, e: ContextEntry, ix: { get: Statement } | undefined, stats: ChecksumStats, writes: unknown[][]): string {
  if (ix) {
    const row = ix.get.get(e.dev, e.ino) as { size: bigint; mtime_ns: bigint; sha: string } | undefined;
    if (row && row.size === BigInt(e.size) && row.mtime_ns === e.mtimeNs) {
      stats.filesCached++;
      return row.sha;
    }
  }
  const sha = hashFile(abs);
  stats.filesRead++;
  if (ix) writes.push([e.dev, e.ino, BigInt(e.size), e.mtimeNs, sha]);
  return sha;
}

// One reusable read buffer: allocating a Buffer per file dominates for many small files.
const BUF = Buffer.allocUnsafe(1 << 20);

function hashFile(abs: string): string {
  const h = createHash('sha256');
  const fd = openSync(abs, 'r');
  try {
    for (;;) {
      const n = readSync(fd, BUF, 0, BUF.length, null);
      if (n === 0) break;
      h.update(BUF.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}
