// Typed ports. `fs` carries a filesystem (an LLB state); `config` carries an image config made by
// a config node. Wiring one to the other is refused, so a graph can never mean something ambiguous.
import type { GraphNode, NodeKind } from './document.js';

export type PortType = 'fs' | 'config';
export interface PortSpec {
  name: string;
  type: PortType;
  required: boolean;
  /** several edges may arrive (merge) */
  multiple?: boolean;
}

const SOURCES: NodeKind[] = ['image', 'local', 'git', 'http', 'scratch'];
export const EXPORTERS: NodeKind[] = ['export-docker', 'export-registry', 'export-oci', 'export-docker-tar', 'export-rootfs', 'export-local'];

export function isSource(k: NodeKind): boolean {
  return SOURCES.includes(k);
}
export function isExporter(k: NodeKind): boolean {
  return EXPORTERS.includes(k);
}

export function inputPorts(node: Pick<GraphNode, 'kind' | 'params'>): PortSpec[] {
  const k = node.kind;
  if (isSource(k)) return [];
  if (isExporter(k)) return [{ name: 'in', type: 'fs', required: true }, { name: 'config', type: 'config', required: false }];
  switch (k) {
    case 'run': {
      const mounts = Array.isArray(node.params.mounts) ? (node.params.mounts as { type?: string }[]) : [];
      const ports: PortSpec[] = [{ name: 'in', type: 'fs', required: true }];
      mounts.forEach((m, i) => {
        // a bind mount needs a filesystem; cache mounts may be seeded from one
        if (m?.type === 'bind') ports.push({ name: `mount${i}`, type: 'fs', required: true });
        if (m?.type === 'cache') ports.push({ name: `mount${i}`, type: 'fs', required: false });
      });
      return ports;
    }
    case 'copy':
      return [{ name: 'in', type: 'fs', required: true }, { name: 'from', type: 'fs', required: true }];
    case 'merge':
      return [{ name: 'in', type: 'fs', required: true, multiple: true }];
    case 'config':
      return [{ name: 'in', type: 'fs', required: true }, { name: 'base', type: 'config', required: false }];
    default:
      return [{ name: 'in', type: 'fs', required: true }];
  }
}

export function outputPorts(node: Pick<GraphNode, 'kind' | 'params'>): PortSpec[] {
  if (isExporter(node.kind)) return [];
  if (node.kind === 'config') return [{ name: 'out', type: 'fs', required: false }, { name: 'config', type: 'config', required: false }];
  return [{ name: 'out', type: 'fs', required: false }];
}
