// A layer directory (overlayfs upper format) → a layer tar in the image-spec format: a 0/0
// character device is a whiteout (`.wh.NAME`), an opaque directory gets `.wh..wh..opq`. The tar is
// written once, hashed as it is written (its sha256 is the layer's diff id) and kept for exports.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, lstatSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { syscalls } from './syscalls.js';

type Header = Parameters<ReturnType<typeof tar.pack>['entry']>[0];

/** directories of `dir` marked opaque by overlayfs (absolute paths) */
export async function opaqueDirs(dir: string): Promise<Set<string>> {
  const sc = syscalls();
  if (sc) {
    try {
      return await sc.opaqueDirs(dir);
    } catch {
      /* the helper could not run: getfattr below */
    }
  }
  return new Promise((resolve, reject) => {
    // trusted.* xattrs have no Node API; getfattr (Debian's attr) lists them in one pass
    const p = spawn('getfattr', ['-R', '-h', '--absolute-names', '-d', '-m', '^trusted\\.overlay\\.opaque$', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', (e) => reject(new Error(`getfattr is needed to read overlay layers (apt-get install attr): ${e.message}`)));
    p.on('close', (code) => {
      if (code !== 0 && !out) return reject(new Error(`getfattr ${dir}: ${err.trim() || `exit ${code}`}`));
      const set = new Set<string>();
      let file: string | undefined;
      for (const line of out.split('\n')) {
        if (line.startsWith('# file: ')) file = line.slice(8);
        else if (file && /^trusted\.overlay\.opaque="?y/.test(line)) set.add(file);
      }
      resolve(set);
    });
  });
}

const GATHER = 1 << 20;

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

function entry(pack: tar.Pack, h: Header, body?: Buffer): Promise<void> {
  return new Promise((res, rej) => pack.entry(h, body ?? Buffer.alloc(0), (e) => (e ? rej(e) : res())));
}

/** files up to this size are read in one synchronous call: a stream per file costs more than the read */
const SMALL_FILE = 256 << 10;

async function fileEntry(pack: tar.Pack, h: Header, path: string): Promise<void> {
  if ((h.size ?? 0) <= SMALL_FILE) return entry(pack, h, readFileSync(path));
  const sink = pack.entry(h);
  await pipeline(createReadStream(path), sink);
}

/**
 * write `dir` as a layer tar at `out` (through `tmp`, renamed when complete); returns its diff id
 * and size
 */
export async function writeLayerTar(dir: string, out: string, tmp = `${out}.tmp-${process.pid}`): Promise<{ diffId: string; size: number }> {
  const opaque = await opaqueDirs(dir);
  const pack = tar.pack();
  const hash = createHash('sha256');
  let size = 0;
  // tar-stream emits a header, a body and a padding chunk per entry; written one by one they cost
  // a threadpool round trip each, so they are gathered into chunks of about a megabyte
  let held: Buffer[] = [];
  let heldBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      size += chunk.length;
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < GATHER) return cb();
      const out = Buffer.concat(held, heldBytes);
      held = [];
      heldBytes = 0;
      cb(null, out);
    },
    flush(cb) {
      cb(null, heldBytes ? Buffer.concat(held, heldBytes) : undefined);
    },
  });
  const writing = pipeline(pack, tap, createWriteStream(tmp));
  // awaited below; a write failure while the walk is still going must not be an unhandled rejection
  writing.catch(() => undefined);
  const links = new Map<string, string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const name of readdirSync(abs).sort()) {
      const p = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      const h: Header = { name: r, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
      if (isWhiteout(st)) {
        await entry(pack, { ...h, name: rel ? `${rel}/.wh.${name}` : `.wh.${name}`, type: 'file', size: 0 });
      } else if (st.isDirectory()) {
        await entry(pack, { ...h, name: r + '/', type: 'directory' });
        if (opaque.has(p)) await entry(pack, { ...h, name: `${r}/.wh..wh..opq`, type: 'file', mode: 0, size: 0 });
        await walk(p, r);
      } else if (st.isSymbolicLink()) {
        await entry(pack, { ...h, type: 'symlink', linkname: readlinkSync(p) });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(key) : undefined;
        if (first) await entry(pack, { ...h, type: 'link', linkname: first, size: 0 });
        else {
          if (st.nlink > 1) links.set(key, r);
          await fileEntry(pack, { ...h, type: 'file', size: st.size }, p);
        }
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const major = Math.floor(st.rdev / 256) & 0xfff;
        const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
        await entry(pack, { ...h, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor });
      } else if (st.isFIFO()) {
        await entry(pack, { ...h, type: 'fifo' });
      }
      // sockets are not part of a layer (as in docker and BuildKit)
    }
  };
  try {
    await walk(dir, '');
    pack.finalize();
    await writing;
  } catch (e) {
    pack.destroy();
    rmSync(tmp, { force: true });
    throw e;
  }
  renameSync(tmp, out);
  return { diffId: 'sha256:' + hash.digest('hex'), size };
}

/** bytes under `dir` (regular files' sizes), for du */
export function dirSize(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) n += lstatSync(p).size;
    }
  };
  walk(dir);
  return n;
}
