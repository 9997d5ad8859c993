// Load an image into the engine from layer tars and a config: a docker-archive streamed to
// POST /images/load. Layers the engine already holds (a leading run of `inEngine` layers) are
// left out of the archive — the engine finds them by chain id and never opens their files —
// so loading a build result costs only its new layers. If the engine turns out to lack one, the
// load is retried with every layer.
import { createHash } from 'node:crypto';
import http from 'node:http';
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

/**
 * A load opened ahead of its image. dockerd unpacks the archive in a process of its own, started
 * when the first bytes arrive (≈90 ms on the test machine, before any layer is applied); a load
 * opened with one harmless entry (a directory the loader ignores) has that process waiting, so
 * the export does not pay for its start. Unused, it is dropped: dockerd discards a cut archive.
 */
interface WarmLoad {
  pack: tar.Pack;
  body: Promise<string>;
  /** the load is used now: it keeps the process alive until answered */
  take(): void;
  drop(): void;
}

const warm = new WeakMap<Dockerode, WarmLoad>();
const WARM_IDLE_MS = 30_000;

/** opens a load on `docker` for the next loadImage, if it is a local socket and none is open */
export function prewarmLoad(docker: Dockerode): void {
  const socketPath = (docker as unknown as { modem?: { socketPath?: unknown } }).modem?.socketPath;
  if (typeof socketPath !== 'string' || warm.has(docker)) return;
  const pack = tar.pack();
  const req = http.request({ socketPath, method: 'POST', path: '/images/load?quiet=1', headers: { 'content-type': 'application/x-tar' } });
  // neither the socket nor the idle timer may keep a finished process alive — until the load is
  // taken: then the process waits for its answer (takeWarm refs the socket again)
  let socket: import('node:net').Socket | undefined;
  let taken = false;
  req.on('socket', (s) => {
    socket = s;
    if (!taken) s.unref();
  });
  const body = new Promise<string>((resolve, reject) => {
    req.on('response', (res) => {
      let s = '';
      res.on('data', (d: Buffer) => (s += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(s) : reject(new Error(`docker load: HTTP ${res.statusCode}: ${s.trim()}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  body.catch(() => undefined);
  const timer = setTimeout(() => w.drop(), WARM_IDLE_MS);
  timer.unref();
  const w: WarmLoad = {
    pack,
    body,
    take() {
      taken = true;
      clearTimeout(timer);
      socket?.ref();
    },
    drop() {
      clearTimeout(timer);
      if (warm.get(docker) === w) warm.delete(docker);
      req.destroy();
      pack.destroy();
    },
  };
  warm.set(docker, w);
  pack.pipe(req);
  pack.entry({ name: 'kiln-warm/', type: 'directory', mode: 0o755, mtime: new Date(0) });
}

/** the warm load, taken for one image (and no longer dropped when idle), if one is open */
function takeWarm(docker: Dockerode): WarmLoad | undefined {
  const w = warm.get(docker);
  if (!w) return undefined;
  warm.delete(docker);
  w.take();
  return w;
}

/** `rewarm`: another load follows (loads ahead): open its warm load now, while this one runs */
async function loadOnce(docker: Dockerode, layers: LayerRef[], skip: number, configBytes: Buffer, configName: string, tags: string[], rewarm = false): Promise<void> {
  const w = takeWarm(docker);
  if (rewarm) prewarmLoad(docker);
  if (!w) return check(await loadFresh(docker, layers, skip, configBytes, configName, tags));
  const writing = writeArchive(w.pack, layers, skip, configBytes, configName, tags).catch((e: Error) => {
    w.pack.destroy(e);
    throw e;
  });
  writing.catch(() => undefined);
  try {
    check(await w.body);
    await writing;
  } catch {
    await writing; // a layer that could not be read is the error to report
    // the early load died (engine restarted, its unpacking process gone): this image is loaded
    // afresh, and if the image itself is at fault that load says so
    check(await loadFresh(docker, layers, skip, configBytes, configName, tags));
  }
}

async function loadFresh(docker: Dockerode, layers: LayerRef[], skip: number, configBytes: Buffer, configName: string, tags: string[]): Promise<string> {
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
  return body;
}

function check(body: string): void {
  const err = /"error":"((?:[^"\\]|\\.)*)"/.exec(body);
  if (err) throw new Error(`docker load failed: ${JSON.parse(`"${err[1]}"`) as string}`);
}

/**
 * load `config` with `layers` (base first) under `tags`; returns the engine's image id. `skip`:
 * leading layers known to be in the engine besides the `inEngine` ones (loaded ahead).
 */
export async function loadImage(docker: Dockerode, layers: LayerRef[], config: object, tags: string[] = [], opts: { skip?: number; rewarm?: boolean; /** the caller found the image absent just now */ absent?: boolean } = {}): Promise<string> {
  const configBytes = Buffer.from(JSON.stringify(config));
  const hex = createHash('sha256').update(configBytes).digest('hex');
  const id = `sha256:${hex}`;
  if (!opts.absent && (await tagIfPresent(docker, id, tags))) return id;
  let skip = 0;
  while (skip < layers.length && layers[skip]!.inEngine) skip++;
  skip = Math.max(skip, Math.min(opts.skip ?? 0, layers.length));
  try {
    await loadOnce(docker, layers, skip, configBytes, `${hex}.json`, tags, opts.rewarm);
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
