// Where Kiln keeps its state (the SQLite DB, local snapshots, cache mounts): KILN_ROOT, else the
// XDG data dir, else ~/.local/share/kiln — the same order on every entry point (CLI, serve, app).
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function resolveRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KILN_ROOT) return resolve(env.KILN_ROOT);
  if (env.XDG_DATA_HOME) return join(resolve(env.XDG_DATA_HOME), 'kiln');
  return join(homedir(), '.local', 'share', 'kiln');
}
