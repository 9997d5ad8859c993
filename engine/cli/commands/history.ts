// `kiln history [ls|show ID]`: past builds from the service's SQLite history.
import { connect } from '../connect.js';

const TAIL_LINES = 20;

function logTail(log: string): string[] {
  const lines = log.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
  return lines.length > TAIL_LINES ? [`… ${lines.length - TAIL_LINES} earlier lines (--format json shows the whole kept log)`, ...lines.slice(-TAIL_LINES)] : lines;
}

export async function runHistory(sub: string, id: string | undefined, f: { format?: string; addr?: string; token?: string }, root?: string): Promise<number> {
  const c = await connect({ ...f, ...(root ? { root } : {}), useServe: true });
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
          // the step's output as the history kept it (already capped), last lines only
          const log = h.logs?.[v.digest];
          if (log) for (const l of logTail(log)) process.stdout.write(`           | ${l}\n`);
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
