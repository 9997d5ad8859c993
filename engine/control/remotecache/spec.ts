// `--cache-to` / `--cache-from` specs, buildx's CSV form (`type=local,dest=DIR,mode=max`,
// `type=registry,ref=REG/REPO:TAG`); a bare value is a registry ref, as in buildx. Kiln has
// BuildKit's `local` backend (an OCI layout directory of cache records and layer blobs, ./local.ts)
// and its `registry` backend (the same manifest and blobs pushed to a registry, ./registry.ts).
// Every other backend (inline, gha, s3, azblob) is refused by name, so a flag is never silently
// ignored.
import { parseReference } from '../../registry/reference.js';

export interface CacheSpec {
  type: 'local' | 'registry';
  attrs: Record<string, string>;
}

/** Thrown for a malformed spec (the CLI maps the name to exit code 2). */
export class CacheSpecError extends Error {
  override name = 'UsageError';
}

const KNOWN_BACKENDS = ['inline', 'gha', 's3', 'azblob'];
const ATTRS = {
  local: { export: ['dest', 'mode', 'tag', 'ignore-error'], import: ['src', 'tag'] },
  registry: { export: ['ref', 'mode', 'ignore-error', 'oci-mediatypes', 'image-manifest', 'compression', 'registry.insecure'], import: ['ref', 'registry.insecure'] },
} as const;
const BOOLS = ['ignore-error', 'oci-mediatypes', 'image-manifest', 'registry.insecure'];

/** parses and checks one spec; `flag` is `--cache-to` or `--cache-from` */
export function parseCacheSpec(raw: string, flag: '--cache-to' | '--cache-from'): CacheSpec {
  const dir = flag === '--cache-to' ? 'export' : 'import';
  const fail = (why: string): never => {
    throw new CacheSpecError(`${flag} ${raw}: ${why}`);
  };
  const attrs: Record<string, string> = {};
  let type = '';
  if (!raw.includes('=')) {
    // buildx: a bare value is `type=registry,ref=VALUE`
    if (!raw.trim()) fail('empty cache spec');
    type = 'registry';
    attrs['ref'] = raw.trim();
  } else
    for (const part of raw.split(',')) {
      const i = part.indexOf('=');
      if (i <= 0) fail(`invalid field "${part}" (expected KEY=VALUE)`);
      const k = part.slice(0, i).trim();
      const v = part.slice(i + 1).trim();
      if (k === 'type') type = v;
      else attrs[k] = v;
    }
  if (!type) fail('type= is required (type=local or type=registry)');
  if (type !== 'local' && type !== 'registry') fail(KNOWN_BACKENDS.includes(type) ? `cache backend "${type}" is not supported by Kiln (only type=local and type=registry)` : `unknown cache type "${type}" (type=local or type=registry)`);
  const allowed: readonly string[] = ATTRS[type as 'local' | 'registry'][dir];
  for (const k of Object.keys(attrs)) if (!allowed.includes(k)) fail(`unknown attribute "${k}" (known: ${allowed.join(', ')})`);
  if (attrs['mode'] !== undefined && !['min', 'max'].includes(attrs['mode'])) fail('mode is min or max');
  for (const b of BOOLS) if (attrs[b] !== undefined && !/^(true|false)$/.test(attrs[b])) fail(`${b} is true or false`);
  if (type === 'local') {
    const path = attrs[dir === 'export' ? 'dest' : 'src'];
    if (!path) fail(`${dir === 'export' ? 'dest' : 'src'}=DIR is required`);
    if (attrs['tag'] !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(attrs['tag'])) fail('tag must be a valid OCI tag');
    return { type: 'local', attrs };
  }
  const ref = attrs['ref'];
  if (!ref) fail('ref=REGISTRY/REPOSITORY[:TAG] is required');
  let parsed: ReturnType<typeof parseReference>;
  try {
    parsed = parseReference(ref!);
  } catch (e) {
    return fail(`ref ${JSON.stringify(ref)} is not an image reference (${(e as Error).message.replace(/^invalid image reference "[^"]*": /, '')})`);
  }
  if (parsed.tag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(parsed.tag)) fail(`ref ${JSON.stringify(ref)} has an invalid tag "${parsed.tag}"`);
  if (parsed.digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(parsed.digest)) fail(`ref ${JSON.stringify(ref)} has an invalid digest "${parsed.digest}"`);
  if (dir === 'export' && parsed.digest) fail(`ref ${JSON.stringify(ref)}: a cache is pushed to a tag, not a digest`);
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(parsed.registry)) fail(`ref ${JSON.stringify(ref)} has an invalid registry host "${parsed.registry}"`);
  if (attrs['image-manifest'] === 'true' && attrs['oci-mediatypes'] === 'false') fail('image-manifest=true needs oci-mediatypes=true (an image manifest is an OCI type)');
  // Kiln's cache layers are the snapshots' uncompressed tars (digest = diff id)
  if (attrs['compression'] !== undefined && attrs['compression'] !== 'uncompressed') fail(`compression=${attrs['compression']} is not supported (Kiln stores cache layers uncompressed: compression=uncompressed)`);
  return { type: 'registry', attrs };
}
