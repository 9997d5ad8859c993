// rewrite-timestamp: clamp every tar entry's mtime to SOURCE_DATE_EPOCH (as BuildKit does:
// only newer times are lowered) and drop atime/ctime PAX records, so a layer's bytes do not
// depend on when the build ran.
import type { Readable } from 'node:stream';
import tar from 'tar-stream';

export function clampTarTimes(src: Readable, epoch: number): Readable {
  const extract = tar.extract();
  const pack = tar.pack();
  const limit = new Date(epoch * 1000);
  extract.on('entry', (header, stream, next) => {
    const h = { ...header };
    if (!h.mtime || h.mtime > limit) h.mtime = limit;
    const hx = h as { atime?: Date; ctime?: Date; pax?: Record<string, string> };
    delete hx.atime;
    delete hx.ctime;
    if (hx.pax) {
      const pax: Record<string, string> = { ...hx.pax };
      delete pax.atime; delete pax.ctime; delete pax.mtime;
      hx.pax = pax;
    }
    const entry = pack.entry(h, (err) => { if (err) extract.destroy(err); else next(); });
    stream.pipe(entry);
  });
  extract.on('finish', () => pack.finalize());
  extract.on('error', (e) => pack.destroy(e));
  src.on('error', (e) => pack.destroy(e));
  src.pipe(extract);
  return pack as unknown as Readable;
}
