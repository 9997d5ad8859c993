// The modules the service drives, loaded lazily: the service (and the CLI on top of it) must start
// — and explain what is missing — even when the engine core or the exporters cannot load (no
// Docker Engine, a broken native module). The specifiers are literal so the CLI bundler can follow
// them. The interfaces below are exactly the parts of those modules the service calls.
import type { Database } from 'better-sqlite3';
import type { BuildOptions } from '../engine.js';
import type { Definition } from '../llb/definition.js';
import type { ImageConfig } from '../llb/image.js';
import type { Result } from '../solver/types.js';
import type { Worker } from '../worker/types.js';
import type { OutputSpec } from './api.js';
import type { LoadAheadLike } from './load-ahead.js';

export interface CacheManagerLike {
  du?(opts?: unknown): Promise<unknown>;
  prune?(opts?: unknown): Promise<unknown>;
}

export interface EngineLike {
  worker: Worker;
  cache: CacheManagerLike;
  db: Database;
  root: string;
  build(def: Definition, opts: BuildOptions): Promise<{ result: Result; vertex: string }>;
  close(): Promise<void> | void;
}

export interface ExporterModule {
  parseOutputSpec(s: string): OutputSpec;
  exportResult(
    spec: OutputSpec,
    req: { result: Result; imageConfig?: ImageConfig; worker: Worker; signal?: AbortSignal; loadAhead?: Pick<LoadAheadLike, 'held'>; onProgress?: (e: { id: string; current: number; total?: number; message?: string }) => void },
  ): Promise<Record<string, string>>;
  loadsIntoEngine(spec: OutputSpec): boolean;
  prewarmEngineLoad(req: { worker: Worker }): Promise<void>;
  createLoadAhead(req: { worker: Worker }, platform?: { os?: string; architecture?: string }): Promise<LoadAheadLike>;
}

export async function loadEngine(opts: { root?: string; dockerHost?: string; parallelism?: number }): Promise<EngineLike> {
  const m = (await import('../engine.js')) as unknown as { createEngine(o: typeof opts): Promise<EngineLike> };
  return m.createEngine(opts);
}

export async function loadExporter(): Promise<ExporterModule> {
  return (await import('../exporter/index.js')) as unknown as ExporterModule;
}

export async function loadValidateDefinition(): Promise<(x: unknown) => Definition> {
  const m = await import('../llb/schema.js');
  return m.validateDefinition;
}

/** engine/cache/root.ts's resolveRoot (KILN_ROOT, else $XDG_DATA_HOME/kiln). */
export async function resolveRootDir(): Promise<string> {
  const m = await import('../cache/root.js');
  return m.resolveRoot();
}

export const NO_ENGINE_HINT =
  'Kiln needs a Docker Engine: start Docker (or set DOCKER_HOST to a reachable engine), or on Debian/Ubuntu run `sudo scripts/engine-up`; see https://docs.docker.com/engine/install/';
