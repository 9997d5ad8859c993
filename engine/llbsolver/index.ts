export { loadDefinition, vertexNameOf, type VertexGraph } from './load.js';
