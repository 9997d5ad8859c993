// USER for a process the worker starts itself: "name", "uid", "name:group", "uid:gid", resolved
// through the rootfs's own /etc/passwd and /etc/group, with the supplementary groups the user is
// a member of (what Docker and BuildKit's executor do).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

function read(rootfs: string, file: string): string[][] {
  try {
    return readFileSync(join(rootfs, file), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

const numeric = (s: string) => /^\d+$/.test(s);

export function resolveUser(rootfs: string, spec: string | undefined): ProcessUser {
  const [u = '', g] = (spec || '0').split(':');
  const passwd = read(rootfs, 'etc/passwd');
  const groups = read(rootfs, 'etc/group');
  const entry = numeric(u) ? passwd.find((p) => p[2] === u) : passwd.find((p) => p[0] === u);
  if (!entry && !numeric(u)) throw new Error(`unable to find user ${u}: no matching entries in passwd file`);
  const uid = entry ? Number(entry[2]) : Number(u);
  let gid = entry ? Number(entry[3]) : 0;
  if (g !== undefined && g !== '') {
    const ge = numeric(g) ? undefined : groups.find((x) => x[0] === g);
    if (!numeric(g) && !ge) throw new Error(`unable to find group ${g}: no matching entries in group file`);
    gid = numeric(g) ? Number(g) : Number(ge![2]);
  }
  const name = entry?.[0];
  // an explicit group replaces the membership list, as with docker run --user u:g
  const additionalGids = g === undefined && name ? groups.filter((x) => (x[3] ?? '').split(',').includes(name)).map((x) => Number(x[2])).filter((n) => n !== gid) : [];
  return { uid, gid, additionalGids: [...new Set(additionalGids)], home: entry?.[5] || '/' };
}
