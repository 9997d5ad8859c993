// The Docker worker: LLB ops become solver ops that run against a Docker Engine; results are
// engine images (committed containers / pulled images), scratch, or local host directories.
import { mkdirSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import type Dockerode from 'dockerode';
import type { DefinitionVertex } from '../../llb/definition.js';
import type { Op as SolverOp, Result } from '../../solver/types.js';
import type { LayerRef, ResolvedImage, Worker, WorkerInfo } from '../types.js';
import { dockerFromEnv, isLocalEndpoint } from './connect.js';
import { listLeftovers } from './owner.js';
import { collectCopies, copiesUsage, removeCopyOf } from './rootfs-copies.js';
import { snapshotOf, type WorkerContext } from './context.js';
import { execOp } from './exec.js';
import { fileOp } from './file.js';
import { diffOp, mergeOp } from './merge.js';
import { ensureImageInfo, imageRefOf, imageSourceOp } from './source-image.js';
import { localSourceOp } from './source-local.js';
import { gitSourceOp, isGitIdentifier } from './source-git.js';
import { httpSourceOp } from './source-http.js';
import { CacheMounts } from './cachemounts.js';
import { ImageStore, isNotFound } from './images.js';

export { ExecError, FileOpError, SourceError } from './errors.js';
export { dockerFromEnv } from './connect.js';

export interface DockerWorker extends Worker {
  readonly context: WorkerContext;
  /** the engine client, shared with the exporters (an early docker load is per client) */
  readonly docker: Dockerode;
  /** images and containers labelled kiln=1 */
  listOwned(): Promise<{ images: string[]; containers: string[] }>;
}

export async function createDockerWorker(opts: { dockerHost?: string; root: string; db: Database }): Promise<DockerWorker> {
  const { docker, resolved } = dockerFromEnv(opts.dockerHost);
  mkdirSync(opts.root, { recursive: true });
  const w: WorkerContext = {
    docker,
    root: opts.root,
    db: opts.db,
    images: new ImageStore(docker, opts.root),
    localEngine: isLocalEndpoint(resolved),
    endpoint: resolved.host,
  };
  const cacheMounts = new CacheMounts(opts.root);

  const resolveOp = (v: DefinitionVertex): SolverOp => {
    const op = v.op;
    switch (op.kind) {
      case 'exec':
        return execOp(w, v, cacheMounts);
      case 'file':
        return fileOp(w, v);
      case 'merge':
        return mergeOp(w, v);
      case 'diff':
        return diffOp(w, v);
      case 'source': {
        const id = op.identifier;
        if (id.startsWith('docker-image://')) return imageSourceOp(w, v);
        if (id.startsWith('local://')) return localSourceOp(w, v);
        if (isGitIdentifier(id) || op.attrs?.['git.fullurl'] || op.attrs?.keepGitDir || op.attrs?.['git.keepgitdir']) return gitSourceOp(w, v);
        if (/^https?:\/\//.test(id)) return httpSourceOp(w, v);
        throw new Error(`unsupported source ${id}`);
      }
    }
  };

  const worker: DockerWorker = {
    id: `docker:${resolved.host}`,
    context: w,
    docker,
    async info(): Promise<WorkerInfo> {
      try {
        const v = await docker.version();
        return { id: worker.id, kind: 'docker', endpoint: resolved.host, engineVersion: v.Version, platforms: [`${v.Os}/${v.Arch === 'x86_64' ? 'amd64' : v.Arch}`], ok: true };
      } catch (e) {
        return { id: worker.id, kind: 'docker', endpoint: resolved.host, platforms: [], ok: false, error: (e as Error).message };
      }
    },
    resolveOp,
    async resolveImageConfig(ref, o): Promise<ResolvedImage> {
      const r = imageRefOf(ref);
      const info = await ensureImageInfo(w, r, o?.signal);
      const imageId = info.Id;
      const digest = info.RepoDigests?.find((d) => d.startsWith(r.split(/[:@]/)[0] + '@'))?.split('@')[1] ?? info.RepoDigests?.[0]?.split('@')[1];
      return { ref: r, imageId, digest, config: await w.images.config(imageId) };
    },
    async layers(result: Result): Promise<LayerRef[]> {
      const s = snapshotOf(result);
      if (s.kind === 'scratch') return [];
      const imageId = s.kind === 'image' ? s.imageId! : await (await import('./context.js')).imageFor(w, result);
      // an engine image's layers are in the engine (a docker load may leave them out)
      return (await w.images.layers(imageId)).map((l) => ({ diffId: l.diffId, size: l.size, open: () => w.images.openLayer(l.path), inEngine: s.kind === 'image' }));
    },
    async exists(result) {
      const s = snapshotOf(result);
      if (s.kind === 'scratch') return true;
      if (s.kind === 'local') return !!s.dir;
      try {
        await docker.getImage(s.imageId!).inspect();
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
    },
    async remove(result) {
      const s = snapshotOf(result);
      if (s.kind !== 'image') return;
      try {
        // noprune: untagged parents may be other records' snapshots.
        await docker.getImage(s.imageId!).remove({ noprune: true });
      } catch (e) {
        const code = (e as { statusCode?: number }).statusCode;
        if (code !== 404 && code !== 409) throw e; // 409: still a parent of another image
        if (code === 409) return;
      }
      // its host copy, if a step stood on one, goes with it
      removeCopyOf(opts.root, s.imageId!);
    },
    rootfsCopies: async () => copiesUsage(opts.root),
    collectRootfsCopies: () => collectCopies(opts.root, (id) => worker.exists({ id, sys: { kind: 'image', imageId: id } })),
    async size(result) {
      const s = snapshotOf(result);
      if (s.kind !== 'image') return 0;
      const h = (await docker.getImage(s.imageId!).history()) as { Size: number }[];
      return h[0]?.Size ?? 0;
    },
    async listOwned() {
      const [images, containers] = await Promise.all([
        docker.listImages({ all: true, filters: { label: ['kiln=1'] } }),
        docker.listContainers({ all: true, filters: { label: ['kiln=1'] } }),
      ]);
      return { images: images.map((i) => i.Id), containers: containers.map((c) => c.Id) };
    },
    listLeftovers: () => listLeftovers(docker, opts.root),
    async removeContainers(ids) {
      const gone = await Promise.all(ids.map((id) => docker.getContainer(id).remove({ force: true, v: true }).then(() => true, () => false)));
      return gone.filter(Boolean).length;
    },
    async close() {
      /* dockerode keeps no persistent connection to close */
    },
  };
  return worker;
}
