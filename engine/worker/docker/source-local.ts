// local:// sources: the client's directory is used in place. The key is a content checksum of the
// filtered context (B's checksumPaths, indexed in SQLite); no image is made for the context —
// COPY reads the files straight from the host directory.
import type { DefinitionVertex } from '../../llb/definition.js';
import { digestOf } from '../../llb/digest.js';
import type { SourceOp } from '../../llb/ops.js';
import type { Snapshot } from '../../snapshot/types.js';
import type { CacheMap, Op, OpContext, Result } from '../../solver/types.js';
import { checksumPaths } from '../../source/local/checksum.js';
import { SourceError } from './errors.js';
import type { WorkerContext } from './context.js';

export function localName(identifier: string): string {
  return identifier.replace(/^local:\/\//, '');
}

function patterns(s: string | undefined): string[] | undefined {
  if (!s) return undefined;
  try {
    const v = JSON.parse(s) as unknown;
    if (Array.isArray(v)) return v.map(String);
  } catch {
    /* comma list */
  }
  return s.split(',').filter(Boolean);
}

export function localSourceOp(w: WorkerContext, v: DefinitionVertex): Op {
  const op = v.op as SourceOp;
  const name = localName(op.identifier);
  const include = patterns(op.attrs?.includePatterns ?? op.attrs?.includepattern ?? op.attrs?.include);
  const exclude = patterns(op.attrs?.excludePatterns ?? op.attrs?.excludepattern ?? op.attrs?.exclude);
  const dirOf = (ctx: OpContext) => {
    const dir = ctx.session.localDirs?.get(name);
    if (!dir) throw new SourceError(`local context "${name}" was not provided by the session`);
    return dir;
  };
  const sum = (ctx: OpContext) => checksumPaths(dirOf(ctx), include ?? ['.'], { db: w.db, excludePatterns: exclude });
  return {
    async cacheMap(ctx): Promise<CacheMap> {
      return { digest: digestOf({ ...op, checksum: sum(ctx) }), deps: [] };
    },
    async exec(ctx): Promise<Result[]> {
      const sys: Snapshot = { kind: 'local', dir: dirOf(ctx), includePatterns: include, excludePatterns: exclude };
      return [{ id: `local:${sum(ctx)}`, sys }];
    },
  };
}
