// The generic solver's seam, after BuildKit's solver/types.go. The solver knows vertices, cache
// keys and results; it knows nothing of LLB, Docker or SQLite. A worker turns each LLB op into an
// `Op` below; the cache manager implements `CacheStore`.

export interface Vertex {
  /** content digest of the op and its inputs: the same digest is the same vertex in every job */
  digest: string;
  inputs: Edge[];
  /** human name for progress, e.g. "[2/5] RUN make" */
  name: string;
  ignoreCache?: boolean;
  op: Op;
  /** cache record type for the cache manager (regular, source.local, source.git …); regular if absent */
  recordType?: string;
}

export interface Edge {
  vertex: Vertex;
  /** which output of the input vertex */
  index: number;
}

/** A result of executing (or loading) a vertex: for the Docker worker, a snapshot reference. */
export interface Result {
  /** stable id of what the result points to (e.g. an image id); stored in cache records */
  id: string;
  /** arbitrary worker data (snapshot) */
  sys?: unknown;
}

export interface CacheMapDep {
  /**
   * When set, the input's contribution to this vertex's key also includes a checksum of the
   * input's *content* at these paths (the "slow" key): a COPY depends on the files, not on how
   * the context was produced.
   */
  contentPaths?: string[];
  /** true when the input's content checksum must replace its key entirely (local sources) */
  contentOnly?: boolean;
}

export interface CacheMap {
  /** digest of the op's own definition (everything that changes its result) */
  digest: string;
  /** one entry per input */
  deps: CacheMapDep[];
  /** extra opaque value mixed into the key (e.g. a resolved image id) */
  extra?: string;
}

export interface OpContext {
  signal: AbortSignal;
  /** progress sink for this vertex */
  progress: VertexProgress;
  /** job-scoped values (secrets, ssh sockets, session data) keyed by name; never part of a key */
  session: JobSession;
}

export interface JobSession {
  secrets?: Map<string, Buffer>;
  sshAgent?: string;
  /** local contexts by name → absolute directory */
  localDirs?: Map<string, string>;
  allowInsecure?: boolean;
  [k: string]: unknown;
}

export interface VertexProgress {
  log(stream: 1 | 2, data: Buffer | string): void;
  status(id: string, current: number, total?: number): void;
}

export interface Op {
  /** the cache map; may resolve things (e.g. an image ref to an id) but must not execute the op */
  cacheMap(ctx: OpContext): Promise<CacheMap>;
  /**
   * Checksum of the content of `paths` inside a result of this vertex's input; the solver calls it
   * for deps with contentPaths. Implemented by the worker that owns the result.
   */
  contentChecksum?(ctx: OpContext, input: Result, paths: string[]): Promise<string>;
  exec(ctx: OpContext, inputs: Result[]): Promise<Result[]>;
}

/** Persistent cache: key → result. Written only after the result exists. */
export interface CacheStore {
  load(key: string): Promise<Result | undefined>;
  save(key: string, result: Result, info: { vertex: Vertex; outputIndex: number; durationMs: number; inputKeys?: string[] }): Promise<void>;
}

export type ProgressEvent =
  | { type: 'vertex'; jobId: string; digest: string; name: string; inputs: string[]; started?: number; completed?: number; cached?: boolean; error?: string }
  | { type: 'status'; jobId: string; vertex: string; id: string; current: number; total?: number; timestamp: number }
  | { type: 'log'; jobId: string; vertex: string; stream: 1 | 2; data: string; timestamp: number };
