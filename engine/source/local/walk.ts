// Walking a local build context: synchronous lstat/readdir (an awaited promise per file costs
// more than the stat itself), sorted, never following symlinks, so nothing outside `dir` is read.

import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { createMatcher, type Matcher } from './dockerignore.js';
import { cleanPath } from './clean.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface ContextEntry {
  /** slash-separated, relative to the context root */
  path: string;
  type: EntryType;
  /** permission and special bits (mode & 0o7777) */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  /** nanosecond mtime, as the file index keys on it */
  mtimeNs: bigint;
  dev: bigint;
  ino: bigint;
  /** symlinks only */
  linkTarget?: string;
}

export interface WalkOptions {
  /** .dockerignore-style patterns (with `!` exceptions) */
  excludePatterns?: string[];
  /** only these (patterns, same syntax) and their contents; parents are emitted too */
  includePatterns?: string[];
  /** literal paths to include, as BuildKit's FollowPaths */
  followPaths?: string[];
  /** walk only below this directory (relative to `dir`); paths stay relative to `dir` */
  subdir?: string;
}

function typeOf(mode: number): EntryType {
  const t = mode & 0o170000;
  if (t === 0o100000) return 'file';
  if (t === 0o040000) return 'dir';
  if (t === 0o120000) return 'symlink';
  return 'other';
}

export function statEntry(abs: string, rel: string): ContextEntry {
  const st = lstatSync(abs, { bigint: true });
  const mode = Number(st.mode);
  const type = typeOf(mode);
  const e: ContextEntry = {
    path: rel,
    type,
    mode: mode & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    mtimeMs: Number(st.mtimeMs),
    mtimeNs: st.mtimeNs,
    dev: st.dev,
    ino: st.ino,
  };
  if (type === 'symlink') e.linkTarget = readlinkSync(abs);
  return e;
}

/**
 * Follow paths plus, for each that is a symlink (e.g. a symlinked Dockerfile), the chain of its
 * targets — as long as they stay inside `dir`.
 */
function followed(dir: string, paths: string[]): string[] {
  const out: string[] = [];
  for (const p0 of paths) {
    let p = cleanPath(p0.replace(/^\/+/, ''));
    for (let hops = 0; hops < 16; hops++) {
      out.push(p);
      let target: string;
      try {
        target = readlinkSync(join(dir, p));
      } catch {
        break; // not a symlink (or missing)
      }
      const next = cleanPath(target.startsWith('/') ? target.slice(1) : posix.join(posix.dirname(p), target));
      if (next === '..' || next.startsWith('../')) break;
      p = next;
    }
  }
  return out;
}

const escapeGlob = (p: string): string => p.replace(/[*?[\]\\]/g, (c) => '\\' + c);

/** Entries of `dir` (not including the root itself), parents before children, sorted by name. */
export function walkContext(dir: string, opts: WalkOptions = {}): ContextEntry[] {
  const exclude: Matcher | undefined = opts.excludePatterns?.length ? createMatcher(opts.excludePatterns) : undefined;
  const includes = [...(opts.includePatterns ?? []), ...followed(dir, opts.followPaths ?? []).map(escapeGlob)].map((p) => cleanPath(p.replace(/^\/+/, '')));
  const include: Matcher | undefined = includes.length && !includes.includes('.') ? createMatcher(includes) : undefined;
  const out: ContextEntry[] = [];

  // A directory is emitted when it survives itself or when anything below it does (Docker sends
  // the parents of re-included files).
  const visit = (abs: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch {
      return;
    }
    names.sort();
    for (const name of names) {
      const childRel = rel === '' ? name : rel + '/' + name;
      const childAbs = join(abs, name);
      const e = statEntry(childAbs, childRel);
      const excluded = exclude ? exclude.matches(childRel, e.type === 'dir') : false;
      const included = !include || include.matches(childRel);
      if (e.type !== 'dir') {
        if (!excluded && included) out.push(e);
        continue;
      }
      // Skip a whole excluded directory unless an exception could re-include something inside.
      if (excluded && !exclude!.hasExclusions) continue;
      const at = out.length;
      visit(childAbs, childRel);
      const emitted = out.length > at;
      if ((!excluded && included) || emitted) out.splice(at, 0, e);
    }
  };
  const sub = opts.subdir ? cleanPath(opts.subdir.replace(/^\/+/, '')) : '.';
  if (sub === '..' || sub.startsWith('../')) throw new Error(`subdir ${JSON.stringify(opts.subdir)} is outside of the context`);
  visit(sub === '.' ? dir : join(dir, sub), sub === '.' ? '' : sub);
  return out;
}
