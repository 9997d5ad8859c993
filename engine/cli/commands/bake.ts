// `kiln bake`: many targets as one job. Each target's Dockerfile is converted here; a
// `target:NAME` context is spliced in as that target's output (no registry round trip). The
// targets' definitions are joined into one, and one solve — one job id, one history entry, one
// status stream — builds every target's vertex in parallel on the service (embedded, or a
// `kiln serve` through `--addr`), whose solver runs shared vertices once; each target keeps its
// own exports and result.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Definition } from '../../llb/definition.js';
import type { DefinitionTarget, OutputSpec, SolveResponse } from '../../control/api.js';
import type { ResolvedImage } from '../../worker/types.js';
import { DEFAULT_FILES, readBakeFiles, selectTargets, type BakeFile } from '../../frontend/bake/read.js';
import { printable } from '../../frontend/bake/print.js';
import { applyOverrides, checkPlatforms, parseOverride } from '../../frontend/bake/overrides.js';
import { connect, UsageError } from '../connect.js';
import { parseOutputCsv } from '../options.js';
import { makePrinter } from '../progress.js';
import { formatFailure, metadataOf } from './build.js';

export interface BakeFlags {
  file: string[];
  print?: boolean;
  /** `--list targets|variables` */
  list?: string;
  progress: string;
  set?: string[];
  /** buildx's shorthands: --set *.output=type=docker / type=registry, *.no-cache=true */
  load?: boolean;
  push?: boolean;
  /** false with --no-cache (commander's negation) */
  cache?: boolean;
  metadataFile?: string;
  addr?: string;
  token?: string;
}

/** `--set` with buildx's shorthand flags after it (--load, --push, --no-cache), as buildx orders them */
export function overridesOf(f: Pick<BakeFlags, 'set' | 'load' | 'push' | 'cache'>): string[] {
  return [...(f.set ?? []), ...(f.load ? ['*.output=type=docker'] : []), ...(f.push ? ['*.output=type=registry'] : []), ...(f.cache === false ? ['*.no-cache=true'] : [])];
}

/** The bake file with `--set` applied, and the targets to build (dependencies first). */
export async function resolveBake(names: string[], f: Pick<BakeFlags, 'file' | 'set' | 'load' | 'push' | 'cache'>, cwd = process.cwd()): Promise<{ bf: BakeFile; selected: string[] }> {
  // parse every --set first: a typo fails before any file is read
  const overrides = overridesOf(f).map(parseOverride);
  // buildx: every -f in order, or else every default file present, merged (later overrides)
  const files = f.file.length ? f.file.map((x) => path.resolve(cwd, x)) : DEFAULT_FILES.map((x) => path.join(cwd, x)).filter((x) => fs.existsSync(x));
  if (!files.length) throw new UsageError(`bake: no bake or compose file in ${cwd} (looked for ${DEFAULT_FILES.join(', ')}; use -f)`);
  const bf = applyOverrides(await readBakeFiles(files), overrides, cwd);
  const selected = selectTargets(bf, names);
  checkPlatforms(bf, selected);
  return { bf, selected };
}

export async function runBake(names: string[], f: BakeFlags, root?: string): Promise<number> {
  if (f.list !== undefined && f.list !== 'targets' && f.list !== 'variables') throw new UsageError(`--list must be targets or variables, not ${JSON.stringify(f.list)}`);
  const { bf, selected } = await resolveBake(f.list ? [] : names, f);
  if (f.list) {
    process.stdout.write(listing(bf, f.list));
    return 0;
  }
  if (f.print) {
    process.stdout.write(JSON.stringify(printable(bf, selected, names), null, 2) + '\n');
    return 0;
  }
  const { dockerfileToLLB, readDockerignore } = await import('../../frontend/dockerfile/index.js');
  const { spliceContexts } = await import('../../control/rewrite.js');
  const c = await connect({ ...(f.addr ? { addr: f.addr } : {}), ...(f.token ? { token: f.token } : {}), ...(root ? { root } : {}) });
  const embedded = (c.api as { resolveImage?: (ref: string) => Promise<ResolvedImage> }).resolveImage;
  const client = embedded ? undefined : await (await import('../resolve.js')).clientImageResolver(root);
  const resolveImage = embedded ? (ref: string) => embedded(ref) : (ref: string) => client!.resolve(ref);
  // the exporters' own parser when they load (it knows their attrs), buildx's CSV rule otherwise
  const parseOutput = await import('../../control/deps.js').then((d) => d.loadExporter()).then((m) => m.parseOutputSpec, () => parseOutputCsv);
  // cache specs are checked before anything is built; their directories resolve against this cwd
  const { parseCacheSpec } = await import('../../control/remotecache/spec.js');
  const caches = new Map(
    selected.map((n) => {
      const t = bf.targets[n]!;
      const spec = (raw: string, flag: '--cache-from' | '--cache-to', k: 'src' | 'dest') => {
        const c = parseCacheSpec(raw, flag);
        if (c.type === 'local') c.attrs[k] = path.resolve(c.attrs[k]!);
        return c;
      };
      return [n, { cacheFrom: (t.cacheFrom ?? []).map((c) => spec(c, '--cache-from', 'src')), cacheTo: (t.cacheTo ?? []).map((c) => spec(c, '--cache-to', 'dest')) }];
    }),
  );
  const printer = makePrinter(f.progress, process.stderr, process.stdout);
  try {
    // one local source name per distinct directory, so targets sharing a context share its vertex
    const dirNames = new Map<string, string>();
    const nameFor = (dir: string) => {
      if (!dirNames.has(dir)) dirNames.set(dir, dirNames.size ? `context-${dirNames.size}` : 'context');
      return dirNames.get(dir)!;
    };
    const isLocal = (v: string) => !v.includes('://') && !v.startsWith('target:');
    const defs = new Map<string, { def: Definition; imageConfig: unknown }>();
    for (const n of selected) {
      const t = bf.targets[n]!;
      if (!fs.existsSync(t.dockerfile)) throw new UsageError(`bake target ${n}: cannot read ${path.relative(process.cwd(), t.dockerfile) || t.dockerfile}: no such file`);
      const di = readDockerignore(t.context, t.dockerfile);
      const r = await dockerfileToLLB({
        dockerfile: fs.readFileSync(t.dockerfile, 'utf8'),
        filename: path.relative(process.cwd(), t.dockerfile),
        ...(t.target ? { target: t.target } : {}),
        ...(t.platforms?.length ? { platform: t.platforms[0]! } : {}),
        buildArgs: t.args,
        buildContexts: Object.fromEntries(Object.entries(t.contexts).map(([k, v]) => [k, v.startsWith('target:') ? `bake-target-${v.slice(7)}` : v])),
        contextName: nameFor(t.context),
        contextDir: t.context,
        ...(di !== undefined ? { dockerignore: di } : {}),
        resolveImage,
      });
      // `target:` contexts are the converted dependency's whole definition, spliced in
      const subs: Record<string, Definition> = {};
      for (const [k, v] of Object.entries(t.contexts)) if (v.startsWith('target:')) subs[k] = defs.get(v.slice(7))!.def;
      defs.set(n, { def: spliceContexts(r.definition, subs), imageConfig: r.imageConfig });
    }
    const localDirs: Record<string, string> = {};
    for (const [dir, name] of dirNames) localDirs[name] = dir;
    for (const n of selected)
      for (const [k, v] of Object.entries(bf.targets[n]!.contexts)) {
        if (!isLocal(v)) continue;
        // one job has one name space of local sources: a name may not mean two directories
        if (localDirs[k] !== undefined && localDirs[k] !== v) throw new UsageError(`bake target ${n}: context "${k}" is ${v}, but another target's "${k}" is ${localDirs[k]}: give them different names`);
        localDirs[k] = v;
      }
    // one definition holding every target's vertices: each part is topological and dependencies
    // come first, so the deduplicated concatenation is too
    const seen = new Set<string>();
    const vertices = selected
      .flatMap((n) => defs.get(n)!.def.vertices.map((v) => [n, v] as const))
      .filter(([, v]) => !seen.has(v.digest) && !!seen.add(v.digest))
      // buildx's progress names a step by its (first) target: `[web 2/3] RUN …`; names are metadata, not in the digest
      .map(([n, v]) => {
        const named = (x?: string) => (x?.startsWith('[') ? `[${n} ${x.slice(1)}` : x);
        if (!v.metadata) return v;
        const { description, progressName } = v.metadata;
        return { ...v, metadata: { ...v.metadata, ...(description ? { description: named(description) } : {}), ...(progressName ? { progressName: named(progressName) } : {}) } };
      });
    const members = new Map(selected.map((n) => [n, new Set(defs.get(n)!.def.vertices.map((v) => v.digest))]));
    const targets: DefinitionTarget[] = selected.map((n) => {
      const t = bf.targets[n]!;
      const { def, imageConfig } = defs.get(n)!;
      if (!def.output) throw new UsageError(`bake target ${n}: the build has no result (an empty stage?)`);
      // an image output without name= is named by the target's tags (before parsing: type=registry requires a name)
      const named = (o: string) => (t.tags.length && /(^|,)\s*type=(image|docker|registry)\s*(,|$)/.test(o) && !/(^|,)\s*name=/.test(o) ? [o, ...t.tags.map((x) => `name=${x}`)].join(',') : o);
      const parse = (o: string): OutputSpec => {
        try {
          return parseOutput(named(o));
        } catch (e) {
          const m = (e as Error).message;
          throw new UsageError(`bake target ${n}: ${m}${/needs name=/.test(m) ? ' (or give the target tags = ["NAME"], which --push and --load use)' : ''}`);
        }
      };
      const outputs: OutputSpec[] = t.output.length ? t.output.map(parse) : t.tags.length ? [{ type: 'docker', attrs: { name: t.tags.join(',') } }] : [];
      const cacheTo = caches.get(n)!.cacheTo;
      return { vertex: def.output.digest, outputs, ...(imageConfig ? { imageConfig: imageConfig as DefinitionTarget['imageConfig'] } : {}), ...(t.noCache ? { noCache: true } : {}), ...(cacheTo.length ? { cacheTo } : {}) };
    });
    const cacheFrom = selected.flatMap((n) => caches.get(n)!.cacheFrom);
    const last = defs.get(selected[selected.length - 1]!)!.def;
    const id = randomUUID();
    let ended!: () => void;
    const end = new Promise<void>((r) => (ended = r));
    const un = c.statusWithEnd(id, (e) => printer.event(e), () => ended());
    const r: SolveResponse = await c.api.solve({
      id,
      input: { kind: 'definition', definition: { ...last, vertices }, localDirs, targets },
      options: { name: `bake ${selected.join(' ')}`, ...(cacheFrom.length ? { cacheFrom } : {}) },
    });
    // the end marker follows the last event; a remote one that never comes must not hang bake
    await Promise.race([end, new Promise((res) => setTimeout(res, 5000).unref())]);
    un();
    printer.done();
    // the job's exports are the targets' in order; a failure belongs to the first target holding
    // its vertex, or for a failed export (`export:JOB:N`) to the target of the Nth output
    const exportNo = /^export:.*:(\d+)$/.exec(r.error?.vertex ?? '');
    let below = 0;
    const exporter = exportNo ? selected.find((_, i) => (below += targets[i]!.outputs?.length ?? 0) > Number(exportNo[1])) : undefined;
    const failedIn = r.ok ? undefined : (exporter ?? selected.find((n) => r.error?.vertex && members.get(n)!.has(r.error.vertex)) ?? selected[selected.length - 1]);
    let at = 0;
    const results = selected.map((n, i) => {
      const count = targets[i]!.outputs?.length ?? 0;
      const exports = r.exports.slice(at, at + count);
      at += count;
      return { target: n, id: r.id, ok: r.ok, output: targets[i]!.vertex, exports, ...(n === failedIn && r.error ? { error: r.error } : {}) };
    });
    if (f.metadataFile) {
      // buildx's shape: one entry per target, the job's warnings beside them
      const meta: Record<string, unknown> = Object.fromEntries(results.map((x) => [x.target, metadataOf(x.id, x.output, x.exports)]));
      if (r.warnings?.length) meta['kiln.build.warnings'] = r.warnings;
      fs.writeFileSync(f.metadataFile, JSON.stringify(meta, null, 2) + '\n');
    }
    if (f.progress === 'rawjson') for (const x of results) process.stdout.write(JSON.stringify({ type: 'result', ...x, warnings: r.warnings, durationMs: r.durationMs }) + '\n');
    if (!r.ok) process.stderr.write(`target ${failedIn}: ` + formatFailure(r));
    return r.ok ? 0 : 1;
  } finally {
    await client?.close();
    await c.close();
  }
}

/** `--list targets` / `--list variables`: buildx's tables (groups listed with their targets) */
function listing(bf: BakeFile, what: 'targets' | 'variables'): string {
  const table = (head: string[], rows: string[][]) => {
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]! + 2))).join('').trimEnd()).join('\n') + '\n';
  };
  if (what === 'variables')
    return table(['VARIABLE', 'TYPE', 'VALUE', 'DESCRIPTION'], [...(bf.variables ?? [])].sort((a, b) => a.name.localeCompare(b.name)).map((v) => [v.name, v.type, v.value, v.description ?? '']));
  const rows = [
    ...Object.entries(bf.targets).map(([n, t]) => [n, t.description ?? '']),
    ...Object.entries(bf.groups).filter(([n]) => !bf.targets[n]).map(([n, g]) => [n, g.description ?? g.targets.join(' ')]),
  ].sort((a, b) => a[0]!.localeCompare(b[0]!));
  return table(['TARGET', 'DESCRIPTION'], rows);
}
