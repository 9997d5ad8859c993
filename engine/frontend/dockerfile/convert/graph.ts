// A minimal accumulator of LLB vertices. The Dockerfile converter builds the op graph directly
// (not through the generic builder) because it needs per-vertex locations and progress names and
// a digest-level dedup across stages. Digests cover op + inputs only, never metadata.
import { digestOf } from '../../../llb/digest.js';
import type { Definition, DefinitionVertex, VertexInput, VertexMetadata } from '../../../llb/definition.js';
import type { Op } from '../../../llb/ops.js';

/** A filesystem state: a vertex output, or scratch. */
export type StateRef = VertexInput | null;

export class LLBGraph {
  private vertices = new Map<string, DefinitionVertex>();

  add(op: Op, inputs: VertexInput[], metadata?: VertexMetadata): VertexInput {
    const norm = inputs.map((i) => ({ digest: i.digest, output: i.output ?? 0 }));
    const digest = digestOf({ op, inputs: norm });
    if (!this.vertices.has(digest)) this.vertices.set(digest, { digest, op, inputs: norm, ...(metadata ? { metadata } : {}) });
    return { digest, output: 0 };
  }

  /** Only the vertices `output` depends on, inputs first. */
  marshal(output: StateRef): Definition {
    const order: DefinitionVertex[] = [];
    const seen = new Set<string>();
    const visit = (d: string) => {
      if (seen.has(d)) return;
      seen.add(d);
      const v = this.vertices.get(d);
      if (!v) throw new Error(`internal: unknown vertex ${d}`);
      for (const i of v.inputs) visit(i.digest);
      order.push(v);
    };
    if (output) visit(output.digest);
    return { version: 1, vertices: order, output: output ? { digest: output.digest, output: output.output ?? 0 } : null };
  }
}
