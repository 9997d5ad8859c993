// The runc worker: BuildKit's OCI worker design on this machine's own runc and overlayfs. Steps
// run under `runc run` on overlay snapshots (engine/snapshot/overlay), so a step costs a mount
// and a process start. It stands on the Docker worker for what the engine does well: resolving
// and pulling images (their filesystems become the lowest overlay layer), sources, and the ops
// without a fast path here (merge, diff), which get their overlay inputs as engine images.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import type Dockerode from 'dockerode';
import type { DefinitionVertex } from '../../llb/definition.js';
import type { Op as SolverOp, Result } from '../../solver/types.js';
import { OverlayStore } from '../../snapshot/overlay/store.js';
import { syscalls } from '../../snapshot/overlay/syscalls.js';
import { findExecutable } from '../../snapshot/overlay/which.js';
import type { LayerRef, Worker, WorkerInfo } from '../types.js';
import { createDockerWorker, type DockerWorker } from '../docker/index.js';
import { CacheMounts } from '../docker/cachemounts.js';
import { snapshotOf, type RuncContext } from './context.js';
import { execOp } from './exec.js';
import { fileOp } from './file.js';
import { asEngineResults, layersOf } from './layers.js';

export interface RuncWorker extends Worker {
  readonly dockerWorker: DockerWorker;
  readonly store: OverlayStore;
  /** the Docker worker's engine client (see DockerWorker.docker) */
  readonly docker: Dockerode;
}

/** why this machine cannot run the runc worker, or undefined when it can */
export function runcUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not running as root';
  if (!findExecutable('runc')) return 'runc is not installed';
  // overlay's opaque markers are read by the syscall helper, or else by getfattr
  if (!syscalls() && !findExecutable('getfattr')) return 'neither perl nor getfattr (apt-get install attr) is installed';
  try {
    if (!/\toverlay\n/.test(readFileSync('/proc/filesystems', 'utf8') + '\n')) return 'the kernel has no overlayfs';
  } catch {
    return 'cannot read /proc/filesystems';
  }
  return undefined;
}

/** containers a killed Kiln process left behind in runc's state root */
function collectContainers(runcRoot: string): void {
  // runc keeps a dir per container: an empty root needs no `runc list` (a process start per CLI run)
  if (!existsSync(runcRoot) || readdirSync(runcRoot).length === 0) return;
  const r = spawnSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' });
  for (const id of (r.stdout ?? '').split('\n').filter(Boolean)) {
    const pid = Number(id.split('-')[1]);
    let alive = pid === process.pid;
    try {
      if (!alive && pid) process.kill(pid, 0), (alive = true);
    } catch {
      /* dead owner */
    }
    if (!alive) spawnSync('runc', ['--root', runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
  }
}

export async function createRuncWorker(opts: { dockerHost?: string; root: string; db: Database }): Promise<RuncWorker> {
  const dw = await createDockerWorker(opts);
  const store = new OverlayStore(join(opts.root, 'overlay'));
  const runcRoot = join(opts.root, 'runc');
  collectContainers(runcRoot);
  await store.reconcile();
  const rc: RuncContext = { docker: dw.context, store, runcRoot, cacheMounts: new CacheMounts(opts.root) };

  /** an op of the Docker worker, handed engine images for overlay inputs */
  const onEngine = (op: SolverOp): SolverOp => ({
    cacheMap: (ctx) => op.cacheMap(ctx),
    contentChecksum: op.contentChecksum ? async (ctx, input, paths) => op.contentChecksum!(ctx, (await asEngineResults(rc, dw, [input]))[0]!, paths) : undefined,
    exec: async (ctx, inputs) => op.exec(ctx, await asEngineResults(rc, dw, inputs)),
  });

  const resolveOp = (v: DefinitionVertex): SolverOp => {
    const keyed = dw.resolveOp(v);
    if (v.op.kind === 'exec') return execOp(rc, v, keyed);
    if (v.op.kind === 'file') return fileOp(rc, v, keyed);
    return onEngine(keyed);
  };

  const isOverlay = (r: Result) => snapshotOf(r).kind === 'overlay';
  const worker: RuncWorker = {
    id: dw.id.replace(/^docker:/, 'runc:'),
    dockerWorker: dw,
    docker: dw.docker,
    store,
    async info(): Promise<WorkerInfo> {
      const i = await dw.info();
      return { ...i, id: worker.id, kind: 'runc' };
    },
    resolveOp,
    resolveImageConfig: (ref, o) => dw.resolveImageConfig(ref, o),
    async layers(result): Promise<LayerRef[]> {
      return layersOf(rc, dw, snapshotOf(result));
    },
    async exists(result) {
      return isOverlay(result) ? store.exists(snapshotOf(result).layer!) : dw.exists(result);
    },
    async remove(result) {
      if (!isOverlay(result)) return dw.remove(result);
      const id = snapshotOf(result).layer!;
      const img = store.meta(id)?.imageId;
      if (img) await dw.remove({ id: img, sys: { kind: 'image', imageId: img } }).catch(() => undefined);
      store.release(id);
    },
    async size(result) {
      return isOverlay(result) ? (store.meta(snapshotOf(result).layer!)?.size ?? 0) : dw.size(result);
    },
    rootfsCopies: () => dw.rootfsCopies!(),
    collectRootfsCopies: () => dw.collectRootfsCopies!(),
    listOwned: () => dw.listOwned(),
    async listLeftovers() {
      // an engine image of a kept overlay snapshot is the snapshot's, whoever made it
      const left = await dw.listLeftovers!();
      const held = new Set(store.list().flatMap((m) => (m.imageId ? [m.imageId] : [])));
      return { images: left.images.filter((i) => !held.has(i)), containers: left.containers };
    },
    removeContainers: (ids) => dw.removeContainers!(ids),
    close: () => dw.close(),
  };
  return worker;
}
