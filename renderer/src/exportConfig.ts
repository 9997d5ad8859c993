// Which config node decides the image config an exporter writes, and how a first edit of that
// config from the exporter's inspector inserts one. Pure document functions: the store's
// setExportConfig applies them, so the edit is one undo step.
import type { GraphDocument, GraphNode } from '../../engine/frontend/graph/document.js';
import { isExporter } from '../../engine/frontend/graph/ports.js';
import { NODE_W } from './layout.js';

/** exporters that write an image (rootfs and local dirs have no config to edit) */
export const IMAGE_EXPORTERS: GraphNode['kind'][] = ['export-docker', 'export-registry', 'export-oci', 'export-docker-tar'];

const edgeId = (s: string, sp: string, t: string, tp: string) => `e-${s}-${sp}-${t}-${tp}`;

/**
 * The config node an exporter's image config comes from: the one wired to its `config` port, else
 * a drawn config node feeding its `in` port. A config node made from a Dockerfile instruction
 * (it has a source location, or keeps the instruction verbatim) is not offered: adding fields to a
 * `CMD` node would change what the Dockerfile says, so an edit inserts a node after it instead.
 */
export function configNodeOf(doc: GraphDocument, exporterId: string): GraphNode | undefined {
  const into = (port: string) => {
    const e = doc.edges.find((x) => x.target === exporterId && x.targetPort === port);
    const n = e && doc.nodes.find((x) => x.id === e.source);
    return n?.kind === 'config' ? n : undefined;
  };
  const wired = into('config');
  if (wired) return wired;
  const feeding = into('in');
  return feeding && !feeding.location && feeding.params.instruction === undefined ? feeding : undefined;
}

/**
 * Gives exporter `exporterId` the image config `params`: edits its config node, or inserts a new
 * config node (id `configId`) between its input and it — placed where the exporter was, the
 * exporter moved one column right, and in the exporter's groups so its frame still holds both.
 * Unchanged when the exporter has no input to put a config in front of.
 */
export function withExportConfig(doc: GraphDocument, exporterId: string, params: Record<string, unknown>, configId: string): GraphDocument {
  const exp = doc.nodes.find((n) => n.id === exporterId);
  if (!exp || !isExporter(exp.kind)) return doc;
  const cfg = configNodeOf(doc, exporterId);
  if (cfg) return { ...doc, nodes: doc.nodes.map((n) => (n.id === cfg.id ? { ...n, params } : n)) };
  const inEdge = doc.edges.find((e) => e.target === exporterId && e.targetPort === 'in');
  if (!inEdge) return doc;
  const node: GraphNode = { id: configId, kind: 'config', params, position: exp.position };
  const nodes = doc.nodes.flatMap((n) => (n.id === exporterId ? [node, { ...n, position: { x: n.position.x + NODE_W + 60, y: n.position.y } }] : [n]));
  const edges = [
    ...doc.edges.filter((e) => e !== inEdge),
    { id: edgeId(inEdge.source, inEdge.sourcePort, configId, 'in'), source: inEdge.source, sourcePort: inEdge.sourcePort, target: configId, targetPort: 'in' },
    { id: edgeId(configId, 'out', exporterId, 'in'), source: configId, sourcePort: 'out', target: exporterId, targetPort: 'in' },
  ];
  const groups = doc.groups.map((g) => (g.nodes.includes(exporterId) ? { ...g, nodes: [...g.nodes, configId] } : g));
  return { ...doc, nodes, edges, groups };
}
