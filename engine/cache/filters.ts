// Prune filters in buildx's syntax: "type=regular", "type!=source.git", "description~=npm",
// "id=sha256:…". Several filters must all match.
import type { DuRecord } from '../control/api.js';

export interface Filter {
  field: 'type' | 'id' | 'description' | 'key';
  op: '=' | '!=' | '~=';
  value: string;
}

export function parseFilters(list: string[]): Filter[] {
  return list.map((s) => {
    const m = /^([a-z]+)\s*(==|!=|~=|=)\s*(.*)$/.exec(s.trim());
    if (!m) throw new Error(`invalid filter "${s}": expected field=value`);
    const field = m[1] as Filter['field'];
    if (!['type', 'id', 'description', 'key'].includes(field)) throw new Error(`invalid filter "${s}": unknown field ${field}`);
    return { field, op: (m[2] === '==' ? '=' : m[2]) as Filter['op'], value: m[3]! };
  });
}

export function matchesFilters(r: DuRecord, filters: Filter[]): boolean {
  return filters.every((f) => {
    const v = String(r[f.field] ?? '');
    if (f.op === '=') return v === f.value || (f.field === 'id' && v.startsWith(f.value));
    if (f.op === '!=') return v !== f.value;
    return v.includes(f.value);
  });
}
