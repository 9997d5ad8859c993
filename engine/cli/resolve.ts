// Base-image metadata for a bake driven through `--addr`. Bake converts each target's Dockerfile
// on the client (to splice `target:` contexts into one job), and the converter needs each base
// image's config (ENV, WORKDIR, USER…). The control API has no image-config call, so the client
// asks the Docker Engine it can reach itself (DOCKER_HOST) — the same engine as the server's when
// `kiln serve` runs on this machine, which is the only place it listens by default.
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedImage } from '../worker/types.js';

export interface ImageResolver {
  resolve(ref: string): Promise<ResolvedImage>;
  close(): Promise<void>;
}

export async function clientImageResolver(root?: string): Promise<ImageResolver> {
  const [{ default: Database }, { createDockerWorker }, { resolveRootDir }] = await Promise.all([
    import('better-sqlite3'),
    import('../worker/docker/index.js'),
    import('../control/deps.js'),
  ]);
  // configs read back from `docker save` are cached per image id under the client's state root
  const dir = path.join(root ?? (await resolveRootDir()), 'client-images');
  fs.mkdirSync(dir, { recursive: true });
  const db = new Database(':memory:');
  const w = await createDockerWorker({ root: dir, db });
  return {
    resolve: (ref) => w.resolveImageConfig(ref),
    async close() {
      await w.close();
      db.close();
    },
  };
}
