// Root-filesystem comparison of two tarballs: paths, types, modes, owners, contents and link
// targets. Times are ignored, and so are the runtime stubs (dev, proc, sys, .dockerenv) that an
// engine adds to every container's rootfs.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import tar from 'tar-stream';

const SKIP = new Set(['dev', 'proc', 'sys', '.dockerenv']);

export interface TarEntryInfo {
  type: string;
  mode: string;
  owner: string;
  size: number;
  digest: string;
  linkname: string;
}

export async function tarEntries(file: string): Promise<Map<string, TarEntryInfo>> {
  const out = new Map<string, TarEntryInfo>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      const name = h.name.replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
      const hash = createHash('sha256');
      let size = 0;
      stream.on('data', (chunk: unknown) => {
        const d = chunk as Buffer;
        hash.update(d);
        size += d.length;
      });
      stream.on('end', () => {
        if (name && !SKIP.has(name.split('/')[0]!)) {
          let type: string = h.type ?? 'file';
          let digest = type === 'file' ? hash.digest('hex').slice(0, 16) : '';
          // a hard link reads as its target's bytes (resolved below), whichever one the tar wrote first
          if (type === 'link') {
            type = 'file';
            digest = `(hardlink to ${(h.linkname ?? '').replace(/^(\.\/)+|^\/+/, '')})`;
          }
          out.set(name, {
            type,
            mode: ((h.mode ?? 0) & 0o7777).toString(8),
            owner: `${h.uid ?? 0}:${h.gid ?? 0}`,
            size: type === 'file' && !digest.startsWith('(') ? size : 0,
            digest,
            linkname: h.type === 'symlink' ? (h.linkname ?? '') : '',
          });
        }
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  fs.createReadStream(file).on('error', (e) => extract.destroy(e)).pipe(extract);
  await done;
  return resolveHardlinks(out);
}

/** Give every hard link its target's size and digest: the link direction is a tar-writing accident. */
function resolveHardlinks(m: Map<string, TarEntryInfo>): Map<string, TarEntryInfo> {
  for (const [, e] of m) {
    const t = /^\(hardlink to (.*)\)$/.exec(e.digest);
    if (!t) continue;
    const target = m.get(t[1]!);
    if (target && !target.digest.startsWith('(')) {
      e.digest = target.digest;
      e.size = target.size;
    }
  }
  return m;
}

/** Differences, one line each; empty when the filesystems are the same. */
export async function compareTars(a: string, b: string): Promise<string[]> {
  const [ea, eb] = await Promise.all([tarEntries(a), tarEntries(b)]);
  return compareEntries(ea, eb);
}

/**
 * The root filesystem that a stack of layer tars (base first) produces, applying OCI whiteouts
 * (`.wh.name` deletes, `.wh..wh..opq` empties a directory), as entries comparable with
 * tarEntries' output.
 */
export async function flattenLayers(layers: NodeJS.ReadableStream[]): Promise<Map<string, TarEntryInfo>> {
  const out = new Map<string, TarEntryInfo>();
  const removeTree = (p: string) => {
    for (const k of [...out.keys()]) if (k === p || k.startsWith(p + '/')) out.delete(k);
  };
  for (const layer of layers) {
    const extract = tar.extract();
    const done = new Promise<void>((resolve, reject) => {
      extract.on('entry', (h, stream, next) => {
        const name = h.name.replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
        const hash = createHash('sha256');
        let size = 0;
        stream.on('data', (chunk: unknown) => {
        const d = chunk as Buffer;
          hash.update(d);
          size += d.length;
        });
        stream.on('end', () => {
          const base = name.split('/').pop() ?? '';
          const dir = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '';
          if (base === '.wh..wh..opq') {
            for (const k of [...out.keys()]) if (dir === '' || k.startsWith(dir + '/')) out.delete(k);
          } else if (base.startsWith('.wh.')) {
            removeTree((dir ? dir + '/' : '') + base.slice(4));
          } else if (name && !SKIP.has(name.split('/')[0]!)) {
            let type: string = h.type ?? 'file';
            if (type !== 'directory') removeTree(name);
            let digest = type === 'file' ? hash.digest('hex').slice(0, 16) : '';
            if (type === 'link') {
              type = 'file';
              digest = `(hardlink to ${(h.linkname ?? '').replace(/^(\.\/)+|^\/+/, '')})`;
            }
            out.set(name, {
              type,
              mode: ((h.mode ?? 0) & 0o7777).toString(8),
              owner: `${h.uid ?? 0}:${h.gid ?? 0}`,
              size: type === 'file' && !digest.startsWith('(') ? size : 0,
              digest,
              linkname: h.type === 'symlink' ? (h.linkname ?? '') : '',
            });
          }
          next();
        });
        stream.on('error', reject);
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
    });
    layer.pipe(extract);
    await done;
  }
  return resolveHardlinks(out);
}

/** Differences between two entry maps (see compareTars). */
export function compareEntries(ea: Map<string, TarEntryInfo>, eb: Map<string, TarEntryInfo>): string[] {
  const diffs: string[] = [];
  for (const name of [...new Set([...ea.keys(), ...eb.keys()])].sort()) {
    const x = ea.get(name);
    const y = eb.get(name);
    if (!x) diffs.push(`only in second: ${name} ${JSON.stringify(y)}`);
    else if (!y) diffs.push(`only in first: ${name} ${JSON.stringify(x)}`);
    else if (JSON.stringify(x) !== JSON.stringify(y)) diffs.push(`differs: ${name} first=${JSON.stringify(x)} second=${JSON.stringify(y)}`);
  }
  return diffs;
}
