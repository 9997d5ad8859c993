// type=local and type=zip: the flattened root filesystem as a folder or a zip archive.
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import type { LayerRef } from '../worker/types.js';
import { rootfsTarStream } from './rootfs.js';

function safeJoin(root: string, name: string): string {
  const p = path.resolve(root, name);
  if (p !== root && !p.startsWith(root + path.sep)) throw new Error(`entry ${name} escapes the destination`);
  return p;
}

/** Write the root filesystem into `dest` (created if missing). Owners are not changed (unprivileged). */
export async function writeLocal(layers: LayerRef[], dest: string): Promise<void> {
  const root = path.resolve(dest);
  await fs.mkdir(root, { recursive: true });
  const ex = tar.extract();
  const dirModes: Array<[string, number]> = [];
  ex.on('entry', (h, s, next) => {
    (async () => {
      const p = safeJoin(root, h.name);
      if (h.type === 'directory') {
        await fs.mkdir(p, { recursive: true });
        dirModes.push([p, (h.mode ?? 0o755) & 0o7777]);
        s.resume();
      } else if (h.type === 'symlink') {
        await fs.mkdir(path.dirname(p), { recursive: true });
        await fs.rm(p, { force: true });
        await fs.symlink(h.linkname ?? '', p);
        s.resume();
      } else if (h.type === 'link') {
        await fs.rm(p, { force: true });
        await fs.link(safeJoin(root, h.linkname ?? ''), p);
        s.resume();
      } else if (h.type === 'file' || h.type === 'contiguous-file') {
        await fs.mkdir(path.dirname(p), { recursive: true });
        await fs.rm(p, { force: true });
        await pipeline(s as unknown as Readable, createWriteStream(p, { mode: 0o600 }));
        await fs.chmod(p, (h.mode ?? 0o644) & 0o7777);
      } else s.resume(); // devices/fifos need privileges a local export does not have
    })().then(() => next(), (e: Error) => ex.destroy(e));
  });
  await pipeline(rootfsTarStream(layers), ex);
  // directory modes last, so read-only directories could still be filled
  for (const [p, m] of dirModes.reverse()) await fs.chmod(p, m).catch(() => undefined);
}

// --- zip, written by hand: local headers + central directory, deflate via zlib; unix modes in
// the high 16 bits of the external attributes (version made by = 3, unix) as Info-ZIP does.
const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; t[n] = c >>> 0; }
  return t;
})();
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function dosTime(d: Date): { time: number; date: number } {
  const y = Math.max(1980, d.getUTCFullYear());
  return { time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1), date: ((y - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate() };
}

export async function writeZip(layers: LayerRef[], out: Writable): Promise<void> {
  const central: Buffer[] = [];
  let offset = 0;
  const chunks: Buffer[] = [];
  const emit = async (b: Buffer): Promise<void> => { offset += b.length; if (!out.write(b)) await new Promise((r) => out.once('drain', r)); };
  const ex = tar.extract();
  let count = 0;
  ex.on('entry', (h, s, next) => {
    (async () => {
      const bufs: Buffer[] = [];
      for await (const c of s as unknown as Readable) bufs.push(c as Buffer);
      let data = Buffer.concat(bufs);
      let type: number;
      let name = h.name.replace(/^\.?\//, '');
      if (h.type === 'directory') { type = 0o040000; if (!name.endsWith('/')) name += '/'; }
      else if (h.type === 'symlink') { type = 0o120000; data = Buffer.from(h.linkname ?? ''); }
      else if (h.type === 'file' || h.type === 'contiguous-file' || h.type === 'link') {
        type = 0o100000;
        if (h.type === 'link') return; // hard links: zip has none; skipped (documented)
      } else return;
      if (!name) return;
      const nameB = Buffer.from(name, 'utf8');
      const crc = crc32(data);
      const deflated = data.length > 0 && type === 0o100000 ? zlib.deflateRawSync(data) : data;
      const method = deflated !== data ? 8 : 0;
      const { time, date } = dosTime(h.mtime ?? new Date(0));
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(0x0800, 6); local.writeUInt16LE(method, 8);
      local.writeUInt16LE(time, 10); local.writeUInt16LE(date, 12); local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(deflated.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(nameB.length, 26); local.writeUInt16LE(0, 28);
      const cd = Buffer.alloc(46);
      cd.writeUInt32LE(0x02014b50, 0); cd.writeUInt16LE((3 << 8) | 20, 4); cd.writeUInt16LE(20, 6); cd.writeUInt16LE(0x0800, 8); cd.writeUInt16LE(method, 10);
      cd.writeUInt16LE(time, 12); cd.writeUInt16LE(date, 14); cd.writeUInt32LE(crc, 16); cd.writeUInt32LE(deflated.length, 20); cd.writeUInt32LE(data.length, 24);
      cd.writeUInt16LE(nameB.length, 28); cd.writeUInt32LE((((type | ((h.mode ?? 0) & 0o7777)) << 16) | (type === 0o040000 ? 0x10 : 0)) >>> 0, 38);
      cd.writeUInt32LE(offset, 42);
      central.push(cd, nameB);
      await emit(local); await emit(nameB); await emit(deflated);
      count++;
    })().then(() => next(), (e: Error) => ex.destroy(e));
  });
  await pipeline(rootfsTarStream(layers), ex);
  const cdStart = offset;
  const cdBuf = Buffer.concat(central);
  await emit(cdBuf);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(count, 8); end.writeUInt16LE(count, 10);
  end.writeUInt32LE(cdBuf.length, 12); end.writeUInt32LE(cdStart, 16);
  await emit(end);
  void chunks;
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
}
