export * from './builder.js';
export { validateDefinition, DefinitionError, definitionSchema } from './schema.js';
export { vertexDigest } from './vertex-digest.js';
export { digestOf, canonicalJSON, sha256 } from './digest.js';
export type * from './definition.js';
export type * from './ops.js';
export type * from './image.js';
