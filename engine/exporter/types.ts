// The Exporter seam: turns a solved result (any vertex's, not only the final one) plus an image
// config into outputs. Options follow buildx's `--output type=…,key=value`.
import type { ImageConfig } from '../llb/image.js';
import type { Result } from '../solver/types.js';
import type { Worker } from '../worker/types.js';

export interface ExportRequest {
  result: Result;
  /** the image config computed by the frontend (absent for a bare op graph: a minimal one is made) */
  imageConfig?: ImageConfig;
  attrs: Record<string, string>;
  worker: Worker;
  signal?: AbortSignal;
  /** byte progress per blob (push, tarball writing) */
  onProgress?: (e: { id: string; current: number; total?: number; message?: string }) => void;
  /** where `dest=-` writes (the CLI's stdout) */
  stdout?: import('node:stream').Writable;
  /** the engine connection for type=docker loads; default: the worker's, else DOCKER_HOST */
  docker?: import('dockerode');
  /** directory caching compressed layer blobs, e.g. <root>/blobs */
  blobCacheDir?: string;
  /** type=docker into the engine: the job's loads ahead (worker/docker/load-ahead.ts), waited for and built on */
  loadAhead?: { held(layers: import('../worker/types.js').LayerRef[]): Promise<number> };
}

export interface ExportResponse {
  /** e.g. containerimage.digest, image.name, dest */
  [key: string]: string;
}

export interface Exporter {
  readonly type: string;
  export(req: ExportRequest): Promise<ExportResponse>;
}
