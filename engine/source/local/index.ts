// The `local` source: a directory on the client, filtered by .dockerignore, checksummed for
// cache keys. Transfer into the worker is the worker's concern (engine/worker/docker).
export { parseDockerignore, createMatcher, PatternError, type Matcher } from './dockerignore.js';
export { walkContext, statEntry, type ContextEntry, type EntryType, type WalkOptions } from './walk.js';
export { checksumPaths, ChecksumError, type ChecksumOptions, type ChecksumStats } from './checksum.js';
export { cleanPath } from './clean.js';
