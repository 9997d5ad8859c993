// The engines running on a state root, one marker file each (<root>/procs/<pid>@<host>), made at
// start and removed at close. A marker whose process has ended is the sign of a crash or a
// `kill -9`: only then does an engine starting on the root go looking for leftovers, so a normal
// start costs a readdir, not a listing of every image in the Docker Engine.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

const dirOf = (root: string) => join(root, 'procs');
const nameOf = (pid: number, host: string) => `${pid}@${host}`;

/** marks this process as an engine on `root`; returns the unmarking */
export function markProcess(root: string): () => void {
  const dir = dirOf(root);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, nameOf(process.pid, hostname()));
  writeFileSync(file, '');
  return () => rmSync(file, { force: true });
}

/** markers of this host's engines on `root` that ended without closing, as "host/pid" owners */
export function endedProcesses(root: string, gone: (owner: string) => boolean): { owner: string; clear(): void }[] {
  let names: string[];
  try {
    names = readdirSync(dirOf(root));
  } catch {
    return [];
  }
  const out: { owner: string; clear(): void }[] = [];
  for (const n of names) {
    const at = n.indexOf('@');
    if (at <= 0) continue;
    const owner = `${n.slice(at + 1)}/${n.slice(0, at)}`;
    if (gone(owner)) out.push({ owner, clear: () => rmSync(join(dirOf(root), n), { force: true }) });
  }
  return out;
}
