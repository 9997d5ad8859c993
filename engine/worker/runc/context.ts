// What the runc worker's ops share: the overlay store, runc's state root, and the Docker worker it
// stands on (images come from, and exports go to, the Docker Engine; ops without a fast path run
// there).
import { randomBytes } from 'node:crypto';
import { rmdirSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import type { Result } from '../../solver/types.js';
import type { Snapshot } from '../../snapshot/types.js';
import type { LayerMeta, OverlayStore } from '../../snapshot/overlay/store.js';
import { mountOverlay, unmount } from '../../snapshot/overlay/mount.js';
import { materialise, snapshotOf, type WorkerContext } from '../docker/context.js';
import type { CacheMounts } from '../docker/cachemounts.js';

export interface RuncContext {
  docker: WorkerContext;
  store: OverlayStore;
  /** runc --root: container state, so leftovers can be listed and deleted */
  runcRoot: string;
  cacheMounts: CacheMounts;
}

export function overlayResult(m: LayerMeta): Result {
  return { id: `overlay:${m.id}`, sys: { kind: 'overlay', layer: m.id } satisfies Snapshot };
}

export { snapshotOf };

/** the dirs to stack for a snapshot, top first, relative to the store root where possible */
export async function lowersOf(rc: RuncContext, s: Snapshot): Promise<string[]> {
  // everything under the state root is named relative to the store (short mount options)
  const rel = (p: string) => (isAbsolute(p) && p.startsWith(rc.docker.root + '/') ? relative(rc.store.root, p) : p);
  const out: string[] = [];
  for (let cur: Snapshot | undefined = s; cur; ) {
    if (cur.kind === 'overlay') {
      const m = rc.store.meta(cur.layer!);
      if (!m) throw new Error(`snapshot layer ${cur.layer} is missing from ${rc.store.root}`);
      out.push(rc.store.relFs(m.id));
      cur = m.parent;
      continue;
    }
    if (cur.kind === 'scratch') out.push('empty');
    else if (cur.kind === 'local') out.push(cur.dir!);
    else out.push(rel(await materialise(rc.docker, { id: cur.imageId!, sys: cur })));
    cur = undefined;
  }
  return out;
}

/** a read-only host directory showing the whole filesystem of `r` (bind mounts, copy sources) */
export async function viewOf(rc: RuncContext, r: Result | undefined): Promise<{ dir: string; release: () => Promise<void> }> {
  const s = snapshotOf(r);
  if (s.kind === 'local') return { dir: s.dir!, release: async () => undefined };
  if (s.kind === 'scratch') return { dir: rc.store.emptyDir, release: async () => undefined };
  if (s.kind === 'image') return { dir: await materialise(rc.docker, r), release: async () => undefined };
  const lowers = await lowersOf(rc, s);
  const target = rc.store.mountPoint('ro-' + randomBytes(6).toString('hex'));
  await mountOverlay(rc.store.root, target, lowers);
  return {
    dir: target,
    release: async () => {
      await unmount(target);
      // rmdir, never a recursive rm: a mount point that failed to unmount still shows a snapshot
      rmdirSync(target);
    },
  };
}
