// overlayfs mounts. Lower, upper and work dirs are given relative to the store's root (the mount
// runs with that cwd), which keeps a 100-layer lowerdir list inside the one page of mount data the
// kernel accepts. The system calls go through the perl helper (syscalls.ts); without it, through
// mount(8) and umount(8).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { EBUSY, EINVAL, ENOENT, MNT_DETACH, MS_BIND, MS_RDONLY, MS_REMOUNT, syscalls, type SyscallError } from './syscalls.js';

/** Options that keep every layer self-contained: no metadata-only copy-ups, no dir redirects. */
const SAFE = 'index=off,metacopy=off,redirect_dir=off';

function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: ${err.trim() || `exit ${code}`}`))));
  });
}

const errnoOf = (e: unknown) => (e as SyscallError).errno;

async function bindReadonly(cwd: string, source: string, target: string): Promise<void> {
  const sc = syscalls();
  if (sc) {
    try {
      await sc.mount(cwd, source, target, '', MS_BIND, '');
      try {
        // a bind mount takes MS_RDONLY only on a remount (what mount(8) does for `--bind -o ro`)
        await sc.mount(cwd, '', target, '', MS_REMOUNT | MS_BIND | MS_RDONLY, '');
      } catch (e) {
        await sc.umount(target, MNT_DETACH).catch(() => undefined);
        throw e;
      }
      return;
    } catch (e) {
      if (errnoOf(e) !== undefined) throw e;
    }
  }
  await run('mount', ['--bind', '-o', 'ro', source, target], cwd);
}

/**
 * Mount `lowers` (top first) at `target`. With `upper` and `work` the mount is writable and every
 * change lands in `upper`; without, it is a read-only view.
 */
export async function mountOverlay(cwd: string, target: string, lowers: string[], upper?: string, work?: string): Promise<void> {
  if (lowers.length === 0) throw new Error('overlay mount needs at least one lower directory');
  mkdirSync(target, { recursive: true });
  // A read-only overlay needs two lowers; one lower is just a read-only bind of it.
  if (!upper && lowers.length === 1) return bindReadonly(cwd, lowers[0]!, target);
  const opts = [`lowerdir=${lowers.join(':')}`];
  if (upper) opts.push(`upperdir=${upper}`, `workdir=${work}`);
  const data = `${opts.join(',')},${SAFE}`;
  if (data.length > 3900) throw new Error(`snapshot chain too deep for one overlay mount (${lowers.length} layers)`);
  const sc = syscalls();
  if (sc) {
    try {
      return await sc.mount(cwd, 'overlay', target, 'overlay', upper ? 0 : MS_RDONLY, data);
    } catch (e) {
      // a helper that could not run falls back to mount(8); a refused mount is the answer
      if (errnoOf(e) !== undefined) throw e;
    }
  }
  await run('mount', ['-t', 'overlay', 'overlay', '-o', data, target], cwd);
}

export async function unmount(target: string): Promise<void> {
  const sc = syscalls();
  if (sc) {
    try {
      return await sc.umount(target, 0);
    } catch (e) {
      const errno = errnoOf(e);
      if (errno === EINVAL || errno === ENOENT) return; // not mounted
      // a process that still holds the mount (killed step, slow exit): detach it lazily
      if (errno === EBUSY) return sc.umount(target, MNT_DETACH);
      if (errno !== undefined) throw e;
    }
  }
  try {
    await run('umount', [target]);
  } catch (e) {
    if (/not mounted|no mount point/i.test((e as Error).message)) return;
    await run('umount', ['-l', target]);
  }
}
