// Layer blobs: an uncompressed layer tar → a compressed blob file, cached by (diffId,
// compression, level, rewrite epoch) so repeated exports of the same snapshot do no work.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { clampTarTimes } from './retime.js';

export type Compression = 'gzip' | 'zstd' | 'uncompressed';

export interface BlobFile { digest: string; size: number; path: string; mediaTypeSuffix: '' | '+gzip' | '+zstd' }

class Hasher extends Transform {
  hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.push(chunk);
    cb();
  }
}

// Node's gzip header carries OS=3 on unix; set 255 ("unknown") like Go's compress/gzip so the
// blob does not depend on the exporting machine. MTIME is already 0.
class GzipHeaderFix extends Transform {
  done = false;
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    if (!this.done && chunk.length > 9) { chunk = Buffer.from(chunk); chunk[9] = 0xff; this.done = true; }
    this.push(chunk);
    cb();
  }
}

function zstdStream(level: number | undefined): { stream: PassThrough; done: Promise<void> } {
  const child = spawn('zstd', ['-q', '-c', `-${level ?? 3}`, '--no-progress'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new Error(`compression=zstd needs the zstd program (apt-get install zstd): ${e.message}`)));
    child.on('close', (c) => (c === 0 ? resolve() : reject(new Error(`zstd failed: ${err.trim()}`))));
  });
  child.stdout.pipe(out);
  const inp = new PassThrough();
  inp.pipe(child.stdin);
  // expose a duplex-ish pair: caller writes to `inp` and reads from `out`
  return { stream: Object.assign(out, { input: inp }) as PassThrough, done };
}

export interface CompressOpts {
  compression: Compression;
  level?: number;
  /** clamp entry mtimes to this epoch (rewrite-timestamp) */
  epoch?: number;
  cacheDir: string;
}

export async function layerBlob(diffId: string, open: () => Promise<Readable>, o: CompressOpts): Promise<BlobFile> {
  const key = `${diffId.replace(/^sha256:/, '')}-${o.compression}-${o.level ?? 'd'}-${o.epoch ?? 'n'}`;
  const idx = path.join(o.cacheDir, 'index', key + '.json');
  try {
    const b = JSON.parse(await fs.readFile(idx, 'utf8')) as BlobFile;
    await fs.access(b.path);
    return b;
  } catch { /* not cached */ }
  await fs.mkdir(path.join(o.cacheDir, 'index'), { recursive: true });
  await fs.mkdir(path.join(o.cacheDir, 'sha256'), { recursive: true });
  const tmp = path.join(o.cacheDir, `tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const raw = await open();
  const src = o.epoch !== undefined ? clampTarTimes(raw, o.epoch) : raw;
  const h = new Hasher();
  try {
    if (o.compression === 'gzip') {
      await pipeline(src, zlib.createGzip({ level: o.level ?? zlib.constants.Z_DEFAULT_COMPRESSION }), new GzipHeaderFix(), h, createWriteStream(tmp));
    } else if (o.compression === 'zstd') {
      const z = zstdStream(o.level);
      const input = (z.stream as unknown as { input: PassThrough }).input;
      await Promise.all([pipeline(src, input), pipeline(z.stream, h, createWriteStream(tmp)), z.done]);
    } else {
      await pipeline(src, h, createWriteStream(tmp));
    }
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  const digest = 'sha256:' + h.hash.digest('hex');
  const final = path.join(o.cacheDir, 'sha256', digest.slice(7));
  await fs.rename(tmp, final);
  const b: BlobFile = { digest, size: h.size, path: final, mediaTypeSuffix: o.compression === 'gzip' ? '+gzip' : o.compression === 'zstd' ? '+zstd' : '' };
  await fs.writeFile(idx, JSON.stringify(b));
  return b;
}

export function openBlob(b: { path: string }): Readable {
  return createReadStream(b.path);
}
