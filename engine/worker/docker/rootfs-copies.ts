// Host copies of engine images' filesystems (<root>/mounts/<key>, made by context.ts
// `materialise`): the lowest layer of the runc worker's overlays and the seed of bind mounts. A
// copy mirrors an image, so it lives as long as that image is in the engine: removing the image
// through Kiln removes its copy, and prune collects copies whose image is gone (removed with
// `docker rmi`, or by an older Kiln that wrote no owner file). Copies a live mount stands on are
// never touched. du counts them on their own line: they are not cache records.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const COPIES = 'mounts';

/** the directory name of an image's copy */
export function copyKey(imageId: string): string {
  return createHash('sha256').update(imageId).digest('hex').slice(0, 32);
}

/** records which image a finished copy holds (the name is a hash of its id) */
export function noteCopy(root: string, key: string, imageId: string): void {
  writeFileSync(join(root, COPIES, `${key}.image`), imageId);
}

interface Copy {
  key: string;
  dir: string;
  imageId?: string;
}

function list(root: string): Copy[] {
  const base = join(root, COPIES);
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  const out: Copy[] = [];
  for (const n of names) {
    // scratch is an empty dir; unfinished copies (.tmp-) belong to a running materialise
    if (n === 'scratch' || !/^[0-9a-f]{32}$/.test(n)) continue;
    let imageId: string | undefined;
    try {
      imageId = readFileSync(join(base, `${n}.image`), 'utf8').trim() || undefined;
    } catch {
      /* made before copies were noted: its image is unknown */
    }
    out.push({ key: n, dir: join(base, n), ...(imageId ? { imageId } : {}) });
  }
  return out;
}

/** is a copy the lower layer (or source) of a mount that is up now? */
function mounted(key: string): boolean {
  let mounts: string;
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return true; // cannot tell: keep it
  }
  return mounts.includes(`${COPIES}/${key}`);
}

function bytes(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) n += lstatSync(p).size;
    }
  };
  try {
    walk(dir);
  } catch {
    /* removed meanwhile */
  }
  return n;
}

/** removes one copy unless a mount stands on it; returns the bytes freed */
function removeCopy(root: string, c: Copy): number {
  if (!existsSync(c.dir) || mounted(c.key)) return 0;
  const size = bytes(c.dir);
  // renamed first: a materialise that starts meanwhile sees no copy and makes a new one, never a half-removed one
  const gone = `${c.dir}.gone-${process.pid}-${Date.now()}`;
  try {
    renameSync(c.dir, gone);
  } catch {
    return 0;
  }
  rmSync(join(root, COPIES, `${c.key}.image`), { force: true });
  rmSync(gone, { recursive: true, force: true });
  return size;
}

/** the copy of `imageId`, if any, once the image has left the engine */
export function removeCopyOf(root: string, imageId: string): number {
  const key = copyKey(imageId);
  return removeCopy(root, { key, dir: join(root, COPIES, key), imageId });
}

/**
 * removes copies whose image is gone from the engine (or unknown), and what removals killed
 * processes left half done; `exists` asks the engine. Returns how many went and the bytes freed.
 */
export async function collectCopies(root: string, exists: (imageId: string) => Promise<boolean>): Promise<{ removed: number; reclaimed: number }> {
  let removed = 0;
  let reclaimed = 0;
  for (const c of list(root)) {
    let keep: boolean;
    try {
      keep = !!c.imageId && (await exists(c.imageId));
    } catch {
      continue; // engine unreachable: decide next time
    }
    if (keep) continue;
    const freed = removeCopy(root, c);
    if (freed || !existsSync(c.dir)) removed++, (reclaimed += freed);
  }
  const base = join(root, COPIES);
  for (const n of existsSync(base) ? readdirSync(base) : []) {
    const m = /\.(?:gone|tmp)-(\d+)-\d+$/.exec(n);
    if (m && !alive(Number(m[1]))) rmSync(join(base, n), { recursive: true, force: true });
  }
  return { removed, reclaimed };
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** what the copies take on disk (du) */
export function copiesUsage(root: string): { count: number; size: number } {
  const copies = list(root);
  return { count: copies.length, size: copies.reduce((n, c) => n + bytes(c.dir), 0) };
}
