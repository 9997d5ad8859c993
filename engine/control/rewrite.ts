// Definition rewrites done by the service, each re-deriving digests bottom-up (a vertex digest
// covers its op and its inputs' digests, so changing one vertex renames everything above it):
// - `--network` as a build-wide default for exec ops that did not choose one;
// - splicing: a `local://NAME` source replaced by another definition's output, which is how bake's
//   `contexts = { base = "target:base" }` feeds one target's result into another in one job.
import { vertexDigest } from '../llb/builder.js';
import type { Definition, DefinitionVertex, VertexInput } from '../llb/definition.js';
import type { NetworkMode, Op } from '../llb/ops.js';

type Transform = (v: DefinitionVertex) => { op: Op } | { replaceWith: { def: Definition } } | undefined;

function rewrite(def: Definition, transform: Transform): Definition {
  const renamed = new Map<string, VertexInput>();
  const out: DefinitionVertex[] = [];
  const seen = new Set<string>();
  const push = (v: DefinitionVertex) => {
    if (!seen.has(v.digest)) {
      seen.add(v.digest);
      out.push(v);
    }
  };
  for (const v of def.vertices) {
    const t = transform(v);
    if (t && 'replaceWith' in t) {
      // The spliced definition's vertices come first (they are its inputs' closure).
      for (const sv of t.replaceWith.def.vertices) push(sv);
      if (t.replaceWith.def.output) renamed.set(v.digest, t.replaceWith.def.output);
      continue;
    }
    const inputs = v.inputs.map((i) => {
      const r = renamed.get(i.digest);
      if (!r) return i;
      const output = (r.output ?? 0) + (i.output ?? 0);
      return output ? { digest: r.digest, output } : { digest: r.digest };
    });
    const op = t?.op ?? v.op;
    const digest = vertexDigest(op, inputs);
    if (digest !== v.digest) renamed.set(v.digest, { digest });
    push({ ...v, digest, op, inputs });
  }
  const o = def.output;
  let output: VertexInput | null = o;
  if (o) {
    const r = renamed.get(o.digest);
    if (r) output = { digest: r.digest, ...((r.output ?? 0) + (o.output ?? 0) ? { output: (r.output ?? 0) + (o.output ?? 0) } : {}) };
  }
  return { ...def, vertices: out, output };
}

/** Map an old digest to the new one after a rewrite (for targets named by digest). */
export function renameMap(before: Definition, after: Definition): Map<string, string> {
  const m = new Map<string, string>();
  before.vertices.forEach((v, i) => {
    const a = after.vertices[i];
    if (a) m.set(v.digest, a.digest);
  });
  return m;
}

export function withDefaultNetwork(def: Definition, network: NetworkMode | undefined): Definition {
  if (!network || network === 'default') return def;
  return rewrite(def, (v) => (v.op.kind === 'exec' && (!v.op.network || v.op.network === 'default') ? { op: { ...v.op, network } } : undefined));
}

/** Replace `local://NAME` sources with the output of `contexts[NAME]`. */
export function spliceContexts(def: Definition, contexts: Record<string, Definition>): Definition {
  return rewrite(def, (v) => {
    if (v.op.kind !== 'source' || !v.op.identifier.startsWith('local://')) return undefined;
    const sub = contexts[v.op.identifier.slice('local://'.length)];
    return sub ? { replaceWith: { def: sub } } : undefined;
  });
}
