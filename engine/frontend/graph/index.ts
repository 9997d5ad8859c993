// The graph frontend: *.kiln.json documents → LLB, and Dockerfile ↔ graph conversions for the editor.
export * from './document.js';
export * from './ports.js';
export { validateGraphDocument, checkGraph, connectionProblem, edgeProblem, findCycle, GraphValidationError, type GraphIssue } from './validate.js';
export { graphToLLB, exporterOutput, type GraphToLLBOptions, type GraphToLLBResult } from './llb.js';
export { dockerfileToGraph, graphToDockerfile, type DockerfileFromGraph } from './dockerfile.js';
