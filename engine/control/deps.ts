// The modules the service drives, loaded lazily and by computed specifier: the service (and the
// CLI on top of it) must start — and explain what is missing — even when the engine core or the
// exporters cannot load (no Docker Engine, a broken native module, a module not built yet). The
// interfaces below are exactly the parts of those modules the service calls.
import os from 'node:os';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { Definition } from '../llb/definition.js';
import type { ImageConfig } from '../llb/image.js';
import type { JobSession, ProgressEvent, Result } from '../solver/types.js';
import type { Worker } from '../worker/types.js';
import type { OutputSpec } from './api.js';

export interface CacheManagerLike {
  du?(opts?: unknown): Promise<unknown>;
  prune?(opts?: unknown): Promise<unknown>;
}

export interface EngineLike {
  worker: Worker;
  cache: CacheManagerLike;
  db: Database;
  root: string;
  build(
    def: Definition,
    opts: { jobId: string; signal?: AbortSignal; session?: JobSession; onProgress?: (e: ProgressEvent) => void; noCache?: boolean | string[]; target?: string },
  ): Promise<{ result: Result; vertex: string }>;
  close(): Promise<void> | void;
}

export interface ExporterModule {
  parseOutputSpec(s: string): OutputSpec;
  exportResult(
    spec: OutputSpec,
    req: { result: Result; imageConfig?: ImageConfig; worker: Worker; signal?: AbortSignal; onProgress?: (e: { id: string; current: number; total?: number; message?: string }) => void },
  ): Promise<Record<string, string>>;
}

async function load<T>(rel: string): Promise<T> {
  const spec = new URL(rel, import.meta.url).href;
  return (await import(spec)) as T;
}

export async function loadEngine(opts: { root?: string; dockerHost?: string; parallelism?: number }): Promise<EngineLike> {
  const m = await load<{ createEngine(o: typeof opts): Promise<EngineLike> }>('../engine.js');
  return m.createEngine(opts);
}

export async function loadExporter(): Promise<ExporterModule> {
  return load<ExporterModule>('../exporter/index.js');
}

export async function loadValidateDefinition(): Promise<(x: unknown) => Definition> {
  try {
    const m = await load<{ validateDefinition(x: unknown): Definition }>('../llb/schema.js');
    return m.validateDefinition;
  } catch {
    // Until engine/llb/schema.ts exists the boundary schema's shape check is all there is.
    return (x) => x as Definition;
  }
}

/** engine/cache/root.ts's resolveRoot when present; the same rule otherwise. */
export async function resolveRootDir(): Promise<string> {
  try {
    const m = await load<{ resolveRoot(): string }>('../cache/root.js');
    return m.resolveRoot();
  } catch {
    if (process.env.KILN_ROOT) return path.resolve(process.env.KILN_ROOT);
    const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
    return path.join(base, 'kiln');
  }
}

export const NO_ENGINE_HINT =
  'Kiln needs a Docker Engine: start Docker (or set DOCKER_HOST to a reachable engine), or on Debian/Ubuntu run `sudo scripts/engine-up`; see https://docs.docker.com/engine/install/';
