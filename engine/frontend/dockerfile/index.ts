// The Dockerfile frontend's entry points: Dockerfile text → Definition + image config + checks.
import fs from 'node:fs';
import path from 'node:path';
import type { Definition, BuildWarning } from '../../llb/definition.js';
import type { ImageConfig } from '../../llb/image.js';
import { Converter, type ConvertOptions, type StageInfo } from './convert/convert.js';
import { runChecks } from './checks/index.js';

import { DockerfileError } from './errors.js';

export { DockerfileError };
export type { ConvertOptions, StageInfo } from './convert/convert.js';

export interface DockerfileToLLBResult {
  definition: Definition;
  imageConfig: ImageConfig;
  stages: StageInfo[];
  warnings: BuildWarning[];
}

export async function dockerfileToLLB(opts: ConvertOptions): Promise<DockerfileToLLBResult> {
  const conv = new Converter(opts);
  const { output, image } = await conv.convert();
  const warnings = runChecks(conv, opts.dockerfile);
  // `# check=error=true`: a violated rule fails the build, as in BuildKit
  const errors = warnings.filter((w) => w.error);
  if (errors.length > 0) {
    const rules = [...new Set(errors.map((w) => w.rule))].join(', ');
    const loc = errors[0]!.location ?? { file: opts.filename ?? 'Dockerfile', startLine: 1, endLine: 1 };
    const err = new DockerfileError(`lint violation found for rules: ${rules}: ${errors[0]!.message}`, loc, opts.dockerfile) as DockerfileError & { warnings?: BuildWarning[] };
    err.warnings = warnings;
    throw err;
  }
  const definition = conv.graph.marshal(output);
  definition.imageConfig = image;
  definition.warnings = warnings;
  return { definition, imageConfig: image, stages: conv.stageInfos(), warnings };
}

/** Stages with their bases and dependencies, without resolving images (for `kiln graph`). */
export function describeStages(opts: { dockerfile: string; filename?: string; buildArgs?: Record<string, string> }): StageInfo[] {
  const conv = new Converter({ ...opts, resolveImage: async () => Promise.reject(new Error('not resolving')) });
  return conv.stageInfos();
}

/** `<Dockerfile>.dockerignore` next to the Dockerfile wins over the context's `.dockerignore`. */
export function readDockerignore(contextDir: string, dockerfilePath?: string): string | undefined {
  const candidates = [];
  if (dockerfilePath) candidates.push(path.resolve(contextDir, dockerfilePath) + '.dockerignore');
  candidates.push(path.join(contextDir, '.dockerignore'));
  for (const c of candidates) {
    try {
      return fs.readFileSync(c, 'utf8');
    } catch {
      /* next */
    }
  }
  return undefined;
}
