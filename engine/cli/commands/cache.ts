// `kiln du` and `kiln prune`: the build cache, through the cache manager.
import { connect } from '../connect.js';
import { formatSize, parseDuration, parseSize } from '../options.js';

export async function runDu(f: { verbose?: boolean; format?: string; addr?: string; token?: string }, root?: string): Promise<number> {
  const c = await connect({ ...f, ...(root ? { root } : {}), useServe: true });
  try {
    const du = await c.api.du();
    if (f.format === 'json') {
      process.stdout.write(JSON.stringify(du, null, 2) + '\n');
      return 0;
    }
    if (f.verbose) {
      for (const r of du.records)
        process.stdout.write(`ID:\t\t${r.id}\nType:\t\t${r.type}\nSize:\t\t${formatSize(r.size)}\nCreated at:\t${new Date(r.createdAt).toISOString()}\nLast used:\t${new Date(r.lastUsedAt).toISOString()}\nUsage count:\t${r.usageCount}\n${r.description ? `Description:\t${r.description}\n` : ''}\n`);
    } else {
      process.stdout.write('ID'.padEnd(28) + 'TYPE'.padEnd(18) + 'SIZE'.padStart(10) + '  LAST USED\n');
      for (const r of du.records) process.stdout.write(r.id.slice(0, 26).padEnd(28) + r.type.padEnd(18) + formatSize(r.size).padStart(10) + '  ' + new Date(r.lastUsedAt).toISOString() + '\n');
    }
    process.stdout.write(`Total:\t${formatSize(du.total)}\n`);
    // not cache records: each goes when its image leaves the engine (docker rmi, then kiln prune)
    if (du.imageCopies?.count) process.stdout.write(`Image copies:\t${formatSize(du.imageCopies.size)} (${du.imageCopies.count} engine image${du.imageCopies.count === 1 ? '' : 's'} unpacked for steps, kept while in the engine)\n`);
    return 0;
  } finally {
    await c.close();
  }
}

export async function runPrune(f: { all?: boolean; keepStorage?: string; keepDuration?: string; filter: string[]; format?: string; addr?: string; token?: string }, root?: string): Promise<number> {
  const req = {
    ...(f.all ? { all: true } : {}),
    ...(f.keepStorage ? { keepStorage: parseSize(f.keepStorage) } : {}),
    ...(f.keepDuration ? { keepDurationMs: parseDuration(f.keepDuration) } : {}),
    ...(f.filter.length ? { filters: f.filter } : {}),
  };
  const c = await connect({ ...f, ...(root ? { root } : {}), useServe: true });
  try {
    const r = await c.api.prune(req);
    if (f.format === 'json') process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else {
      for (const x of r.removed) process.stdout.write(`${x.id}\t${formatSize(x.size)}\n`);
      process.stdout.write(`Total:\t${formatSize(r.reclaimed)}\n`);
    }
    return 0;
  } finally {
    await c.close();
  }
}
