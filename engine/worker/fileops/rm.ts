// The rm action on a host directory. Like BuildKit's rmPath the parent is resolved inside the
// root and the last component is removed as it is: removing a symlink never removes its target.
import { rm } from 'node:fs/promises';
import type { FileAction } from '../../llb/ops.js';
import { FileOpError } from '../docker/errors.js';
import { GLOB, existsLstat, expand, rel } from './common.js';
import { rootPath } from './rootpath.js';

export type RmAction = Extract<FileAction, { action: 'rm' }>;

export async function rmAction(a: RmAction, dest: string): Promise<void> {
  const wildcard = !!a.allowWildcard && GLOB.test(a.path);
  const path = rel(a.path).replace(/\/+$/, '');
  const targets = wildcard ? expand(dest, path, true, (r, followFinal) => rootPath(dest, r, { followFinal })) : [path];
  const present = targets.filter((t) => existsLstat(rootPath(dest, t, { followFinal: false })));
  // the Docker worker's message (busybox sh: "$1: not found"), for both backends to say the same
  if (present.length === 0 && !a.allowNotFound) throw new FileOpError(`rm ${a.path}: ${a.path}: not found`);
  for (const t of present) {
    if (t === '') throw new FileOpError(`rm ${a.path}: refusing to remove the root directory`);
    await rm(rootPath(dest, t, { followFinal: false }), { recursive: true, force: true });
  }
}
