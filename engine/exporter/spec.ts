// `--output` parsing with buildx's syntax: `type=…,k=v,…` as one CSV record, so values may be
// quoted ("a,b") and keys may repeat (name=a,name=b → names joined with ",").
export const EXPORTER_TYPES = ['docker', 'oci', 'tar', 'local', 'zip', 'image', 'registry'] as const;
export type ExporterType = (typeof EXPORTER_TYPES)[number];

export interface OutputSpec {
  type: ExporterType;
  attrs: Record<string, string>;
}

const KNOWN_KEYS = new Set([
  'type', 'dest', 'name', 'push', 'compression', 'compression-level', 'force-compression', 'oci-mediatypes',
  'rewrite-timestamp', 'source-date-epoch', 'insecure', 'registry.insecure', 'push-by-digest', 'unpack', 'store',
  'annotation', 'platform-split', 'tar', 'dangling-name-prefix', 'name-canonical', 'chunk-size',
]);

function splitCsv(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') { cur += '"'; i++; }
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(cur); cur = ''; }
    else cur += c;
  }
  if (quoted) throw new Error(`invalid --output ${JSON.stringify(s)}: unterminated quote`);
  out.push(cur);
  return out;
}

export function parseOutputSpec(s: string): OutputSpec {
  const attrs: Record<string, string> = {};
  let type: string | undefined;
  const fields = splitCsv(s.trim()).map((f) => f.trim()).filter((f) => f !== '');
  if (fields.length === 1 && !fields[0]!.includes('=')) {
    // buildx: `-o DIR` is type=local,dest=DIR; `-o -` is a tar to stdout
    return fields[0] === '-' ? { type: 'tar', attrs: { dest: '-' } } : { type: 'local', attrs: { dest: fields[0]! } };
  }
  for (const f of fields) {
    const i = f.indexOf('=');
    if (i <= 0) throw new Error(`invalid --output field ${JSON.stringify(f)}: expected key=value`);
    const k = f.slice(0, i).trim().toLowerCase();
    const v = f.slice(i + 1);
    if (k === 'type') { type = v; continue; }
    if (!KNOWN_KEYS.has(k) && !k.startsWith('annotation') && !k.startsWith('label:')) {
      throw new Error(`unknown --output key ${JSON.stringify(k)} (known: ${[...KNOWN_KEYS].filter((x) => x !== 'type').join(', ')})`);
    }
    attrs[k] = k in attrs && k === 'name' ? `${attrs[k]},${v}` : v;
  }
  if (!type) throw new Error(`--output ${JSON.stringify(s)} has no type= (one of ${EXPORTER_TYPES.join(', ')})`);
  if (!(EXPORTER_TYPES as readonly string[]).includes(type)) {
    throw new Error(`unknown exporter type ${JSON.stringify(type)} (one of ${EXPORTER_TYPES.join(', ')})`);
  }
  const t = type as ExporterType;
  if (t === 'registry') { attrs.push = 'true'; }
  if ((t === 'tar' || t === 'local' || t === 'zip' || t === 'oci') && !attrs.dest) {
    throw new Error(`--output type=${t} needs dest=`);
  }
  if ((t === 'image' || t === 'registry') && !attrs.name) throw new Error(`--output type=${t} needs name=`);
  if (attrs.compression && !['gzip', 'zstd', 'uncompressed', 'estargz'].includes(attrs.compression)) {
    throw new Error(`unknown compression ${JSON.stringify(attrs.compression)} (gzip, zstd or uncompressed)`);
  }
  if (attrs.compression === 'estargz') throw new Error('compression=estargz is not supported by Kiln');
  return { type: t, attrs };
}
