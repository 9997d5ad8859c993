// Running the graph through the control API: subscribe to status first (the build id is ours), then
// solve. Outputs come from exporter nodes reachable in the run.
import type { OutputSpec } from '../../engine/control/api.js';
import type { GraphDocument, GraphNode } from '../../engine/frontend/graph/document.js';
import { isExporter } from '../../engine/frontend/graph/ports.js';
import { exporterOutput } from '../../engine/frontend/graph/exporter-output.js';
import { getApi } from './api/index.js';
import { withRegistryLogins } from './credentials.js';
import { checkGraph } from '../../engine/frontend/graph/validate.js';
import { useEditor } from './store.js';

/**
 * An exporter node's output spec: the engine's own mapping (engine/frontend/graph/llb.ts, which the
 * service uses for runs it maps itself), plus credentials typed into the export dialog.
 */
export function outputFor(n: GraphNode): OutputSpec | undefined {
  const out = exporterOutput(n);
  const p = n.params as Record<string, unknown>;
  if (out && n.kind === 'export-registry' && typeof p.username === 'string' && p.username) {
    out.attrs['registry.username'] = p.username;
    out.attrs['registry.password'] = typeof p.password === 'string' ? p.password : '';
  }
  return out;
}

/**
 * Runs the graph (or up to `target`). `outputs` replace the document's exporter nodes; their
 * progress and results are shown on `exportNode` (default: the target).
 */
export async function runGraph(opts: { target?: string; outputs?: OutputSpec[]; exportNode?: string } = {}): Promise<void> {
  const s = useEditor.getState();
  if (s.running) return;
  const doc: GraphDocument = s.doc;
  // the service refuses a document with any problem; saying so here names the node and selects it,
  // instead of a round trip that ends in a failed run
  const issues = checkGraph(doc);
  if (issues.length) {
    const first = issues[0]!;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    s.setNotice(`Cannot run: ${first.nodeId ? `node "${first.nodeId}": ` : ''}${first.message}${more}`);
    if (first.nodeId) s.select([first.nodeId]);
    return;
  }
  const exporters = doc.nodes.filter((n) => isExporter(n.kind));
  const project = s.project;
  // an opened project with nothing picked builds every target, as one job; so does a graph with
  // several exporter nodes (each exports its own input)
  const targets = opts.target ? undefined : project ? Object.values(project.tails) : exporters.length > 1 ? exporters.map((n) => n.id) : undefined;
  const target = opts.target ?? (targets ? undefined : exporters.length === 1 ? exporters[0]!.id : undefined);
  const targetNode = target ? doc.nodes.find((n) => n.id === target) : undefined;
  const outputs = opts.outputs ?? (targetNode && isExporter(targetNode.kind) ? [outputFor(targetNode)!] : []);
  // which node each output's export vertex belongs to, in the service's order: explicit outputs,
  // else the exporter node run into, else (as the service does) every exporter node of the document
  const exportNodes = opts.outputs?.length ? opts.outputs.map(() => opts.exportNode ?? target ?? '')
    : targets ? targets.filter((t) => isExporter(doc.nodes.find((n) => n.id === t)?.kind ?? 'merge'))
    : outputs.length ? [target!]
    : exporters.map((n) => n.id);
  // a project's paths are relative to its directory; else the opened Dockerfile's (or typed) context
  const context = project?.dir ?? s.contextDir;
  const id = `kiln-ui-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const api = getApi();
  s.startRun(id, exportNodes);
  const off = api.status(id, (e) => useEditor.getState().applyEvent(e));
  try {
    const input = { kind: 'graph' as const, document: doc, ...(target ? { target } : {}), ...(targets?.length ? { targets } : {}), ...(context ? { context } : {}) };
    // registry logins are kept per host (./credentials.ts), not in the document: added here
    const res = await api.solve({ id, input, options: { outputs: await withRegistryLogins(outputs), name: doc.name ?? 'graph' } });
    if (res.ok) useEditor.getState().finishExports(res.exports);
    useEditor.getState().endRun(res.ok ? undefined : { message: res.error?.message ?? 'build failed', exitCode: res.error?.exitCode, nodeId: res.error?.location?.nodeId, canceled: res.error?.code === 'canceled' });
    // what was exported: the explicit outputs, else the exporter nodes the service exported
    const done = outputs.length ? outputs : exportNodes.map((x) => outputFor(doc.nodes.find((n) => n.id === x)!)).filter((o): o is OutputSpec => !!o);
    if (res.ok && done.length) useEditor.getState().setNotice(`exported: ${done.map((o) => o.attrs.dest ?? o.attrs.name ?? o.type).join(', ')}`);
  } catch (err) {
    useEditor.getState().endRun({ message: (err as Error).message });
  } finally {
    setTimeout(off, 1000);
  }
}

export async function cancelRun(): Promise<void> {
  const id = useEditor.getState().buildId;
  if (id && useEditor.getState().running) await getApi().cancel(id);
}
