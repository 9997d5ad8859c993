// Exporter node → control API output spec: the one mapping, used by the service (runs into exporter
// nodes, bake-style targets) and by the editor (Run, Export…). It imports nothing Node-only, so the
// renderer bundle can use it.
import type { GraphNode } from './document.js';

/** The exporter node's output spec (control API OutputSpec shape). */
export function exporterOutput(n: GraphNode): { type: string; attrs: Record<string, string> } | undefined {
  const p = n.params as Record<string, any>;
  switch (n.kind) {
    case 'export-docker': return { type: 'docker', attrs: { name: p.name } };
    case 'export-registry': return { type: 'image', attrs: { name: p.name, push: 'true', ...(p.insecure ? { 'registry.insecure': 'true' } : {}) } };
    case 'export-oci': return { type: 'oci', attrs: { dest: p.dest } };
    case 'export-docker-tar': return { type: 'docker', attrs: { dest: p.dest, ...(p.name ? { name: p.name } : {}) } };
    case 'export-rootfs': return { type: 'tar', attrs: { dest: p.dest } };
    case 'export-local': return { type: 'local', attrs: { dest: p.dest } };
    default: return undefined;
  }
}
