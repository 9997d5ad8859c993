// LLB FileOp actions applied directly to a host directory (the runc worker's overlayfs mount, or a
// plain dir): no container, no tar round-trip. The semantics are the Docker worker's
// (docker/file.ts), and every path is resolved inside its root as a chroot would.
import { lstat, mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FileOp } from '../../llb/ops.js';
import { FileOpError } from '../docker/errors.js';
import { resolveOwner } from './common.js';
import { copyAction } from './copy.js';
import { rmAction } from './rm.js';
import { rootPath, scopedRel } from './rootpath.js';
import { DestWriter, type Meta } from './write.js';

/**
 * An input's filesystem on the host, read in place and never written. It must not be `dest`
 * itself (or contain it): a copy walks the source while it writes.
 */
export interface SourceView {
  /** a local context: the client's directory; otherwise a read-only view of the snapshot rootfs */
  root: string;
  /** a local context: owners become root and `excludePatterns` (.dockerignore) hide files */
  fromLocal: boolean;
  excludePatterns?: string[];
}

/** apply op.actions, in order, to the filesystem rooted at `dest` (a host dir; writes go straight into it) */
export async function applyFileActions(
  op: FileOp,
  dest: string,
  source: (inputIndex: number) => Promise<SourceView | undefined>, // undefined = scratch (empty)
  opts: { signal: AbortSignal; tmpDir: string },
): Promise<void> {
  for (const a of op.actions) {
    opts.signal.throwIfAborted();
    const label = `${a.action} ${a.action === 'copy' ? a.srcPath : a.path}`;
    try {
      if (a.action === 'rm') {
        await rmAction(a, dest);
        continue;
      }
      // names resolve through the destination's passwd and group as they are at this action
      const owner = await resolveOwner(a.owner, (p) => readFile(rootPath(dest, p), 'utf8').catch(() => undefined));
      const mtime = a.timestamp !== undefined ? new Date(a.timestamp * 1000) : undefined;
      const meta = (mode: number): Meta => ({ mode, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, ...(mtime ? { mtime } : {}) });
      if (a.action === 'mkdir') await mkdirAction(dest, a.path, !!a.makeParents, meta(a.mode), meta(0o755));
      else if (a.action === 'mkfile') await mkfileAction(dest, a.path, Buffer.from(a.data, 'base64'), meta(a.mode), meta(0o755));
      else await withSource(await source(a.src), opts.tmpDir, (src) => copyAction(a, dest, src, owner, opts));
    } catch (e) {
      if (e instanceof FileOpError || opts.signal.aborted) throw e;
      // fs errors name host paths; the user knows only paths inside the image
      throw new FileOpError(`${label}: ${String((e as Error).message ?? e).split(dest).join('')}`);
    }
  }
}

/**
 * BuildKit's mkdir: an existing directory is left as it is (mode, owner and mtime), missing
 * parents are created 0755 with the op's owner when makeParents is set.
 */
async function mkdirAction(dest: string, path: string, makeParents: boolean, meta: Meta, parents: Meta): Promise<void> {
  const r = scopedRel(dest, path);
  const host = r ? join(dest, r) : dest;
  const st = await lstat(host).catch(() => undefined);
  if (st?.isDirectory()) return;
  if (st) throw new FileOpError(`mkdir ${path}: not a directory`);
  if (!makeParents && !(await lstat(dirname(host)).catch(() => undefined))?.isDirectory()) throw new FileOpError(`mkdir ${path}: parent directory does not exist`);
  const w = new DestWriter(dest, parents);
  await w.dir(await w.place(r), meta);
  await w.finish();
}

/**
 * BuildKit's mkfile writes through a symlink at the path (inside the root: RootPath resolves the
 * whole path); a directory there is an error, not something to replace.
 */
async function mkfileAction(dest: string, path: string, data: Buffer, meta: Meta, parents: Meta): Promise<void> {
  const r = scopedRel(dest, path);
  if ((await lstat(r ? join(dest, r) : dest).catch(() => undefined))?.isDirectory()) throw new FileOpError(`mkfile ${path}: is a directory`);
  const w = new DestWriter(dest, parents);
  await w.file(await w.place(r), meta, data);
  await w.finish();
}

/** a scratch input is an empty filesystem: an empty temp dir stands for it */
async function withSource(view: SourceView | undefined, tmpDir: string, use: (src: SourceView) => Promise<void>): Promise<void> {
  if (view) return use(view);
  const empty = await mkdtemp(join(tmpDir, 'scratch-'));
  try {
    await use({ root: empty, fromLocal: false });
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
}
