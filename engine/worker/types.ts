// The Worker seam. The solver only sees solver `Op`s; a worker turns LLB ops into them and owns
// the snapshots they produce. The Docker worker (worker/docker) is the first implementation; an
// exec-in-a-long-lived-container strategy or a direct runc worker can replace it behind this
// interface without touching the solver.
import type { Readable } from 'node:stream';
import type { DefinitionVertex } from '../llb/definition.js';
import type { ImageConfig } from '../llb/image.js';
import type { Op as SolverOp, Result } from '../solver/types.js';

export interface WorkerInfo {
  id: string;
  kind: string;
  /** e.g. "unix:///run/docker.sock" */
  endpoint: string;
  engineVersion?: string;
  platforms: string[];
  ok: boolean;
  error?: string;
}

/** One layer of a snapshot, base first: an uncompressed tar with its diff id. */
export interface LayerRef {
  diffId: string;
  size: number;
  open(): Promise<Readable>;
  /**
   * This layer (and every layer below it) already exists in the Docker Engine the worker uses, so
   * a `docker load` may leave it out of the archive. A hint: a loader must retry with the layer
   * included if the engine says otherwise.
   */
  inEngine?: boolean;
  /** when the step that made this layer ran (ms since the epoch), where the worker knows it */
  created?: number;
}

export interface ResolvedImage {
  ref: string;
  /** engine image id */
  imageId: string;
  /** registry manifest digest, when known */
  digest?: string;
  config: ImageConfig;
}

export interface Worker {
  readonly id: string;
  info(): Promise<WorkerInfo>;
  /** turn an LLB vertex into a solver op; `inputs` are the vertex's inputs in order */
  resolveOp(vertex: DefinitionVertex): SolverOp;
  /** the image config (with history) of an image ref, pulling it if missing */
  resolveImageConfig(ref: string, opts?: { signal?: AbortSignal }): Promise<ResolvedImage>;
  /** layers of a result (empty for scratch) */
  layers(result: Result): Promise<LayerRef[]>;
  /** does the result still exist (for cache reconcile)? */
  exists(result: Result): Promise<boolean>;
  /** release a result that no cache record points to any more */
  remove(result: Result): Promise<void>;
  /** size on disk of a result's own top layer, in bytes */
  size(result: Result): Promise<number>;
  /** images and containers this worker created (label kiln=1), for the cache manager's reconcile */
  listOwned?(): Promise<{ images: string[]; containers: string[] }>;
  /**
   * what ended processes left on this worker's root (containers, images no snapshot of the worker
   * refers to); the cache manager removes them at start, keeping images its records name
   */
  listLeftovers?(): Promise<{ images: string[]; containers: string[] }>;
  /** host copies of engine images' filesystems this worker keeps (not cache records), for du */
  rootfsCopies?(): Promise<{ count: number; size: number }>;
  /** removes host copies whose image has left the engine; returns how many went and the bytes freed */
  collectRootfsCopies?(): Promise<{ removed: number; reclaimed: number }>;
  /** kills and removes containers (leftovers); returns how many went */
  removeContainers?(ids: string[]): Promise<number>;
  close(): Promise<void>;
}
