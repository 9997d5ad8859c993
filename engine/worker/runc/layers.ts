// A snapshot's layers for exporters (base first), and an engine image for a snapshot when an op
// without a runc fast path (merge, diff, sources) needs one. Layer tars are made once per layer.
import { createReadStream } from 'node:fs';
import type { LayerRef } from '../types.js';
import type { Result } from '../../solver/types.js';
import type { Snapshot } from '../../snapshot/types.js';
import { writeLayerTar } from '../../snapshot/overlay/difftar.js';
import { imageFor, imageResult, snapshotOf } from '../docker/context.js';
import { isNotFound } from '../docker/images.js';
import { ownerLabels } from '../docker/owner.js';
import { loadImage } from '../docker/load.js';
import type { DockerWorker } from '../docker/index.js';
import type { RuncContext } from './context.js';
import type { LayerMeta } from '../../snapshot/overlay/store.js';

const tarring = new Map<string, Promise<void>>();

async function ensureTar(rc: RuncContext, id: string): Promise<void> {
  if (rc.store.meta(id)?.diffId) return;
  let p = tarring.get(id);
  if (!p) {
    // the temp file sits with the bundles, which the next start collects if this process dies
    p = writeLayerTar(rc.store.fsDir(id), rc.store.tarPath(id), rc.store.bundleDir(`tar-${id}`))
      .then(({ diffId, size }) => void rc.store.update(id, { diffId, tarSize: size }))
      .finally(() => tarring.delete(id));
    tarring.set(id, p);
  }
  await p;
}

export async function layersOf(rc: RuncContext, dw: DockerWorker, s: Snapshot): Promise<LayerRef[]> {
  // the overlay layers on top (top first), then whatever they stand on
  const chain: string[] = [];
  let cur = s;
  while (cur.kind === 'overlay') {
    const m = rc.store.meta(cur.layer!);
    if (!m) throw new Error(`snapshot layer ${cur.layer} is missing`);
    chain.push(m.id);
    cur = m.parent;
  }
  const [base] = await Promise.all([baseLayers(dw, cur), ...chain.map((id) => ensureTar(rc, id))]);
  let inEngine = base.every((l) => l.inEngine);
  const out = [...base];
  for (const id of chain.reverse()) {
    const meta = rc.store.meta(id)!;
    inEngine &&= !!meta.imageId;
    out.push({ diffId: meta.diffId!, size: meta.tarSize!, open: async () => createReadStream(rc.store.tarPath(id)), inEngine, created: meta.created });
  }
  return out;
}

async function baseLayers(dw: DockerWorker, s: Snapshot): Promise<LayerRef[]> {
  const base = await dw.layers({ id: s.imageId ?? s.dir ?? 'scratch', sys: s });
  // an engine image's layers are in the engine by definition
  return s.kind === 'image' ? base.map((l) => ({ ...l, inEngine: true })) : base;
}

/**
 * Small layers are tarred in the background as soon as they are committed: an export would
 * otherwise wait for them one by one, and they cost a few milliseconds. Big ones wait for their
 * first export (most intermediate layers never get one).
 */
const EAGER_TAR_BYTES = 8 << 20;

export function tarSoon(rc: RuncContext, m: LayerMeta): void {
  if (m.size <= EAGER_TAR_BYTES) ensureTar(rc, m.id).catch(() => undefined);
}

/** an engine image with the snapshot's filesystem (made once per layer, then reused) */
export async function engineImageOf(rc: RuncContext, dw: DockerWorker, r: Result | undefined): Promise<string> {
  const s = snapshotOf(r);
  if (s.kind !== 'overlay') return imageFor(rc.docker, r);
  const m = rc.store.meta(s.layer!)!;
  if (m.imageId) {
    try {
      await rc.docker.docker.getImage(m.imageId).inspect();
      return m.imageId;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  const layers = await layersOf(rc, dw, s);
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const config = {
    architecture: arch,
    os: 'linux',
    config: { Labels: ownerLabels(rc.docker.root) },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created_by: 'kiln overlay snapshot' })),
  };
  const id = await loadImage(rc.docker.docker, layers, config);
  rc.store.update(m.id, { imageId: id });
  return id;
}

/** inputs as engine images, for ops that run on the Docker worker */
export async function asEngineResults(rc: RuncContext, dw: DockerWorker, inputs: Result[]): Promise<Result[]> {
  return Promise.all(inputs.map(async (r) => (snapshotOf(r).kind === 'overlay' ? imageResult(await engineImageOf(rc, dw, r)) : r)));
}
