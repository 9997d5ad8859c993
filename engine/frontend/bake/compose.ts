// Compose files as bake targets, the way buildx reads them: every service with a `build:` section
// is a target. Values are interpolated first, as compose does: `$VAR`, `${VAR}`, `${VAR:-d}`,
// `${VAR-d}`, `${VAR:?err}`, `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}` and `$$` for a literal `$`,
// from the environment over the project directory's `.env` file.
import fs from 'node:fs';
import path from 'node:path';

type Raw = Record<string, unknown>;

export class ComposeError extends Error {
  override name = 'UsageError';
}

/** KEY=VALUE lines of a compose `.env` file (`#` comments, optional `export `, quotes stripped). */
export function readDotEnv(dir: string): Record<string, string> {
  const file = path.join(dir, '.env');
  if (!fs.existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    if (/^"(.*)"$/.test(v)) v = v.slice(1, -1).replace(/\\n/g, '\n').replace(/\\"/g, '"');
    else if (/^'(.*)'$/.test(v)) v = v.slice(1, -1);
    else v = v.replace(/\s+#.*$/, '');
    out[m[1]!] = v;
  }
  return out;
}

/** compose's interpolation of one string; `where` names the value in errors */
export function interpolate(s: string, env: Record<string, string | undefined>, where: string): string {
  return s.replace(/\$(\$|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (all, _t: string, braced: string | undefined, bare: string | undefined) => {
    if (all === '$$') return '$';
    if (bare !== undefined) return env[bare] ?? '';
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(braced!);
    if (!m) throw new ComposeError(`${where}: invalid interpolation format for ${all}`);
    const [, name, op, arg = ''] = m;
    const v = env[name!];
    const unsetOrEmpty = v === undefined || (op?.startsWith(':') && v === '');
    switch (op) {
      case undefined:
        return v ?? '';
      case ':-':
      case '-':
        return unsetOrEmpty ? interpolate(arg, env, where) : v!;
      case ':?':
      case '?':
        if (unsetOrEmpty) throw new ComposeError(`${where}: required variable ${name} is missing a value${arg ? `: ${arg}` : ''}`);
        return v!;
      default: // :+ and +
        return unsetOrEmpty ? '' : interpolate(arg, env, where);
    }
  });
}

function interpolateAll(x: unknown, env: Record<string, string | undefined>, where: string): unknown {
  if (typeof x === 'string') return interpolate(x, env, where);
  if (Array.isArray(x)) return x.map((v, i) => interpolateAll(v, env, `${where}[${i}]`));
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, interpolateAll(v, env, `${where}.${k}`)]));
  return x;
}

/** compose's map-or-list (`args`, `additional_contexts`): a bare list entry takes its value from the environment */
function mapOrList(x: unknown, env: Record<string, string | undefined>): Record<string, string> {
  if (Array.isArray(x)) {
    const out: Record<string, string> = {};
    for (const kv of x.map(String)) {
      const eq = kv.indexOf('=');
      if (eq >= 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
      else if (env[kv] !== undefined) out[kv] = env[kv]!;
    }
    return out;
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((x ?? {}) as Raw)) {
    if (v === null || v === undefined) {
      if (env[k] !== undefined) out[k] = env[k]!;
    } else out[k] = String(v);
  }
  return out;
}

const list = (x: unknown): string[] => (Array.isArray(x) ? x.map(String) : typeof x === 'string' ? [x] : []);

/**
 * A compose document → raw bake targets (absolute context, dockerfile relative to it, contexts
 * as paths or `target:NAME` — compose's `service:NAME`). `file` names errors; `dir` is the
 * project directory (relative paths and `.env`).
 */
export function composeTargets(doc: Raw, file: string, dir: string, baseEnv: NodeJS.ProcessEnv = process.env): Record<string, Raw> {
  // the environment over the project directory's .env (compose) over the working directory's (buildx)
  const env: Record<string, string | undefined> = { ...readDotEnv(process.cwd()), ...readDotEnv(dir), ...baseEnv };
  const services = doc['services'];
  if (services !== undefined && (typeof services !== 'object' || services === null || Array.isArray(services))) throw new ComposeError(`${file}: services must be a mapping`);
  const out: Record<string, Raw> = {};
  for (const [name, rawSvc] of Object.entries((services ?? {}) as Raw)) {
    const svc = interpolateAll(rawSvc ?? {}, env, `${file}: services.${name}`) as Raw;
    const b = svc['build'];
    if (b === undefined || b === null) continue;
    const build = (typeof b === 'string' ? { context: b } : b) as Raw;
    const ctx = String(build['context'] ?? '.');
    // buildx: `image:` names the result only when `build.tags` is empty
    const buildTags = list(build['tags']);
    const tags = buildTags.length ? buildTags : svc['image'] ? [String(svc['image'])] : [];
    // buildx's `x-bake` build extension: bake fields compose has no key for
    const xb = (build['x-bake'] ?? {}) as Raw;
    for (const t of list(xb['tags'])) if (!tags.includes(t)) tags.push(t);
    const contexts: Record<string, string> = {};
    // like the context, a local additional context is relative to the project directory (compose-go)
    for (const [k, v] of Object.entries({ ...mapOrList(build['additional_contexts'], env), ...mapOrList(xb['contexts'], env) })) contexts[k] = v.startsWith('service:') ? 'target:' + v.slice('service:'.length) : v.includes('://') || v.startsWith('target:') ? v : path.resolve(dir, v);
    out[name] = {
      context: ctx.includes('://') ? ctx : path.resolve(dir, ctx),
      ...(build['dockerfile'] !== undefined ? { dockerfile: String(build['dockerfile']) } : {}),
      args: mapOrList(build['args'], env),
      tags,
      ...(build['target'] !== undefined ? { target: String(build['target']) } : {}),
      contexts,
      ...(build['cache_from'] !== undefined || xb['cache-from'] !== undefined ? { 'cache-from': [...list(build['cache_from']), ...list(xb['cache-from'])] } : {}),
      ...(build['cache_to'] !== undefined || xb['cache-to'] !== undefined ? { 'cache-to': [...list(build['cache_to']), ...list(xb['cache-to'])] } : {}),
      ...(xb['no-cache'] !== undefined || build['no_cache'] !== undefined ? { 'no-cache': [xb['no-cache'] ?? build['no_cache']].some((v) => v === true || v === 'true') } : {}),
      ...(build['platforms'] !== undefined || xb['platforms'] !== undefined ? { platforms: [...new Set([...list(build['platforms']), ...list(xb['platforms'])])] } : {}),
      ...(xb['output'] !== undefined ? { output: list(xb['output']) } : {}),
    };
  }
  return out;
}
