// overlayfs mounts through mount(8). Lower, upper and work dirs are given relative to the store's
// root (the mount runs with that cwd), which keeps a 100-layer lowerdir list inside the one page
// of mount data the kernel accepts.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';

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

/**
 * Mount `lowers` (top first) at `target`. With `upper` and `work` the mount is writable and every
 * change lands in `upper`; without, it is a read-only view.
 */
export async function mountOverlay(cwd: string, target: string, lowers: string[], upper?: string, work?: string): Promise<void> {
  if (lowers.length === 0) throw new Error('overlay mount needs at least one lower directory');
  mkdirSync(target, { recursive: true });
  // A read-only overlay needs two lowers; one lower is just a read-only bind of it.
  if (!upper && lowers.length === 1) return run('mount', ['--bind', '-o', 'ro', lowers[0]!, target], cwd);
  const opts = [`lowerdir=${lowers.join(':')}`];
  if (upper) opts.push(`upperdir=${upper}`, `workdir=${work}`);
  const data = `${opts.join(',')},${SAFE}`;
  if (data.length > 3900) throw new Error(`snapshot chain too deep for one overlay mount (${lowers.length} layers)`);
  await run('mount', ['-t', 'overlay', 'overlay', '-o', data, target], cwd);
}

export async function unmount(target: string): Promise<void> {
  try {
    await run('umount', [target]);
  } catch (e) {
    if (/not mounted|no mount point/i.test((e as Error).message)) return;
    // a process that still holds the mount (killed step, slow exit): detach it lazily
    await run('umount', ['-l', target]);
  }
}
