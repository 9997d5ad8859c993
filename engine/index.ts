// Kiln as a library: the engine, the LLB builder, and the pieces frontends and clients use.
export { createEngine, type Engine, type EngineOptions, type BuildOptions } from './engine.js';
export * as llb from './llb/index.js';
export { validateDefinition } from './llb/schema.js';
export { Solver, SolveError, CanceledError } from './solver/index.js';
export { CacheManager, resolveRoot, openStateDB } from './cache/index.js';
export { loadDefinition } from './llbsolver/index.js';
export type { Definition } from './llb/definition.js';
export type { ProgressEvent, Result, JobSession } from './solver/types.js';
