import type { Op } from './ops.js';

/** Where a vertex came from: a Dockerfile range, or a graph node. */
export interface SourceLocation {
  file: string;
  /** 1-based, inclusive */
  startLine: number;
  endLine: number;
  startColumn?: number;
  endColumn?: number;
  /** graph document node id, when the vertex came from the graph frontend */
  nodeId?: string;
}

/** Data that does not change a result and so stays out of the digest. */
export interface VertexMetadata {
  description?: string;
  /** progress grouping, e.g. a Dockerfile stage name */
  group?: string;
  ignoreCache?: boolean;
  location?: SourceLocation[];
  /** stage-relative step label, e.g. "[build 2/5]" */
  progressName?: string;
}

export interface VertexInput {
  digest: string;
  /** which output of that vertex (exec ops with several mount outputs); 0 by default */
  output?: number;
}

export interface DefinitionVertex {
  digest: string;
  op: Op;
  inputs: VertexInput[];
  metadata?: VertexMetadata;
}

/**
 * A build's op graph in its stable JSON form. `vertices` is topologically ordered (inputs first);
 * `output` names the vertex whose result is the build's result.
 */
export interface Definition {
  version: 1;
  vertices: DefinitionVertex[];
  output: VertexInput | null;
  /** the image config the frontend computed for the output, if any (engine/exporter uses it) */
  imageConfig?: import('./image.js').ImageConfig;
  /** frontend warnings (build checks) with their locations */
  warnings?: BuildWarning[];
}

export interface BuildWarning {
  rule: string;
  message: string;
  location?: SourceLocation;
  url?: string;
  /** true when `# check=error=true` turns it into an error */
  error?: boolean;
}
