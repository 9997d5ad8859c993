// Docker's BuildKit as the oracle for the differential suite: builds a case folder with
// `docker build` (the 20.10 client, DOCKER_BUILDKIT=1) and reads back the image config.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DOCKER_HOST } from './env.js';
import type { ImageConfig } from '../../engine/llb/image.js';

const run = promisify(execFile);
export const DOCKER = '/usr/bin/docker';

export function dockerEnv(): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_HOST, DOCKER_BUILDKIT: '1' };
}

/** A case's extra `docker build` flags: the ARGS file's words after the case name. */
export function caseFlags(dir: string): string[] {
  const f = path.join(dir, 'ARGS');
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').trim().split(/\s+/).slice(1);
}

export interface BuildFlags {
  buildArgs: Record<string, string>;
  target?: string;
  /** secret id → file (relative to the case folder) */
  secrets: Record<string, string>;
  buildContexts: Record<string, string>;
}

export function parseBuildFlags(flags: string[]): BuildFlags {
  const out: BuildFlags = { buildArgs: {}, secrets: {}, buildContexts: {} };
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    const val = () => flags[++i] ?? '';
    if (f === '--build-arg') {
      const v = val();
      const eq = v.indexOf('=');
      out.buildArgs[eq < 0 ? v : v.slice(0, eq)] = eq < 0 ? (process.env[v] ?? '') : v.slice(eq + 1);
    } else if (f === '--target') out.target = val();
    else if (f === '--secret') {
      const kv = Object.fromEntries(val().split(',').map((p) => p.split('=') as [string, string]));
      out.secrets[kv.id!] = kv.src ?? kv.source ?? '';
    } else if (f === '--build-context') {
      const v = val();
      const eq = v.indexOf('=');
      out.buildContexts[v.slice(0, eq)] = v.slice(eq + 1);
    } else throw new Error(`unsupported case flag ${f}`);
  }
  return out;
}

/** Build `dir` with BuildKit: a rootfs tarball at `tarPath` and an image tagged `tag`. */
export async function buildWithBuildKit(dir: string, flags: string[], tarPath: string, tag: string): Promise<void> {
  const opts = { cwd: dir, env: dockerEnv(), maxBuffer: 64 << 20 };
  // The context is named by its absolute path: the docker CLI derives the session's shared key
  // from the path as given, and two concurrent builds of '.' in different dirs share one key, so
  // BuildKit may hand one build the other's Dockerfile.
  const ctx = path.resolve(dir);
  await run(DOCKER, ['build', '--network=host', ...flags, '-o', `type=tar,dest=${tarPath}`, ctx], opts);
  await run(DOCKER, ['build', '--network=host', ...flags, '-t', tag, ctx], opts);
}

/** The image's config.json, as `docker save` writes it (history included). */
export async function imageConfigOf(tag: string): Promise<ImageConfig> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-save-'));
  try {
    const tarFile = path.join(tmp, 'img.tar');
    await run(DOCKER, ['save', '-o', tarFile, tag], { env: dockerEnv() });
    const manifest = JSON.parse((await run('tar', ['-xOf', tarFile, 'manifest.json'], { maxBuffer: 16 << 20 })).stdout) as { Config: string }[];
    const cfg = (await run('tar', ['-xOf', tarFile, manifest[0]!.Config], { maxBuffer: 16 << 20 })).stdout;
    return JSON.parse(cfg) as ImageConfig;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function removeImage(tag: string): Promise<void> {
  await run(DOCKER, ['rmi', '-f', tag], { env: dockerEnv() }).catch(() => undefined);
}

/** The parts of a config that the differential suite compares. */
export function comparableConfig(c: ImageConfig): Record<string, unknown> {
  const k = c.config ?? {};
  const norm = (x: unknown) => (x === null || x === undefined || (typeof x === 'object' && Object.keys(x as object).length === 0) ? undefined : x);
  return {
    architecture: c.architecture,
    os: c.os,
    author: c.author || undefined,
    User: k.User || undefined,
    Env: norm(k.Env),
    Cmd: norm(k.Cmd),
    Entrypoint: norm(k.Entrypoint),
    WorkingDir: k.WorkingDir || undefined,
    Labels: norm(k.Labels),
    ExposedPorts: norm(k.ExposedPorts),
    Volumes: norm(k.Volumes),
    StopSignal: k.StopSignal || undefined,
    Healthcheck: norm(k.Healthcheck),
    Shell: norm(k.Shell),
    OnBuild: norm(k.OnBuild),
    ArgsEscaped: k.ArgsEscaped || undefined,
    history: (c.history ?? []).map((h) => ({ created_by: h.created_by ?? '', empty_layer: !!h.empty_layer })),
  };
}
