// Image tarballs: the OCI image layout (oci-layout, index.json, blobs/sha256/…) and the
// docker-archive that `docker load` reads (manifest.json + config + layer tars). Entries are
// written in a fixed order with fixed times and owners so the bytes depend only on the image.
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { AssembledImage } from './image.js';
import { MT } from './image.js';

type Entry = { name: string; data?: Buffer; file?: { path: string; size: number } };

async function writeTar(entries: Entry[], out: Writable, mtime: number): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, out);
  const dirs = new Set<string>();
  for (const e of entries) {
    const parts = e.name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/') + '/';
      if (dirs.has(d)) continue;
      dirs.add(d);
      await new Promise<void>((r, j) => pack.entry({ name: d, type: 'directory', mode: 0o755, mtime: new Date(mtime * 1000), uid: 0, gid: 0 }, (err) => (err ? j(err) : r())));
    }
    const header = { name: e.name, mode: 0o644, mtime: new Date(mtime * 1000), uid: 0, gid: 0, uname: '', gname: '' };
    if (e.data) {
      await new Promise<void>((r, j) => pack.entry({ ...header, size: e.data!.length }, e.data!, (err) => (err ? j(err) : r())));
    } else if (e.file) {
      const w = pack.entry({ ...header, size: e.file.size });
      await pipeline(createReadStream(e.file.path), w);
    }
  }
  pack.finalize();
  await done;
}

function blobEntries(img: AssembledImage, prefix: string): Entry[] {
  const seen = new Set<string>();
  const out: Entry[] = [];
  const add = (digest: string, e: Omit<Entry, 'name'>): void => {
    if (seen.has(digest)) return;
    seen.add(digest);
    out.push({ name: `${prefix}${digest.slice(7)}`, ...e });
  };
  add(img.configDesc.digest, { data: img.configBytes });
  for (const l of img.layers) add(l.digest, { file: { path: l.path, size: l.size } });
  add(img.manifestDesc.digest, { data: img.manifestBytes });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** OCI image layout tarball; `names` become org.opencontainers.image.ref.name annotations (tag part, like buildx). */
export async function writeOciArchive(img: AssembledImage, names: string[], out: Writable, mtime = 0): Promise<void> {
  const manifests = (names.length ? names : [undefined]).map((n) => ({
    mediaType: img.manifestDesc.mediaType,
    digest: img.manifestDesc.digest,
    size: img.manifestDesc.size,
    ...(n ? { annotations: { 'io.containerd.image.name': n, 'org.opencontainers.image.ref.name': refName(n) } } : {}),
  }));
  const index = { schemaVersion: 2, mediaType: MT.ociIndex, manifests };
  const entries: Entry[] = [
    { name: 'oci-layout', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    { name: 'index.json', data: Buffer.from(JSON.stringify(index)) },
    ...blobEntries(img, 'blobs/sha256/'),
  ];
  await writeTar(entries, out, mtime);
}

/** docker-archive (docker save format); layers are stored as their blobs, which docker load decompresses. */
export async function writeDockerArchive(img: AssembledImage, names: string[], out: Writable, mtime = 0): Promise<void> {
  const manifest = [{
    Config: `blobs/sha256/${img.configDesc.digest.slice(7)}`,
    RepoTags: names.map(normalizeTag),
    Layers: img.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
  }];
  const entries: Entry[] = [
    ...blobEntries(img, 'blobs/sha256/'),
    { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
  ];
  await writeTar(entries, out, mtime);
}

/** the tag of a reference ("reg/repo:tag" → "tag"), or the reference when it has none */
function refName(n: string): string {
  const at = n.lastIndexOf(':');
  return at > n.lastIndexOf('/') ? n.slice(at + 1) : 'latest';
}

function normalizeTag(n: string): string {
  return n.lastIndexOf(':') > n.lastIndexOf('/') ? n : `${n}:latest`;
}
