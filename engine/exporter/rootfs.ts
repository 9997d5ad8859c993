// Flatten an image's layers (base first) into one root filesystem tar, applying OCI whiteouts:
// `.wh.<name>` removes <name> from lower layers, `.wh..wh..opq` empties a directory of lower
// content. Two passes keep memory to metadata only: first decide which layer owns each path,
// then stream each layer again and emit only the entries it owns.
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar, { type Header as Headers } from 'tar-stream';
import type { LayerRef } from '../worker/types.js';

const WH = '.wh.';
const OPQ = '.wh..wh..opq';

function clean(name: string): string {
  let n = name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  if (n === '.') n = '';
  return n;
}

async function eachEntry(layer: LayerRef, fn: (h: Headers, s: Readable) => Promise<void>): Promise<void> {
  const ex = tar.extract();
  const src = await layer.open();
  ex.on('entry', (h, s, next) => { fn(h, s as unknown as Readable).then(() => next(), (e: Error) => ex.destroy(e)); });
  await pipeline(src, ex);
}

function drain(s: Readable): Promise<void> {
  return new Promise((r, j) => { s.on('end', r); s.on('error', j); s.resume(); });
}

/** path → index of the layer whose entry survives */
export async function ownership(layers: LayerRef[]): Promise<Map<string, number>> {
  const owner = new Map<string, number>();
  const removeUnder = (dir: string, below: number, includeSelf: boolean): void => {
    const pre = dir === '' ? '' : dir + '/';
    for (const [p, i] of owner) {
      if (i >= below) continue;
      if ((includeSelf && p === dir) || p.startsWith(pre)) owner.delete(p);
    }
  };
  for (const [li, layer] of layers.entries()) {
    await eachEntry(layer, async (h, s) => {
      const name = clean(h.name);
      const base = name.slice(name.lastIndexOf('/') + 1);
      const dir = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '';
      if (base === OPQ) removeUnder(dir, li, false);
      else if (base.startsWith(WH)) removeUnder(dir ? `${dir}/${base.slice(WH.length)}` : base.slice(WH.length), li + 1, true);
      else if (name !== '') {
        // a non-directory replacing a directory hides everything below it
        if (h.type !== 'directory') removeUnder(name, li, false);
        owner.set(name, li);
      }
      await drain(s);
    });
  }
  return owner;
}

/** Write the flattened root filesystem as a tar to `out`. */
export async function writeRootfsTar(layers: LayerRef[], out: Writable): Promise<void> {
  const owner = await ownership(layers);
  const pack = tar.pack();
  const done = pipeline(pack, out);
  for (const [li, layer] of layers.entries()) {
    await eachEntry(layer, async (h, s) => {
      const name = clean(h.name);
      if (owner.get(name) !== li) { await drain(s); return; }
      const header = { ...h, name: h.type === 'directory' ? name + '/' : name };
      if (header.type === 'link' && header.linkname) header.linkname = clean(header.linkname);
      await new Promise<void>((resolve, reject) => {
        const w = pack.entry(header, (err) => (err ? reject(err) : resolve()));
        s.pipe(w);
      });
    });
  }
  pack.finalize();
  await done;
}

export function rootfsTarStream(layers: LayerRef[]): Readable {
  const out = new PassThrough();
  writeRootfsTar(layers, out).catch((e: Error) => out.destroy(e));
  return out;
}
