// http(s) sources: a download verified against attrs.checksum, saved under attrs.filename with
// attrs.chmod, as a one-file snapshot.
import { createHash } from 'node:crypto';
import type { DefinitionVertex } from '../../llb/definition.js';
import { digestOf } from '../../llb/digest.js';
import type { SourceOp } from '../../llb/ops.js';
import type { CacheMap, Op, OpContext, Result } from '../../solver/types.js';
import tar from 'tar-stream';
import { imageResult, type WorkerContext } from './context.js';
import { SourceError } from './errors.js';

export function httpSourceOp(w: WorkerContext, v: DefinitionVertex): Op {
  const op = v.op as SourceOp;
  const url = op.identifier;
  const want = op.attrs?.checksum;
  let body: Promise<Buffer> | undefined;
  const download = (ctx: OpContext) =>
    (body ??= (async () => {
      const r = await fetch(url, { signal: ctx.signal, redirect: 'follow' });
      if (!r.ok) throw new SourceError(`http ${url}: ${r.status} ${r.statusText}`);
      const buf = Buffer.from(await r.arrayBuffer());
      const got = 'sha256:' + createHash('sha256').update(buf).digest('hex');
      if (want && want !== got) throw new SourceError(`http ${url}: checksum mismatch: expected ${want}, got ${got}`);
      return buf;
    })().catch((e) => {
      body = undefined;
      throw e;
    }));
  const filename = () => {
    if (op.attrs?.filename) return op.attrs.filename;
    const last = new URL(url).pathname.split('/').filter(Boolean).pop();
    return last || 'index';
  };
  return {
    async cacheMap(ctx): Promise<CacheMap> {
      // With a pinned checksum the key needs no download; without one it is the content's digest.
      const sum = want ?? 'sha256:' + createHash('sha256').update(await download(ctx)).digest('hex');
      return { digest: digestOf({ ...op, content: sum }), deps: [] };
    },
    async exec(ctx): Promise<Result[]> {
      const data = await download(ctx);
      const pack = tar.pack();
      const mode = op.attrs?.chmod ? parseInt(op.attrs.chmod, 8) : 0o644;
      const uid = op.attrs?.uid ? Number(op.attrs.uid) : 0;
      const gid = op.attrs?.gid ? Number(op.attrs.gid) : 0;
      pack.entry({ name: filename().replace(/^\/+/, ''), mode, uid, gid, size: data.length, mtime: new Date() }, data);
      pack.finalize();
      const base = (await w.images.scratchImage()).id;
      return [imageResult(await w.images.applyTar(base, pack as unknown as NodeJS.ReadableStream))];
    },
  };
}
