// An in-memory CacheStore: for unit tests and for engines run without a state directory.
import type { CacheStore, Result } from './types.js';

export class MemoryCacheStore implements CacheStore {
  readonly records = new Map<string, Result>();
  async load(key: string): Promise<Result | undefined> {
    return this.records.get(key);
  }
  async save(key: string, result: Result): Promise<void> {
    this.records.set(key, result);
  }
}
