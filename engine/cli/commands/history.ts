// `kiln history [ls|show ID]`: past builds from the service's SQLite history.
import { connect } from '../connect.js';

export async function runHistory(sub: string, id: string | undefined, f: { format?: string; addr?: string; token?: string }, root?: string): Promise<number> {
  const c = await connect({ ...f, ...(root ? { root } : {}) });
  try {
    if (sub === 'show') {
      const h = id ? await c.api.historyGet(id) : undefined;
      if (!h) {
        process.stderr.write(`no build ${id ?? ''}\n`);
        return 1;
      }
      if (f.format === 'json') process.stdout.write(JSON.stringify(h, null, 2) + '\n');
      else {
        process.stdout.write(`${h.id}  ${h.name}  ${h.status}  ${new Date(h.createdAt).toISOString()}\n`);
        for (const v of h.vertices ?? []) {
          const t = v.cached ? 'CACHED' : v.started && v.completed ? `${((v.completed - v.started) / 1000).toFixed(1)}s` : v.error ? 'ERROR' : '';
          process.stdout.write(`  ${t.padEnd(8)} ${v.name}${v.error ? `\n           ${v.error.split('\n')[0]}` : ''}\n`);
        }
        if (h.error) process.stdout.write(`ERROR: ${h.error.message}\n`);
      }
      return 0;
    }
    const list = await c.api.historyList();
    if (f.format === 'json') process.stdout.write(JSON.stringify(list, null, 2) + '\n');
    else for (const h of list) process.stdout.write(`${h.id}  ${h.status.padEnd(9)} ${new Date(h.createdAt).toISOString()}  ${h.name}\n`);
    return 0;
  } finally {
    await c.close();
  }
}
