// Flag value parsers shared by commands (pure: unit-tested).
import { UsageError } from './connect.js';

export const collect = (v: string, prev: string[] = []) => [...prev, v];

export function parseKeyValues(list: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i <= 0) {
      // docker build: `--build-arg NAME` takes the value from the environment
      if (flag === '--build-arg' && kv && process.env[kv] !== undefined) {
        out[kv] = process.env[kv]!;
        continue;
      }
      throw new UsageError(`${flag} expects KEY=VALUE, got "${kv}"`);
    }
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** `id=foo,src=path` | `id=foo,env=VAR` → id → base64 value */
export function parseSecret(spec: string, readFile: (p: string) => Buffer): [string, string] {
  const f: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) f[part.slice(0, i)] = part.slice(i + 1);
  }
  const id = f['id'];
  if (!id) throw new UsageError(`--secret needs id=…: "${spec}"`);
  const src = f['src'] ?? f['source'];
  if (src) return [id, readFile(src).toString('base64')];
  const env = f['env'] ?? (f['type'] === 'env' ? id : undefined) ?? (process.env[id] !== undefined ? id : undefined);
  if (env !== undefined) {
    const v = process.env[env];
    if (v === undefined) throw new UsageError(`--secret ${id}: environment variable ${env} is not set`);
    return [id, Buffer.from(v).toString('base64')];
  }
  throw new UsageError(`--secret ${id}: give src=PATH or env=VAR`);
}

const UNITS: Record<string, number> = { b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12, ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3 };

export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(s);
  const unit = m ? UNITS[(m[2] || 'b').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`invalid size "${s}" (e.g. 512MB, 10GB)`);
  return Math.round(Number(m[1]) * unit);
}

export function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  const mult: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 };
  let total = 0;
  let used = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * mult[m[2]!]!;
    used += m[0].length;
  }
  if (!used || used !== s.trim().length) throw new UsageError(`invalid duration "${s}" (e.g. 24h, 90m)`);
  return total;
}

export function formatSize(n: number): string {
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i ? n.toFixed(2) : n}${u[i]}`;
}

/** buildx `type=…,k=v` (a bare path means type=local,dest=PATH; `-` means a tar on stdout). */
export function parseOutputCsv(s: string): { type: string; attrs: Record<string, string> } {
  if (!s.includes('=')) return s === '-' ? { type: 'tar', attrs: { dest: '-' } } : { type: 'local', attrs: { dest: s } };
  const attrs: Record<string, string> = {};
  let type = '';
  for (const part of s.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) throw new UsageError(`--output: invalid field "${part}"`);
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k === 'type') type = v;
    else attrs[k] = v;
  }
  if (!type) throw new UsageError(`--output: type= is required`);
  return { type, attrs };
}
