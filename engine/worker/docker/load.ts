// Load an image into the engine from layer tars and a config: a docker-archive streamed to
// POST /images/load. Layers the engine already holds (a leading run of `inEngine` layers) are
// left out of the archive — the engine finds them by chain id and never opens their files —
// so loading a build result costs only its new layers. If the engine turns out to lack one, the
// load is retried with every layer.
import { createHash } from 'node:crypto';
import type Dockerode from 'dockerode';
import tar from 'tar-stream';
import { pipeline } from 'node:stream/promises';
import type { LayerRef } from '../types.js';

function entry(pack: tar.Pack, name: string, data: Buffer): Promise<void> {
  return new Promise((res, rej) => pack.entry({ name, mode: 0o644, mtime: new Date(0) }, data, (e) => (e ? rej(e) : res())));
}

async function writeArchive(pack: tar.Pack, layers: LayerRef[], skip: number, configBytes: Buffer, configName: string, tags: string[]): Promise<void> {
  const names = layers.map((l) => `${l.diffId.slice(7)}/layer.tar`);
  await entry(pack, 'manifest.json', Buffer.from(JSON.stringify([{ Config: configName, RepoTags: tags, Layers: names }])));
  await entry(pack, configName, configBytes);
  for (let i = skip; i < layers.length; i++) {
    const l = layers[i]!;
    const sink = pack.entry({ name: names[i]!, mode: 0o644, size: l.size, mtime: new Date(0) });
    await pipeline(await l.open(), sink);
  }
  pack.finalize();
}

async function loadOnce(docker: Dockerode, layers: LayerRef[], skip: number, configBytes: Buffer, configName: string, tags: string[]): Promise<void> {
  const pack = tar.pack();
  const writing = writeArchive(pack, layers, skip, configBytes, configName, tags).catch((e: Error) => {
    pack.destroy(e);
    throw e;
  });
  // awaited after the engine answers; a read error before that must not be an unhandled rejection
  writing.catch(() => undefined);
  const stream = await docker.loadImage(pack as unknown as NodeJS.ReadableStream, { quiet: true } as object);
  const body = await new Promise<string>((r, j) => {
    let s = '';
    stream.on('data', (d: Buffer) => (s += d.toString()));
    stream.on('end', () => r(s));
    stream.on('error', j);
  });
  await writing;
  const err = /"error":"((?:[^"\\]|\\.)*)"/.exec(body);
  if (err) throw new Error(`docker load failed: ${JSON.parse(`"${err[1]}"`) as string}`);
}

/** load `config` with `layers` (base first) under `tags`; returns the engine's image id */
export async function loadImage(docker: Dockerode, layers: LayerRef[], config: object, tags: string[] = []): Promise<string> {
  const configBytes = Buffer.from(JSON.stringify(config));
  const hex = createHash('sha256').update(configBytes).digest('hex');
  const id = `sha256:${hex}`;
  if (await tagIfPresent(docker, id, tags)) return id;
  let skip = 0;
  while (skip < layers.length && layers[skip]!.inEngine) skip++;
  try {
    await loadOnce(docker, layers, skip, configBytes, `${hex}.json`, tags);
  } catch (e) {
    if (skip === 0) throw e;
    await loadOnce(docker, layers, 0, configBytes, `${hex}.json`, tags);
  }
  return id;
}

/**
 * An image id is its config's digest: when the engine already holds that id (a rebuild with
 * every step cached), the layers are there too and only missing tags are added — no archive, no
 * `docker load` (which costs the engine a process start even when it has every layer).
 */
export async function tagIfPresent(docker: Dockerode, id: string, tags: string[]): Promise<boolean> {
  let have: string[];
  try {
    have = ((await docker.getImage(id).inspect()) as { RepoTags?: string[] }).RepoTags ?? [];
  } catch {
    return false;
  }
  for (const t of tags) {
    if (have.includes(t)) continue;
    const at = t.lastIndexOf(':');
    const [repo, tag] = at > t.lastIndexOf('/') ? [t.slice(0, at), t.slice(at + 1)] : [t, 'latest'];
    await docker.getImage(id).tag({ repo, tag });
  }
  return true;
}
