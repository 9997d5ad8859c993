// `kiln bake --set`: buildx's overrides. `--set TARGET.KEY=VALUE` where TARGET is a name or a
// glob (`*`, `app-*`) and KEY one of the keys below. They apply to the file's targets before
// selection, so an overridden `contexts.NAME=target:OTHER` pulls OTHER into the job. List keys
// (tags, output, platform, cache-from, cache-to) repeated for one target accumulate, as in buildx; `KEY+=VALUE` appends
// to the file's list instead of replacing it.
import path from 'node:path';
import type { BakeFile, BakeTarget } from './read.js';

export interface BakeOverride {
  /** the flag as written, for error messages */
  raw: string;
  pattern: string;
  key: string;
  /** args.NAME / contexts.NAME */
  sub?: string;
  value: string;
  append: boolean;
}

/** Kiln builds for one platform: the engine's. */
export const SUPPORTED_PLATFORMS = ['linux/amd64'];

const KEYS = ['args', 'contexts', 'tags', 'target', 'dockerfile', 'context', 'output', 'no-cache', 'platform', 'cache-from', 'cache-to'];
const LISTS = ['tags', 'output', 'platform', 'cache-from', 'cache-to'];
const MAPS = new Set(['args', 'contexts']);

/** Thrown for a bad `--set` (the CLI maps it to a usage error, exit 2). */
export class BakeOverrideError extends Error {
  override name = 'UsageError';
}

const fail = (raw: string, why: string): never => {
  throw new BakeOverrideError(`--set ${raw}: ${why}`);
};

export function parseOverride(raw: string): BakeOverride {
  const eq = raw.indexOf('=');
  if (eq <= 0) fail(raw, 'expected TARGET.KEY=VALUE');
  const append = raw[eq - 1] === '+';
  const lhs = raw.slice(0, append ? eq - 1 : eq);
  const value = raw.slice(eq + 1);
  const dot = lhs.indexOf('.');
  if (dot <= 0) fail(raw, 'expected TARGET.KEY=VALUE (TARGET is a name or a pattern such as *)');
  const pattern = lhs.slice(0, dot);
  const rest = lhs.slice(dot + 1);
  const [key, ...subParts] = rest.split('.');
  const sub = subParts.join('.');
  if (!key || !KEYS.includes(key)) fail(raw, `unknown key "${rest}" (known: args.NAME, contexts.NAME, ${KEYS.filter((k) => !MAPS.has(k)).join(', ')})`);
  if (MAPS.has(key!) && !sub) fail(raw, `${key} needs a name: ${key}.NAME=VALUE`);
  if (!MAPS.has(key!) && sub) fail(raw, `${key} takes no sub-key`);
  if (append && !LISTS.includes(key!)) fail(raw, `+= appends to lists only (${LISTS.join(', ')})`);
  if (key === 'no-cache' && !/^(true|false|1|0)$/i.test(value)) fail(raw, 'no-cache is true or false');
  if (key === 'platform') for (const p of value.split(',')) if (!SUPPORTED_PLATFORMS.includes(p.trim())) fail(raw, `platform ${p.trim() || '""'} is not supported: Kiln builds ${SUPPORTED_PLATFORMS.join(', ')} only`);
  return { raw, pattern, key: key!, ...(sub ? { sub } : {}), value, append };
}

function globToRegExp(p: string): RegExp {
  return new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
}

const localPath = (v: string, cwd: string) => (v.includes('://') || v.startsWith('target:') ? v : path.resolve(cwd, v));

/**
 * Applies overrides in order to a copy of `f`. Paths given on the command line are relative to
 * `cwd` (as buildx resolves them); a dockerfile the file gave keeps its place in a moved context.
 */
export function applyOverrides(f: BakeFile, overrides: BakeOverride[], cwd: string): BakeFile {
  const targets: Record<string, BakeTarget> = structuredClone(f.targets);
  // a list key repeated with the same pattern accumulates (buildx); a new pattern replaces
  const replaced = new Set<string>();
  const dockerfileRaw = new Map<string, string>();
  for (const o of overrides) {
    const re = globToRegExp(o.pattern);
    const names = Object.keys(targets).filter((n) => re.test(n));
    if (!names.length) fail(o.raw, `no target matches "${o.pattern}" (targets: ${Object.keys(targets).join(', ') || 'none'})`);
    for (const n of names) {
      const t = targets[n]!;
      const list = (cur: string[], values: string[]) => {
        const k = `${o.pattern}\0${n}\0${o.key}`;
        if (o.append || replaced.has(k)) return [...cur, ...values];
        replaced.add(k);
        return values;
      };
      switch (o.key) {
        case 'args':
          t.args[o.sub!] = o.value;
          break;
        case 'contexts':
          t.contexts[o.sub!] = localPath(o.value, cwd);
          break;
        case 'tags':
          t.tags = list(t.tags, o.value.split(',').map((s) => s.trim()).filter(Boolean));
          break;
        case 'output':
          t.output = list(t.output, [o.value]);
          break;
        case 'platform':
          t.platforms = list(t.platforms ?? [], o.value.split(',').map((s) => s.trim()));
          break;
        case 'cache-from':
          t.cacheFrom = list(t.cacheFrom ?? [], [o.value]);
          break;
        case 'cache-to':
          t.cacheTo = list(t.cacheTo ?? [], [o.value]);
          break;
        case 'target':
          t.target = o.value;
          break;
        case 'no-cache':
          t.noCache = /^(true|1)$/i.test(o.value);
          break;
        case 'context': {
          const ctx = path.resolve(cwd, o.value);
          t.dockerfile = path.resolve(ctx, path.relative(t.context, t.dockerfile));
          t.context = ctx;
          break;
        }
        case 'dockerfile':
          dockerfileRaw.set(n, o.value);
          break;
      }
    }
  }
  // buildx: a dockerfile path is relative to the target's (final) context
  for (const [n, v] of dockerfileRaw) targets[n]!.dockerfile = path.resolve(targets[n]!.context, v);
  return { ...f, targets };
}

/** Fails on a file's own unsupported platform list before anything is built. */
export function checkPlatforms(f: BakeFile, selected: string[]): void {
  for (const n of selected)
    for (const p of f.targets[n]!.platforms ?? [])
      if (!SUPPORTED_PLATFORMS.includes(p)) throw new BakeOverrideError(`target ${n}: platform ${p} is not supported: Kiln builds ${SUPPORTED_PLATFORMS.join(', ')} only`);
}
