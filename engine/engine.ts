// The engine assembly: one state root (SQLite DB + worker state), one worker, one cache manager,
// one solver shared by every job of this process. Frontends produce Definitions; build() loads
// one into the solver's shared graph and solves the requested vertex.
import type Database from 'better-sqlite3';
import { resolveRoot } from './cache/root.js';
import { openStateDB } from './cache/db.js';
import { CacheManager } from './cache/manager.js';
import { defaultGCPolicy, runGC } from './cache/gc.js';
import { endedProcesses, markProcess } from './cache/procs.js';
import type { PruneOptions } from './cache/manager.js';
import type { Definition } from './llb/definition.js';
import { validateDefinition } from './llb/schema.js';
import { loadDefinition } from './llbsolver/load.js';
import { Solver } from './solver/solver.js';
import { SolveError } from './solver/errors.js';
import type { JobSession, ProgressEvent, Result } from './solver/types.js';
import { SCRATCH_ID } from './snapshot/types.js';
import type { Worker } from './worker/types.js';
import { createDockerWorker } from './worker/docker/index.js';
import { ownerGone } from './worker/docker/owner.js';
import { createRuncWorker, runcUnavailable } from './worker/runc/index.js';

export interface EngineOptions {
  root?: string;
  dockerHost?: string;
  parallelism?: number;
  /** use this worker instead of creating one (tests, other workers) */
  worker?: Worker;
  /**
   * which worker to create: `runc` (steps under runc on overlay snapshots, images from the Docker
   * Engine), `docker` (every step a Docker container), or `auto` (runc where this machine allows
   * it: Linux, root, runc, getfattr, overlayfs). Default: $KILN_WORKER, else auto.
   */
  workerKind?: 'auto' | 'runc' | 'docker';
  /** GC policy run after builds; [] disables automatic GC */
  gcPolicy?: PruneOptions[];
  /**
   * at start, remove what killed processes on this root left (containers, unrecorded images), in
   * the background (default true; KILN_COLLECT_ORPHANS=0 keeps them, to look at them)
   */
  collectOrphans?: boolean;
  /** skip reconcile at start (reconcile talks to the engine for every record) */
  skipReconcile?: boolean;
}

export interface BuildOptions {
  jobId: string;
  signal?: AbortSignal;
  session?: JobSession;
  onProgress?: (e: ProgressEvent) => void;
  noCache?: boolean | string[];
  /** vertex digest to build; default the definition's output */
  target?: string;
  /** each result the job resolves, as it resolves (the solver's onResult) */
  onResult?: (vertex: string, index: number, result: Result) => void;
}

export interface Engine {
  readonly root: string;
  readonly worker: Worker;
  readonly cache: CacheManager;
  readonly db: Database.Database;
  readonly solver: Solver;
  build(def: Definition, opts: BuildOptions): Promise<{ result: Result; vertex: string }>;
  /** run the GC policy now */
  gc(): Promise<void>;
  close(): Promise<void>;
}

async function createWorker(kind: EngineOptions['workerKind'], o: { dockerHost?: string; root: string; db: Database.Database }): Promise<Worker> {
  const want = kind ?? ((process.env.KILN_WORKER as EngineOptions['workerKind']) || 'auto');
  if (want !== 'auto' && want !== 'runc' && want !== 'docker') throw new Error(`KILN_WORKER must be auto, runc or docker, not ${JSON.stringify(want)}`);
  if (want === 'docker') return createDockerWorker(o);
  const why = runcUnavailable();
  if (!why) return createRuncWorker(o);
  if (want === 'runc') throw new Error(`the runc worker cannot run here: ${why}`);
  return createDockerWorker(o);
}

export async function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  const root = opts.root ?? resolveRoot();
  const db = openStateDB(root);
  const worker = opts.worker ?? (await createWorker(opts.workerKind, { dockerHost: opts.dockerHost, root, db }));
  const cache = new CacheManager(db);
  cache.attach(worker);
  if (!opts.skipReconcile) {
    try {
      await cache.reconcile(worker, { collectOrphans: false });
    } catch {
      /* an unreachable engine must not stop the engine from starting (info() reports it) */
    }
  }
  // An engine that ended without closing (a crash, kill -9) may have left containers and images:
  // collected off the critical path (what dead processes left is not what a new build uses: their
  // images are unrecorded, their owner gone); its marker goes once that is done.
  const unmark = markProcess(root);
  const ended = !opts.skipReconcile && (opts.collectOrphans ?? process.env.KILN_COLLECT_ORPHANS !== '0') ? endedProcesses(root, ownerGone) : [];
  const collecting = ended.length
    ? cache.collectLeftovers(worker).then(() => ended.forEach((e) => e.clear()), () => undefined)
    : undefined;
  const solver = new Solver({ store: cache, parallelism: opts.parallelism ?? 16 });
  const policy = opts.gcPolicy ?? defaultGCPolicy(root);
  let gcRunning: Promise<void> | undefined;
  let active = 0;
  let closed = false;

  const gc = async () => {
    if (!policy.length) return;
    gcRunning ??= runGC(cache, policy)
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => (gcRunning = undefined));
    await gcRunning;
  };

  return {
    root,
    worker,
    cache,
    db,
    solver,
    async build(input, b) {
      if (closed) throw new Error('engine is closed');
      const def = validateDefinition(input);
      const edge = loadDefinition(def, worker, solver, b.target);
      if (!edge) return { result: { id: SCRATCH_ID, sys: { kind: 'scratch' } }, vertex: '' };
      active++;
      try {
        const result = await solver.solve({ jobId: b.jobId, target: edge, session: b.session, signal: b.signal, onProgress: b.onProgress, noCache: b.noCache, ...(b.onResult ? { onResult: b.onResult } : {}) });
        return { result, vertex: edge.vertex.digest };
      } catch (e) {
        // map the failing vertex back to its Dockerfile lines / graph node
        if (e instanceof SolveError && !e.location) e.location = def.vertices.find((v) => v.digest === e.vertex)?.metadata?.location;
        throw e;
      } finally {
        active--;
        // GC only while idle: a running job may still need records the policy would drop
        if (active === 0 && !closed) void gc();
      }
    },
    gc,
    async close() {
      closed = true;
      await collecting;
      await gcRunning;
      await worker.close();
      db.close();
      unmark();
    },
  };
}
