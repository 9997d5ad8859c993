// `kiln graph --format dot|mermaid`: the stage graph of a Dockerfile — one node per stage, one per
// image ref or named context a stage reads, one edge per `dependsOn` entry (dependency → stage),
// exactly the JSON's `stages[].dependsOn`. A graph document has no stages: its op vertices are
// drawn instead (one node per vertex, one edge per input).
import type { GraphResponse } from '../../control/api.js';

interface Node {
  id: string;
  label: string;
  /** an image ref / named context (drawn as an ellipse / stadium) rather than a stage */
  external: boolean;
}

interface Drawing {
  nodes: Node[];
  edges: [string, string][];
}

function drawing(g: GraphResponse): Drawing {
  if (!g.stages.length) {
    const id = (d: string) => 'v' + d.replace(/^sha256:/, '').slice(0, 12);
    return {
      nodes: g.vertices.map((v) => ({ id: id(v.digest), label: `${v.op}: ${v.name}`, external: false })),
      edges: g.vertices.flatMap((v) => v.inputs.map((i) => [id(i), id(v.digest)] as [string, string])),
    };
  }
  const nodes: Node[] = g.stages.map((s) => ({ id: `s${s.index}`, label: s.name, external: false }));
  const byName = new Map(g.stages.map((s) => [s.name, `s${s.index}`]));
  const ext = new Map<string, string>();
  const edges: [string, string][] = [];
  for (const s of g.stages)
    for (const d of s.dependsOn) {
      let from = byName.get(d);
      if (!from) {
        from = ext.get(d);
        if (!from) {
          from = `i${ext.size}`;
          ext.set(d, from);
          nodes.push({ id: from, label: d, external: true });
        }
      }
      edges.push([from, `s${s.index}`]);
    }
  return { nodes, edges };
}

/** a Graphviz double-quoted string: `\` and `"` escaped, newlines as `\n` */
export function dotString(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n') + '"';
}

/** a Mermaid `"…"` label: `#`, `"`, `<`, `>` as entity codes (Mermaid's own escape), newlines as spaces */
export function mermaidString(s: string): string {
  return '"' + s.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;').replace(/\r?\n/g, ' ') + '"';
}

export function toDot(g: GraphResponse): string {
  const d = drawing(g);
  const lines = ['digraph kiln {', '  rankdir=LR;', '  node [shape=box, fontname="monospace"];'];
  for (const n of d.nodes) lines.push(`  ${n.id} [label=${dotString(n.label)}${n.external ? ', shape=ellipse' : ''}];`);
  for (const [a, b] of d.edges) lines.push(`  ${a} -> ${b};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

export function toMermaid(g: GraphResponse): string {
  const d = drawing(g);
  const lines = ['flowchart LR'];
  for (const n of d.nodes) lines.push(n.external ? `  ${n.id}([${mermaidString(n.label)}])` : `  ${n.id}[${mermaidString(n.label)}]`);
  for (const [a, b] of d.edges) lines.push(`  ${a} --> ${b}`);
  return lines.join('\n') + '\n';
}
