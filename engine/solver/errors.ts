// Errors the solver raises. A SolveError names the vertex that failed so a client can map it back
// to a Dockerfile line or a graph node (through the Definition's metadata).

export class SolveError extends Error {
  readonly vertex: string;
  override readonly cause: unknown;
  /** where the vertex came from (Dockerfile lines, graph node); the engine fills it from the Definition */
  location?: import('../llb/definition.js').SourceLocation[];
  constructor(vertex: string, name: string, cause: unknown) {
    super(`${name}: ${errorMessage(cause)}`);
    this.name = 'SolveError';
    this.vertex = vertex;
    this.cause = cause;
  }
}

/** the error a cancelled job rejects with */
export class CanceledError extends Error {
  constructor(message = 'build canceled') {
    super(message);
    this.name = 'CanceledError';
  }
}

/** the message of anything thrown (ops may throw non-Errors) */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function isAbort(e: unknown): boolean {
  return e instanceof CanceledError || (e instanceof Error && (e.name === 'AbortError' || e.name === 'CanceledError'));
}
