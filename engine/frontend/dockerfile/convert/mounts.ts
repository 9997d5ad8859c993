// RUN --mount=… option parsing, with BuildKit's defaults (instructions/commands_runmount.go):
// bind mounts are read-only unless rw, cache ids default to the target, secrets land in
// /run/secrets/<id>, ssh sockets in /run/buildkit/ssh_agent.N.
import { suggestSuffix } from '../errors.js';

export interface ParsedMount {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
  target: string;
  source?: string;
  from?: string;
  readonly: boolean;
  id?: string;
  sharing: 'shared' | 'private' | 'locked';
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  required: boolean;
  env?: string;
}

const KEYS = ['type', 'target', 'dst', 'destination', 'source', 'src', 'from', 'readonly', 'ro', 'readwrite', 'rw', 'id', 'sharing', 'mode', 'uid', 'gid', 'size', 'required', 'env'];

function splitCSV(s: string): string[] {
  // csv with "quoted" fields, as encoding/csv
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === '"' && s[i + 1] === '"') (cur += '"'), i++;
      else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') out.push(cur), (cur = '');
    else cur += c;
  }
  out.push(cur);
  return out;
}

function bool(k: string, v: string | undefined): boolean {
  if (v === undefined || v === '' || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new Error(`invalid value for ${k}: ${v}`);
}

function int(k: string, v: string, base = 10): number {
  const n = parseInt(v, base);
  if (Number.isNaN(n) || !/^[0-9a-fA-F]+$/.test(v)) throw new Error(`invalid value for ${k}: ${v}`);
  return n;
}

export function parseMount(spec: string, expand: (s: string) => string, sshIndex: number): ParsedMount {
  const m: Partial<ParsedMount> & { type: ParsedMount['type'] } = { type: 'bind', sharing: 'shared' };
  let ro: boolean | undefined;
  let required: boolean | undefined;
  for (const field of splitCSV(spec)) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : expand(field.slice(eq + 1));
    if (!KEYS.includes(key)) throw new Error(`unexpected key '${key}' in '${field}'${suggestSuffix(key, KEYS)}`);
    const need = () => {
      if (value === undefined) throw new Error(`invalid field '${field}' must be a key=value pair`);
      return value;
    };
    switch (key) {
      case 'type': {
        const t = need();
        if (!['bind', 'cache', 'tmpfs', 'secret', 'ssh'].includes(t)) throw new Error(`unsupported mount type "${t}"`);
        m.type = t as ParsedMount['type'];
        break;
      }
      case 'target': case 'dst': case 'destination': m.target = need(); break;
      case 'source': case 'src': m.source = need(); break;
      case 'from': m.from = need(); break;
      case 'readonly': case 'ro': ro = bool(key, value); break;
      case 'readwrite': case 'rw': ro = !bool(key, value); break;
      case 'id': m.id = need(); break;
      case 'sharing': {
        const s = need();
        if (!['shared', 'private', 'locked'].includes(s)) throw new Error(`unsupported sharing value "${s}"`);
        m.sharing = s as ParsedMount['sharing'];
        break;
      }
      case 'mode': m.mode = int(key, need(), 8); break;
      case 'uid': m.uid = int(key, need()); break;
      case 'gid': m.gid = int(key, need()); break;
      case 'size': m.size = parseSize(need()); break;
      case 'required': required = bool(key, value); break;
      case 'env': m.env = need(); break;
    }
  }
  const t = m.type;
  if (t === 'secret') {
    if (!m.id && m.target) m.id = m.target.split('/').filter(Boolean).pop();
    if (!m.id) throw new Error('one of source, target required');
    if (!m.target && !m.env) m.target = `/run/secrets/${m.id}`;
    m.mode ??= 0o400;
  } else if (t === 'ssh') {
    m.id ??= 'default';
    m.target ??= `/run/buildkit/ssh_agent.${sshIndex}`;
    m.mode ??= 0o600;
  } else if (!m.target) {
    throw new Error('mount target is required');
  }
  if (t === 'cache') {
    m.id ??= m.target;
    m.mode ??= 0o755;
  }
  if (t === 'tmpfs' && (m.from || m.source)) throw new Error('tmpfs mounts take no source');
  return {
    ...m,
    target: m.target ?? '',
    readonly: ro ?? t === 'bind',
    sharing: m.sharing ?? 'shared',
    required: required ?? false,
  } as ParsedMount;
}

function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(v);
  if (!m) throw new Error(`invalid size: ${v}`);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
  return Math.round(parseFloat(m[1]!) * mult[m[2]!.toLowerCase()]!);
}
