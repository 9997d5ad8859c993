// file ops on the overlay snapshotter: the base snapshot is mounted with a fresh upper dir and the
// actions write straight into it (a removed lower file becomes an overlay whiteout by itself);
// copy sources are read-only views of their snapshots. No process, no engine round trip.
import { rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DefinitionVertex } from '../../llb/definition.js';
import type { FileOp } from '../../llb/ops.js';
import type { Op, OpContext, Result } from '../../solver/types.js';
import { mountOverlay, unmount } from '../../snapshot/overlay/mount.js';
import { dirSize } from '../../snapshot/overlay/difftar.js';
import { applyFileActions, type SourceView } from '../fileops/apply.js';
import { lowersOf, overlayResult, snapshotOf, viewOf, type RuncContext } from './context.js';
import { tarSoon } from './layers.js';

export function fileOp(rc: RuncContext, v: DefinitionVertex, keyed: Op): Op {
  const op = v.op as FileOp;
  return {
    // key and content checksums are the Docker worker's (local contexts are checksummed in place;
    // a snapshot stands for its content by its id)
    cacheMap: (ctx) => keyed.cacheMap(ctx),
    contentChecksum: keyed.contentChecksum?.bind(keyed),
    exec: async (ctx, inputs) => [await runFile(rc, op, inputs, ctx)],
  };
}

async function runFile(rc: RuncContext, op: FileOp, inputs: Result[], ctx: OpContext): Promise<Result> {
  ctx.signal.throwIfAborted();
  const parent = snapshotOf(op.base >= 0 ? inputs[op.base] : undefined);
  const lowers = await lowersOf(rc, parent);
  const layer = rc.store.create();
  const dest = rc.store.mountPoint(layer.id);
  const views: (() => Promise<void>)[] = [];
  let committed = false;
  await mountOverlay(rc.store.root, dest, lowers, layer.relFs, layer.relWork);
  try {
    const opened = new Map<number, Promise<SourceView | undefined>>();
    const source = (i: number): Promise<SourceView | undefined> => {
      let p = opened.get(i);
      if (!p) {
        p = (async () => {
          const r = inputs[i];
          const s = snapshotOf(r);
          if (s.kind === 'scratch') return undefined;
          if (s.kind === 'local') return { root: s.dir!, fromLocal: true, excludePatterns: s.excludePatterns };
          const v = await viewOf(rc, r);
          views.push(v.release);
          return { root: v.dir, fromLocal: false };
        })();
        opened.set(i, p);
      }
      return p;
    };
    await applyFileActions(op, dest, source, { signal: ctx.signal, tmpDir: join(rc.store.root, 'b') });
    await unmount(dest);
    const meta = rc.store.commit(layer.id, parent, dirSize(layer.fs));
    tarSoon(rc, meta);
    const r = overlayResult(meta);
    committed = true;
    return r;
  } finally {
    for (const release of views) await release().catch(() => undefined);
    await unmount(dest).catch(() => undefined);
    try {
      rmdirSync(dest);
    } catch {
      /* reconcile retries */
    }
    if (!committed) rc.store.discard(layer.id);
  }
}
