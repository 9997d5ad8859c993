// A layer directory written as a layer tar (difftar.ts): every entry's bytes, mode, owner, mtime,
// symlink target and hardlink come out as they are on disk, small files (read whole) and big ones
// (streamed) alike, in name order; the diff id is the sha256 of the tar file and the size its
// length; the output is the same bytes each time.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { writeLayerTar } from '../../engine/snapshot/overlay/difftar.js';

interface Seen {
  name: string;
  type: string;
  mode: number;
  mtime: number;
  linkname?: string;
  body: Buffer;
}

async function entries(file: string): Promise<Seen[]> {
  const ex = tar.extract();
  const out: Seen[] = [];
  Readable.from([readFileSync(file)]).pipe(ex);
  for await (const e of ex) {
    const parts: Buffer[] = [];
    for await (const c of e) parts.push(c as Buffer);
    const h = e.header;
    out.push({ name: h.name, type: h.type!, mode: h.mode!, mtime: Math.floor(h.mtime!.getTime() / 1000), linkname: h.linkname ?? undefined, body: Buffer.concat(parts) });
  }
  return out;
}

describe('writeLayerTar', () => {
  const root = mkdtempSync(join(tmpdir(), 'kiln-difftar-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes every entry as it is on disk, small and big files alike, with its sha256 as the diff id', async () => {
    const dir = join(root, 'layer');
    mkdirSync(join(dir, 'etc', 'deep'), { recursive: true });
    const big = randomBytes(3 << 20); // over the whole-read limit: streamed
    const medium = randomBytes((256 << 10) + 1);
    writeFileSync(join(dir, 'etc', 'small.conf'), 'small\n');
    writeFileSync(join(dir, 'etc', 'empty'), '');
    writeFileSync(join(dir, 'big.bin'), big);
    writeFileSync(join(dir, 'etc', 'deep', 'medium.bin'), medium);
    for (let i = 0; i < 300; i++) writeFileSync(join(dir, 'etc', 'deep', `f${String(i).padStart(3, '0')}`), `file ${i}\n`);
    chmodSync(join(dir, 'etc', 'small.conf'), 0o640);
    symlinkSync('../big.bin', join(dir, 'etc', 'link'));
    linkSync(join(dir, 'big.bin'), join(dir, 'hard.bin'));
    utimesSync(join(dir, 'etc', 'small.conf'), 1_600_000_000, 1_600_000_000);

    const out1 = join(root, 'one.tar');
    const r = await writeLayerTar(dir, out1);
    const bytes = readFileSync(out1);
    expect(r.size).toBe(bytes.length);
    expect(r.diffId).toBe('sha256:' + createHash('sha256').update(bytes).digest('hex'));

    const seen = await entries(out1);
    const by = new Map(seen.map((e) => [e.name, e]));
    expect(seen.map((e) => e.name)).toEqual([...seen.map((e) => e.name)].sort((a, b) => (a.replace(/\/$/, '') < b.replace(/\/$/, '') ? -1 : 1)));
    expect(seen.filter((e) => e.name.startsWith('etc/deep/f'))).toHaveLength(300);
    expect(by.get('etc/deep/f123')!.body.toString()).toBe('file 123\n');
    expect(by.get('etc/small.conf')).toMatchObject({ type: 'file', mode: 0o640, mtime: 1_600_000_000 });
    expect(by.get('etc/small.conf')!.body.toString()).toBe('small\n');
    expect(by.get('etc/empty')!.body.length).toBe(0);
    expect(by.get('etc/deep/medium.bin')!.body.equals(medium)).toBe(true);
    expect(by.get('etc/link')).toMatchObject({ type: 'symlink', linkname: '../big.bin' });
    expect(by.get('etc/')).toMatchObject({ type: 'directory', mode: statSync(join(dir, 'etc')).mode & 0o7777 });
    // the first name of a hardlinked file carries the bytes, the second points at it
    expect(by.get('big.bin')!.body.equals(big)).toBe(true);
    expect(by.get('hard.bin')).toMatchObject({ type: 'link', linkname: 'big.bin' });

    const out2 = join(root, 'two.tar');
    const again = await writeLayerTar(dir, out2);
    expect(again).toEqual(r);
    expect(readFileSync(out2).equals(bytes)).toBe(true);
  });
});
