// Bake files: buildx's docker-bake.json / docker-bake.hcl, and compose files' `build:` sections,
// read into one shape — targets (with `inherits` folded in and `${VAR}` expanded) and groups.
import fs from 'node:fs';
import path from 'node:path';

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
}

export interface BakeFile {
  targets: Record<string, BakeTarget>;
  groups: Record<string, { targets: string[] }>;
}

type Raw = Record<string, unknown>;

function one(x: unknown): Raw {
  // hcl2json gives every block as a list of bodies; JSON bake files give the body itself
  return (Array.isArray(x) ? Object.assign({}, ...(x as Raw[])) : (x ?? {})) as Raw;
}

const strMap = (x: unknown): Record<string, string> => {
  if (Array.isArray(x)) return Object.fromEntries(x.map((kv: string) => [kv.split('=')[0], kv.slice(kv.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries((x ?? {}) as Raw).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]));
};
const strList = (x: unknown): string[] => (Array.isArray(x) ? x.map(String) : typeof x === 'string' ? [x] : []);

function expand(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, n: string) => vars[n] ?? process.env[n] ?? '');
}

function deepExpand<T>(x: T, vars: Record<string, string>): T {
  if (typeof x === 'string') return expand(x, vars) as T;
  if (Array.isArray(x)) return x.map((v) => deepExpand(v, vars)) as T;
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, deepExpand(v, vars)])) as T;
  return x;
}

function fromBake(doc: Raw, dir: string): BakeFile {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries((doc['variable'] ?? {}) as Raw)) vars[k] = process.env[k] ?? String(one(v)['default'] ?? '');
  const rawTargets = Object.fromEntries(Object.entries((doc['target'] ?? {}) as Raw).map(([k, v]) => [k, deepExpand(one(v), vars)]));
  const resolved = new Map<string, Raw>();
  const resolve = (name: string, seen: string[] = []): Raw => {
    if (resolved.has(name)) return resolved.get(name)!;
    if (seen.includes(name)) throw new Error(`bake: inherits cycle ${[...seen, name].join(' → ')}`);
    const t = rawTargets[name];
    if (!t) throw new Error(`bake: unknown target ${name}`);
    let merged: Raw = {};
    for (const parent of strList(t['inherits'])) {
      const p = resolve(parent, [...seen, name]);
      merged = { ...merged, ...p, args: { ...(merged['args'] as Raw), ...(p['args'] as Raw) }, contexts: { ...(merged['contexts'] as Raw), ...(p['contexts'] as Raw) } };
    }
    merged = { ...merged, ...t, args: { ...(merged['args'] as Raw), ...(t['args'] as Raw) }, contexts: { ...(merged['contexts'] as Raw), ...(t['contexts'] as Raw) } };
    resolved.set(name, merged);
    return merged;
  };
  const targets: Record<string, BakeTarget> = {};
  for (const name of Object.keys(rawTargets)) {
    const t = resolve(name);
    const ctx = path.resolve(dir, String(t['context'] ?? '.'));
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
    };
  }
  const groups: BakeFile['groups'] = {};
  for (const [k, v] of Object.entries((doc['group'] ?? {}) as Raw)) groups[k] = { targets: strList(one(v)['targets']) };
  return { targets, groups };
}

function fromCompose(doc: Raw, dir: string): BakeFile {
  const targets: Record<string, BakeTarget> = {};
  for (const [name, svc] of Object.entries((doc['services'] ?? {}) as Record<string, Raw>)) {
    const b = svc['build'];
    if (b === undefined) continue;
    const build = (typeof b === 'string' ? { context: b } : b) as Raw;
    const ctx = path.resolve(dir, String(build['context'] ?? '.'));
    const tags = [...strList(build['tags'])];
    if (svc['image']) tags.unshift(String(svc['image']));
    targets[name] = {
      context: ctx,
      dockerfile: path.resolve(ctx, String(build['dockerfile'] ?? 'Dockerfile')),
      args: strMap(build['args']),
      tags,
      ...(build['target'] ? { target: String(build['target']) } : {}),
      contexts: Object.fromEntries(
        Object.entries(strMap(build['additional_contexts'])).map(([k, v]) => [k, v.startsWith('service:') ? 'target:' + v.slice(8) : v.includes('://') || v.startsWith('target:') ? v : path.resolve(ctx, v)]),
      ),
      output: [],
      ...(build['cache_from'] !== undefined ? { cacheFrom: strList(build['cache_from']) } : {}),
      ...(build['cache_to'] !== undefined ? { cacheTo: strList(build['cache_to']) } : {}),
    };
  }
  return { targets, groups: { default: { targets: Object.keys(targets) } } };
}

export const DEFAULT_FILES = ['docker-bake.json', 'docker-bake.hcl', 'compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];

export async function readBakeFile(file: string): Promise<BakeFile> {
  const text = fs.readFileSync(file, 'utf8');
  const dir = path.dirname(path.resolve(file));
  if (file.endsWith('.hcl')) {
    const { parse } = await import('@cdktf/hcl2json');
    return fromBake((await parse(path.basename(file), text)) as Raw, dir);
  }
  if (/\.ya?ml$/.test(file)) {
    const YAML = await import('yaml');
    return fromCompose(YAML.parse(text) as Raw, dir);
  }
  const doc = JSON.parse(text) as Raw;
  return doc['services'] ? fromCompose(doc, dir) : fromBake(doc, dir);
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
    if (!t) throw new Error(`bake: no target or group named ${n}`);
    if (seen.includes(n)) throw new Error(`bake: target dependency cycle ${[...seen, n].join(' → ')}`);
    for (const v of Object.values(t.contexts)) if (v.startsWith('target:')) visit(v.slice(7), [...seen, n]);
    if (!out.includes(n)) out.push(n);
  };
  for (const n of want) visit(n, []);
  return out;
}

/** `--print`: buildx's shape (and its key names: `no-cache`, `platforms`, `cache-from`, `cache-to`). */
export function printable(f: BakeFile, selected: string[], names: string[]): unknown {
  const shown = (t: BakeTarget) => {
    const { noCache, cacheFrom, cacheTo, ...rest } = t;
    return { ...rest, ...(noCache !== undefined ? { 'no-cache': noCache } : {}), ...(cacheFrom ? { 'cache-from': cacheFrom } : {}), ...(cacheTo ? { 'cache-to': cacheTo } : {}) };
  };
  return {
    group: { default: { targets: names.length ? names : selected } },
    target: Object.fromEntries(selected.map((n) => [n, shown(f.targets[n]!)])),
  };
}
