// The generic solver, after BuildKit's solver/jobs.go + edge.go, simplified: one graph of
// vertices shared by all jobs (same digest ⇒ same Vertex object), cache keys computed top-down
// from the sources (cacheMap only, nothing executes), a cache lookup for the requested output
// first, and only on a miss are the inputs' results resolved and the op executed. Executions are
// shared by cache key across concurrent jobs, and are aborted only once no job needs them.
import { setMaxListeners } from 'node:events';
import { digestOf } from '../llb/digest.js';
import { CanceledError, errorMessage, isAbort, SolveError } from './errors.js';
import { ProgressFanout, DEFAULT_LOG_LIMIT, deliver, type Subscriber } from './progress.js';
import { Semaphore } from './semaphore.js';
import type { CacheStore, Edge, JobSession, OpContext, ProgressEvent, Result, Vertex, VertexProgress } from './types.js';

export interface SolveRequest {
  /**
   * The job's id, on every event. Solves that run at the same time under one id (the targets of
   * one build) are one job for progress: each vertex is reported to it once.
   */
  jobId: string;
  target: Edge;
  session?: JobSession;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  /** true: ignore every cache record; a list: ignore records of these vertex digests or names */
  noCache?: boolean | string[];
  /** each result this job resolves (executed or from the cache), as it resolves; may repeat */
  onResult?: (vertex: string, index: number, result: Result) => void;
}

export interface SolverOptions {
  store: CacheStore;
  parallelism?: number;
  /** per-vertex log cap in bytes */
  logLimit?: number;
}

/** progress state of one job id, shared by its concurrent solves */
interface JobReport {
  reported: Set<string>;
  solves: number;
  /** vertices a finished solve keyed but never needed (a dependent hit), reported when the last solve ends */
  covered: Vertex[];
}

interface Job extends Subscriber {
  session: JobSession;
  signal: AbortSignal;
  noCache: boolean | Set<string>;
  keys: Map<string, Promise<string>>;
  results: Map<string, Promise<Result>>;
  /**
   * Vertices already reported to this job, executed or cached: each is reported once. Shared by
   * every view of the job (the per-execution copies in run()) and by concurrent solves of its id,
   * so a step that ran in this job is not reported again as a cache hit when another dependent
   * (e.g. a COPY --from whose content key already resolved it) asks for it later.
   */
  reported: Set<string>;
  /** executions this job was the last to leave (and so aborted); a failed job waits for them */
  abandoned: Promise<unknown>[];
  onResult?: SolveRequest['onResult'];
}

/** how long a failed or cancelled job waits for its aborted steps to clean up before it returns */
const ABANDON_WAIT_MS = 15_000;

interface Execution {
  key: string;
  fanout: ProgressFanout;
  controller: AbortController;
  promise: Promise<Result[]>;
  jobs: Set<Job>;
}

export class Solver {
  /** the shared graph: digest → vertex, for every loaded definition */
  readonly graph = new Map<string, Vertex>();
  /** counters observable by tests and `kiln debug` */
  readonly stats = { executions: 0, cacheHits: 0 };
  private readonly store: CacheStore;
  private readonly sem: Semaphore;
  private readonly logLimit: number;
  private readonly running = new Map<string, Execution>();
  /** job id → what was reported to it, while a solve of that id runs */
  private readonly reports = new Map<string, JobReport>();

  constructor(opts: SolverOptions) {
    this.store = opts.store;
    this.sem = new Semaphore(Math.max(1, opts.parallelism ?? 4));
    this.logLimit = opts.logLimit ?? DEFAULT_LOG_LIMIT;
  }

  /** the graph's vertex for this digest, adding `make()` when it is new */
  vertex(digest: string, make: () => Vertex): Vertex {
    let v = this.graph.get(digest);
    if (!v) {
      v = make();
      this.graph.set(digest, v);
    }
    return v;
  }

  async solve(req: SolveRequest): Promise<Result> {
    const controller = new AbortController();
    // every running vertex of the job listens to this signal: a wide graph is not a leak
    setMaxListeners(0, controller.signal);
    const onAbort = () => controller.abort(new CanceledError());
    if (req.signal?.aborted) throw new CanceledError();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    let report = this.reports.get(req.jobId);
    if (!report) this.reports.set(req.jobId, (report = { reported: new Set(), solves: 0, covered: [] }));
    report.solves++;
    const job: Job = {
      jobId: req.jobId,
      emit: req.onProgress ?? (() => {}),
      session: req.session ?? {},
      signal: controller.signal,
      noCache: Array.isArray(req.noCache) ? new Set(req.noCache) : !!req.noCache,
      keys: new Map(),
      results: new Map(),
      reported: report.reported,
      abandoned: [],
      ...(req.onResult ? { onResult: req.onResult } : {}),
    };
    try {
      const result = await abortable(this.resolve(job, req.target), job.signal);
      report.covered.push(...unreported(job, req.target.vertex));
      return result;
    } catch (e) {
      // When solve() rejects, the steps it aborted have removed their containers and mounts: a
      // caller that cancels and then looks finds nothing left (bounded, so a stuck worker cannot
      // hold the caller forever).
      if (!controller.signal.aborted) controller.abort(new CanceledError('job failed'));
      await settleWithin(job.abandoned, ABANDON_WAIT_MS);
      if (isAbort(e) && req.signal?.aborted) throw new CanceledError();
      throw e;
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
      if (--report.solves === 0) {
        this.reports.delete(req.jobId);
        reportCovered(job, report);
      }
      // leave every execution this job still waits on (a failure elsewhere ends the job)
      if (!controller.signal.aborted) controller.abort(new CanceledError('job finished'));
    }
  }

  /** the cache key of a vertex for this job (inputs' keys first; content checksums where the op asks) */
  cacheKey(job: Job, v: Vertex): Promise<string> {
    return memo(job.keys, v.digest, () => this.computeKey(job, v));
  }

  private async computeKey(job: Job, v: Vertex): Promise<string> {
    const ctx = this.context(job.signal, job.session, silentProgress);
    let cm;
    try {
      cm = await v.op.cacheMap(ctx);
    } catch (e) {
      throw wrap(v, e);
    }
    const inputs = await Promise.all(
      v.inputs.map(async (e, i) => {
        const dep = cm.deps[i] ?? {};
        const k = outputKey(await this.cacheKey(job, e.vertex), e.index);
        if (!dep.contentPaths?.length && !dep.contentOnly) return { key: k };
        // The "slow" key: the input's content at the selected paths stands in for how the input
        // was produced, so a rebuilt-but-identical input still hits (BuildKit's selector keys).
        const r = await this.resolve(job, e);
        let sum: string;
        try {
          sum = v.op.contentChecksum ? await v.op.contentChecksum(ctx, r, dep.contentPaths ?? ['/']) : r.id;
        } catch (err) {
          throw wrap(v, err);
        }
        return { content: sum };
      }),
    );
    return digestOf({ op: cm.digest, extra: cm.extra, inputs });
  }

  private ignoresCache(job: Job, v: Vertex): boolean {
    if (v.ignoreCache) return true;
    if (job.noCache === true) return true;
    return job.noCache instanceof Set && (job.noCache.has(v.digest) || job.noCache.has(v.name));
  }

  private resolve(job: Job, e: Edge): Promise<Result> {
    return memo(job.results, `${e.vertex.digest}:${e.index}`, async () => {
      const r = await this.resolveEdge(job, e);
      try {
        job.onResult?.(e.vertex.digest, e.index, r);
      } catch {
        /* an observer's failure is not the build's */
      }
      return r;
    });
  }

  private async resolveEdge(job: Job, e: Edge): Promise<Result> {
    const v = e.vertex;
    const key = await this.cacheKey(job, v);
    if (!this.ignoresCache(job, v)) {
      const hit = await this.store.load(outputKey(key, e.index));
      if (hit) {
        this.stats.cacheHits++;
        if (!job.reported.has(v.digest)) {
          job.reported.add(v.digest);
          const now = Date.now();
          deliver(job, { type: 'vertex', jobId: job.jobId, digest: v.digest, name: v.name, inputs: inputDigests(v), started: now, completed: now, cached: true });
        }
        return hit;
      }
    }
    const results = await this.execute(job, v, key);
    const r = results[e.index];
    if (!r) throw new SolveError(v.digest, v.name, new Error(`vertex has no output ${e.index}`));
    return r;
  }

  /** run the vertex, or join the run another job already started for the same key */
  private execute(job: Job, v: Vertex, key: string): Promise<Result[]> {
    let x = this.running.get(key);
    if (!x) {
      const controller = new AbortController();
      setMaxListeners(0, controller.signal); // inputs of a wide merge all listen to it
      const fanout = new ProgressFanout(v.digest, this.logLimit);
      const created: Execution = { key, fanout, controller, jobs: new Set(), promise: undefined as unknown as Promise<Result[]> };
      created.promise = this.run(job, v, key, created).finally(() => {
        if (this.running.get(key) === created) this.running.delete(key);
      });
      created.promise.catch(() => {});
      this.running.set(key, created);
      x = created;
    }
    const exec = x;
    exec.jobs.add(job);
    // this job sees the execution (the fanout replays what it missed, once per job id); a later
    // cache hit on the record it writes is the same vertex, already reported
    job.reported.add(v.digest);
    exec.fanout.subscribe(job);
    const leave = () => {
      exec.jobs.delete(job);
      exec.fanout.unsubscribe(job);
      // the step is aborted only when no job needs it any more
      if (exec.jobs.size === 0) {
        exec.controller.abort(new CanceledError());
        job.abandoned.push(exec.promise);
      }
    };
    if (job.signal.aborted) leave();
    else job.signal.addEventListener('abort', leave, { once: true });
    return abortable(exec.promise, job.signal).finally(() => job.signal.removeEventListener('abort', leave));
  }

  private async run(job: Job, v: Vertex, key: string, x: Execution): Promise<Result[]> {
    const signal = x.controller.signal;
    // Inputs are resolved under the execution's signal, so another job that joined keeps them alive.
    // A fresh result memo: promises the creating job memoised are tied to its own signal. The copy
    // keeps the job's id and `reported`, so its progress is still the one job's (reported once).
    const inputJob: Job = { ...job, signal, results: new Map() };
    const inputs = await Promise.all(v.inputs.map((e) => this.resolve(inputJob, e)));
    const inputKeys = await Promise.all(v.inputs.map(async (e) => outputKey(await this.cacheKey(job, e.vertex), e.index)));
    const release = await this.sem.acquire(signal);
    const started = Date.now();
    const base = { type: 'vertex' as const, digest: v.digest, name: v.name, inputs: inputDigests(v), started };
    x.fanout.publish(base);
    let results: Result[];
    try {
      this.stats.executions++;
      results = await v.op.exec(this.context(signal, job.session, x.fanout.sink()), inputs);
      if (signal.aborted) throw new CanceledError();
    } catch (e) {
      const err = signal.aborted ? new CanceledError() : wrap(v, e);
      x.fanout.publish({ ...base, completed: Date.now(), error: err instanceof CanceledError ? 'canceled' : errorMessage(e) });
      throw err;
    } finally {
      release();
    }
    const durationMs = Date.now() - started;
    // Records are written only now that every output exists.
    for (let i = 0; i < results.length; i++) {
      await this.store.save(outputKey(key, i), results[i]!, { vertex: v, outputIndex: i, durationMs, inputKeys });
    }
    x.fanout.publish({ ...base, completed: Date.now() });
    return results;
  }

  private context(signal: AbortSignal, session: JobSession, progress: VertexProgress): OpContext {
    return { signal, session, progress };
  }
}

export function outputKey(vertexKey: string, index: number): string {
  return index === 0 ? vertexKey : digestOf({ key: vertexKey, output: index });
}

const silentProgress: VertexProgress = { log() {}, status() {} };

/**
 * The vertices under `target` whose key the job computed but which it never reported, inputs
 * first. After a successful solve these are exactly the ones a cache hit further down made
 * unnecessary (an execution resolves every input; a hit resolves none, only their keys).
 */
function unreported(job: Job, target: Vertex): Vertex[] {
  const out: Vertex[] = [];
  const visited = new Set<string>();
  const visit = (v: Vertex) => {
    if (visited.has(v.digest) || !job.keys.has(v.digest)) return;
    visited.add(v.digest);
    for (const e of v.inputs) visit(e.vertex);
    if (!job.reported.has(v.digest)) out.push(v);
  };
  visit(target);
  return out;
}

/**
 * Report the covered vertices as cached (BuildKit, too, lists every step of a warm build as
 * CACHED), once the job id's last solve ends: a concurrent solve of the same job that ran one of
 * them has reported it as executed by then.
 */
function reportCovered(job: Job, report: JobReport): void {
  const now = Date.now();
  for (const v of report.covered) {
    if (report.reported.has(v.digest)) continue;
    report.reported.add(v.digest);
    deliver(job, { type: 'vertex', jobId: job.jobId, digest: v.digest, name: v.name, inputs: inputDigests(v), started: now, completed: now, cached: true });
  }
}

function inputDigests(v: Vertex): string[] {
  return v.inputs.map((e) => e.vertex.digest);
}

/** one promise per key and job; a rejection is handled by whoever awaits it, not left unhandled */
function memo<T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = map.get(key);
  if (!p) {
    p = make();
    p.catch(() => {});
    map.set(key, p);
  }
  return p;
}

function wrap(v: Vertex, e: unknown): Error {
  if (e instanceof SolveError || isAbort(e)) return e as Error;
  return new SolveError(v.digest, v.name, e);
}

/**
 * Resolves once every promise in `ps` settled, or after `ms`. The list may grow while waiting (an
 * aborted step leaves its own inputs' executions), so it is re-read until no new entry appears.
 */
async function settleWithin(ps: Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    for (let seen = 0; seen < ps.length; ) {
      const batch = ps.slice(seen);
      seen = ps.length;
      if ((await Promise.race([Promise.allSettled(batch), timeout])) === 'timeout') return;
    }
  } finally {
    clearTimeout(timer);
  }
}

/** settle with `p`, or reject as soon as `signal` aborts */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new CanceledError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CanceledError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
