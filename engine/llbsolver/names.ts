// Human names for progress ("[2/5] RUN make") and cache record types for the cache manager.
import type { DefinitionVertex } from '../llb/definition.js';

export function vertexName(v: DefinitionVertex): string {
  const m = v.metadata;
  const base = m?.description ?? describeOp(v);
  if (!m?.progressName) return base;
  // the Dockerfile frontend's progressName already carries the instruction text
  if (m.progressName.endsWith(base) || base.startsWith(m.progressName)) return m.progressName.length >= base.length ? m.progressName : base;
  return `${m.progressName} ${base}`;
}

function describeOp(v: DefinitionVertex): string {
  const op = v.op;
  switch (op.kind) {
    case 'source':
      return op.identifier;
    case 'exec':
      return op.args.join(' ');
    case 'file':
      return op.actions.map((a) => (a.action === 'copy' ? `copy ${a.srcPath} ${a.destPath}` : `${a.action} ${a.path}`)).join(', ');
    case 'merge':
      return `merge (${op.inputs.length})`;
    case 'diff':
      return 'diff';
  }
}

export function sourceRecordType(v: DefinitionVertex): string | undefined {
  if (v.op.kind !== 'source') return undefined;
  const id = v.op.identifier;
  if (id.startsWith('local://')) return 'source.local';
  // a pulled base image is not Kiln's to delete: the cache manager records it as external
  if (id.startsWith('docker-image://')) return 'source.image';
  if (id.startsWith('git://') || id.startsWith('git@') || /\.git(#|$)/.test(id)) return 'source.git';
  return undefined;
}
