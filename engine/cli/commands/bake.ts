// `kiln bake`: many targets as one job. Each target's Dockerfile is converted here; a
// `target:NAME` context is spliced in as that target's output (no registry round trip), and all
// targets are solved at once on one engine, so shared vertices run once and independent targets
// run in parallel.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Definition } from '../../llb/definition.js';
import type { SolveResponse } from '../../control/api.js';
import { DEFAULT_FILES, printable, readBakeFile, selectTargets } from '../../frontend/bake/read.js';
import { UsageError } from '../connect.js';
import { makePrinter } from '../progress.js';
import { formatFailure } from './build.js';

export async function runBake(names: string[], f: { file: string[]; print?: boolean; progress: string }, root?: string): Promise<number> {
  const file = f.file[0] ?? DEFAULT_FILES.find((x) => fs.existsSync(x));
  if (!file || !fs.existsSync(file)) throw new UsageError('bake: no bake or compose file (use -f)');
  const bf = await readBakeFile(file);
  const selected = selectTargets(bf, names);
  if (f.print) {
    process.stdout.write(JSON.stringify(printable(bf, selected, names), null, 2) + '\n');
    return 0;
  }
  const { createControlService, statusWithEnd } = await import('../../control/service.js');
  const { dockerfileToLLB, readDockerignore } = await import('../../frontend/dockerfile/index.js');
  const { spliceContexts } = await import('../../control/rewrite.js');
  const svc = await createControlService(root ? { root } : {});
  const printer = makePrinter(f.progress, process.stderr, process.stdout);
  try {
    // one local source name per distinct directory, so targets sharing a context share its vertex
    const dirNames = new Map<string, string>();
    const nameFor = (dir: string) => {
      if (!dirNames.has(dir)) dirNames.set(dir, dirNames.size ? `context-${dirNames.size}` : 'context');
      return dirNames.get(dir)!;
    };
    const defs = new Map<string, { def: Definition; imageConfig: unknown }>();
    for (const n of selected) {
      const t = bf.targets[n]!;
      const localCtx: Record<string, string> = {};
      for (const [k, v] of Object.entries(t.contexts)) if (!v.includes('://') && !v.startsWith('target:')) localCtx[k] = nameFor(v);
      const di = readDockerignore(t.context, t.dockerfile);
      const r = await dockerfileToLLB({
        dockerfile: fs.readFileSync(t.dockerfile, 'utf8'),
        filename: path.relative(process.cwd(), t.dockerfile),
        ...(t.target ? { target: t.target } : {}),
        buildArgs: t.args,
        buildContexts: Object.fromEntries(Object.entries(t.contexts).map(([k, v]) => [k, v.startsWith('target:') ? `bake-target-${v.slice(7)}` : v])),
        contextName: nameFor(t.context),
        contextDir: t.context,
        ...(di !== undefined ? { dockerignore: di } : {}),
        resolveImage: (ref) => svc.resolveImage(ref),
      });
      // local://<ctxname> sources of named contexts: rename by directory; target: ones are spliced
      let def = r.definition;
      const subs: Record<string, Definition> = {};
      for (const [k, v] of Object.entries(t.contexts)) if (v.startsWith('target:')) subs[k] = defs.get(v.slice(7))!.def;
      def = spliceContexts(def, subs);
      defs.set(n, { def, imageConfig: r.imageConfig });
    }
    const localDirs: Record<string, string> = {};
    for (const [dir, name] of dirNames) localDirs[name] = dir;
    for (const n of selected) for (const [k, v] of Object.entries(bf.targets[n]!.contexts)) if (!v.includes('://') && !v.startsWith('target:')) localDirs[k] = v;
    const jobId = randomUUID();
    const results = await Promise.all(
      selected.map(async (n): Promise<[string, SolveResponse]> => {
        const t = bf.targets[n]!;
        const id = `${jobId}-${n}`;
        let ended!: () => void;
        const end = new Promise<void>((r) => (ended = r));
        statusWithEnd(svc, id, (e) => printer.event(e), () => ended());
        const outputs = t.output.length ? t.output.map(parseOut) : t.tags.length ? [{ type: 'docker', attrs: { name: t.tags.join(',') } }] : [];
        const { def, imageConfig } = defs.get(n)!;
        const r = await svc.solve({ id, input: { kind: 'definition', definition: { ...def, imageConfig: imageConfig as Definition['imageConfig'] }, localDirs }, options: { outputs, name: `bake ${n}` } });
        await end;
        return [n, r];
      }),
    );
    printer.done();
    if (f.progress === 'rawjson') for (const [n, r] of results) process.stdout.write(JSON.stringify({ type: 'result', target: n, ...r }) + '\n');
    let failed = false;
    for (const [n, r] of results)
      if (!r.ok) {
        failed = true;
        process.stderr.write(`target ${n}: ` + formatFailure(r));
      }
    return failed ? 1 : 0;
  } finally {
    await svc.close();
  }
}

function parseOut(s: string): { type: string; attrs: Record<string, string> } {
  const attrs: Record<string, string> = {};
  let type = 'local';
  for (const part of s.split(',')) {
    const [k, ...v] = part.split('=');
    if (k === 'type') type = v.join('=');
    else if (k) attrs[k] = v.join('=');
  }
  return { type, attrs };
}
