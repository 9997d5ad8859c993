// The overlay snapshotter's store. Each snapshot a step produces is one layer: a directory of
// that step's changes in overlayfs's own format, on top of a parent snapshot (an engine image,
// scratch, a local context or another layer). A rootfs is the parent chain stacked as overlay
// lowers, so starting a step copies nothing.
//
//   <root>/l/<id>/fs         the layer (an overlay upperdir while its step runs)
//   <root>/l/<id>/work       overlay workdir, removed when the step ends
//   <root>/l/<id>/meta.json  written last: a layer without it is an unfinished step's and is collected
//   <root>/l/<id>/layer.tar  the layer as an image-spec tar, made on first export
//   <root>/m/<name>          mount points; <root>/b/<id> runc bundles; <root>/empty a scratch lower
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '../types.js';
import { unmount } from './mount.js';

export interface LayerMeta {
  id: string;
  parent: Snapshot;
  created: number;
  /** bytes of regular files in the layer */
  size: number;
  diffId?: string;
  tarSize?: number;
  /** an engine image holding this layer's whole chain, once one was made */
  imageId?: string;
  /** no cache record points here any more; removed once no child layer needs it */
  released?: boolean;
}

function alive(pid: string): boolean {
  if (!/^\d+$/.test(pid)) return false;
  if (Number(pid) === process.pid) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class OverlayStore {
  private cache = new Map<string, LayerMeta>();

  constructor(readonly root: string) {
    for (const d of ['l', 'm', 'b', 'empty']) mkdirSync(join(root, d), { recursive: true });
  }

  get emptyDir(): string {
    return join(this.root, 'empty');
  }

  /** path of a layer's dir relative to the store root (mount options stay short) */
  relFs(id: string): string {
    return `l/${id}/fs`;
  }

  fsDir(id: string): string {
    return join(this.root, 'l', id, 'fs');
  }

  tarPath(id: string): string {
    return join(this.root, 'l', id, 'layer.tar');
  }

  /** a new, empty layer (not yet a snapshot: commit() makes it one) */
  create(): { id: string; fs: string; work: string; relFs: string; relWork: string } {
    const id = randomBytes(6).toString('hex');
    const dir = join(this.root, 'l', id);
    mkdirSync(join(dir, 'fs'), { recursive: true });
    mkdirSync(join(dir, 'work'), { recursive: true });
    // which process is filling it: another Kiln process on the same root must not collect it
    writeFileSync(join(dir, 'pid'), String(process.pid));
    return { id, fs: join(dir, 'fs'), work: join(dir, 'work'), relFs: `l/${id}/fs`, relWork: `l/${id}/work` };
  }

  /** mount points and bundles carry the owning pid, for the same reason */
  mountPoint(name: string): string {
    return join(this.root, 'm', `${process.pid}-${name}`);
  }

  bundleDir(name: string): string {
    return join(this.root, 'b', `${process.pid}-${name}`);
  }

  commit(id: string, parent: Snapshot, size: number): LayerMeta {
    rmSync(join(this.root, 'l', id, 'work'), { recursive: true, force: true });
    const meta: LayerMeta = { id, parent, created: Date.now(), size };
    this.write(meta);
    return meta;
  }

  update(id: string, patch: Partial<LayerMeta>): LayerMeta {
    const m = { ...this.meta(id)!, ...patch };
    this.write(m);
    return m;
  }

  private write(m: LayerMeta): void {
    const p = join(this.root, 'l', m.id, 'meta.json');
    writeFileSync(p + '.tmp', JSON.stringify(m));
    renameSync(p + '.tmp', p);
    this.cache.set(m.id, m);
  }

  meta(id: string): LayerMeta | undefined {
    const hit = this.cache.get(id);
    if (hit) return hit;
    try {
      const m = JSON.parse(readFileSync(join(this.root, 'l', id, 'meta.json'), 'utf8')) as LayerMeta;
      this.cache.set(id, m);
      return m;
    } catch {
      return undefined;
    }
  }

  /** the layer and all its overlay ancestors exist */
  exists(id: string): boolean {
    for (let m = this.meta(id); m; m = m.parent.kind === 'overlay' ? this.meta(m.parent.layer!) : undefined) {
      if (m.parent.kind !== 'overlay') return existsSync(this.fsDir(m.id));
    }
    return false;
  }

  /** drop an unfinished layer (failed or cancelled step) */
  discard(id: string): void {
    this.cache.delete(id);
    rmSync(join(this.root, 'l', id), { recursive: true, force: true });
  }

  /** a cache record let go of this layer: remove it, and released ancestors nothing else needs */
  release(id: string): void {
    if (!this.meta(id)) return;
    this.update(id, { released: true });
    this.collect();
  }

  private collect(): void {
    const all = this.list();
    const hasChild = new Set(all.map((m) => (m.parent.kind === 'overlay' ? m.parent.layer! : '')));
    for (;;) {
      const gone = all.filter((m) => m.released && !hasChild.has(m.id) && existsSync(join(this.root, 'l', m.id)));
      if (!gone.length) return;
      for (const m of gone) {
        this.discard(m.id);
        // the parent may now be childless
        hasChild.clear();
        for (const o of all) if (o.parent.kind === 'overlay' && existsSync(join(this.root, 'l', o.id))) hasChild.add(o.parent.layer!);
      }
    }
  }

  list(): LayerMeta[] {
    const out: LayerMeta[] = [];
    for (const id of readdirSync(join(this.root, 'l'))) {
      const m = this.meta(id);
      if (m) out.push(m);
    }
    return out;
  }

  /**
   * After a crash: unmount what is still mounted, drop layers of steps that never finished,
   * bundles and temp files. Call once at start, before any step runs.
   */
  async reconcile(): Promise<void> {
    for (const name of readdirSync(join(this.root, 'm'))) {
      if (alive(name.split('-')[0]!)) continue;
      await unmount(join(this.root, 'm', name)).catch(() => undefined);
      // rmdir only: if the unmount failed, a recursive rm would walk into a snapshot
      try {
        rmdirSync(join(this.root, 'm', name));
      } catch {
        /* still mounted or not empty: leave it for the next start */
      }
    }
    for (const name of readdirSync(join(this.root, 'b'))) if (!alive(name.split('-')[0]!)) rmSync(join(this.root, 'b', name), { recursive: true, force: true });
    for (const id of readdirSync(join(this.root, 'l'))) {
      const dir = join(this.root, 'l', id);
      if (existsSync(join(dir, 'meta.json'))) continue;
      let owner = '';
      try {
        owner = readFileSync(join(dir, 'pid'), 'utf8');
      } catch {
        /* no owner: unfinished */
      }
      if (!alive(owner)) rmSync(dir, { recursive: true, force: true });
    }
  }
}
