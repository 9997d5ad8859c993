// Mount-point stubs. For a mount target that does not exist in the rootfs, Docker creates it
// (and any missing parents) in the container's writable layer, so a plain commit would carry
// an empty /run/secrets/x file into the snapshot. BuildKit 0.8 (Docker 20.10, the oracle) leaves
// the empty mount-point directories but no file stubs. With a local
// overlay2 engine the writable layer is a host directory (GraphDriver.Data.UpperDir): after the
// process exits, and before the commit, empty stubs on the mount-target paths are removed from
// it, deepest first. A stub is only removed while empty, so whatever the step wrote stays.
// Gap: other storage drivers or remote engines keep the stubs (reported by the return value).
import { lstatSync, unlinkSync } from 'node:fs';
import { posix } from 'node:path';
import type Dockerode from 'dockerode';

export async function removeMountStubs(c: Dockerode.Container, targets: string[], localEngine: boolean): Promise<'removed' | 'none' | 'unsupported'> {
  const paths = new Set<string>();
  for (const t of targets) {
    let p = posix.normalize('/' + t);
    if (p === '/' || p === '/dev' || p.startsWith('/dev/') || p === '/proc' || p.startsWith('/proc/') || p === '/sys' || p.startsWith('/sys/')) continue;
    while (p !== '/') {
      paths.add(p);
      p = posix.dirname(p);
    }
  }
  if (paths.size === 0) return 'none';
  if (!localEngine) return 'unsupported';
  const info = await c.inspect();
  const upper = info.GraphDriver?.Name === 'overlay2' ? (info.GraphDriver.Data as unknown as { UpperDir?: string })?.UpperDir : undefined;
  if (!upper) return 'unsupported';
  let removed = false;
  // deepest first, so a parent becomes empty once its stub child is gone
  for (const p of [...paths].sort((a, b) => b.split('/').length - a.split('/').length)) {
    const abs = upper + p;
    let st;
    try {
      st = lstatSync(abs);
    } catch {
      continue;
    }
    try {
      // Directory stubs stay: the 20.10 oracle (BuildKit 0.8) leaves empty mount-point dirs
      // (/ctx, /cache, /run/secrets) in the layer. Only empty file stubs go.
      if (st.isFile() && st.size === 0 && targets.some((t) => posix.normalize('/' + t) === p)) unlinkSync(abs);
      else continue;
      removed = true;
    } catch {
      /* leave it */
    }
  }
  return removed ? 'removed' : 'none';
}
