// Writing entries into a destination tree (an overlayfs mount or a plain dir) with tar-extraction
// semantics: an entry replaces whatever non-directory is at its path (a symlink there is replaced,
// never followed), a directory over a directory merges, and missing parents are created. Every
// parent is resolved inside the root, so a symlink in the snapshot can never redirect a write.
import { chmod, copyFile, lchown, link, lstat, lutimes, mkdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { scopedRel } from './rootpath.js';

/** what an entry gets: numeric owner (we run as root), permission bits, and an mtime (absent = now) */
export interface Meta {
  mode: number;
  uid: number;
  gid: number;
  mtime?: Date;
}

export class DestWriter {
  /** directories whose mtime is set once their children are written (writing into one bumps it) */
  private dirTimes = new Map<string, Date>();
  /** in-root dir → its host path, for dirs already made or checked by this writer */
  private dirs = new Map<string, string>();
  /**
   * Host dirs this writer made (empty when made), with whether they pass their group on (setgid),
   * and the host paths it has put inside them: a new name in such a dir needs no look at what is
   * there, and what a new entry gets by default there is known. Most copies write only into such
   * dirs, and on a slow disk every call per file shows (a 10,000-file context).
   */
  private made = new Map<string, boolean>();
  private placed = new Set<string>();
  private readonly euid = process.geteuid?.() ?? -1;
  private readonly egid = process.getegid?.() ?? -1;

  /** `implicit`: the metadata a missing parent is created with (0755, the op's owner) */
  constructor(
    readonly root: string,
    private readonly implicit: Meta,
  ) {}

  /** host path of in-root `p`: its parent resolved inside the root and created if missing, its last component as is */
  async place(p: string): Promise<string> {
    const r = posix.normalize('/' + p).slice(1).replace(/\/+$/, '');
    if (r === '') return this.root;
    return join(await this.ensureDir(posix.dirname(r) === '.' ? '' : posix.dirname(r)), posix.basename(r));
  }

  /** make sure in-root dir `r` exists (following symlinks inside the root); returns its host path */
  async ensureDir(r: string): Promise<string> {
    const known = this.dirs.get(r);
    if (known !== undefined) return known;
    const resolved = scopedRel(this.root, r);
    let host = this.root;
    for (const s of resolved.split('/').filter(Boolean)) {
      host = join(host, s);
      const st = await lstat(host).catch(() => undefined);
      if (!st) await this.makeDir(host, this.implicit);
      else if (!st.isDirectory()) throw new Error(`${posix.join('/', r)}: not a directory`);
    }
    this.dirs.set(r, host);
    return host;
  }

  /** a directory at host path `h`; an existing one merges and, unless `keep`, takes `meta` */
  async dir(h: string, meta: Meta, keep = false): Promise<void> {
    const st = await lstat(h).catch(() => undefined);
    if (st?.isDirectory()) {
      if (!keep) await this.setMeta(h, meta, true);
      return;
    }
    if (st?.isSymbolicLink()) {
      await unlink(h);
      this.dirs.clear();
    } else if (st) await this.remove(h);
    await this.makeDir(h, meta);
  }

  /**
   * a regular file at `h` with the contents of host file `from` (or the given bytes); `fromMode`:
   * the source file's mode, which a copy gives the new file (libuv's copyfile sets it)
   */
  async file(h: string, meta: Meta, from: string | Buffer, fromMode?: number): Promise<void> {
    const fresh = await this.clear(h);
    if (typeof from === 'string') await copyFile(from, h);
    else await writeFile(h, from);
    const owned = await this.own(h, meta, fresh);
    // a chown clears setuid/setgid, so after one the mode is set again in any case
    if (owned || fromMode === undefined || typeof from !== 'string' || (fromMode & 0o7777) !== (meta.mode & 0o7777)) await chmod(h, meta.mode & 0o7777);
    if (meta.mtime) await lutimes(h, meta.mtime, meta.mtime);
  }

  async symlink(h: string, meta: Meta, target: string): Promise<void> {
    const fresh = await this.clear(h);
    await symlink(target, h);
    await this.own(h, meta, fresh);
    if (meta.mtime) await lutimes(h, meta.mtime, meta.mtime);
  }

  /** a second name for a file this writer already wrote (source hardlinks stay hardlinks) */
  async hardlink(h: string, existing: string): Promise<void> {
    if (h === existing) return;
    await this.clear(h);
    await link(existing, h);
  }

  /** chown `h` unless, new in a dir this writer made, it already has that owner; true if it did */
  private async own(h: string, meta: Meta, fresh: boolean): Promise<boolean> {
    // a new entry is the process's own, in the group of a setgid parent
    if (fresh && this.made.get(dirname(h)) === false && meta.uid === this.euid && meta.gid === this.egid) return false;
    await lchown(h, meta.uid, meta.gid);
    return true;
  }

  /** set directory mtimes last, deepest first, as tar extraction does */
  async finish(): Promise<void> {
    const all = [...this.dirTimes].sort((a, b) => b[0].length - a[0].length);
    for (const [h, t] of all) await lutimes(h, t, t);
    this.dirTimes.clear();
  }

  /**
   * remove whatever is at `h` before a non-directory takes its place; true when nothing was there
   * to look at: a new name in a dir this writer made
   */
  private async clear(h: string): Promise<boolean> {
    if (this.made.has(dirname(h)) && !this.placed.has(h)) {
      this.placed.add(h);
      return true;
    }
    const st = await lstat(h).catch(() => undefined);
    if (!st) return false;
    if (st.isDirectory()) await this.remove(h);
    else {
      await unlink(h);
      // a symlink may have been the way to a directory this writer resolved before
      if (st.isSymbolicLink()) this.dirs.clear();
    }
    return false;
  }

  private async remove(h: string): Promise<void> {
    if (h === this.root) throw new Error('cannot replace the root directory');
    await rm(h, { recursive: true, force: true });
    // resolutions through it are stale (rare: a file or link replacing a directory, or the reverse)
    this.dirs.clear();
    this.made.clear();
    this.placed.clear();
    for (const k of this.dirTimes.keys()) if (k === h || k.startsWith(h + '/')) this.dirTimes.delete(k);
  }

  private async makeDir(h: string, meta: Meta): Promise<void> {
    if (this.made.has(dirname(h))) this.placed.add(h);
    await mkdir(h);
    await this.setMeta(h, meta, true);
    this.made.set(h, (meta.mode & 0o2000) !== 0);
  }

  private async setMeta(h: string, meta: Meta, isDir: boolean): Promise<void> {
    // chown first: it clears setuid/setgid bits that chmod then sets explicitly (and chmod is
    // needed anyway: mkdir and open are subject to the process umask)
    await lchown(h, meta.uid, meta.gid);
    await chmod(h, meta.mode & 0o7777);
    if (isDir && this.made.has(h)) this.made.set(h, (meta.mode & 0o2000) !== 0);
    if (!meta.mtime) return;
    if (isDir) this.dirTimes.set(h, meta.mtime);
    else await lutimes(h, meta.mtime, meta.mtime);
  }
}
