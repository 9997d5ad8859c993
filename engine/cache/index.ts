export { CacheManager, type CacheRecord, type DiskUsage, type PruneOptions, type PruneResult, type RecordType } from './manager.js';
export { openStateDB } from './db.js';
export { resolveRoot } from './root.js';
export { defaultGCPolicy, runGC } from './gc.js';
