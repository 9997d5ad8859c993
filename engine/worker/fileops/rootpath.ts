// Paths scoped to a root, the way a chroot sees them (BuildKit resolves with continuity's
// fs.RootPath). A snapshot's rootfs is full of absolute symlinks (/lib -> /usr/lib, and worse,
// anything a build step chose to write): resolving them on the host would read or write outside
// the snapshot. Here every symlink met on the way is re-rooted, and `..` stops at the root.
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Linux's own limit for symlinks followed in one lookup (MAXSYMLINKS is 40) */
const MAX_LINKS = 40;

export class RootPathError extends Error {
  override name = 'RootPathError';
}

const segments = (p: string): string[] => p.split('/').filter((s) => s !== '' && s !== '.');

/**
 * The in-root path (slash-separated, no leading slash, '' = the root itself) that `path` names
 * inside `root`. Components that do not exist are kept as they are: the caller may be about to
 * create them. With `followFinal: false` a symlink in the last component is left in place (it is
 * the entry being replaced or removed, not a way somewhere else).
 */
export function scopedRel(root: string, path: string, opts: { followFinal?: boolean } = {}): string {
  const follow = opts.followFinal !== false;
  const done: string[] = [];
  const todo = segments(path);
  let links = 0;
  while (todo.length) {
    const s = todo.shift()!;
    if (s === '..') {
      // a chroot's `/..` is `/`: never climb above the root
      done.pop();
      continue;
    }
    if (!follow && todo.length === 0) {
      done.push(s);
      break;
    }
    const host = join(root, ...done, s);
    let target: string | undefined;
    try {
      if (lstatSync(host).isSymbolicLink()) target = readlinkSync(host);
    } catch {
      // missing (or not a directory on the way): the rest is appended untouched
    }
    if (target === undefined) {
      done.push(s);
      continue;
    }
    if (++links > MAX_LINKS) throw new RootPathError(`${path}: too many levels of symbolic links`);
    // an absolute target starts again at the root; a relative one continues from the link's dir
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...segments(target));
  }
  return done.join('/');
}

/** the host path of `path` inside `root` (see scopedRel) */
export function rootPath(root: string, path: string, opts: { followFinal?: boolean } = {}): string {
  const r = scopedRel(root, path, opts);
  return r ? join(root, r) : root;
}
