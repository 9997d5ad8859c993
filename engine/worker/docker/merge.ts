// merge and diff, simple and correct first: merge replays each later input's layers (deletions
// and additions) onto the first input; diff is upper's layers that lower does not have, replayed
// onto scratch.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { DefinitionVertex } from '../../llb/definition.js';
import { digestOf } from '../../llb/digest.js';
import type { DiffOp, MergeOp } from '../../llb/ops.js';
import type { CacheMap, Op, Result } from '../../solver/types.js';
import { imageFor, imageResult, snapshotOf, type WorkerContext } from './context.js';
import { ownerLabels } from './owner.js';

async function layerPaths(w: WorkerContext, r: Result | undefined): Promise<{ diffId: string; path: string }[]> {
  if (snapshotOf(r).kind === 'scratch') return [];
  return w.images.layers(await imageFor(w, r));
}

/** a layer tar's overlay whiteouts: deleted paths and opaque directories */
async function whiteouts(path: string): Promise<{ deleted: string[]; opaque: string[] }> {
  const deleted: string[] = [];
  const opaque: string[] = [];
  const ex = tar.extract();
  ex.on('entry', (h, s, next) => {
    const name = h.name.replace(/^\.\//, '');
    const i = name.lastIndexOf('/');
    const dir = i < 0 ? '' : name.slice(0, i);
    const base = name.slice(i + 1);
    if (base === '.wh..wh..opq') opaque.push('/' + dir);
    else if (base.startsWith('.wh.')) deleted.push('/' + (dir ? dir + '/' : '') + base.slice(4));
    s.on('end', () => next());
    s.resume();
  });
  await pipeline(createReadStream(path), ex);
  return { deleted, opaque };
}

/** the layer without its whiteout entries (putArchive would create them as plain files) */
function withoutWhiteouts(src: Readable): Readable {
  const ex = tar.extract();
  const pack = tar.pack();
  ex.on('entry', (h, s, next) => {
    const base = h.name.replace(/\/$/, '').split('/').pop() ?? '';
    if (base.startsWith('.wh.')) {
      s.on('end', () => next());
      s.resume();
      return;
    }
    s.pipe(pack.entry(h, (e) => next(e ?? undefined)));
  });
  ex.on('finish', () => pack.finalize());
  ex.on('error', (e) => pack.destroy(e));
  src.pipe(ex);
  return pack as unknown as Readable;
}

/**
 * Replays a layer: its deletions first (a process is needed to delete: busybox rm under /dev,
 * as for file rm), then its additions through putArchive, then a commit.
 */
async function applyLayers(w: WorkerContext, base: string, layers: { path: string }[]): Promise<string> {
  let img = base;
  for (const l of layers) {
    const wo = await whiteouts(l.path);
    if (wo.deleted.length || wo.opaque.length) img = await removePaths(w, img, wo.deleted, wo.opaque);
    img = await w.images.applyTar(img, withoutWhiteouts(createReadStream(l.path)) as unknown as NodeJS.ReadableStream);
  }
  return img;
}

async function removePaths(w: WorkerContext, image: string, deleted: string[], opaque: string[]): Promise<string> {
  const bb = '/dev/.kiln/busybox';
  // "$@" are the deleted paths; opaque dirs are emptied (their own entry stays)
  const script = 'for d in $KILN_OPAQUE; do [ -d "$d" ] && find "$d" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +; done; rm -rf -- "$@"';
  const c = await w.docker.createContainer({
    Image: image,
    Entrypoint: [bb, 'sh', '-c', script, 'merge-rm'],
    Cmd: deleted,
    Env: [`KILN_OPAQUE=${opaque.join(' ')}`],
    User: '0:0',
    Labels: ownerLabels(w.root),
    HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'bind', Source: '/bin/busybox', Target: bb, ReadOnly: true }] },
  });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`merge: removing whiteout paths failed (exit ${StatusCode})`);
    // the helper's variable stays out of the snapshot's config
    return await w.images.commit(c, ['ENV KILN_OPAQUE=']);
  } finally {
    await w.images.removeContainer(c);
  }
}

export function mergeOp(w: WorkerContext, v: DefinitionVertex): Op {
  const op = v.op as MergeOp;
  return {
    async cacheMap(): Promise<CacheMap> {
      return { digest: digestOf(op), deps: v.inputs.map(() => ({})) };
    },
    async exec(_ctx, inputs): Promise<Result[]> {
      const [first, ...rest] = op.inputs.map((i) => inputs[i]);
      let img = await imageFor(w, first);
      for (const r of rest) img = await applyLayers(w, img, await layerPaths(w, r));
      return [imageResult(img)];
    },
  };
}

export function diffOp(w: WorkerContext, v: DefinitionVertex): Op {
  const op = v.op as DiffOp;
  return {
    async cacheMap(): Promise<CacheMap> {
      return { digest: digestOf(op), deps: v.inputs.map(() => ({})) };
    },
    async exec(_ctx, inputs): Promise<Result[]> {
      const lower = new Set((await layerPaths(w, inputs[op.lower])).map((l) => l.diffId));
      const upper = (await layerPaths(w, inputs[op.upper])).filter((l) => !lower.has(l.diffId));
      const img = await applyLayers(w, (await w.images.scratchImage()).id, upper);
      return [imageResult(img)];
    },
  };
}

