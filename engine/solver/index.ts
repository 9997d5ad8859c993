export { Solver, outputKey, type SolveRequest, type SolverOptions } from './solver.js';
export { SolveError, CanceledError, isAbort } from './errors.js';
export { MemoryCacheStore } from './memory.js';
export type * from './types.js';
