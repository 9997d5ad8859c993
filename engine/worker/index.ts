// Workers available to the engine; the Docker worker is the only one so far.
export { createDockerWorker, type DockerWorker } from './docker/index.js';
export type { Worker, WorkerInfo, LayerRef, ResolvedImage } from './types.js';
