// merge and diff, simple and correct first: merge replays each later input's layers (as tars,
// whiteouts included) onto the first input through putArchive; diff is upper's layers that lower
// does not have.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { DefinitionVertex } from '../../llb/definition.js';
import { digestOf } from '../../llb/digest.js';
import type { DiffOp, MergeOp } from '../../llb/ops.js';
import type { CacheMap, Op, Result } from '../../solver/types.js';
import { imageFor, imageResult, snapshotOf, type WorkerContext } from './context.js';

async function layerPaths(w: WorkerContext, r: Result | undefined): Promise<{ diffId: string; path: string }[]> {
  if (snapshotOf(r).kind === 'scratch') return [];
  return w.images.layers(await imageFor(w, r));
}

/**
 * Docker's putArchive does not interpret overlay whiteouts (.wh.<name>): removing a file needs a
 * process, so a merged layer's whiteouts are dropped and documented as a gap (deletions in later
 * inputs do not propagate).
 */
function withoutWhiteouts(src: Readable): Readable {
  const ex = tar.extract();
  const pack = tar.pack();
  ex.on('entry', (h, s, next) => {
    const base = h.name.split('/').pop() ?? '';
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

async function applyLayers(w: WorkerContext, base: string, layers: { path: string }[]): Promise<string> {
  let img = base;
  for (const l of layers) img = await w.images.applyTar(img, withoutWhiteouts(createReadStream(l.path)) as unknown as NodeJS.ReadableStream);
  return img;
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

