// `kiln graph`: the build graph without running it, as JSON (the documented contract), or the
// stage graph as dot or mermaid (graph-format.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { SolveInput } from '../../control/api.js';
import { connect, UsageError } from '../connect.js';
import { parseKeyValues } from '../options.js';

export async function runGraph(f: { file?: string; target?: string; buildArg: string[]; format: string; addr?: string; token?: string }, contextArg = '.', root?: string): Promise<number> {
  if (!['json', 'dot', 'mermaid'].includes(f.format)) throw new UsageError('--format must be json, dot or mermaid');
  const context = path.resolve(contextArg);
  const file = f.file ? path.resolve(f.file) : path.join(context, 'Dockerfile');
  if (!fs.existsSync(file)) throw new UsageError(`cannot read ${file}: no such file`);
  const text = fs.readFileSync(file, 'utf8');
  const input: SolveInput = file.endsWith('.kiln.json')
    ? { kind: 'graph', document: JSON.parse(text) as unknown, context, ...(f.target ? { target: f.target } : {}) }
    : { kind: 'dockerfile', dockerfile: text, filename: path.basename(file), context, ...(f.target ? { target: f.target } : {}), buildArgs: parseKeyValues(f.buildArg, '--build-arg') };
  const c = await connect({ ...(f.addr ? { addr: f.addr } : {}), ...(f.token ? { token: f.token } : {}), ...(root ? { root } : {}) });
  try {
    const g = await c.api.graph(input);
    const { toDot, toMermaid } = await import('./graph-format.js');
    if (f.format === 'json') process.stdout.write(JSON.stringify({ stages: g.stages, vertices: g.vertices, warnings: g.warnings }, null, 2) + '\n');
    else process.stdout.write(f.format === 'dot' ? toDot(g) : toMermaid(g));
    return 0;
  } finally {
    await c.close();
  }
}
