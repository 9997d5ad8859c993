// The control service: ControlAPI on one Engine. Every build of every client goes through the
// same engine (one solver), so concurrent builds share vertices. The service starts without a
// Docker Engine too: info() then says what is missing and how to get one.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Definition } from '../llb/definition.js';
import type { ImageConfig } from '../llb/image.js';
import type { JobSession, ProgressEvent } from '../solver/types.js';
import type { ResolvedImage } from '../worker/types.js';
import type { BuildError, CacheSpec, ControlAPI, GraphResponse, InfoResponse, OutputSpec, SolveInput, SolveRequest, SolveResponse, DuRecord, DuResponse, PruneRequest, PruneResponse } from './api.js';
import { ApiValidationError, parseOrThrow, projectRequestSchema, pruneRequestSchema, solveInputSchema, solveRequestSchema } from './schema.js';
import { readProject } from './project.js';
import { StatusHub } from './status-hub.js';
import { HistoryStore } from './history.js';
import { jobLoadAhead, type JobLoadAhead } from './load-ahead.js';
import { loadEngine, loadExporter, loadValidateDefinition, resolveRootDir, NO_ENGINE_HINT, type EngineLike } from './deps.js';
import { definitionVertices, lenientResolver } from './graph.js';
import { withDefaultNetwork } from './rewrite.js';
import type { BuildWarning } from '../llb/definition.js';

export const VERSION = '0.1.0';
const HUB = Symbol.for('kiln.control.hub');

export interface ControlServiceOptions {
  root?: string;
  dockerHost?: string;
  parallelism?: number;
  /** where `-o …,dest=-` writes: the CLI's own stdout (an embedded service only) */
  stdout?: import('node:stream').Writable;
  /** what info() names as the engine's host process (default: "kiln (embedded)") */
  role?: string;
}

export type ControlService = ControlAPI & {
  close(): Promise<void>;
  readonly root: string;
  /** the engine's image resolver (bake converts Dockerfiles itself) */
  resolveImage(ref: string): Promise<ResolvedImage>;
  /** the Definition a solve of `input` runs, as solve prepares it (`kiln debug dump-llb`) */
  definition(input: SolveInput, network?: 'none' | 'host' | 'default'): Promise<Definition>;
};

interface Prepared {
  definition: Definition;
  /** several results in one job (a graph run with `targets`): vertex to build, its exports, its config */
  units?: { vertex: string; outputs: OutputSpec[]; imageConfig?: ImageConfig; noCache?: boolean; cacheTo?: CacheSpec[] }[];
  imageConfig?: ImageConfig;
  warnings: BuildWarning[];
  localDirs: Map<string, string>;
  outputs: OutputSpec[];
  /** Dockerfile text, for excerpts of run-time failures */
  source?: { text: string; file: string };
}

export async function createControlService(opts: ControlServiceOptions = {}): Promise<ControlService> {
  const root = path.resolve(opts.root ?? (await resolveRootDir()));
  fs.mkdirSync(root, { recursive: true });
  let engine: EngineLike | undefined;
  let engineError: string | undefined;
  try {
    engine = await loadEngine({ root, ...(opts.dockerHost ? { dockerHost: opts.dockerHost } : {}), ...(opts.parallelism ? { parallelism: opts.parallelism } : {}) });
  } catch (e) {
    engineError = e instanceof Error ? e.message : String(e);
  }
  const db = engine?.db ?? new Database(path.join(root, 'control.db'));
  const history = new HistoryStore(db);
  history.markInterrupted();
  const hub = new StatusHub();
  const running = new Map<string, AbortController>();

  const need = (): EngineLike => {
    if (!engine) throw Object.assign(new Error(`no Docker Engine: ${engineError ?? 'unavailable'}. ${NO_ENGINE_HINT}`), { code: 'engine_unavailable' });
    return engine;
  };
  const resolver = (): ((ref: string) => Promise<ResolvedImage>) => {
    const e = need();
    return (ref) => e.worker.resolveImageConfig(ref);
  };

  async function prepare(input: SolveInput, forGraph = false): Promise<Prepared & { stages?: GraphResponse['stages'] }> {
    const localDirs = new Map<string, string>();
    if (input.kind === 'dockerfile') {
      const { dockerfileToLLB, readDockerignore } = await import('../frontend/dockerfile/index.js');
      localDirs.set('context', input.context);
      for (const [name, v] of Object.entries(input.buildContexts ?? {})) {
        if (!v.startsWith('docker-image://') && !v.startsWith('target:')) localDirs.set(name, path.resolve(input.context, v));
      }
      const resolveImage = forGraph ? lenientResolver(engine ? (r) => engine!.worker.resolveImageConfig(r) : undefined) : resolver();
      const file = input.filename ?? 'Dockerfile';
      const dockerignore = readDockerignore(input.context, input.filename);
      const r = await dockerfileToLLB({
        dockerfile: input.dockerfile,
        filename: file,
        ...(input.target ? { target: input.target } : {}),
        buildArgs: input.buildArgs ?? {},
        buildContexts: input.buildContexts ?? {},
        contextName: 'context',
        resolveImage,
        contextDir: input.context,
        ...(dockerignore !== undefined ? { dockerignore } : {}),
      });
      return {
        definition: r.definition,
        imageConfig: r.imageConfig,
        warnings: r.warnings,
        localDirs,
        outputs: [],
        source: { text: input.dockerfile, file },
        stages: r.stages.map((s) => ({ name: s.name, index: s.index, base: s.base, dependsOn: s.dependsOn })),
      };
    }
    if (input.kind === 'graph') {
      const g = await import('../frontend/graph/index.js');
      const doc = g.validateGraphDocument(input.document);
      const resolveImage = forGraph ? lenientResolver(engine ? (r) => engine!.worker.resolveImageConfig(r) : undefined) : resolver();
      const ctx = input.context ?? process.cwd();
      if (input.targets?.length && !forGraph) {
        // one Definition holding every target's vertices (each part is topological, so the
        // deduplicated concatenation is too); each target is built from it in the same job
        const byId = new Map(doc.nodes.map((n) => [n.id, n]));
        const parts = await Promise.all(input.targets.map((t) => g.graphToLLB(doc, { resolveImage, target: t })));
        const seen = new Set<string>();
        const vertices = parts.flatMap((p) => p.definition.vertices).filter((v) => !seen.has(v.digest) && !!seen.add(v.digest));
        const units = parts.flatMap((p, i) => {
          if (!p.definition.output) return [];
          const node = byId.get(input.targets![i]!);
          const out = node ? g.exporterOutput(node) : undefined;
          return [{ vertex: p.definition.output.digest, outputs: out ? [out] : [], ...(p.imageConfig ? { imageConfig: p.imageConfig } : {}) }];
        });
        for (const v of vertices) {
          if (v.op.kind === 'source' && v.op.identifier.startsWith('local://')) {
            const name = v.op.identifier.slice('local://'.length);
            localDirs.set(name, path.resolve(ctx, name === 'context' ? '.' : name));
          }
        }
        const warnings = parts.flatMap((p) => p.warnings);
        return { definition: { ...parts[0]!.definition, vertices }, units, warnings, localDirs, outputs: [] };
      }
      const r = await g.graphToLLB(doc, { resolveImage, ...(input.target ? { target: input.target } : {}) });
      for (const v of r.definition.vertices) {
        if (v.op.kind === 'source' && v.op.identifier.startsWith('local://')) {
          const name = v.op.identifier.slice('local://'.length);
          localDirs.set(name, path.resolve(ctx, name === 'context' ? '.' : name));
        }
      }
      const outputs: OutputSpec[] = [];
      for (const n of doc.nodes) {
        const o = g.exporterOutput(n);
        if (o) outputs.push(o);
      }
      return { definition: r.definition, ...(r.imageConfig ? { imageConfig: r.imageConfig } : {}), warnings: r.warnings, localDirs, outputs };
    }
    const validate = await loadValidateDefinition();
    const def = validate(input.definition);
    for (const [k, v] of Object.entries(input.localDirs ?? {})) localDirs.set(k, v);
    // bake's targets: vertices of the one definition, each built and exported in this job
    const units = input.targets?.map((t) => ({ ...t, outputs: t.outputs ?? [] }));
    return { definition: def, ...(units ? { units } : {}), ...(def.imageConfig ? { imageConfig: def.imageConfig } : {}), warnings: def.warnings ?? [], localDirs, outputs: [] };
  }

  async function solve(raw: SolveRequest): Promise<SolveResponse> {
    const req = parseOrThrow(solveRequestSchema, raw, 'solve request') as SolveRequest;
    const id = req.id ?? randomUUID();
    if (running.has(id)) throw new Error(`build ${id} is already running`);
    const o = req.options ?? {};
    const t0 = Date.now();
    const ac = new AbortController();
    running.set(id, ac);
    hub.open(id);
    const name = o.name ?? (req.input.kind === 'dockerfile' ? (req.input.filename ?? 'Dockerfile') : req.input.kind);
    history.begin(id, name, t0);
    let locations = new Map<string, BuildError['location']>();
    const emit = (e: ProgressEvent) => {
      const ev = { ...e, jobId: id } as ProgressEvent;
      hub.publish(id, ev);
      try {
        history.record(id, ev, locations);
      } catch {
        /* history is best effort; the build goes on */
      }
    };
    /** what step progress goes through (emit, unless a hook watches it) */
    let emitStep = emit;
    let prepared: Prepared | undefined;
    let warnings: BuildWarning[] = [];
    let ahead: JobLoadAhead | undefined;
    try {
      const eng = need();
      prepared = await prepare(req.input);
      warnings = prepared.warnings;
      const def = withDefaultNetwork(prepared.definition, o.network);
      locations = new Map(def.vertices.filter((v) => v.metadata?.location?.[0]).map((v) => [v.digest, v.metadata!.location![0]!]));
      const session: JobSession = { localDirs: prepared.localDirs };
      if (o.secrets) session.secrets = new Map(Object.entries(o.secrets).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
      if (o.ssh?.length) session.sshAgent = o.ssh[0]!.includes('=') ? o.ssh[0]!.split('=')[1] : process.env.SSH_AUTH_SOCK;
      if (o.allowInsecure) session.allowInsecure = true;
      let noCache: boolean | string[] | undefined = o.noCache ? true : undefined;
      if (!noCache && o.noCacheFilter?.length) {
        const groups = new Set(o.noCacheFilter);
        // as in BuildKit, a vertex that ignores the cache offers no cache key, so nothing built on it
        // can be a cache hit either (else a cached descendant would hide the stage: it never re-ran)
        const ignored = new Set<string>();
        for (const v of def.vertices) if ((v.metadata?.group && groups.has(v.metadata.group)) || v.inputs.some((i) => ignored.has(i.digest))) ignored.add(v.digest);
        noCache = [...ignored];
      }
      const target = o.exportVertex;
      // a job that loads into the engine opens that load once a step really runs (not for a
      // build served from the cache: its image is usually in the engine already)
      const jobOutputs = [...(o.outputs?.length ? o.outputs : target ? [] : prepared.outputs), ...(prepared.units?.flatMap((u) => u.outputs) ?? [])];
      if (jobOutputs.some((s) => s.type === 'docker')) {
        const execs = new Set(def.vertices.filter((v) => v.op.kind === 'exec').map((v) => v.digest));
        const inner = emitStep;
        emitStep = (e) => {
          inner(e);
          if (e.type === 'vertex' && e.started && !e.completed && !e.cached && execs.has(e.digest)) {
            emitStep = inner;
            void loadExporter()
              .then((m) => (jobOutputs.some((s) => m.loadsIntoEngine(s)) ? m.prewarmEngineLoad({ worker: eng.worker }) : undefined))
              .catch(() => undefined);
          }
        };
      }
      // the images that load into the engine are loaded ahead as their steps complete
      const singleOutputs = o.outputs?.length ? o.outputs : target ? [] : prepared.outputs;
      const loadTargets = [
        ...(singleOutputs.some((s) => s.type === 'docker') && !prepared.units?.length ? [target ? { digest: target } : def.output].filter((x): x is NonNullable<typeof x> => !!x) : []),
        ...(prepared.units ?? []).filter((u) => u.outputs.some((s) => s.type === 'docker')).map((u) => ({ digest: u.vertex })),
      ];
      if (loadTargets.length && process.env.KILN_LOAD_AHEAD !== '0') {
        const platform = { ...(prepared.imageConfig?.os ? { os: prepared.imageConfig.os } : {}), ...(prepared.imageConfig?.architecture ? { architecture: prepared.imageConfig.architecture } : {}) };
        ahead = jobLoadAhead(
          def,
          loadTargets,
          async () => {
            const m = await loadExporter();
            return jobOutputs.some((s) => m.loadsIntoEngine(s)) ? m.createLoadAhead({ worker: eng.worker }, platform) : undefined;
          },
          (r) => eng.worker.layers(r),
        );
      }
      const onResult = ahead?.onResult;
      const cacheCtx = { jobId: id, cache: eng.cache, worker: eng.worker, emit };
      const remoteCache = o.cacheFrom?.length || o.cacheTo?.length || prepared.units?.some((u) => u.cacheTo?.length) ? await import('./remotecache/index.js') : undefined;
      if (o.cacheFrom?.length) warnings = [...warnings, ...(await remoteCache!.importCaches(cacheCtx, o.cacheFrom))];
      const buildOne = (vertex?: string, unitNoCache?: boolean, signal: AbortSignal = ac.signal) => {
        const nc = unitNoCache ? true : noCache;
        return eng.build(def, { jobId: id, signal, session, onProgress: (e) => emitStep(e), ...(nc ? { noCache: nc } : {}), ...(vertex ? { target: vertex } : {}), ...(onResult ? { onResult } : {}) });
      };
      const exports: Record<string, string>[] = [];
      let ex: Awaited<ReturnType<typeof loadExporter>> | undefined;
      let exportSeq = 0;
      const exportAll = async (built: { result: import('../solver/types.js').Result; vertex: string }, outputs: OutputSpec[], imageConfig: ImageConfig | undefined) => {
        if (!outputs.length) return;
        ex ??= await loadExporter();
        for (const spec of outputs) {
          const i = exportSeq++;
          const vid = `export:${id}:${i}`;
          const vname = `exporting to ${spec.type}${spec.attrs['name'] ? ' ' + spec.attrs['name'] : spec.attrs['dest'] ? ' ' + spec.attrs['dest'] : ''}`;
          const started = Date.now();
          emit({ type: 'vertex', jobId: id, digest: vid, name: vname, inputs: [built.vertex], started });
          try {
            const r = await ex!.exportResult(spec, {
              result: built.result,
              ...(imageConfig ? { imageConfig } : {}),
              worker: eng.worker,
              signal: ac.signal,
              ...(opts.stdout ? { stdout: opts.stdout } : {}),
              ...(ahead?.forTarget(built.vertex) ? { loadAhead: ahead.forTarget(built.vertex)! } : {}),
              onProgress: (p) => emit({ type: 'status', jobId: id, vertex: vid, id: p.id, current: p.current, ...(p.total !== undefined ? { total: p.total } : {}), timestamp: Date.now() }),
            });
            exports.push(r);
            emit({ type: 'vertex', jobId: id, digest: vid, name: vname, inputs: [built.vertex], started, completed: Date.now() });
          } catch (e) {
            emit({ type: 'vertex', jobId: id, digest: vid, name: vname, inputs: [built.vertex], started, completed: Date.now(), error: (e as Error).message });
            throw e;
          }
        }
      };
      let output: string;
      if (prepared.units?.length) {
        // a project run: every target in this one job; shared vertices run once (one solver)
        const units = prepared.units;
        // the first target to fail stops the others (buildx cancels a bake's builds together);
        // the job returns once they have all stopped, so none runs on after the job's end
        const stop = new AbortController();
        const signal = AbortSignal.any([ac.signal, stop.signal]);
        const runs = units.map((u) => buildOne(u.vertex, u.noCache, signal));
        const built = await Promise.all(runs).catch(async (e: unknown) => {
          stop.abort();
          await Promise.allSettled(runs);
          throw e;
        });
        for (const [i, u] of units.entries()) await exportAll(built[i]!, u.outputs, u.imageConfig);
        for (const [i, u] of units.entries()) if (u.cacheTo?.length) warnings = [...warnings, ...(await remoteCache!.exportCaches(cacheCtx, u.cacheTo, [built[i]!]))];
        if (o.cacheTo?.length) warnings = [...warnings, ...(await remoteCache!.exportCaches(cacheCtx, o.cacheTo, built))];
        output = built[built.length - 1]!.vertex;
      } else {
        const built = await buildOne(target);
        // The document's exporter nodes are its default outputs; a caller that names its own outputs
        // or exports one vertex ("Export this node") must not also trigger every exporter node.
        const outputs = o.outputs?.length ? o.outputs : target ? [] : prepared.outputs;
        await exportAll(built, outputs, !target || target === def.output?.digest ? prepared.imageConfig : undefined);
        if (o.cacheTo?.length) warnings = [...warnings, ...(await remoteCache!.exportCaches(cacheCtx, o.cacheTo, [built]))];
        output = built.vertex;
      }
      history.finish(id, 'completed');
      return { id, ok: true, exports, warnings, output, durationMs: Date.now() - t0 };
    } catch (e) {
      const error = toBuildError(e, prepared);
      history.finish(id, ac.signal.aborted ? 'canceled' : 'failed', error);
      return { id, ok: false, error, exports: [], warnings, durationMs: Date.now() - t0 };
    } finally {
      // partial images go before the job ends: a CLI that exits after it leaves none behind
      await ahead?.dispose().catch(() => undefined);
      running.delete(id);
      hub.end(id);
      hub.gc();
    }
  }

  async function info(): Promise<InfoResponse> {
    const endpoint = opts.dockerHost ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
    const service = { role: opts.role ?? 'kiln (embedded)', pid: process.pid };
    if (!engine) return { version: VERSION, engine: { ok: false, endpoint, error: engineError ?? 'engine not found', hint: NO_ENGINE_HINT }, root, service };
    try {
      const w = await engine.worker.info();
      return { version: VERSION, engine: { ok: w.ok, endpoint: w.endpoint, ...(w.engineVersion ? { version: w.engineVersion } : {}), ...(w.error ? { error: w.error, hint: NO_ENGINE_HINT } : {}) }, root, service };
    } catch (e) {
      return { version: VERSION, engine: { ok: false, endpoint, error: (e as Error).message, hint: NO_ENGINE_HINT }, root, service };
    }
  }

  async function du(): Promise<DuResponse> {
    const e = need();
    const c = e.cache;
    if (!c.du) throw new Error('cache manager has no du');
    const du = normalizeDu(await c.du());
    const copies = await e.worker.rootfsCopies?.().catch(() => undefined);
    return copies?.count ? { ...du, imageCopies: copies } : du;
  }

  async function prune(raw: PruneRequest): Promise<PruneResponse> {
    const req = parseOrThrow(pruneRequestSchema, raw ?? {}, 'prune request');
    const c = need().cache;
    if (!c.prune) throw new Error('cache manager has no prune');
    // buildctl-style `type=regular`, `id=…`, `description=…` strings → the cache manager's filter object
    const filters: { type?: string[]; description?: string; id?: string } = {};
    for (const f of req.filters ?? []) {
      const [k, ...rest] = f.split('=');
      const v = rest.join('=');
      if (k === 'type') (filters.type ??= []).push(v);
      else if (k === 'id') filters.id = v;
      else if (k === 'description') filters.description = v;
      else throw Object.assign(new Error(`unknown prune filter ${f}`), { code: 'invalid_request' });
    }
    const r = (await c.prune({ ...req, ...(req.filters?.length ? { filters } : { filters: undefined }) })) as unknown;
    const removed = normalizeDu(Array.isArray(r) ? r : ((r as { removed?: unknown })?.removed ?? [])).records;
    // The cache manager's figure: snapshots actually removed, each once, in du's terms (a base
    // image's record goes but its bytes are the engine's), so `prune --all` frees what `du` said.
    const reclaimed = (r as { reclaimed?: unknown })?.reclaimed;
    return { removed, reclaimed: typeof reclaimed === 'number' ? reclaimed : removed.reduce((a, x) => a + x.size, 0) };
  }

  async function graph(raw: SolveInput): Promise<GraphResponse> {
    const input = parseOrThrow(solveInputSchema, raw, 'graph input') as SolveInput;
    const p = await prepare(input, true);
    return { stages: p.stages ?? [], vertices: definitionVertices(p.definition), warnings: p.warnings };
  }

  const svc: ControlService = {
    root,
    resolveImage: (ref) => resolver()(ref),
    async definition(raw, network) {
      const input = parseOrThrow(solveInputSchema, raw, 'solve input') as SolveInput;
      // without an engine the images' configs are not known: the graph's lenient resolving then
      return withDefaultNetwork((await prepare(input, !engine)).definition, network);
    },
    solve,
    status(buildId, onEvent) {
      return hub.subscribe(buildId, onEvent);
    },
    async cancel(buildId) {
      // an unknown (but well-formed) id is not an error: the build may have just ended
      running.get(checkBuildId(buildId, 'cancel'))?.abort();
    },
    async historyList() {
      return history.list();
    },
    async historyGet(id) {
      return history.get(checkBuildId(id, 'historyGet'));
    },
    du,
    prune,
    async workers() {
      if (!engine) return [];
      try {
        return [await engine.worker.info()];
      } catch (e) {
        return [{ id: engine.worker.id, kind: 'docker', endpoint: '', platforms: [], ok: false, error: (e as Error).message }];
      }
    },
    info,
    graph,
    project: (req) => readProject(parseOrThrow(projectRequestSchema, req, 'project request')),
    async close() {
      for (const ac of running.values()) ac.abort();
      await engine?.close();
      if (!engine) db.close();
    },
  };
  Object.defineProperty(svc, HUB, { value: hub });
  return svc;
}

/** Subscribe with an end notification (in-process transports and the HTTP server use it). */
export function statusWithEnd(svc: ControlAPI, buildId: string, onEvent: (e: ProgressEvent) => void, onEnd: () => void): () => void {
  const hub = (svc as { [HUB]?: StatusHub })[HUB];
  if (hub) return hub.subscribe(buildId, onEvent, onEnd);
  return svc.status(buildId, onEvent);
}

/** Build ids as solve accepts them (solveRequestSchema): the in-process and IPC transports reach
 * cancel/historyGet without the HTTP schema, so the service checks them itself. */
const BUILD_ID = /^[A-Za-z0-9._-]{1,128}$/;
function checkBuildId(id: unknown, method: string): string {
  if (typeof id !== 'string' || !BUILD_ID.test(id)) {
    const shown = typeof id === 'string' ? JSON.stringify(id.length > 60 ? id.slice(0, 60) + '…' : id) : typeof id;
    throw new ApiValidationError(`invalid ${method} request: id ${shown} is not a build id (1-128 characters of A-Z a-z 0-9 . _ -)`);
  }
  return id;
}

function normalizeDu(x: unknown): DuResponse {
  const list = (Array.isArray(x) ? x : ((x as { records?: unknown[] })?.records ?? [])) as (Partial<DuRecord> & { resultId?: string })[];
  const records: DuRecord[] = list.map((r, i) => ({
    id: String(r.id ?? r.key ?? i),
    key: String(r.key ?? r.id ?? ''),
    type: (['regular', 'source.local', 'exec.cachemount', 'source.git'].includes(String(r.type)) ? r.type : 'regular') as DuRecord['type'],
    size: Number(r.size ?? 0),
    createdAt: Number(r.createdAt ?? 0),
    lastUsedAt: Number(r.lastUsedAt ?? r.createdAt ?? 0),
    usageCount: Number(r.usageCount ?? 0),
    ...(r.description ? { description: String(r.description) } : {}),
  }));
  // a snapshot several records point to (one result under two cache keys) is counted once
  const byType: Record<string, number> = {};
  const counted = new Set<string>();
  let total = 0;
  for (const [i, r] of records.entries()) {
    const snap = list[i]!.resultId;
    if (snap !== undefined && counted.has(snap)) continue;
    if (snap !== undefined) counted.add(snap);
    byType[r.type] = (byType[r.type] ?? 0) + r.size;
    total += r.size;
  }
  return { records, total, byType };
}

function toBuildError(e: unknown, prepared?: Prepared): BuildError {
  const err = e as Error & { code?: string; vertex?: string; cause?: unknown; location?: BuildError['location']; excerpt?: string; exitCode?: number; tail?: string[] };
  const out: BuildError = { message: err?.message ?? String(e) };
  if (err?.name === 'CanceledError' || err?.name === 'AbortError') out.code = 'canceled';
  else if (typeof err?.code === 'string') out.code = err.code;
  if (err?.vertex) out.vertex = err.vertex;
  const cause = (err?.cause ?? err) as { exitCode?: number; tail?: string[] };
  if (typeof cause?.exitCode === 'number') out.exitCode = cause.exitCode;
  if (Array.isArray(cause?.tail)) out.logTail = cause.tail.slice(-20);
  // the engine reports a vertex's locations as a list (metadata.location); the API carries the first
  const loc0 = Array.isArray(err?.location) ? (err.location as BuildError['location'][])[0] : err?.location;
  if (loc0) out.location = loc0;
  if (err?.excerpt) out.excerpt = err.excerpt;
  else if (out.location && prepared?.source && out.location.file === prepared.source.file) out.excerpt = excerpt(prepared.source.text, out.location);
  if (!out.location && out.vertex && prepared) {
    const v = prepared.definition.vertices.find((x) => x.digest === out.vertex);
    const loc = v?.metadata?.location?.[0];
    if (loc) {
      out.location = loc;
      if (prepared.source) out.excerpt = excerpt(prepared.source.text, loc);
    }
  }
  return out;
}

function excerpt(text: string, loc: { startLine: number; endLine: number }): string {
  const lines = text.split(/\r?\n/);
  const from = Math.max(1, loc.startLine - 2);
  const to = Math.min(lines.length, loc.endLine + 2);
  const out: string[] = [];
  for (let n = from; n <= to; n++) out.push(`${n >= loc.startLine && n <= loc.endLine ? '>>>' : '   '} ${String(n).padStart(String(to).length)} | ${lines[n - 1] ?? ''}`);
  return out.join('\n');
}
