// The worker's engine-side plumbing: the scratch base image, throwaway containers for file ops,
// commits, turning a host directory into a snapshot, and reading images back out of `docker save`
// (20.10's legacy layout: manifest.json + <id>/layer.tar + <config>.json).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import tar from 'tar-stream';
import type { ImageConfig } from '../../llb/image.js';
import { ownerLabels } from './owner.js';

export const KILN_LABEL = { kiln: '1' };
const SCRATCH_REPO = 'kiln-scratch';

export function isNotFound(e: unknown): boolean {
  return (e as { statusCode?: number })?.statusCode === 404;
}

/** drain a dockerode JSON-lines progress stream, failing on an errorDetail */
export async function followProgress(docker: Dockerode, stream: NodeJS.ReadableStream, onEvent?: (e: Record<string, unknown>) => void): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, out: Record<string, unknown>[]) => {
        if (err) return reject(err);
        const bad = out.find((o) => o.error || o.errorDetail);
        if (bad) return reject(new Error(String(bad.error ?? (bad.errorDetail as { message?: string })?.message)));
        resolve(out);
      },
      onEvent,
    );
  });
}

export class ImageStore {
  private scratch?: Promise<{ id: string; diffId: string }>;
  private configCache = new Map<string, ImageConfig>();
  /** image id → its diff ids (without the scratch layer): an id is its config's digest, so fixed */
  private diffIdCache = new Map<string, string[]>();

  constructor(
    readonly docker: Dockerode,
    readonly root: string,
  ) {
    for (const d of ['layers', 'configs', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  }

  /**
   * The empty base every scratch-rooted step starts from. Docker cannot create a container
   * without an image, so an empty tar is imported once; its (empty) layer is hidden by layers().
   */
  scratchImage(): Promise<{ id: string; diffId: string }> {
    this.scratch ??= (async () => {
      const ref = `${SCRATCH_REPO}:latest`;
      try {
        const i = await this.docker.getImage(ref).inspect();
        return { id: i.Id, diffId: i.RootFS.Layers?.[0] ?? '' };
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      const empty = Buffer.alloc(1024); // two zero blocks: an empty tar
      const stream = await this.docker.importImage(Readable.from([empty]) as unknown as NodeJS.ReadableStream, {
        repo: SCRATCH_REPO,
        tag: 'latest',
        changes: ['LABEL kiln=1'],
      } as unknown as Record<string, unknown>);
      await followProgress(this.docker, stream);
      const i = await this.docker.getImage(ref).inspect();
      return { id: i.Id, diffId: i.RootFS.Layers?.[0] ?? '' };
    })();
    this.scratch.catch(() => (this.scratch = undefined));
    return this.scratch;
  }

  /** a created (never started) container, for archive reads/writes and commits */
  async createIdle(image: string): Promise<Dockerode.Container> {
    return this.docker.createContainer({
      Image: image,
      Cmd: ['/kiln-idle'],
      Labels: ownerLabels(this.root),
      HostConfig: { NetworkMode: 'none' },
    });
  }

  async commit(c: Dockerode.Container, changes: string[] = []): Promise<string> {
    const r = (await c.commit({ changes: ['LABEL kiln=1', ...changes] } as Record<string, unknown>)) as { Id: string };
    return r.Id;
  }

  async removeContainer(c: Dockerode.Container): Promise<void> {
    try {
      await c.remove({ force: true, v: true });
    } catch (e) {
      if (!isNotFound(e) && (e as { statusCode?: number }).statusCode !== 409) throw e;
    }
  }

  /** apply a tar on top of `image` (extracted at /) and commit: a new snapshot without a process */
  async applyTar(image: string, tarData: Buffer | NodeJS.ReadableStream, changes: string[] = []): Promise<string> {
    const c = await this.createIdle(image);
    try {
      await c.putArchive(tarData, { path: '/' });
      return await this.commit(c, changes);
    } finally {
      await this.removeContainer(c);
    }
  }

  /** the whole filesystem of an image as a tar stream (for materialising bind mounts) */
  async exportFs(image: string): Promise<{ stream: NodeJS.ReadableStream; done: () => Promise<void> }> {
    const c = await this.createIdle(image);
    const stream = await c.export();
    return { stream, done: () => this.removeContainer(c) };
  }

  layerPath(diffId: string): string {
    return join(this.root, 'layers', diffId.replace(/^sha256:/, '') + '.tar');
  }

  /**
   * Stream `docker save` once: cache each layer tar under <root>/layers/<diffid>.tar (when
   * `keepLayers`) and the config JSON under <root>/configs/<id>.json.
   */
  async save(imageId: string, keepLayers: boolean): Promise<ImageConfig> {
    const stream = await this.docker.getImage(imageId).get();
    const ex = tar.extract();
    let config: ImageConfig | undefined;
    ex.on('entry', (h, s, next) => {
      const done = (e?: unknown) => (e ? ex.destroy(e as Error) : next());
      if (h.name.endsWith('/layer.tar') && keepLayers) {
        const tmp = join(this.root, 'tmp', randomBytes(8).toString('hex'));
        const hash = createHash('sha256');
        s.on("data", (d: unknown) => hash.update(d as Buffer));
        pipeline(s, createWriteStream(tmp)).then(() => {
          const dest = this.layerPath('sha256:' + hash.digest('hex'));
          if (existsSync(dest)) rmSync(tmp);
          else renameSync(tmp, dest);
          done();
        }, done);
      } else if (/^[0-9a-f]{64}\.json$/.test(h.name)) {
        const chunks: Buffer[] = [];
        s.on("data", (d: unknown) => chunks.push(d as Buffer));
        s.on('end', () => {
          config = JSON.parse(Buffer.concat(chunks).toString()) as ImageConfig;
          done();
        });
        s.on('error', done);
      } else {
        s.on('end', () => done());
        s.resume();
      }
    });
    await pipeline(stream as unknown as Readable, ex);
    if (!config) throw new Error(`docker save of ${imageId} has no config`);
    writeFileSync(join(this.root, 'configs', imageId.replace(/^sha256:/, '') + '.json'), JSON.stringify(config));
    this.configCache.set(imageId, config);
    return config;
  }

  /** the full OCI config (with history) of an engine image, cached by image id */
  async config(imageId: string): Promise<ImageConfig> {
    const hit = this.configCache.get(imageId);
    if (hit) return hit;
    const p = join(this.root, 'configs', imageId.replace(/^sha256:/, '') + '.json');
    if (existsSync(p)) {
      const c = JSON.parse(readFileSync(p, 'utf8')) as ImageConfig;
      this.configCache.set(imageId, c);
      return c;
    }
    return this.save(imageId, false);
  }

  /** layer diff ids base-first, each cached as a tar file; scratch's empty base layer dropped */
  async layers(imageId: string): Promise<{ diffId: string; path: string; size: number }[]> {
    // asked for each step result on an image (exports, loads ahead): one inspect per image
    let diffIds = this.diffIdCache.get(imageId);
    if (!diffIds) {
      const info = await this.docker.getImage(imageId).inspect();
      diffIds = info.RootFS.Layers ?? [];
      const scratch = await this.scratchImage();
      if (diffIds[0] === scratch.diffId && (info.Id === scratch.id || (await this.descendsFromScratch(info)))) diffIds = diffIds.slice(1);
      if (imageId.startsWith('sha256:')) this.diffIdCache.set(imageId, diffIds);
    }
    if (diffIds.some((d) => !existsSync(this.layerPath(d)))) await this.save(imageId, true);
    return diffIds.map((d) => {
      const path = this.layerPath(d);
      if (!existsSync(path)) throw new Error(`layer ${d} of ${imageId} missing from docker save`);
      return { diffId: d, path, size: statSync(path).size };
    });
  }

  private async descendsFromScratch(info: Dockerode.ImageInspectInfo): Promise<boolean> {
    // The imported empty tar's diff id is the same for every empty import, so equality of the
    // first diff id is enough: a real base layer is never an empty tar.
    return info.RootFS.Layers?.[0] === (await this.scratchImage()).diffId;
  }

  openLayer(path: string): Promise<Readable> {
    return Promise.resolve(createReadStream(path));
  }
}

