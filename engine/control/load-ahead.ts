// A job's loads ahead: for each target whose result goes into the Docker Engine, the results on
// its lineage (the chain of root filesystems its layers come from: an exec's rootfs, a file op's
// base) are offered to a LoadAhead (worker/docker/load-ahead.ts) as the solver resolves them,
// so that by the export most of the image is in the engine already.
import type { Definition, VertexInput } from '../llb/definition.js';
import type { Result } from '../solver/types.js';
import type { LayerRef } from '../worker/types.js';

/** what the exporter's LoadAhead offers this module */
export interface LoadAheadLike {
  offer(layers: Promise<LayerRef[]>): void;
  held(layers: LayerRef[]): Promise<number>;
  dispose(): Promise<void>;
}

const key = (digest: string, output = 0) => `${digest}:${output}`;

/** the edges whose results are layers of `target`'s image, below the target itself */
export function lineageOf(def: Definition, target: VertexInput): Set<string> {
  const byDigest = new Map(def.vertices.map((v) => [v.digest, v]));
  const out = new Set<string>();
  let at: VertexInput | undefined = target;
  while (at) {
    const v = byDigest.get(at.digest);
    if (!v) break;
    let below: number | undefined;
    if (v.op.kind === 'exec' && (at.output ?? 0) === 0) below = v.op.rootfs;
    else if (v.op.kind === 'file') below = v.op.base;
    const input: VertexInput | undefined = below !== undefined && below >= 0 ? v.inputs[below] : undefined;
    if (!input || out.has(key(input.digest, input.output))) break;
    const iv = byDigest.get(input.digest);
    // a source's layers are the engine's already (an image) or its own (context): not ahead
    if (!iv || iv.op.kind === 'source') break;
    out.add(key(input.digest, input.output));
    at = input;
  }
  return out;
}

export interface JobLoadAhead {
  onResult(vertex: string, index: number, result: Result): void;
  /** for the export of `target`'s result (undefined: nothing was loaded ahead for it) */
  forTarget(target: string): { held(layers: LayerRef[]): Promise<number> } | undefined;
  dispose(): Promise<void>;
}

/**
 * `targets`: the vertices whose results load into the engine. `make` creates a LoadAhead (lazily:
 * only a job that resolves a lineage result pays for the exporter module); `layers` reads a
 * result's layers.
 */
export function jobLoadAhead(def: Definition, targets: VertexInput[], make: () => Promise<LoadAheadLike | undefined>, layers: (r: Result) => Promise<LayerRef[]>): JobLoadAhead {
  const lines = targets.map((t) => ({ target: t.digest, edges: lineageOf(def, t), ahead: undefined as Promise<LoadAheadLike | undefined> | undefined }));
  const layersOf = new Map<string, Promise<LayerRef[]>>();
  let disposed = false;
  return {
    onResult(vertex, index, result) {
      if (disposed) return;
      const k = key(vertex, index);
      for (const l of lines) {
        if (!l.edges.has(k)) continue;
        l.ahead ??= make().catch(() => undefined);
        let ls = layersOf.get(result.id);
        if (!ls) layersOf.set(result.id, (ls = layers(result)));
        const offered = ls;
        void l.ahead.then((a) => a?.offer(offered));
      }
    },
    forTarget(target) {
      const l = lines.find((x) => x.target === target && x.ahead);
      if (!l) return undefined;
      return { held: async (ls) => ((await l.ahead)?.held(ls) ?? 0) };
    },
    async dispose() {
      disposed = true;
      await Promise.all(lines.map(async (l) => (await l.ahead)?.dispose()));
    },
  };
}
