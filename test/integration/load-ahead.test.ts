// Loads ahead (worker/docker/load-ahead.ts, control/load-ahead.ts) on the real engine: a build
// whose steps take a while has most of its image in the engine before the export, which then
// loads only the last layers; the image is complete; the partial images are gone after the job,
// finished or cancelled. lineageOf picks exactly the exported stage's chain.
import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import Docker from 'dockerode';
import { createControlService, statusWithEnd, type ControlService } from '../../engine/control/service.js';
import { lineageOf } from '../../engine/control/load-ahead.js';
import { dockerfileToLLB } from '../../engine/frontend/dockerfile/index.js';
import type { ProgressEvent } from '../../engine/solver/types.js';
import type { SolveInput, SolveResponse } from '../../engine/control/api.js';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';

const docker = new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, '') });
let dir: string;
let svc: ControlService;
const tags: string[] = [];

async function partialsWith(diffIds: string[]): Promise<string[]> {
  const ids = (await docker.listImages({ all: true, filters: { label: ['kiln.partial=1'] } })).map((i) => i.Id);
  const mine: string[] = [];
  for (const id of ids) {
    const layers = (await docker.getImage(id).inspect().catch(() => undefined))?.RootFS?.Layers ?? [];
    // a partial image of this build holds a prefix of its layers beyond the base
    if (layers.length > 1 && layers.every((l, i) => diffIds[i] === l)) mine.push(id);
  }
  return mine;
}

async function solveWatched(id: string, input: SolveInput, outputs: { type: string; attrs: Record<string, string> }[], onEvent?: (e: ProgressEvent) => void): Promise<{ r: SolveResponse; events: ProgressEvent[] }> {
  const events: ProgressEvent[] = [];
  let ended!: () => void;
  const end = new Promise<void>((res) => (ended = res));
  const un = statusWithEnd(svc, id, (e) => (events.push(e), onEvent?.(e)), () => ended());
  const r = await svc.solve({ id, input, options: { outputs } });
  await end;
  un();
  return { r, events };
}

describeWith(['engine'], 'loads ahead of the export', () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-load-ahead-'));
    svc = await createControlService({ root: path.join(dir, 'state'), dockerHost: DOCKER_HOST });
  });
  afterAll(async () => {
    for (const t of tags) await docker.getImage(t).remove({ force: true }).catch(() => undefined);
    await svc?.prune({ all: true }).catch(() => undefined);
    await svc?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('has the first layers in the engine before the export, which loads the rest; the image is whole and no partial image stays', async () => {
    const salt = randomBytes(4).toString('hex');
    const dockerfile = [
      'FROM busybox:local',
      `RUN sleep 0.7 && echo 1-${salt} > /a`,
      'RUN sleep 0.7 && echo 2 > /b',
      'RUN sleep 0.7 && echo 3 > /c',
      'RUN echo 4 > /d',
      'CMD ["cat", "/a", "/b", "/c", "/d"]',
    ].join('\n');
    const tag = `kiln-ahead-test:${salt}`;
    tags.push(tag);
    const { r, events } = await solveWatched(`ahead-${salt}`, { kind: 'dockerfile', dockerfile, context: dir }, [{ type: 'docker', attrs: { name: tag } }]);
    expect(r.error?.message).toBeUndefined();
    expect(r.ok).toBe(true);
    const loading = events.flatMap((e) => (e.type === 'status' ? [/^loading (\d+) new of (\d+) layers$/.exec(e.id)] : [])).find(Boolean);
    expect(loading, 'the export reports what it loads').toBeTruthy();
    const [fresh, total] = [Number(loading![1]), Number(loading![2])];
    expect(total).toBe(5); // busybox's layer and four steps
    // the steps 0.7 s apart were loaded while the next ran: the export had at most the last two
    expect(fresh).toBeLessThanOrEqual(2);
    const img = await docker.getImage(tag).inspect();
    expect(img.RootFS.Layers).toHaveLength(5);
    const out = spawnSync('/usr/bin/docker', ['run', '--rm', '--network', 'none', tag], { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' });
    expect(out.stdout.split('\n').filter(Boolean)).toEqual([`1-${salt}`, '2', '3', '4']);
    expect(await partialsWith(img.RootFS.Layers!)).toEqual([]);
  });

  it('loads the image through loads opened early, and asks the engine about each image at most twice', async () => {
    // the engine traffic of this process, watched on its way out (it still reaches the real engine)
    const loads: string[] = [];
    const inspects: string[] = [];
    const request = http.request;
    http.request = function (this: unknown, ...args: Parameters<typeof http.request>) {
      const o = args[0] as { path?: string; method?: string };
      if (typeof o === 'object' && o.method === 'POST' && o.path?.startsWith('/images/load')) loads.push(o.path);
      if (typeof o === 'object' && (o.method ?? 'GET') === 'GET' && /^\/images\/[^?]+\/json/.test(o.path ?? '')) inspects.push(o.path!);
      return request.apply(this, args);
    } as typeof http.request;
    try {
      const salt = randomBytes(4).toString('hex');
      const tag = `kiln-ahead-test:early-${salt}`;
      tags.push(tag);
      const { r } = await solveWatched(`early-${salt}`, { kind: 'dockerfile', dockerfile: `FROM busybox:local AS a\nRUN echo ${salt} > /a\nFROM busybox:local\nCOPY --from=a /a /1\nCOPY --from=a /a /2\nCOPY --from=a /a /3\nCMD ["cat", "/3"]\n`, context: dir }, [{ type: 'docker', attrs: { name: tag } }]);
      expect(r.error?.message).toBeUndefined();
      const out = spawnSync('/usr/bin/docker', ['run', '--rm', '--network', 'none', tag], { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' });
      expect(out.stdout.trim()).toBe(salt);
      // opened when the RUN started (prewarmLoad's request) or as the load before it began (loads
      // ahead): never a plain load that pays for the engine's unpacker start at the export
      expect(loads.length).toBeGreaterThan(0);
      expect(loads.filter((l) => l !== '/images/load?quiet=1')).toEqual([]);
      // an image's layers are looked up once (an image id fixes them); resolving the base is one
      // round trip; no image is asked about more than twice (exists, layers) in the job
      const per = new Map<string, number>();
      for (const i of inspects) per.set(i, (per.get(i) ?? 0) + 1);
      expect([...per].filter(([, n]) => n > 2), inspects.join(' ')).toEqual([]);
    } finally {
      http.request = request;
    }
  });

  it('a cancelled build leaves no partial image (and no container)', async () => {
    const salt = randomBytes(4).toString('hex');
    const dockerfile = ['FROM busybox:local', `RUN sleep 0.5 && echo ${salt} > /a`, 'RUN sleep 0.5 && echo 2 > /b', 'RUN sleep 30'].join('\n');
    const id = `ahead-cancel-${salt}`;
    const before = new Set((await docker.listImages({ all: true, filters: { label: ['kiln.partial=1'] } })).map((i) => i.Id));
    const seen = new Set<string>();
    let cancelled = false;
    const { r } = await solveWatched(id, { kind: 'dockerfile', dockerfile, context: dir }, [{ type: 'docker', attrs: { name: `kiln-ahead-test:${salt}` } }], (e) => {
      if (!cancelled && e.type === 'vertex' && e.started && !e.completed && e.name.includes('sleep 30')) {
        cancelled = true;
        // the two finished steps are loaded ahead meanwhile: watch for their partial images, then cancel
        const poll = setInterval(() => {
          void docker.listImages({ all: true, filters: { label: ['kiln.partial=1'] } }).then((l) => l.forEach((i) => !before.has(i.Id) && seen.add(i.Id)));
        }, 100);
        setTimeout(() => {
          clearInterval(poll);
          void svc.cancel(id);
        }, 1500);
      }
    });
    expect(cancelled).toBe(true);
    expect(r.ok).toBe(false);
    expect(seen.size, 'a partial image existed while the build ran').toBeGreaterThan(0);
    const left = new Set((await docker.listImages({ all: true, filters: { label: ['kiln.partial=1'] } })).map((i) => i.Id));
    expect([...seen].filter((i) => left.has(i))).toEqual([]);
    const containers = await docker.listContainers({ all: true, filters: { label: ['kiln=1'] } });
    expect(containers.filter((c) => (c.Command ?? '').includes('sleep 30'))).toEqual([]);
  });

  it('lineageOf follows the exported stage’s root filesystems only', async () => {
    const busybox = async (ref: string) => ({ ref, imageId: 'sha256:' + '1'.repeat(64), config: { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers' as const, diff_ids: [] } } });
    const r = await dockerfileToLLB({
      dockerfile: ['FROM busybox AS other', 'RUN echo o > /o', 'FROM busybox', 'RUN echo 1 > /1', 'COPY --from=other /o /o', 'RUN echo 2 > /2'].join('\n'),
      resolveImage: busybox,
      platform: 'linux/amd64',
    });
    const def = r.definition;
    const name = (k: string) => def.vertices.find((v) => v.digest === k.slice(0, k.lastIndexOf(':')))!.metadata?.progressName ?? '';
    const lineage = [...lineageOf(def, def.output!)].map(name);
    // below the output (RUN echo 2): the COPY and the first RUN of the last stage; not the other stage, not the image source
    expect(lineage).toEqual([expect.stringContaining('COPY --from=other'), expect.stringContaining('RUN echo 1')]);
  });
});
