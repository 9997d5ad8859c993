// The one control API contract. Three transports carry it unchanged: in-process calls (CLI,
// tests), HTTP + WebSocket (`kiln serve`), and Electron IPC. Every message is validated with the
// zod schemas in ./schema.ts at the transport boundary.
import type { Definition, BuildWarning } from '../llb/definition.js';
import type { ProgressEvent } from '../solver/types.js';
import type { CacheSpec } from './remotecache/spec.js';

export type { CacheSpec } from './remotecache/spec.js';

export type SolveInput =
  | { kind: 'dockerfile'; /** Dockerfile text */ dockerfile: string; /** path shown in errors */ filename?: string; /** absolute context dir on the service's machine */ context: string; target?: string; buildArgs?: Record<string, string>; buildContexts?: Record<string, string> }
  | { kind: 'graph'; /** a graph document (*.kiln.json), parsed */ document: unknown; /** context dir for local sources */ context?: string; /** build only up to this node */ target?: string; /** build each of these nodes, all in one job (an opened bake project's targets); exporter nodes among them export */ targets?: string[] }
  | { kind: 'definition'; definition: Definition; /** local source name → absolute dir (what local://NAME reads) */ localDirs?: Record<string, string>; /** build each of these vertices of the definition, all in one job (`kiln bake`'s targets); `options.outputs` is then unused */ targets?: DefinitionTarget[] };

/** One result of a many-target job: its exports follow the previous target's in `SolveResponse.exports`. */
export interface DefinitionTarget {
  vertex: string;
  outputs?: OutputSpec[];
  imageConfig?: import('../llb/image.js').ImageConfig;
  /** ignore the cache for this target's build */
  noCache?: boolean;
  /** caches this target's result is exported to */
  cacheTo?: CacheSpec[];
}

export interface OutputSpec {
  /** docker | oci | tar | local | zip | image | registry */
  type: string;
  attrs: Record<string, string>;
}

export interface SolveOptions {
  outputs?: OutputSpec[];
  noCache?: boolean;
  noCacheFilter?: string[];
  network?: 'default' | 'none' | 'host';
  /** secrets by id: values (base64) — never persisted, never logged */
  secrets?: Record<string, string>;
  ssh?: string[];
  allowInsecure?: boolean;
  /** export this vertex's result instead of the output (editor: export any node) */
  exportVertex?: string;
  /** caches to import before solving: `{ type: 'local', attrs: { src, tag? } }` (an OCI layout dir on the service's machine)
   *  or `{ type: 'registry', attrs: { ref, 'registry.insecure'? } }` */
  cacheFrom?: CacheSpec[];
  /** caches to export after solving: `{ type: 'local', attrs: { dest, mode?: min|max, tag?, 'ignore-error'? } }` or
   *  `{ type: 'registry', attrs: { ref, mode?, 'ignore-error'?, 'oci-mediatypes'?, 'image-manifest'?, compression?: uncompressed, 'registry.insecure'? } }` */
  cacheTo?: CacheSpec[];
  /** a name for history */
  name?: string;
}

export interface SolveRequest {
  input: SolveInput;
  options?: SolveOptions;
  /** caller-chosen build id (lets a client subscribe to status before solve resolves) */
  id?: string;
}

export interface BuildError {
  message: string;
  code?: string;
  vertex?: string;
  exitCode?: number;
  logTail?: string[];
  location?: { file: string; startLine: number; endLine: number; startColumn?: number; endColumn?: number; nodeId?: string };
  excerpt?: string;
}

export interface SolveResponse {
  id: string;
  ok: boolean;
  error?: BuildError;
  /** exporter responses, one per output */
  exports: Record<string, string>[];
  warnings: BuildWarning[];
  /** digest of the output vertex */
  output?: string;
  durationMs: number;
}

export interface VertexRecord {
  digest: string;
  name: string;
  inputs: string[];
  started?: number;
  completed?: number;
  cached?: boolean;
  error?: string;
  location?: BuildError['location'];
}

export interface HistoryEntry {
  id: string;
  name: string;
  createdAt: number;
  completedAt?: number;
  status: 'running' | 'completed' | 'failed' | 'canceled';
  error?: BuildError;
  vertices?: VertexRecord[];
  /** logs per vertex, capped */
  logs?: Record<string, string>;
}

export interface DuRecord {
  id: string;
  key: string;
  type: 'regular' | 'source.local' | 'exec.cachemount' | 'source.git';
  size: number;
  createdAt: number;
  lastUsedAt: number;
  usageCount: number;
  description?: string;
}

export interface DuResponse {
  records: DuRecord[];
  total: number;
  byType: Record<string, number>;
  /**
   * host copies of engine images' filesystems (the runc worker's lowest layers): not cache
   * records and not in `total`; each goes when its image leaves the engine
   */
  imageCopies?: { count: number; size: number };
}

export interface PruneRequest {
  all?: boolean;
  keepStorage?: number;
  keepDurationMs?: number;
  filters?: string[];
}

export interface PruneResponse {
  removed: DuRecord[];
  reclaimed: number;
}

export interface InfoResponse {
  version: string;
  engine: { ok: boolean; endpoint: string; version?: string; error?: string; hint?: string };
  root: string;
  /** the process hosting the engine: `kiln serve`, the desktop app, or a CLI's embedded one */
  service?: { role: string; pid: number };
}

/** The contract. `status` streams events until the build ends; `unsubscribe` stops it. */
export interface ControlAPI {
  solve(req: SolveRequest): Promise<SolveResponse>;
  status(buildId: string, onEvent: (e: ProgressEvent) => void): () => void;
  cancel(buildId: string): Promise<void>;
  historyList(): Promise<HistoryEntry[]>;
  historyGet(id: string): Promise<HistoryEntry | undefined>;
  du(): Promise<DuResponse>;
  prune(req: PruneRequest): Promise<PruneResponse>;
  workers(): Promise<import('../worker/types.js').WorkerInfo[]>;
  info(): Promise<InfoResponse>;
  /** Dockerfile/graph → editor view without running it (kiln graph, editor's Open Dockerfile) */
  graph(input: SolveInput): Promise<GraphResponse>;
  /** a docker-bake.hcl/json or compose file → its targets with their Dockerfiles (editor's Open project) */
  project(req: ProjectRequest): Promise<ProjectResponse>;
}

export interface ProjectRequest {
  /** a docker-bake.json/.hcl or compose file, on the service's machine */
  path: string;
  /** targets or groups to include (default: the default group, else every target) */
  targets?: string[];
}

export interface ProjectTarget {
  name: string;
  /** the target's Dockerfile text and its path relative to the project directory */
  dockerfile: string;
  dockerfilePath: string;
  /** build context, relative to the project directory ('.' is the directory itself) */
  context: string;
  /** the Dockerfile stage to build */
  target?: string;
  args: Record<string, string>;
  tags: string[];
  /** named contexts: `target:NAME`, `docker-image://REF`, or a directory relative to the project */
  contexts: Record<string, string>;
  /** targets this one reads through `target:` contexts */
  dependsOn: string[];
}

export interface ProjectResponse {
  /** absolute path of the bake/compose file */
  file: string;
  /** its directory: what relative paths above are relative to (the graph run's context) */
  dir: string;
  /** dependencies first */
  targets: ProjectTarget[];
}

export interface GraphResponse {
  stages: { name: string; index: number; base: string; dependsOn: string[] }[];
  vertices: { digest: string; name: string; op: string; inputs: string[]; location?: BuildError['location'] }[];
  warnings: BuildWarning[];
}
