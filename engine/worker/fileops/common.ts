// Helpers every FileOp backend shares (the Docker worker's tar-through-the-engine one and the
// host-directory one), so both read wildcards, archives and chown names the same way.
import { closeSync, lstatSync, openSync, readSync, readdirSync } from 'node:fs';
import { join, matchesGlob, posix } from 'node:path';
import type { ChownOpt } from '../../llb/ops.js';

/** a path segment with a wildcard in it */
export const GLOB = /[*?[]/;

/** an LLB path made relative to the root: '/a/../b' → 'b', '/' → '' (a trailing slash stays) */
export const rel = (p: string): string => posix.normalize('/' + p).replace(/^\/+/, '');

export function existsLstat(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where an in-root path lives on the host. `followFinal` says whether a symlink in the last
 * component is followed; a plain join (the default) ignores it, a root-scoped resolver honours it.
 */
export type Locate = (relPath: string, followFinal: boolean) => string;

/** expand a path with wildcards segment by segment against a host directory */
export function expand(root: string, p: string, wildcard: boolean, locate: Locate = (r) => join(root, r)): string[] {
  const segs = rel(p).split('/').filter(Boolean);
  let cur = [''];
  for (const s of segs) {
    const next: string[] = [];
    for (const base of cur) {
      if (wildcard && GLOB.test(s)) {
        let names: string[] = [];
        try {
          names = readdirSync(locate(base, true)).sort();
        } catch {
          /* not a dir */
        }
        for (const n of names) if (matchesGlob(n, s)) next.push(base ? `${base}/${n}` : n);
      } else next.push(base ? `${base}/${s}` : s);
    }
    cur = next;
  }
  return cur.filter((r) => r === '' || existsLstat(locate(r, false)));
}

const ARCHIVE_MAGIC: [number[], number][] = [
  [[0x1f, 0x8b], 0], // gzip
  [[0x42, 0x5a, 0x68], 0], // bzip2
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 0], // xz
  [[0x28, 0xb5, 0x2f, 0xfd], 0], // zstd
  [[0x75, 0x73, 0x74, 0x61, 0x72], 257], // ustar
];

/** ADD unpacks only what is recognisably a (compressed) tar; anything else is copied as it is */
export function looksLikeArchive(file: string): boolean {
  const fd = readHead(file);
  return ARCHIVE_MAGIC.some(([m, off]) => m.every((b, i) => fd[off + i] === b));
}

function readHead(file: string): Buffer {
  const b = Buffer.alloc(512);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, b, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  return b;
}

/** the line of /etc/passwd or /etc/group text whose first field is `name` */
function entryFor(text: string | undefined, name: string): string[] | undefined {
  return (text ?? '').split('\n').map((l) => l.split(':')).find((f) => f[0] === name);
}

/**
 * Numeric ids for a chown, resolving names through the *target's* /etc/passwd and /etc/group
 * (`read` returns a file of the target filesystem, undefined if absent).
 */
export async function resolveOwner(o: ChownOpt | undefined, read: (path: string) => Promise<string | undefined>): Promise<{ uid: number; gid: number } | undefined> {
  if (!o || (o.user === undefined && o.group === undefined)) return undefined;
  const num = (x: number | string | undefined) => (typeof x === 'number' ? x : x !== undefined && /^\d+$/.test(x) ? Number(x) : undefined);
  let uid = num(o.user);
  let gid = num(o.group);
  if (uid === undefined && o.user !== undefined) {
    const line = entryFor(await read('/etc/passwd'), String(o.user));
    // BuildKit (the 20.10 oracle) keeps 0 when the name is not in the target's passwd, no error.
    uid = line ? Number(line[2]) : 0;
    if (o.group === undefined) gid = line ? Number(line[3]) : 0;
  }
  if (gid === undefined && o.group !== undefined) {
    const line = entryFor(await read('/etc/group'), String(o.group));
    gid = line ? Number(line[2]) : 0;
  }
  return { uid: uid ?? 0, gid: gid ?? uid ?? 0 };
}
