// Bake files: buildx's docker-bake.json / docker-bake.hcl, and compose files' `build:` sections,
// read into one shape — targets (with `inherits` folded in and `${VAR}` expanded) and groups.
import fs from 'node:fs';
import path from 'node:path';
import { evalTemplate, ExprError, type Funcs, type Lookup, type Value } from './expr.js';
import { jsonErrorOffset } from './json-pos.js';

export interface BakeTarget {
  context: string;
  dockerfile: string;
  args: Record<string, string>;
  tags: string[];
  target?: string;
  /** name → path | docker-image://ref | target:NAME */
  contexts: Record<string, string>;
  output: string[];
  /** `platforms` (Kiln builds linux/amd64 only; anything else is refused before building) */
  platforms?: string[];
  noCache?: boolean;
  /** `cache-from` / `cache-to` specs as written (type=local,src=DIR / type=local,dest=DIR) */
  cacheFrom?: string[];
  cacheTo?: string[];
  /** `description` (shown by `--list targets`) */
  description?: string;
}

/** a declared variable as `--list variables` shows it */
export interface BakeVariable {
  name: string;
  type: string;
  value: string;
  description?: string;
}

export interface BakeFile {
  targets: Record<string, BakeTarget>;
  groups: Record<string, { targets: string[]; description?: string }>;
  variables?: BakeVariable[];
  /** the files read, in order (errors name them) */
  files?: string[];
}

type Raw = Record<string, unknown>;

/** A bad bake/compose file or an unknown name: the CLI maps it to a usage error (exit 2). */
export class BakeFileError extends Error {
  override name = 'UsageError';
}

function one(x: unknown): Raw {
  // hcl2json gives every block as a list of bodies (repeated blocks merge, later wins); JSON bake files give the body itself
  return (Array.isArray(x) ? Object.assign({}, ...(x as Raw[])) : (x ?? {})) as Raw;
}

const strMap = (x: unknown): Record<string, string> => {
  if (Array.isArray(x)) return Object.fromEntries(x.map(String).filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries((x ?? {}) as Raw).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, String(v)]));
};
// buildx drops empty list entries (so `cond ? "tag" : ""` adds a tag only when cond holds)
const strList = (x: unknown): string[] => (Array.isArray(x) ? x.map(String).filter((v) => v !== '') : typeof x === 'string' && x !== '' ? [x] : []);

/** keys whose maps merge key by key across inherits and files; every other key is replaced */
const MAP_KEYS = ['args', 'contexts', 'labels'];

function mergeTarget(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base, ...over };
  for (const k of MAP_KEYS) if (base[k] !== undefined || over[k] !== undefined) out[k] = { ...strMap(base[k]), ...strMap(over[k]) };
  return out;
}

/** one parsed file: its kind, directory and raw blocks */
interface Parsed {
  file: string;
  dir: string;
  compose: boolean;
  variables: Record<string, unknown>;
  variableBlocks: Record<string, Raw>;
  functions: Record<string, Raw>;
  targets: Record<string, Raw>;
  groups: Record<string, Raw>;
}

/** a file as errors name it: relative to the working directory when inside it */
const shown = (file: string) => {
  const r = path.relative(process.cwd(), file);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : path.resolve(file);
};

/** `file:line:col: message` from a JSON.parse error's position */
function jsonError(file: string, text: string, e: Error): never {
  const at = jsonErrorOffset(text);
  if (at >= 0) {
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    const col = at - before.lastIndexOf('\n');
    throw new BakeFileError(`${shown(file)}:${line}:${col}: ${e.message.replace(/ in JSON at position \d+.*$/, '').replace(/, ".*" is not valid JSON$/s, '')}`);
  }
  throw new BakeFileError(`${shown(file)}: ${e.message}`);
}

async function parseFile(file: string, env: NodeJS.ProcessEnv): Promise<Parsed> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new BakeFileError(`bake: cannot read ${shown(file)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const dir = path.dirname(path.resolve(file));
  const base = { file, dir, variables: {}, variableBlocks: {}, functions: {}, targets: {}, groups: {} };
  let doc: Raw;
  const yaml = async () => {
    const YAML = await import('yaml');
    const d = YAML.parseDocument(text);
    if (d.errors.length) {
      const err = d.errors[0]!;
      const pos = err.linePos?.[0];
      throw new BakeFileError(`${shown(file)}${pos ? `:${pos.line}:${pos.col}` : ''}: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
    }
    return (d.toJS() ?? {}) as Raw;
  };
  if (file.endsWith('.hcl')) {
    const { parse } = await import('@cdktf/hcl2json');
    try {
      doc = (await parse(shown(file), text)) as Raw;
    } catch (e) {
      // hcl2json: `parse config: [FILE:LINE,COL-COL: summary; detail]`
      const msg = String((e as Error).message ?? e).replace(/^parse config: \[/, '').replace(/\]$/, '');
      throw new BakeFileError(msg.replace(/^(.*?):(\d+),(\d+)(-\d+)?: /, '$1:$2:$3: '));
    }
  } else if (/\.ya?ml$/.test(file)) doc = await yaml();
  else {
    try {
      doc = JSON.parse(text) as Raw;
    } catch (e) {
      if (file.endsWith('.json')) jsonError(file, text, e as Error);
      doc = await yaml();
    }
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new BakeFileError(`${shown(file)}: expected a mapping at the top level`);
  if (doc['services'] !== undefined || /\.ya?ml$/.test(file)) {
    const { composeTargets } = await import('./compose.js');
    return { ...base, compose: true, targets: composeTargets(doc, shown(file), dir, env) };
  }
  const blocks = (k: string) => {
    const v = doc[k] ?? {};
    if (typeof v !== 'object' || Array.isArray(v)) throw new BakeFileError(`${shown(file)}: "${k}" must be a mapping of names to blocks`);
    return Object.fromEntries(Object.entries(v as Raw).map(([n, b]) => [n, one(b)]));
  };
  const variableBlocks = blocks('variable');
  const variables = Object.fromEntries(Object.entries(variableBlocks).map(([k, v]) => [k, v['default'] ?? '']));
  return { ...base, compose: false, variables, variableBlocks, functions: blocks('function'), targets: blocks('target'), groups: blocks('group') };
}

/**
 * bake's `function` blocks: `params = [a, b]` (hcl2json gives them as `${a}`), `result` an
 * expression over the params and the variables; calls nest at most 32 deep (recursion ends there).
 */
function userFunctions(blocks: Record<string, Raw>, vars: () => Lookup, file: string): Funcs {
  const funcs: Funcs = {};
  let depth = 0;
  for (const [name, b] of Object.entries(blocks)) {
    const params = (Array.isArray(b['params']) ? b['params'] : []).map((p) => String(p).replace(/^\$\{(.*)\}$/, '$1').trim());
    const bad = params.find((p) => !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(p));
    if (bad !== undefined) throw new BakeFileError(`${file}: function "${name}": parameter ${bad} is not a name`);
    const result = b['result'];
    if (result === undefined) throw new BakeFileError(`${file}: function "${name}" has no result`);
    funcs[name] = (args) => {
      if (args.length !== params.length) throw new ExprError(`function ${name} takes ${params.length} argument(s), got ${args.length}`);
      if (++depth > 32) throw new ExprError(`function ${name}: calls nest deeper than 32`);
      try {
        const local: Lookup = (n) => (params.includes(n) ? args[params.indexOf(n)]! : vars()(n));
        return typeof result === 'string' ? evalTemplate(result, local, funcs) : (result as Value);
      } finally {
        depth--;
      }
    };
  }
  return funcs;
}

/** bake's variables: the environment over each variable's default; defaults may use other variables */
function variableLookup(declared: Record<string, unknown>, env: NodeJS.ProcessEnv, file: string, funcs: Funcs): Lookup {
  const values = new Map<string, Value>();
  const resolving: string[] = [];
  const lookup: Lookup = (name) => {
    if (values.has(name)) return values.get(name)!;
    // ExprError: the expression being evaluated adds where it is
    if (!(name in declared)) throw new ExprError(`there is no variable named ${name} (declare it with variable "${name}" {})`);
    if (resolving.includes(name)) throw new ExprError(`variable cycle ${[...resolving, name].join(' → ')}`);
    resolving.push(name);
    const d = declared[name];
    const v: Value = env[name] !== undefined ? env[name]! : (evaluate(d, lookup, `${file}: variable "${name}"`, funcs) as Value);
    resolving.pop();
    values.set(name, v);
    return v;
  };
  return lookup;
}

function evaluate(x: unknown, lookup: Lookup, where: string, funcs: Funcs): unknown {
  if (typeof x === 'string') {
    try {
      return evalTemplate(x, lookup, funcs);
    } catch (e) {
      if (e instanceof ExprError) throw new BakeFileError(`${where}: ${e.message}`);
      throw e;
    }
  }
  if (Array.isArray(x)) return x.map((v) => evaluate(v, lookup, where, funcs));
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, evaluate(v, lookup, where, funcs)]));
  return x;
}

/** Reads and merges bake/compose files in order (buildx: later files override earlier ones, key by key). */
export async function readBakeFiles(files: string[], env: NodeJS.ProcessEnv = process.env): Promise<BakeFile> {
  if (!files.length) throw new BakeFileError('bake: no bake or compose file');
  const parsed: Parsed[] = [];
  for (const f of files) parsed.push(await parseFile(f, env));
  const names = parsed.map((p) => shown(p.file)).join(', ');
  // variables are shared by every bake file of the set, as buildx combines them into one body
  const declared: Record<string, unknown> = {};
  for (const p of parsed) Object.assign(declared, p.variables);
  const fnBlocks: Record<string, Raw> = {};
  for (const p of parsed) Object.assign(fnBlocks, p.functions);
  let lookup: Lookup = () => '';
  const funcs = userFunctions(fnBlocks, () => lookup, names);
  lookup = variableLookup(declared, env, names, funcs);
  const raw: Record<string, Raw> = {};
  const groups: BakeFile['groups'] = {};
  const matrixGroups: BakeFile['groups'] = {};
  for (const p of parsed) {
    for (const [name, body] of Object.entries(p.targets)) {
      const expanded = p.compose ? [[name, body] as const] : expandTarget(name, body, lookup, funcs, shown(p.file));
      if (expanded.length !== 1 || expanded[0]![0] !== name) matrixGroups[name] = { targets: expanded.map(([n]) => n) };
      for (const [n, t] of expanded) {
        // a relative context is relative to the file that set it
        if (t['context'] !== undefined) t['__dir'] = p.dir;
        raw[n] = mergeTarget(raw[n] ?? { __dir: p.dir }, t);
      }
    }
    for (const [name, body] of Object.entries(p.groups)) {
      const g = evaluate(body, lookup, `${shown(p.file)}: group "${name}"`, funcs) as Raw;
      groups[name] = { targets: strList(g['targets']), ...(g['description'] ? { description: String(g['description']) } : {}) };
    }
  }
  // buildx: a matrix target's own name is a group of its variants (unless a group has that name)
  for (const [n, g] of Object.entries(matrixGroups)) if (!groups[n] && !raw[n]) groups[n] = g;
  // compose: every service is in the default group (unless a bake file of the set names one)
  const composeNames = parsed.filter((p) => p.compose).flatMap((p) => Object.keys(p.targets));
  if (composeNames.length && !groups['default']) groups['default'] = { targets: [...new Set(composeNames)] };
  const resolved = new Map<string, Raw>();
  const resolve = (name: string, seen: string[]): Raw => {
    if (resolved.has(name)) return resolved.get(name)!;
    if (seen.includes(name)) throw new BakeFileError(`${names}: inherits cycle ${[...seen, name].join(' → ')}`);
    const t = raw[name];
    if (!t) throw new BakeFileError(`${names}: target "${seen[seen.length - 1]}" inherits from "${name}", which is not a target`);
    let merged: Raw = {};
    // parents in order, later ones overriding earlier ones; the target's own keys override them all
    for (const parent of strList(t['inherits'])) merged = mergeTarget(merged, resolve(parent, [...seen, name]));
    const own: Raw = { ...t };
    if (own['context'] === undefined) own['__dir'] = merged['__dir'] ?? t['__dir'];
    merged = mergeTarget(merged, own);
    delete merged['inherits'];
    resolved.set(name, merged);
    return merged;
  };
  const targets: Record<string, BakeTarget> = {};
  for (const name of Object.keys(raw)) {
    const t = resolve(name, []);
    const ctxRaw = String(t['context'] ?? '.');
    const ctx = ctxRaw.includes('://') ? ctxRaw : path.resolve(String(t['__dir']), ctxRaw);
    targets[name] = {
      context: ctx,
      dockerfile: path.resolve(ctx, String(t['dockerfile'] ?? 'Dockerfile')),
      args: strMap(t['args']),
      tags: strList(t['tags']),
      ...(t['target'] ? { target: String(t['target']) } : {}),
      contexts: Object.fromEntries(Object.entries(strMap(t['contexts'])).map(([k, v]) => [k, v.includes('://') || v.startsWith('target:') ? v : path.resolve(ctx, v)])),
      output: strList(t['output']),
      ...(t['platforms'] !== undefined ? { platforms: strList(t['platforms']) } : {}),
      ...(t['no-cache'] !== undefined ? { noCache: t['no-cache'] === true || t['no-cache'] === 'true' } : {}),
      ...(t['cache-from'] !== undefined ? { cacheFrom: strList(t['cache-from']) } : {}),
      ...(t['cache-to'] !== undefined ? { cacheTo: strList(t['cache-to']) } : {}),
      ...(t['description'] ? { description: String(t['description']) } : {}),
    };
  }
  const variableBlocks: Record<string, Raw> = {};
  for (const p of parsed) Object.assign(variableBlocks, p.variableBlocks);
  const variables = Object.entries(variableBlocks).map(([name, b]): BakeVariable => {
    const v = lookup(name);
    const type = b['type'] !== undefined ? String(b['type']).replace(/^\$\{(.*)\}$/, '$1') : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? 'number' : 'string';
    return { name, type, value: typeof v === 'string' ? v : JSON.stringify(v), ...(b['description'] ? { description: String(b['description']) } : {}) };
  });
  return { targets, groups, variables, files: parsed.map((p) => p.file) };
}

const TARGET_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * A target block, evaluated; with a `matrix` (a map of names to lists), one target per
 * combination of values, each evaluated with those names bound and named by its `name`
 * expression (buildx's matrix targets). Names must be valid and distinct.
 */
function expandTarget(name: string, body: Raw, lookup: Lookup, funcs: Funcs, file: string): (readonly [string, Raw])[] {
  const where = `${file}: target "${name}"`;
  const { matrix, name: nameExpr, ...rest } = body;
  if (matrix === undefined) {
    const t = evaluate(rest, lookup, where, funcs) as Raw;
    const n = nameExpr === undefined ? name : String(evaluate(nameExpr, lookup, where, funcs));
    if (!TARGET_NAME.test(n)) throw new BakeFileError(`${where}: name "${n}" is not a valid target name (letters, digits, _ and -)`);
    return [[n, t]];
  }
  const axes = evaluate(matrix, lookup, `${where}: matrix`, funcs);
  if (!axes || typeof axes !== 'object' || Array.isArray(axes)) throw new BakeFileError(`${where}: matrix must be a map of names to lists of values`);
  const entries = Object.entries(axes as Record<string, unknown>);
  for (const [k, v] of entries) {
    if (!Array.isArray(v)) throw new BakeFileError(`${where}: matrix.${k} must be a list of values`);
    if (!v.length) throw new BakeFileError(`${where}: matrix.${k} is empty (no target would be built)`);
  }
  let combos: Record<string, Value>[] = [{}];
  for (const [k, vs] of entries) combos = combos.flatMap((c) => (vs as Value[]).map((v) => ({ ...c, [k]: v })));
  if (combos.length > 1 && nameExpr === undefined) throw new BakeFileError(`${where}: a matrix target needs a name expression giving each variant its own name (e.g. name = "${name}-\${${entries[0]![0]}}")`);
  const out: [string, Raw][] = [];
  for (const c of combos) {
    const local: Lookup = (n) => (Object.hasOwn(c, n) ? c[n]! : lookup(n));
    const n = nameExpr === undefined ? name : String(evaluate(nameExpr, local, where, funcs));
    const shownCombo = Object.entries(c).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
    if (!TARGET_NAME.test(n)) throw new BakeFileError(`${where}: matrix variant (${shownCombo}) is named "${n}", which is not a valid target name (letters, digits, _ and -)`);
    if (out.some(([m]) => m === n)) throw new BakeFileError(`${where}: two matrix variants are both named "${n}"; the name expression must tell them apart`);
    out.push([n, evaluate(rest, local, `${where} (${shownCombo})`, funcs) as Raw]);
  }
  return out;
}

/** buildx's default files, in its lookup order; every one present is read (and merged in this order) */
export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml', 'docker-bake.json', 'docker-bake.hcl', 'docker-bake.override.json', 'docker-bake.override.hcl'];

export function readBakeFile(file: string): Promise<BakeFile> {
  return readBakeFiles([file]);
}

/** Names (targets or groups; default group when none) → target names, dependencies first. */
export function selectTargets(f: BakeFile, names: string[]): string[] {
  const want = names.length ? names : f.groups['default'] ? ['default'] : Object.keys(f.targets);
  const out: string[] = [];
  const visit = (n: string, seen: string[]) => {
    if (f.groups[n] && !f.targets[n]) {
      for (const t of f.groups[n].targets) visit(t, [...seen, n]);
      return;
    }
    const t = f.targets[n];
    if (!t) {
      const from = seen.length ? ` (needed by ${seen[seen.length - 1]})` : '';
      const list = (xs: string[]) => xs.sort().join(', ') || 'none';
      throw new BakeFileError(`${(f.files ?? []).map(shown).join(', ') || 'bake'}: no target or group named "${n}"${from}; targets: ${list(Object.keys(f.targets))}; groups: ${list(Object.keys(f.groups))}`);
    }
    if (seen.includes(n)) throw new BakeFileError(`bake: target dependency cycle ${[...seen, n].join(' → ')}`);
    for (const v of Object.values(t.contexts)) if (v.startsWith('target:')) visit(v.slice(7), [...seen, n]);
    if (!out.includes(n)) out.push(n);
  };
  for (const n of want) visit(n, []);
  return out;
}
