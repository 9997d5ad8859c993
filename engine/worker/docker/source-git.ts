// git sources: `git clone` (the git CLI) into <root>/git/<hash>, checked out at a branch, tag or
// commit, optional subdir and keep-git-dir; the tree becomes an image snapshot.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DefinitionVertex } from '../../llb/definition.js';
import { digestOf } from '../../llb/digest.js';
import type { SourceOp } from '../../llb/ops.js';
import type { CacheMap, Op, OpContext, Result } from '../../solver/types.js';
import { imageResult, tarDir, type WorkerContext } from './context.js';
import { SourceError } from './errors.js';

const run = promisify(execFile);

export function isGitIdentifier(id: string): boolean {
  return id.startsWith('git://') || /^https?:\/\/.*\.git(#.*)?$/.test(id) || id.startsWith('git@') || id.startsWith('ssh://');
}

export interface GitRef {
  remote: string;
  ref?: string;
  subdir?: string;
}

/** git://host/path#ref:subdir → remote, ref, subdir (git:// of a local path means that path) */
export function parseGitIdentifier(id: string): GitRef {
  const [url, frag] = id.split('#', 2) as [string, string | undefined];
  let remote = url;
  // git:///abs/path or git://host/path used for a local bare repository in tests
  if (remote.startsWith('git:///')) remote = remote.slice('git://'.length);
  const [ref, subdir] = (frag ?? '').split(':', 2);
  return { remote, ref: ref || undefined, subdir: subdir || undefined };
}

async function git(args: string[], cwd?: string, signal?: AbortSignal): Promise<string> {
  try {
    const r = await run('git', args, { cwd, signal, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, maxBuffer: 16 << 20 });
    return r.stdout.trim();
  } catch (e) {
    throw new SourceError(`git ${args[0]}: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`);
  }
}

export function gitSourceOp(w: WorkerContext, v: DefinitionVertex): Op {
  const op = v.op as SourceOp;
  const g = parseGitIdentifier(op.identifier);
  // The Dockerfile frontend writes git://host/path plus the URL the user typed (git.fullurl).
  const full = op.attrs?.['git.fullurl'];
  if (full) g.remote = full.split('#')[0]!;
  const keepGitDir = op.attrs?.keepGitDir === 'true' || op.attrs?.['git.keepgitdir'] === 'true';
  let commit: Promise<string> | undefined;
  const resolveCommit = (ctx: OpContext) =>
    (commit ??= (async () => {
      if (g.ref && /^[0-9a-f]{40}$/.test(g.ref)) return g.ref;
      const out = await git(['ls-remote', g.remote, ...(g.ref ? [g.ref, `refs/tags/${g.ref}^{}`] : ['HEAD'])], undefined, ctx.signal);
      const lines = out.split('\n').filter(Boolean);
      const peeled = lines.find((l) => l.endsWith('^{}'));
      const line = peeled ?? lines[0];
      if (!line) throw new SourceError(`git: ref ${g.ref ?? 'HEAD'} not found in ${g.remote}`);
      return line.split(/\s+/)[0]!;
    })());
  return {
    async cacheMap(ctx): Promise<CacheMap> {
      // Keyed by the resolved commit: a moved branch is a new result.
      return { digest: digestOf({ ...op, commit: await resolveCommit(ctx) }), deps: [] };
    },
    async exec(ctx): Promise<Result[]> {
      const sha = await resolveCommit(ctx);
      const dir = join(w.root, 'git', createHash('sha256').update(`${g.remote}#${sha}:${keepGitDir}`).digest('hex').slice(0, 32));
      if (!existsSync(dir)) {
        const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
        mkdirSync(tmp, { recursive: true });
        try {
          await git(['init', '-q', tmp]);
          await git(['remote', 'add', 'origin', g.remote], tmp);
          try {
            await git(['fetch', '-q', '--depth=1', 'origin', sha], tmp, ctx.signal);
          } catch {
            // servers that refuse fetching by sha: fetch everything
            await git(['fetch', '-q', '--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*'], tmp, ctx.signal);
          }
          await git(['-c', 'advice.detachedHead=false', 'checkout', '-q', sha], tmp);
          if (!keepGitDir) rmSync(join(tmp, '.git'), { recursive: true, force: true });
          renameSync(tmp, dir);
        } catch (e) {
          rmSync(tmp, { recursive: true, force: true });
          throw e;
        }
      }
      const src = g.subdir ? join(dir, g.subdir) : dir;
      if (!existsSync(src)) throw new SourceError(`git: subdir ${g.subdir} not found at ${sha}`);
      const base = (await w.images.scratchImage()).id;
      return [imageResult(await w.images.applyTar(base, tarDir(src) as unknown as NodeJS.ReadableStream))];
    },
  };
}
