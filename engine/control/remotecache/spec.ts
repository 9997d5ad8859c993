// `--cache-to` / `--cache-from` specs, buildx's CSV form (`type=local,dest=DIR,mode=max`). Only
// BuildKit's `local` cache backend exists in Kiln: an OCI layout directory of cache records and
// layer blobs (./local.ts). Every other backend (registry, inline, gha, s3, azblob) is refused by
// name, so a flag is never silently ignored.

export interface CacheSpec {
  type: 'local';
  attrs: Record<string, string>;
}

/** Thrown for a malformed spec (the CLI maps the name to exit code 2). */
export class CacheSpecError extends Error {
  override name = 'UsageError';
}

const KNOWN_BACKENDS = ['registry', 'inline', 'gha', 's3', 'azblob'];
const ATTRS = {
  export: ['dest', 'mode', 'tag', 'ignore-error'],
  import: ['src', 'tag'],
} as const;

/** parses and checks one spec; `flag` is `--cache-to` or `--cache-from` */
export function parseCacheSpec(raw: string, flag: '--cache-to' | '--cache-from'): CacheSpec {
  const dir = flag === '--cache-to' ? 'export' : 'import';
  const fail = (why: string): never => {
    throw new CacheSpecError(`${flag} ${raw}: ${why}`);
  };
  if (!raw.includes('=')) fail(`a bare value means a registry ref in buildx; Kiln supports type=local,${dir === 'export' ? 'dest' : 'src'}=DIR only`);
  const attrs: Record<string, string> = {};
  let type = '';
  for (const part of raw.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) fail(`invalid field "${part}" (expected KEY=VALUE)`);
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k === 'type') type = v;
    else attrs[k] = v;
  }
  if (!type) fail('type= is required (type=local)');
  if (type !== 'local') fail(KNOWN_BACKENDS.includes(type) ? `cache backend "${type}" is not supported by Kiln (only type=local)` : `unknown cache type "${type}" (only type=local)`);
  const allowed: readonly string[] = ATTRS[dir];
  for (const k of Object.keys(attrs)) if (!allowed.includes(k)) fail(`unknown attribute "${k}" (known: ${allowed.join(', ')})`);
  const path = attrs[dir === 'export' ? 'dest' : 'src'];
  if (!path) fail(`${dir === 'export' ? 'dest' : 'src'}=DIR is required`);
  if (attrs['mode'] !== undefined && !['min', 'max'].includes(attrs['mode'])) fail('mode is min or max');
  if (attrs['ignore-error'] !== undefined && !/^(true|false)$/.test(attrs['ignore-error'])) fail('ignore-error is true or false');
  if (attrs['tag'] !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(attrs['tag'])) fail('tag must be a valid OCI tag');
  return { type: 'local', attrs };
}
