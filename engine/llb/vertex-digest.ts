// The one formula for a vertex digest, shared by the builder (which computes it) and the schema
// (which checks that a client's Definition did not lie about it): op + inputs only, with each
// input's output index made explicit so `{digest}` and `{digest, output: 0}` name the same input.
// Metadata stays out, so descriptions and ignore-cache never change a digest.
import { digestOf } from './digest.js';

export function vertexDigest(op: unknown, inputs: readonly { digest: string; output?: number }[]): string {
  return digestOf({ op, inputs: inputs.map((i) => ({ digest: i.digest, output: i.output ?? 0 })) });
}
