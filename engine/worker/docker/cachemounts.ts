// Cache mounts (RUN --mount=type=cache): host directories under <root>/cachemounts that outlive
// every build. shared = used concurrently; locked = one user at a time (a mutex per id);
// private = a fresh directory when the usual one is busy, as BuildKit does.
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Mount } from '../../llb/ops.js';

type CacheMount = Extract<Mount, { type: 'cache' }>;

export class CacheMounts {
  private busy = new Map<string, number>();
  private locks = new Map<string, Promise<void>>();
  constructor(private readonly root: string) {}

  dirFor(id: string, n = 0): string {
    const h = createHash('sha256').update(id).digest('hex').slice(0, 32);
    return join(this.root, 'cachemounts', n ? `${h}-${n}` : h);
  }

  private ensure(dir: string, m: CacheMount): void {
    if (existsSync(dir)) return;
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, m.mode ?? 0o755);
    if (m.uid !== undefined || m.gid !== undefined) chownSync(dir, m.uid ?? 0, m.gid ?? 0);
  }

  async acquire(m: CacheMount, signal?: AbortSignal): Promise<{ dir: string; release: () => void }> {
    if (m.sharing === 'locked') {
      const prev = this.locks.get(m.id) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((r) => (release = r));
      const chained = prev.then(() => mine);
      this.locks.set(m.id, chained);
      await prev;
      signal?.throwIfAborted();
      const dir = this.dirFor(m.id);
      this.ensure(dir, m);
      return {
        dir,
        release: () => {
          if (this.locks.get(m.id) === chained) this.locks.delete(m.id);
          release();
        },
      };
    }
    let n = 0;
    if (m.sharing === 'private') while ((this.busy.get(this.dirFor(m.id, n)) ?? 0) > 0) n++;
    const dir = this.dirFor(m.id, n);
    this.ensure(dir, m);
    this.busy.set(dir, (this.busy.get(dir) ?? 0) + 1);
    return { dir, release: () => this.busy.set(dir, (this.busy.get(dir) ?? 1) - 1) };
  }
}
