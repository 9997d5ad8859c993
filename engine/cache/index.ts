export { CacheManager, defaultPolicy, type GCPolicy } from './manager.js';
export { openStateDB, type StateDB } from './db.js';
export { resolveRoot } from './root.js';
export { parseFilters, matchesFilters } from './filters.js';
