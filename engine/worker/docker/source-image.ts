// docker-image:// sources: the ref is resolved in the engine and pulled when missing, with
// registry credentials when engine/registry/credentials.ts has some for the host.
import type Dockerode from 'dockerode';
import type { DefinitionVertex } from '../../llb/definition.js';
import { digestOf } from '../../llb/digest.js';
import type { SourceOp } from '../../llb/ops.js';
import type { CacheMap, Op, OpContext, Result } from '../../solver/types.js';
import { imageResult, type WorkerContext } from './context.js';
import { followProgress, isNotFound } from './images.js';
import { resolveCredentials } from '../../registry/credentials.js';

export function imageRefOf(identifier: string): string {
  return identifier.replace(/^docker-image:\/\//, '');
}

/** registry host of a reference, as the docker CLI normalises it */
export function registryHost(ref: string): string {
  const first = ref.split('/')[0]!;
  if (ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return first;
  return 'docker.io';
}

type Auth = Awaited<ReturnType<typeof resolveCredentials>>;

async function credentialsFor(host: string): Promise<Auth> {
  try {
    return await resolveCredentials(host);
  } catch {
    return undefined; // a broken helper must not block anonymous pulls of public images
  }
}

const pulling = new Map<string, Promise<Dockerode.ImageInspectInfo>>();

/** the engine image id of `ref`, pulling it when the engine does not have it */
export async function ensureImage(w: WorkerContext, ref: string, signal?: AbortSignal, onStatus?: (e: Record<string, unknown>) => void): Promise<string> {
  return (await ensureImageInfo(w, ref, signal, onStatus)).Id;
}

/** ensureImage, with the engine's inspect of the image (one round trip where the image is there) */
export async function ensureImageInfo(w: WorkerContext, ref: string, signal?: AbortSignal, onStatus?: (e: Record<string, unknown>) => void): Promise<Dockerode.ImageInspectInfo> {
  try {
    return await w.docker.getImage(ref).inspect();
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  let p = pulling.get(ref);
  if (!p) {
    p = (async () => {
      const host = registryHost(ref);
      const auth = await credentialsFor(host);
      const authconfig = auth ? { ...auth, serveraddress: host } : undefined;
      const stream = (await w.docker.pull(ref, { authconfig, abortSignal: signal } as Record<string, unknown>)) as NodeJS.ReadableStream;
      await followProgress(w.docker, stream, onStatus);
      return w.docker.getImage(ref).inspect();
    })().finally(() => pulling.delete(ref));
    pulling.set(ref, p);
  }
  return p;
}

export function imageSourceOp(w: WorkerContext, v: DefinitionVertex): Op {
  const op = v.op as SourceOp;
  const ref = imageRefOf(op.identifier);
  let resolved: Promise<string> | undefined;
  const resolve = (ctx: OpContext) =>
    (resolved ??= ensureImage(w, ref, ctx.signal, (e) => {
      if (typeof e.id === 'string' && e.progressDetail && typeof (e.progressDetail as { current?: number }).current === 'number') {
        const d = e.progressDetail as { current: number; total?: number };
        ctx.progress.status(e.id, d.current, d.total);
      }
    }).catch((err) => {
      resolved = undefined;
      throw err;
    }));
  return {
    async cacheMap(ctx): Promise<CacheMap> {
      // The resolved image id is part of the key: a re-tagged ref is a different result.
      return { digest: digestOf(op), deps: [], extra: await resolve(ctx) };
    },
    async exec(ctx): Promise<Result[]> {
      return [imageResult(await resolve(ctx))];
    },
  };
}
