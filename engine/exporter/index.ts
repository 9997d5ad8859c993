// Exporter entry point: `--output` spec → the right exporter. Every exporter takes any
// vertex's result (not only the final one) through the worker's layers().
import { createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import type { ExportRequest, ExportResponse } from './types.js';
import type { Compression } from './compress.js';
import { assembleImage, finalConfig, MT, type AssembledImage } from './image.js';
import { loadImage, prewarmLoad, tagIfPresent } from '../worker/docker/load.js';
import { LoadAhead } from '../worker/docker/load-ahead.js';
import { sha256 } from '../llb/digest.js';
import { writeDockerArchive, writeOciArchive } from './archive.js';
import { writeRootfsTar } from './rootfs.js';
import { writeLocal, writeZip } from './local.js';
import { pushImage } from '../registry/push.js';
import type { Credentials } from '../registry/credentials.js';
import { parseReference } from '../registry/reference.js';
import type { OutputSpec } from './spec.js';

export { parseOutputSpec, type OutputSpec } from './spec.js';
export { assembleImage } from './image.js';

function bool(v: string | undefined, dflt: boolean): boolean {
  if (v === undefined || v === '') return v === '' ? true : dflt;
  if (/^(1|true|yes)$/i.test(v)) return true;
  if (/^(0|false|no)$/i.test(v)) return false;
  throw new Error(`expected true or false, got ${JSON.stringify(v)}`);
}

function epochOf(attrs: Record<string, string>): number | undefined {
  const s = attrs['source-date-epoch'] ?? process.env.SOURCE_DATE_EPOCH;
  if (s === undefined || s === '') return undefined;
  if (!/^\d+$/.test(s)) throw new Error(`SOURCE_DATE_EPOCH must be an integer number of seconds, got ${JSON.stringify(s)}`);
  return Number(s);
}

function names(attrs: Record<string, string>): string[] {
  return (attrs.name ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * Credentials given with the output (`registry.username` + `registry.password`: what the editor's
 * export dialog sends) for the one registry the names push to. They win over the docker config
 * for that registry. They reach the registry client only: no message, progress event or response
 * here carries the password, and they are never written anywhere (BuildKit keeps such secrets in
 * the client session for the same reason).
 */
function explicitCredentials(a: Record<string, string>, tags: string[]): Credentials | undefined {
  const user = a['registry.username'];
  const pass = a['registry.password'];
  if (user === undefined && pass === undefined) return undefined;
  if (!user) throw new Error('registry.password was given without registry.username');
  if (pass === undefined) throw new Error(`registry.username ${JSON.stringify(user)} was given without registry.password`);
  // one password for several registries would hand it to hosts it was not typed for
  const hosts = [...new Set(tags.map((n) => parseReference(n).registry))];
  if (hosts.length > 1) throw new Error(`registry.username/registry.password apply to one registry, but the names push to ${hosts.join(', ')}; push to each registry in its own output`);
  return { username: user, password: pass };
}

async function destStream(dest: string, req: Omit<ExportRequest, 'attrs'>): Promise<{ out: Writable; done: () => Promise<void> }> {
  if (dest === '-') {
    if (!req.stdout) throw new Error('dest=- needs an output stream (only the CLI can write to stdout)');
    const pt = new PassThrough();
    const p = pipeline(pt, req.stdout, { end: false });
    return { out: pt, done: () => p };
  }
  const ws = createWriteStream(path.resolve(dest));
  const finished = new Promise<void>((r, j) => { ws.on('close', r); ws.on('error', j); });
  return { out: ws, done: () => finished };
}

async function image(spec: OutputSpec, req: Omit<ExportRequest, 'attrs'>, ociDefault: boolean): Promise<AssembledImage> {
  const a = spec.attrs;
  const layers = await req.worker.layers(req.result);
  const epoch = epochOf(a);
  return assembleImage(layers, req.imageConfig, {
    compression: (a.compression as Compression | undefined) ?? 'gzip',
    compressionLevel: a['compression-level'] !== undefined ? Number(a['compression-level']) : undefined,
    oci: bool(a['oci-mediatypes'], ociDefault),
    epoch,
    rewriteTimestamp: bool(a['rewrite-timestamp'], false),
    cacheDir: req.blobCacheDir ?? path.join(os.tmpdir(), 'kiln-blobs'),
    onProgress: req.onProgress,
  });
}

function dockerOf(req: Omit<ExportRequest, 'attrs'>): Promise<Dockerode> {
  if (req.docker) return Promise.resolve(req.docker);
  // the worker's own client: an early load (prewarmLoad) and loads ahead are kept per client
  const w = req.worker as unknown as { docker?: Dockerode };
  if (w.docker) return Promise.resolve(w.docker);
  return import('../worker/docker/connect.js').then((m) => m.dockerFromEnv().docker);
}

/**
 * type=docker into the engine: uncompressed layers (the engine would only decompress them) and
 * none of those it already holds, so loading a result costs its new layers only.
 */
async function loadIntoEngine(docker: Dockerode, req: Omit<ExportRequest, 'attrs'>, tags: string[], epoch: number | undefined): Promise<ExportResponse> {
  const layers = await req.worker.layers(req.result);
  const config = finalConfig(req.imageConfig, layers.map((l) => l.diffId), epoch, layers.map((l) => l.created));
  const configBytes = Buffer.from(JSON.stringify(config));
  const refs = tags.map((n) => (n.lastIndexOf(':') > n.lastIndexOf('/') ? n : `${n}:latest`));
  let imageId = sha256(configBytes);
  if (await tagIfPresent(docker, imageId, refs)) {
    req.onProgress?.({ id: `image ${imageId.slice(7, 19)} already in the engine${refs.length ? ': tagged' : ''}`, current: 0, total: 0 });
  } else {
    const ahead = (await req.loadAhead?.held(layers)) ?? 0;
    let skip = 0;
    while (skip < layers.length && layers[skip]!.inEngine) skip++;
    skip = Math.max(skip, ahead);
    const bytes = layers.slice(skip).reduce((n, l) => n + l.size, 0);
    const id = `loading ${layers.length - skip} new of ${layers.length} layers`;
    req.onProgress?.({ id, current: 0, total: bytes });
    imageId = await loadImage(docker, layers, config, refs, { skip, absent: true });
    req.onProgress?.({ id, current: bytes, total: bytes });
  }
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MT.dockerManifest,
    config: { mediaType: MT.dockerConfig, digest: imageId, size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: l.diffId, size: l.size })),
  }));
  return { 'containerimage.digest': sha256(manifest), 'containerimage.config.digest': imageId, 'containerimage.id': imageId, 'image.name': tags.join(',') };
}

/** whether `spec` loads into the engine (type=docker without dest) */
export function loadsIntoEngine(spec: OutputSpec): boolean {
  return spec.type === 'docker' && !spec.attrs.dest && !bool(spec.attrs['rewrite-timestamp'], false);
}

/**
 * Called while steps run, for a job that will load into the engine: opens that load now, so the
 * engine's unpacking process is up when the image is ready (worker/docker/load.ts prewarmLoad).
 */
export async function prewarmEngineLoad(req: Pick<ExportRequest, 'worker' | 'docker'>): Promise<void> {
  prewarmLoad(await dockerOf(req as Omit<ExportRequest, 'attrs'>));
}

/**
 * For a job that will load a result into the engine: loads the results offered (the exported
 * image's lineage, as its steps complete) ahead of the export. The service disposes of it.
 */
export async function createLoadAhead(req: Pick<ExportRequest, 'worker' | 'docker'>, platform: { os?: string; architecture?: string } = {}): Promise<LoadAhead> {
  return new LoadAhead(await dockerOf(req as Omit<ExportRequest, 'attrs'>), platform);
}

export async function exportResult(spec: OutputSpec, req: Omit<ExportRequest, 'attrs'>): Promise<ExportResponse> {
  const a = spec.attrs;
  const epoch = epochOf(a);
  const mtime = epoch ?? 0;
  switch (spec.type) {
    case 'docker': {
      const tags = names(a);
      if (loadsIntoEngine(spec)) return loadIntoEngine(await dockerOf(req), req, tags, epoch);
      const img = await image(spec, req, false);
      const res: ExportResponse = { 'containerimage.digest': img.manifestDesc.digest, 'containerimage.config.digest': img.configDesc.digest, 'image.name': tags.join(',') };
      if (a.dest) {
        const { out, done } = await destStream(a.dest, req);
        await writeDockerArchive(img, tags, out, mtime);
        await done();
        res.dest = a.dest;
        return res;
      }
      // load into the engine: POST /images/load with the docker-archive, which also applies RepoTags
      const docker = await dockerOf(req);
      const pt = new PassThrough();
      const writing = writeDockerArchive(img, tags, pt, mtime);
      const stream = await docker.loadImage(pt, { quiet: true } as object);
      const body = await new Promise<string>((r, j) => { let s = ''; stream.on('data', (d: Buffer) => { s += d.toString(); }); stream.on('end', () => r(s)); stream.on('error', j); });
      await writing;
      const err = /"error":"([^"]*)"/.exec(body);
      if (err) throw new Error(`docker load failed: ${err[1]}`);
      res['containerimage.id'] = img.configDesc.digest;
      return res;
    }
    case 'oci': {
      const img = await image(spec, req, true);
      const { out, done } = await destStream(a.dest!, req);
      await writeOciArchive(img, names(a), out, mtime);
      await done();
      return { 'containerimage.digest': img.manifestDesc.digest, 'containerimage.config.digest': img.configDesc.digest, dest: a.dest! };
    }
    case 'image':
    case 'registry': {
      const push = bool(a.push, spec.type === 'registry');
      // checked before the image is assembled, so a bad pair fails at once
      const credentials = push ? explicitCredentials(a, names(a)) : undefined;
      const img = await image(spec, req, false);
      const res: ExportResponse = { 'containerimage.digest': img.manifestDesc.digest, 'containerimage.config.digest': img.configDesc.digest, 'image.name': names(a).join(',') };
      if (push) {
        for (const n of names(a)) {
          await pushImage(img, n, {
            signal: req.signal, onProgress: req.onProgress,
            ...(credentials ? { credentials, credentialsFrom: 'the username and password given for this export' } : {}),
            insecure: a['registry.insecure'] !== undefined ? bool(a['registry.insecure'], false) : undefined,
            chunkSize: a['chunk-size'] ? Number(a['chunk-size']) : undefined,
          });
        }
        res.pushed = 'true';
      }
      return res;
    }
    case 'tar': {
      const layers = await req.worker.layers(req.result);
      const { out, done } = await destStream(a.dest!, req);
      await writeRootfsTar(layers, out);
      await done();
      return { dest: a.dest! };
    }
    case 'local': {
      await writeLocal(await req.worker.layers(req.result), a.dest!);
      return { dest: a.dest! };
    }
    case 'zip': {
      const { out, done } = await destStream(a.dest!, req);
      await writeZip(await req.worker.layers(req.result), out);
      await done();
      return { dest: a.dest! };
    }
  }
}
