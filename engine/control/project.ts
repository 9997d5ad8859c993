// The `project` call: a docker-bake.hcl/json or compose file read into what the editor needs to
// draw it as one canvas — each target with its Dockerfile's text and paths relative to the
// project directory (the browser cannot read files; the service can). The bake reader itself is
// engine/frontend/bake/read.ts; this only shapes its answer for the API.
import fs from 'node:fs';
import path from 'node:path';
import type { ProjectRequest, ProjectResponse } from './api.js';

const MAX_DOCKERFILE = 4 << 20;

/** a path relative to the project directory, '/'-separated, '.' for the directory itself */
function rel(dir: string, p: string): string {
  const r = path.relative(dir, p).split(path.sep).join('/');
  return r === '' ? '.' : r;
}

export async function readProject(req: ProjectRequest): Promise<ProjectResponse> {
  const { readBakeFile, selectTargets } = await import('../frontend/bake/read.js');
  const file = path.resolve(req.path);
  if (!fs.existsSync(file)) throw Object.assign(new Error(`project: no such file ${file}`), { code: 'invalid_request' });
  const dir = path.dirname(file);
  let bf: Awaited<ReturnType<typeof readBakeFile>>;
  let order: string[];
  try {
    bf = await readBakeFile(file);
    order = selectTargets(bf, req.targets ?? []);
  } catch (e) {
    // a bad file or an unknown name is the caller's: the message names the file (and line)
    if ((e as Error).name === 'UsageError') throw Object.assign(new Error(`project: ${(e as Error).message}`), { code: 'invalid_request' });
    throw e;
  }
  return {
    file,
    dir,
    targets: order.map((name) => {
      const t = bf.targets[name]!;
      const st = fs.statSync(t.dockerfile, { throwIfNoEntry: false });
      if (!st?.isFile()) throw Object.assign(new Error(`project: target ${name}: no Dockerfile at ${t.dockerfile}`), { code: 'invalid_request' });
      if (st.size > MAX_DOCKERFILE) throw new Error(`project: target ${name}: ${t.dockerfile} is larger than ${MAX_DOCKERFILE} bytes`);
      const contexts: Record<string, string> = {};
      for (const [k, v] of Object.entries(t.contexts)) contexts[k] = v.includes('://') || v.startsWith('target:') ? v : rel(dir, v);
      return {
        name,
        dockerfile: fs.readFileSync(t.dockerfile, 'utf8'),
        dockerfilePath: rel(dir, t.dockerfile),
        context: rel(dir, t.context),
        ...(t.target ? { target: t.target } : {}),
        args: t.args,
        tags: t.tags,
        contexts,
        dependsOn: [...new Set(Object.values(t.contexts).filter((v) => v.startsWith('target:')).map((v) => v.slice('target:'.length)))],
      };
    }),
  };
}
