// Node titles read as verb + object, the way a Dockerfile line does.
import type { GraphNode } from '../../engine/frontend/graph/document.js';

const short = (s: string, n = 48) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

export function nodeTitle(n: Pick<GraphNode, 'kind' | 'params' | 'label'>): string {
  const p = n.params as Record<string, any>;
  switch (n.kind) {
    case 'image': return `FROM ${p.ref ?? '?'}`;
    case 'scratch': return 'FROM scratch';
    case 'local': return `CONTEXT ${p.name ?? 'context'}`;
    case 'git': return `GIT ${short(String(p.url ?? '?'))}`;
    case 'http': return `FETCH ${short(String(p.url ?? '?'))}`;
    case 'run': return `RUN ${short(String(p.command ?? ''))}`;
    case 'copy': return `COPY ${[p.src].flat().join(' ')} → ${p.dest ?? '?'}`;
    case 'mkdir': return `MKDIR ${p.path ?? '?'}`;
    case 'mkfile': return `MKFILE ${p.path ?? '?'}`;
    case 'rm': return `RM ${p.path ?? '?'}`;
    case 'merge': return 'MERGE';
    case 'config':
      if (p.instruction) return short(String(p.instruction));
      return `CONFIG ${Object.keys(p).filter((k) => p[k] !== undefined).join(', ') || '(empty)'}`;
    case 'export-docker': return `EXPORT → docker ${p.name ?? ''}`;
    case 'export-registry': return `PUSH → ${p.name ?? ''}`;
    case 'export-oci': return `EXPORT OCI → ${p.dest ?? ''}`;
    case 'export-docker-tar': return `EXPORT docker tar → ${p.dest ?? ''}`;
    case 'export-rootfs': return `EXPORT rootfs → ${p.dest ?? ''}`;
    case 'export-local': return `EXPORT folder → ${p.dest ?? ''}`;
  }
}

export function kindFamily(kind: GraphNode['kind']): 'source' | 'op' | 'config' | 'export' {
  if (['image', 'local', 'git', 'http', 'scratch'].includes(kind)) return 'source';
  if (kind === 'config') return 'config';
  if (kind.startsWith('export')) return 'export';
  return 'op';
}

/** Palette entries with starting params. */
export const PALETTE: { kind: GraphNode['kind']; label: string; params: Record<string, unknown> }[] = [
  { kind: 'image', label: 'Image', params: { ref: 'busybox:local' } },
  { kind: 'local', label: 'Local context', params: { name: 'context' } },
  { kind: 'git', label: 'Git repository', params: { url: '' } },
  { kind: 'http', label: 'HTTP file', params: { url: '' } },
  { kind: 'scratch', label: 'Scratch', params: {} },
  { kind: 'run', label: 'Run', params: { command: '' } },
  { kind: 'copy', label: 'Copy', params: { src: '/', dest: '/' } },
  { kind: 'mkdir', label: 'Mkdir', params: { path: '/data' } },
  { kind: 'mkfile', label: 'Mkfile', params: { path: '/hello.txt', data: 'hello' } },
  { kind: 'rm', label: 'Remove', params: { path: '/tmp/*' } },
  { kind: 'merge', label: 'Merge', params: {} },
  { kind: 'config', label: 'Image config', params: {} },
  { kind: 'export-docker', label: 'Export to Docker', params: { name: 'kiln/app:latest' } },
  { kind: 'export-registry', label: 'Push to registry', params: { name: '127.0.0.1:5000/kiln/app:latest' } },
  { kind: 'export-oci', label: 'OCI tar', params: { dest: '/tmp/kiln-oci.tar' } },
  { kind: 'export-docker-tar', label: 'Docker tar', params: { dest: '/tmp/kiln-docker.tar' } },
  { kind: 'export-rootfs', label: 'Rootfs tar', params: { dest: '/tmp/kiln-rootfs.tar' } },
  { kind: 'export-local', label: 'Local folder', params: { dest: '/tmp/kiln-out' } },
];
