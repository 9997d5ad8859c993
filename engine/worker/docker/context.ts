// What every op implementation of the Docker worker shares: the engine connection, the state
// root, and the ways to turn any Result into something Docker can start a container from.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Database } from 'better-sqlite3';
import type { Result } from '../../solver/types.js';
import type { Snapshot } from '../../snapshot/types.js';
import { SCRATCH_ID } from '../../snapshot/types.js';
import { ImageStore } from './images.js';
import { COPIES, copyKey, noteCopy } from './rootfs-copies.js';

export interface WorkerContext {
  docker: Dockerode;
  root: string;
  db: Database;
  images: ImageStore;
  /** the engine shares this machine's filesystem (host-dir bind mounts work) */
  localEngine: boolean;
  endpoint: string;
}

export function snapshotOf(r: Result | undefined): Snapshot {
  if (!r || r.id === SCRATCH_ID) return { kind: 'scratch' };
  const s = r.sys as Snapshot | undefined;
  if (s?.kind) return s;
  return { kind: 'image', imageId: r.id };
}

export function imageResult(imageId: string): Result {
  return { id: imageId, sys: { kind: 'image', imageId } satisfies Snapshot };
}

export const scratchResult = (): Result => ({ id: SCRATCH_ID, sys: { kind: 'scratch' } satisfies Snapshot });

/** tar a host directory with the system tar (owners, modes, symlinks kept) */
export function tarDir(dir: string, args: string[] = ['.']): Readable {
  const p = spawn('tar', ['-C', dir, '--numeric-owner', '-cf', '-', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // A PassThrough, not the child's stdout itself: handed to putArchive directly, the child's
  // stdout arrived as an empty body (observed with docker-modem); a tar failure is surfaced as
  // an error on the stream the caller holds.
  const out = new PassThrough();
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  p.stdout.pipe(out, { end: false });
  p.on('close', (code) => {
    if (code !== 0) out.destroy(new Error(`tar of ${dir} failed: ${err.trim()}`));
    else out.end();
  });
  return out;
}

/** extract a tar stream into `dir` with the system tar (as root it keeps owners) */
export async function untarTo(stream: NodeJS.ReadableStream, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const p = spawn('tar', ['-C', dir, '--numeric-owner', '-xpf', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<number>((res) => p.on('close', (c) => res(c ?? 1)));
  await pipeline(stream as unknown as Readable, p.stdin);
  const code = await closed;
  if (code !== 0) throw new Error(`extracting into ${dir} failed: ${err.trim()}`);
}

/** an engine image that holds `r`'s filesystem (local dirs are imported on demand) */
export async function imageFor(w: WorkerContext, r: Result | undefined): Promise<string> {
  const s = snapshotOf(r);
  if (s.kind === 'scratch') return (await w.images.scratchImage()).id;
  if (s.kind === 'image') return s.imageId!;
  const base = (await w.images.scratchImage()).id;
  return w.images.applyTar(base, tarDir(s.dir!) as unknown as NodeJS.ReadableStream);
}

const materialising = new Map<string, Promise<string>>();

/**
 * A host directory holding `r`'s filesystem, made once per snapshot under <root>/mounts/<id> and
 * reused: bind mounts from other vertices are read-only views of it.
 */
export async function materialise(w: WorkerContext, r: Result | undefined): Promise<string> {
  const s = snapshotOf(r);
  if (s.kind === 'local') return s.dir!;
  const key = s.kind === 'scratch' ? 'scratch' : copyKey(s.imageId!);
  const dir = join(w.root, COPIES, key);
  if (existsSync(dir)) return dir;
  let p = materialising.get(dir);
  if (!p) {
    p = (async () => {
      const tmp = dir + '.tmp-' + process.pid + '-' + Date.now();
      mkdirSync(tmp, { recursive: true });
      if (s.kind === 'image') {
        const { stream, done } = await w.images.exportFs(s.imageId!);
        try {
          await untarTo(stream, tmp);
        } catch (e) {
          rmSync(tmp, { recursive: true, force: true });
          throw e;
        } finally {
          await done();
        }
      }
      renameSync(tmp, dir);
      if (s.kind === 'image') noteCopy(w.root, key, s.imageId!);
      return dir;
    })().finally(() => materialising.delete(dir));
    materialising.set(dir, p);
  }
  return p;
}
