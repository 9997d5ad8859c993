// Definition → solver vertices. Each LLB vertex becomes one solver Vertex whose op the worker
// provides; vertices already in the solver's shared graph (same digest, from this or another job)
// are reused as-is, so concurrent builds share vertex state.
import type { Definition, DefinitionVertex } from '../llb/definition.js';
import type { Edge, Vertex } from '../solver/types.js';
import type { Worker } from '../worker/types.js';
import { vertexName } from './names.js';

export interface VertexGraph {
  vertex(digest: string, make: () => Vertex): Vertex;
}

/** the edge for `target` (default: the definition's output); null for a scratch output */
export function loadDefinition(def: Definition, worker: Worker, graph: VertexGraph, target?: string): Edge | null {
  const byDigest = new Map<string, DefinitionVertex>(def.vertices.map((v) => [v.digest, v]));
  const loaded = new Map<string, Vertex>();
  const load = (digest: string): Vertex => {
    const known = loaded.get(digest);
    if (known) return known;
    const dv = byDigest.get(digest);
    if (!dv) throw new Error(`definition references unknown vertex ${digest}`);
    const v = graph.vertex(digest, () => ({
      digest,
      name: vertexNameOf(dv),
      ignoreCache: dv.metadata?.ignoreCache,
      inputs: dv.inputs.map((i) => ({ vertex: load(i.digest), index: i.output ?? 0 })),
      op: worker.resolveOp(dv),
      recordType: recordTypeOf(dv),
    }));
    loaded.set(digest, v);
    return v;
  };
  if (target) {
    if (!byDigest.has(target)) throw new Error(`target ${target} is not a vertex of the definition`);
    return { vertex: load(target), index: 0 };
  }
  if (!def.output) return null;
  return { vertex: load(def.output.digest), index: def.output.output ?? 0 };
}

/** progress name ("[build 2/5] RUN make" when the frontend gave one) */
export const vertexNameOf = vertexName;

function recordTypeOf(v: DefinitionVertex): string {
  if (v.op.kind !== 'source') return 'regular';
  const id = v.op.identifier;
  if (id.startsWith('local://')) return 'source.local';
  // a pulled base image is not Kiln's to delete (prune/GC leave it in the engine)
  if (id.startsWith('docker-image://')) return 'source.image';
  if (id.startsWith('git://') || id.startsWith('git@') || /\.git(#|$)/.test(id)) return 'source.git';
  return 'regular';
}
