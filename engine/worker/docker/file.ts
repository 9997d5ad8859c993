// file ops without a process where the engine API allows it: a created (never started)
// container receives in-process tars (putArchive) for mkdir/mkfile/copy and is committed. Only
// rm needs a process: Debian's static busybox bind-mounted under /dev (a tmpfs in every
// container, so the mount point leaves no trace in the layer).
import { createReadStream, mkdirSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import tar from "tar-stream";
type Headers = Parameters<ReturnType<typeof tar.pack>["entry"]>[0];
import type { DefinitionVertex } from '../../llb/definition.js';
import { digestOf } from '../../llb/digest.js';
import type { ChownOpt, FileAction, FileOp } from '../../llb/ops.js';
import type { CacheMap, Op, OpContext, Result } from '../../solver/types.js';
import { createMatcher } from '../../source/local/dockerignore.js';
import { checksumPaths } from '../../source/local/checksum.js';
import { GLOB, existsLstat, expand, looksLikeArchive, rel, resolveOwner as resolveOwnerFrom } from '../fileops/common.js';
import { applyChmod } from './chmod.js';
import { imageFor, imageResult, snapshotOf, untarTo, type WorkerContext } from './context.js';
import { FileOpError } from './errors.js';
import { ownerLabels } from './owner.js';

const BUSYBOX = '/bin/busybox';

export function fileOp(w: WorkerContext, v: DefinitionVertex): Op {
  const op = v.op as FileOp;
  return {
    async cacheMap(): Promise<CacheMap> {
      // Copy sources depend on their content at srcPath, not on how they were produced.
      const deps = v.inputs.map((_, i) => {
        const paths = op.actions.filter((a) => a.action === 'copy' && a.src === i).map((a) => (a as { srcPath: string }).srcPath);
        return paths.length && i !== op.base ? { contentPaths: paths } : {};
      });
      return { digest: digestOf(op), deps };
    },
    async contentChecksum(_ctx, input, paths): Promise<string> {
      const snap = snapshotOf(input);
      if (snap.kind === 'local') {
        return checksumPaths(snap.dir!, paths.map((p) => rel(p) || '.'), { db: w.db, excludePatterns: snap.excludePatterns });
      }
      // Image snapshots: the image id stands for its content (a rebuilt identical stage is a
      // cache miss, never a wrong hit).
      return digestOf({ id: input.id, paths });
    },
    async exec(ctx, inputs): Promise<Result[]> {
      return [imageResult(await runFileOp(w, op, inputs, ctx))];
    },
  };
}

async function runFileOp(w: WorkerContext, op: FileOp, inputs: Result[], ctx: OpContext): Promise<string> {
  let image = await imageFor(w, op.base >= 0 ? inputs[op.base] : undefined);
  let c = await w.images.createIdle(image);
  try {
    for (const a of op.actions) {
      ctx.signal.throwIfAborted();
      if (a.action === 'rm') {
        image = await w.images.commit(c);
        await w.images.removeContainer(c);
        c = await runRm(w, image, a);
        continue;
      }
      const pack = tar.pack();
      const put = c.putArchive(pack as unknown as NodeJS.ReadableStream, { path: '/' });
      try {
        await writeAction(w, c, a, inputs, pack);
        pack.finalize();
      } catch (e) {
        pack.destroy();
        await put.catch(() => undefined);
        throw e;
      }
      await put;
    }
    return await w.images.commit(c);
  } finally {
    await w.images.removeContainer(c);
  }
}

async function runRm(w: WorkerContext, image: string, a: Extract<FileAction, { action: 'rm' }>): Promise<Dockerode.Container> {
  const bb = '/dev/.kiln/busybox';
  const check = a.allowNotFound ? '' : a.allowWildcard ? 'set -- $1; [ -e "$1" ] || [ -L "$1" ] || { echo "$1: not found" >&2; exit 3; }; ' : '[ -e "$1" ] || [ -L "$1" ] || { echo "$1: not found" >&2; exit 3; }; ';
  const script = a.allowWildcard ? `${check}rm -rf -- $1` : `${check}rm -rf -- "$1"`;
  const c = await w.docker.createContainer({
    Image: image,
    Entrypoint: [bb, 'sh', '-c', script, 'rm'],
    Cmd: [a.path],
    User: '0:0',
    Env: [],
    Labels: ownerLabels(w.root),
    HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'bind', Source: BUSYBOX, Target: bb, ReadOnly: true }] },
  });
  await c.start();
  const { StatusCode } = (await c.wait()) as { StatusCode: number };
  if (StatusCode !== 0) {
    const logs = (await c.logs({ stdout: true, stderr: true })).toString().replace(/[\x00-\x08]/g, '').trim();
    await w.images.removeContainer(c);
    throw new FileOpError(`rm ${a.path}: ${logs || `exit ${StatusCode}`}`);
  }
  return c;
}

/** read one file out of a container (for /etc/passwd, /etc/group), undefined if absent */
async function readFileIn(c: Dockerode.Container, path: string): Promise<string | undefined> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = await c.getArchive({ path });
  } catch {
    return undefined;
  }
  const ex = tar.extract();
  let text: string | undefined;
  ex.on('entry', (h, s, next) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: unknown) => chunks.push(d as Buffer));
    s.on('end', () => {
      if (h.type === 'file' && text === undefined) text = Buffer.concat(chunks).toString();
      next();
    });
  });
  await pipeline(stream as unknown as NodeJS.ReadableStream & AsyncIterable<Buffer>, ex);
  return text;
}

async function statIn(c: Dockerode.Container, path: string): Promise<{ mode: number; isDir: boolean } | undefined> {
  try {
    const r = (await (c as unknown as { infoArchive(o: { path: string }): Promise<{ headers?: Record<string, string> } & Record<string, unknown>> }).infoArchive({ path })) as Record<string, unknown>;
    const headers = (r.headers ?? r) as Record<string, string>;
    const raw = headers['x-docker-container-path-stat'];
    if (!raw) return undefined;
    const st = JSON.parse(Buffer.from(raw, 'base64').toString()) as { mode: number };
    // Go's os.FileMode: ModeDir is bit 31
    return { mode: st.mode, isDir: (st.mode & 0x80000000) !== 0 };
  } catch {
    return undefined;
  }
}

/** ids for a chown, resolving names through the *target's* /etc/passwd and /etc/group */
function resolveOwner(c: Dockerode.Container, o: ChownOpt | undefined): Promise<{ uid: number; gid: number } | undefined> {
  return resolveOwnerFrom(o, (path) => readFileIn(c, path));
}

function entryAsync(pack: tar.Pack, h: Headers, body?: Buffer): Promise<void> {
  return new Promise((res, rej) => {
    pack.entry(h, body ?? '', (e) => (e ? rej(e) : res()));
  });
}

/** files up to this size are read in one call: a stream per file costs more than the read */
const SMALL_FILE = 256 << 10;

async function fileEntry(pack: tar.Pack, h: Headers, src: string): Promise<void> {
  if ((h.size ?? 0) <= SMALL_FILE) return entryAsync(pack, h, readFileSync(src));
  await new Promise<void>((res, rej) => {
    const sink = pack.entry(h, (e) => (e ? rej(e) : res()));
    createReadStream(src).on('error', rej).pipe(sink);
  });
}

/**
 * The missing ancestors of `path`: BuildKit's mkdir -p and copy's createDestPath create them 0755
 * owned by the op's owner, while Docker's putArchive would make them root-owned. Stat before the
 * first tar entry: the engine locks the container while it extracts, so a stat after that waits
 * for the upload forever.
 */
async function missingParents(c: Dockerode.Container, path: string, owner: { uid: number; gid: number } | undefined): Promise<string[]> {
  if (!owner) return [];
  const segs = rel(path).split('/').filter(Boolean);
  for (let i = 1; i < segs.length; i++) {
    // once one ancestor is missing, all deeper ones are too
    if (!(await statIn(c, '/' + segs.slice(0, i).join('/')))) return segs.slice(0, segs.length - 1).map((_, j) => segs.slice(0, j + 1).join('/')).slice(i - 1);
  }
  return [];
}

async function writeParents(pack: tar.Pack, dirs: string[], owner: { uid: number; gid: number } | undefined, mtime: Date): Promise<void> {
  for (const d of dirs) await entryAsync(pack, { name: d + '/', type: 'directory', mode: 0o755, uid: owner!.uid, gid: owner!.gid, mtime });
}

async function writeAction(w: WorkerContext, c: Dockerode.Container, a: Exclude<FileAction, { action: 'rm' }>, inputs: Result[], pack: tar.Pack): Promise<void> {
  const owner = await resolveOwner(c, a.owner);
  const mtime = a.timestamp !== undefined ? new Date(a.timestamp * 1000) : new Date();
  if (a.action === 'mkdir') {
    if (!a.makeParents) {
      const parent = posix.dirname(posix.normalize('/' + a.path));
      if (!(await statIn(c, parent))?.isDir) throw new FileOpError(`mkdir ${a.path}: parent directory does not exist`);
    } else await writeParents(pack, await missingParents(c, a.path, owner), owner, mtime);
    await entryAsync(pack, { name: rel(a.path) + '/', type: 'directory', mode: a.mode, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, mtime });
    return;
  }
  if (a.action === 'mkfile') {
    const data = Buffer.from(a.data, 'base64');
    await entryAsync(pack, { name: rel(a.path), type: 'file', mode: a.mode, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, size: data.length, mtime }, data);
    return;
  }
  await writeCopy(w, c, a, inputs, pack, owner, a.timestamp !== undefined ? mtime : undefined);
}

async function writeCopy(
  w: WorkerContext,
  c: Dockerode.Container,
  a: Extract<FileAction, { action: 'copy' }>,
  inputs: Result[],
  pack: tar.Pack,
  owner: { uid: number; gid: number } | undefined,
  mtime: Date | undefined,
): Promise<void> {
  const srcSnap = snapshotOf(inputs[a.src]);
  // Local contexts are read in place; from an image only the selected subtree is fetched
  // (getArchive of the path's non-wildcard prefix), laid out at its own path in a temp dir.
  const fromLocal = srcSnap.kind === 'local';
  let tmpRoot: string | undefined;
  const root = fromLocal ? srcSnap.dir! : (tmpRoot = await fetchSubtree(w, inputs[a.src], a.srcPath));
  try {
    await copyFrom(w, c, a, root, fromLocal, pack, owner, mtime, fromLocal ? srcSnap.excludePatterns : undefined);
  } finally {
    if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
  }
}

/** the non-wildcard directory prefix of `srcPath`, fetched from an image snapshot into a temp dir */
async function fetchSubtree(w: WorkerContext, r: Result | undefined, srcPath: string): Promise<string> {
  const tmp = mkdtempSync(join(w.root, 'tmp', 'copy-'));
  if (snapshotOf(r).kind === 'scratch') return tmp;
  const segs = rel(srcPath).split('/').filter(Boolean);
  const firstGlob = segs.findIndex((x) => GLOB.test(x));
  const prefix = '/' + (firstGlob < 0 ? segs : segs.slice(0, firstGlob)).join('/');
  const c = await w.images.createIdle(await imageFor(w, r));
  try {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await c.getArchive({ path: prefix });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return tmp;
      throw e;
    }
    const into = prefix === '/' ? tmp : join(tmp, posix.dirname(prefix));
    mkdirSync(into, { recursive: true });
    await untarTo(stream, into);
    // getArchive of / names its entries after the container root: nothing to rename
    return tmp;
  } finally {
    await w.images.removeContainer(c);
  }
}

async function copyFrom(
  w: WorkerContext,
  c: Dockerode.Container,
  a: Extract<FileAction, { action: 'copy' }>,
  root: string,
  fromLocal: boolean,
  pack: tar.Pack,
  owner: { uid: number; gid: number } | undefined,
  mtime: Date | undefined,
  ctxExcludes: string[] | undefined,
): Promise<void> {
  const wildcard = a.allowWildcard !== false && GLOB.test(a.srcPath);
  const ctxMatcher = ctxExcludes?.length ? createMatcher(ctxExcludes) : undefined;
  const matches = expand(root, a.srcPath, wildcard).filter((m) => {
    if (!ctxMatcher || !m) return true;
    const isDir = existsLstat(join(root, m)) && lstatSync(join(root, m)).isDirectory();
    return !ctxMatcher.matches(m, isDir) || (isDir && !!ctxMatcher.hasExclusions);
  });
  if (matches.length === 0) {
    if (wildcard && a.allowEmptyWildcard) return;
    throw new FileOpError(`failed to compute cache key: "${a.srcPath}": not found`);
  }
  const exclude = a.excludePatterns?.length ? createMatcher(a.excludePatterns) : undefined;
  const include = a.includePatterns?.length ? createMatcher(a.includePatterns) : undefined;
  // A local snapshot's own filters (.dockerignore → excludePatterns) are relative to the context
  // root: files they exclude are not part of the context at all.
  const ctxExclude = ctxExcludes?.length ? createMatcher(ctxExcludes) : undefined;
  const ctxRel = (abs: string): string => posix.normalize(relative(root, abs).split(sep).join('/'));
  const outOfContext = (abs: string, isDir: boolean): boolean => {
    if (!ctxExclude) return false;
    const r = ctxRel(abs);
    return r !== '.' && !r.startsWith('..') && ctxExclude.matches(r, isDir);
  };
  const destAbs = posix.normalize('/' + a.destPath);
  const destStat = await statIn(c, destAbs);
  const destIsDir = a.destPath.endsWith('/') || matches.length > 1 || !!destStat?.isDir;
  if (!a.createDestPath && !(await statIn(c, posix.dirname(destAbs)))?.isDir) throw new FileOpError(`copy: destination parent ${posix.dirname(destAbs)} does not exist`);
  // all stats are done: from here on the engine holds the container while it extracts
  if (a.createDestPath) await writeParents(pack, await missingParents(c, destAbs + '/x', owner).then((d) => (destIsDir ? d : d.slice(0, -1))), owner, mtime ?? new Date());

  const emit = async (abs: string, name: string, relInSrc: string, top: boolean): Promise<void> => {
    const st = top && a.followSymlinks ? statSync(abs) : lstatSync(abs);
    const isDir = st.isDirectory();
    const hidden = fromLocal && outOfContext(abs, isDir);
    if (hidden && !(isDir && ctxExclude!.hasExclusions)) return;
    if (relInSrc && exclude?.matches(relInSrc, isDir) && !(isDir && exclude.hasExclusions)) return;
    // The destination of a directory-contents copy is created like mkdir -p (0755), as BuildKit does.
    const destRoot = top && isDir && a.dirCopyContents !== false && !a.parents;
    const mode = destRoot ? 0o755 : a.mode !== undefined ? applyChmod(a.mode, st.mode, isDir) : st.mode & 0o7777;
    const uid = owner?.uid ?? (fromLocal ? 0 : st.uid);
    const gid = owner?.gid ?? (fromLocal ? 0 : st.gid);
    const h = { name, mode, uid, gid, mtime: mtime ?? st.mtime };
    const included = !include || !relInSrc || include.matches(relInSrc, isDir);
    const excluded = hidden || (!!relInSrc && !!exclude?.matches(relInSrc, isDir));
    if (isDir) {
      // an existing destination directory keeps its own mode and owner
      if (name && included && !excluded && !(destRoot && destStat)) await entryAsync(pack, { ...h, name: name + '/', type: 'directory' });
      for (const n of readdirSync(abs).sort()) await emit(join(abs, n), name ? `${name}/${n}` : n, relInSrc ? `${relInSrc}/${n}` : n, false);
      return;
    }
    if (!included || excluded) return;
    if (st.isSymbolicLink()) await entryAsync(pack, { ...h, type: 'symlink', linkname: readlinkSync(abs) });
    else if (st.isFile()) await fileEntry(pack, { ...h, type: 'file', size: st.size }, abs);
  };

  for (const m of matches) {
    const abs = join(root, m);
    const st = a.followSymlinks ? statSync(abs) : lstatSync(abs);
    let target: string;
    if (a.parents) target = posix.join(destAbs, m);
    else if (st.isDirectory()) target = a.dirCopyContents === false ? posix.join(destAbs, posix.basename(m || '/')) : destAbs;
    else target = destIsDir ? posix.join(destAbs, posix.basename(m)) : destAbs;
    if (a.attemptUnpack && st.isFile() && looksLikeArchive(abs)) {
      const tmp = mkdtempSync(join(w.root, 'tmp', 'unpack-'));
      try {
        const r = spawnSync('tar', ['-C', tmp, '--numeric-owner', '-xf', abs]);
        if (r.status !== 0) throw new FileOpError(`unpacking ${m}: ${r.stderr.toString().trim()}`);
        const dest = rel(destAbs);
        for (const n of readdirSync(tmp).sort()) await emit(join(tmp, n), dest ? `${dest}/${n}` : n, n, false);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      continue;
    }
    await emit(abs, rel(target), '', true);
  }
}
