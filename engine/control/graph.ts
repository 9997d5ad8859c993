// The `graph` call: a build's stages and op vertices without running anything — the documented
// JSON contract of `kiln graph --format json` and the editor's "Open Dockerfile".
import type { Definition } from '../llb/definition.js';
import type { ResolvedImage } from '../worker/types.js';
import type { GraphResponse } from './api.js';

export function definitionVertices(def: Definition): GraphResponse['vertices'] {
  return def.vertices.map((v) => {
    const out: GraphResponse['vertices'][number] = {
      digest: v.digest,
      name: v.metadata?.description ?? v.metadata?.progressName ?? describeOp(v.op),
      op: v.op.kind,
      inputs: v.inputs.map((i) => i.digest),
    };
    const loc = v.metadata?.location?.[0];
    if (loc) out.location = loc;
    return out;
  });
}

function describeOp(op: Definition['vertices'][number]['op']): string {
  switch (op.kind) {
    case 'source':
      return op.identifier;
    case 'exec':
      return op.args.join(' ');
    default:
      return op.kind;
  }
}

/**
 * An image resolver for graph views: the engine's when it answers, else an empty config so the
 * graph still renders (digests of steps that read the base image's env may then differ from a
 * real build's; the shape and dependencies do not).
 */
export function lenientResolver(real?: (ref: string) => Promise<ResolvedImage>): (ref: string) => Promise<ResolvedImage> {
  return async (ref) => {
    if (real) {
      try {
        return await real(ref);
      } catch {
        /* fall through */
      }
    }
    return { ref, imageId: '', config: { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } } };
  };
}
