// The copy action on host directories: the Docker worker's semantics (docker/file.ts, proven
// against BuildKit), written straight into the destination instead of through a tar. Source paths
// are resolved inside the source root, destination paths inside the destination root.
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import type { FileAction } from '../../llb/ops.js';
import { createMatcher } from '../../source/local/dockerignore.js';
import { applyChmod } from '../docker/chmod.js';
import { FileOpError } from '../docker/errors.js';
import { GLOB, expand, looksLikeArchive, rel } from './common.js';
import { rootPath, scopedRel } from './rootpath.js';
import { DestWriter, type Meta } from './write.js';

export type CopyAction = Extract<FileAction, { action: 'copy' }>;
type Owner = { uid: number; gid: number } | undefined;

/** a source filesystem on the host (see apply.ts SourceView) */
export interface CopySource {
  root: string;
  fromLocal: boolean;
  excludePatterns?: string[];
}

/** a directory entry not written yet: made (with its own metadata) once something lands inside it */
interface Pending {
  name: string;
  meta: Meta;
  keep: boolean;
  top: boolean;
  made: boolean;
}

const run = promisify(execFile);

export async function copyAction(a: CopyAction, dest: string, src: CopySource, owner: Owner, opts: { signal: AbortSignal; tmpDir: string }): Promise<void> {
  const mtime = a.timestamp !== undefined ? new Date(a.timestamp * 1000) : undefined;
  const root = src.root;
  const wildcard = a.allowWildcard !== false && GLOB.test(a.srcPath);
  const locate = (r: string, followFinal: boolean) => rootPath(root, r, { followFinal });
  // A local snapshot's own filters (.dockerignore → excludePatterns) are relative to the context
  // root: files they exclude are not part of the context at all.
  const ctxExclude = src.fromLocal && src.excludePatterns?.length ? createMatcher(src.excludePatterns) : undefined;
  const isDirAt = (host: string) => lstatOrUndefined(host)?.isDirectory() ?? false;
  const matches = expand(root, a.srcPath, wildcard, locate).filter((m) => {
    if (!ctxExclude || !m) return true;
    const isDir = isDirAt(locate(m, !!a.followSymlinks));
    return !ctxExclude.matches(m, isDir) || (isDir && ctxExclude.hasExclusions);
  });
  if (matches.length === 0) {
    if (wildcard && a.allowEmptyWildcard) return;
    throw new FileOpError(`failed to compute cache key: "${a.srcPath}": not found`);
  }
  const exclude = a.excludePatterns?.length ? createMatcher(a.excludePatterns) : undefined;
  const include = a.includePatterns?.length ? createMatcher(a.includePatterns) : undefined;
  const ctxRel = (abs: string): string => posix.normalize(relative(root, abs).split(sep).join('/'));
  const outOfContext = (abs: string, isDir: boolean): boolean => {
    if (!ctxExclude) return false;
    const r = ctxRel(abs);
    return r !== '.' && !r.startsWith('..') && ctxExclude.matches(r, isDir);
  };

  const destAbs = posix.normalize('/' + a.destPath);
  // The top-level destination is followed like BuildKit's RootPath: a symlink to a directory
  // there is that directory.
  const destStat = lstatOrUndefined(rootPath(dest, destAbs));
  const destIsDir = a.destPath.endsWith('/') || matches.length > 1 || !!destStat?.isDirectory();
  const parent = posix.dirname(destAbs);
  if (!a.createDestPath && !isDirAt(rootPath(dest, parent))) throw new FileOpError(`copy: destination parent ${parent} does not exist`);
  const w = new DestWriter(dest, { mode: 0o755, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, ...(mtime ? { mtime } : {}) });
  if (a.createDestPath) await w.ensureDir(rel(destIsDir ? destAbs : parent).replace(/\/+$/, ''));

  /**
   * Host path of an entry. The top-level destination is resolved whole, like BuildKit's RootPath
   * (measured against the 20.10 oracle: a file copied to a symlink writes the link's target, inside
   * the root); a directory goes through a link only to a directory, a file only to a non-directory.
   * Entries below the top replace a symlink in their place, never follow it.
   */
  const hostFor = (name: string, top: boolean, isDir: boolean) => {
    if (!top) return w.place(name);
    const followed = scopedRel(dest, name);
    return w.place(isDirAt(rootPath(dest, followed)) === isDir ? followed : name);
  };
  const realize = async (chain: Pending[]) => {
    for (const p of chain) {
      if (p.made) continue;
      await w.dir(await hostFor(p.name, p.top, true), p.meta, p.keep);
      p.made = true;
    }
  };
  const links = new Map<string, string>();

  const emit = async (abs: string, name: string, relInSrc: string, top: boolean, inCtx: boolean, chain: Pending[], unpacked = false): Promise<void> => {
    opts.signal.throwIfAborted();
    const st = lstatSync(abs);
    const isDir = st.isDirectory();
    const hidden = inCtx && outOfContext(abs, isDir);
    if (hidden && !(isDir && ctxExclude!.hasExclusions)) return;
    if (relInSrc && exclude?.matches(relInSrc, isDir) && !(isDir && exclude.hasExclusions)) return;
    // The destination of a directory-contents copy is created like mkdir -p (0755), as BuildKit does.
    const destRoot = top && isDir && a.dirCopyContents !== false && !a.parents;
    // An unpacked archive keeps the modes and owners it records: the 20.10 oracle applies neither
    // --chmod nor --chown to what ADD extracts.
    const own = unpacked ? undefined : owner;
    const meta: Meta = {
      mode: destRoot ? 0o755 : a.mode !== undefined && !unpacked ? applyChmod(a.mode, st.mode, isDir) : st.mode & 0o7777,
      // a local context's owners are the client's, meaningless in the image: root, as BuildKit does
      uid: own?.uid ?? (inCtx && src.fromLocal ? 0 : st.uid),
      gid: own?.gid ?? (inCtx && src.fromLocal ? 0 : st.gid),
      mtime: mtime ?? st.mtime,
    };
    const included = !include || !relInSrc || include.matches(relInSrc, isDir);
    const excluded = hidden || (!!relInSrc && !!exclude?.matches(relInSrc, isDir));
    if (isDir) {
      // an existing destination directory keeps its own mode and owner
      const entry: Pending = { name, meta, keep: destRoot && !!destStat?.isDirectory(), top, made: false };
      let inner = [...chain, entry];
      if (rel(name) === '') inner = chain;
      else if (included && !excluded) {
        await realize(inner);
        inner = [];
      }
      for (const n of readdirSync(abs).sort()) await emit(join(abs, n), `${name}/${n}`, relInSrc ? `${relInSrc}/${n}` : n, false, inCtx, inner, unpacked);
      return;
    }
    if (!included || excluded || !(st.isFile() || st.isSymbolicLink())) return; // devices, fifos, sockets: skipped
    await realize(chain);
    const h = await hostFor(name, top, false);
    if (st.isSymbolicLink()) return w.symlink(h, meta, readlinkSync(abs));
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first) return w.hardlink(h, first);
      links.set(key, h);
    }
    await w.file(h, meta, abs, st.mode);
  };

  for (const m of matches) {
    const abs = locate(m, !!a.followSymlinks);
    const st = lstatOrUndefined(abs);
    // a followed symlink that leads nowhere inside the source
    if (!st) throw new FileOpError(`failed to compute cache key: "${a.srcPath}": not found`);
    let target: string;
    if (a.parents) target = posix.join(destAbs, m);
    else if (st.isDirectory()) target = a.dirCopyContents === false ? posix.join(destAbs, posix.basename(m || '/')) : destAbs;
    else target = destIsDir ? posix.join(destAbs, posix.basename(m)) : destAbs;
    if (a.attemptUnpack && st.isFile() && looksLikeArchive(abs)) {
      await unpack(abs, m, opts, async (tmp) => {
        for (const n of readdirSync(tmp).sort()) await emit(join(tmp, n), posix.join(destAbs, n), n, false, false, [], true);
      });
      continue;
    }
    await emit(abs, target, '', true, true, []);
  }
  await w.finish();
}

/** extract an archive into a temp dir (owners, modes and mtimes as recorded) and hand it to `use` */
async function unpack(file: string, name: string, opts: { signal: AbortSignal; tmpDir: string }, use: (dir: string) => Promise<void>): Promise<void> {
  const tmp = await mkdtemp(join(opts.tmpDir, 'unpack-'));
  try {
    try {
      await run('tar', ['-C', tmp, '--numeric-owner', '-xf', file], { signal: opts.signal });
    } catch (e) {
      opts.signal.throwIfAborted();
      throw new FileOpError(`unpacking ${name}: ${String((e as { stderr?: string }).stderr ?? e).trim()}`);
    }
    await use(tmp);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}
