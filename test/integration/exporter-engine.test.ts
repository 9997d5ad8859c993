// Exporters on results the real engine built (the Docker worker's layers()), including an
// intermediate vertex, checked by docker run and skopeo.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../engine/engine.js';
import { image } from '../../engine/llb/builder.js';
import { exportResult, parseOutputSpec } from '../../engine/exporter/index.js';
import { BUSYBOX, DOCKER_HOST, describeWith } from '../helpers/env.js';

let engine: Engine;
let root: string;
const env = { ...process.env, DOCKER_HOST };
const docker = (...a: string[]): string => execFileSync('/usr/bin/docker', a, { env, encoding: 'utf8' });
const tag = `e${process.pid}${Date.now().toString(36)}`;

describeWith(['engine'], 'exporters on engine results', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kiln-expeng-'));
    engine = await createEngine({ root, dockerHost: DOCKER_HOST, parallelism: 2 });
  }, 60_000);
  afterAll(async () => {
    try { docker('rmi', '-f', `kiln-f-eng:${tag}`, `kiln-f-mid:${tag}`, `kiln-f-date:${tag}`, `kiln-f-date2:${tag}`); } catch { /* gone */ }
    await engine?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('loads the final and an intermediate vertex into docker; each has exactly its own files', async () => {
    const first = image(BUSYBOX).run({ shell: `echo one > /one.txt` }).root();
    const second = first.run({ shell: `echo two > /two.txt && rm /one.txt` }).root();
    const def = second.marshal();
    const built = await engine.build(def, { jobId: `x-${tag}` });
    const cfg = { architecture: 'amd64', os: 'linux', config: { Cmd: ['sh', '-c', 'cat /*.txt'], Labels: { kiln: '1' } } };
    const req = { result: built.result, imageConfig: cfg, worker: engine.worker, blobCacheDir: join(root, 'blobs') };
    await exportResult(parseOutputSpec(`type=docker,name=kiln-f-eng:${tag}`), req);
    expect(docker('run', '--rm', '--network', 'none', '--label', 'kiln=1', `kiln-f-eng:${tag}`)).toBe('two\n');
    const mid = await engine.build(def, { jobId: `y-${tag}`, target: first.marshal().output!.digest });
    await exportResult(parseOutputSpec(`type=docker,name=kiln-f-mid:${tag}`), { ...req, result: mid.result });
    expect(docker('run', '--rm', '--network', 'none', '--label', 'kiln=1', `kiln-f-mid:${tag}`)).toBe('one\n');
  }, 180_000);

  it('a rebuild from cache is the same image, dated when its steps ran; exporting it again only tags it', async () => {
    const before = Date.now();
    const s = image(BUSYBOX).run({ shell: `echo ${tag} > /dated.txt` }).root();
    const cfg = { architecture: 'amd64', os: 'linux', config: { Cmd: ['cat', '/dated.txt'] }, history: [{ created_by: 'RUN echo' }, { created_by: 'CMD cat', empty_layer: true }] };
    const built = await engine.build(s.marshal(), { jobId: `d1-${tag}` });
    const after = Date.now();
    const req = { result: built.result, imageConfig: cfg, worker: engine.worker, blobCacheDir: join(root, 'blobs') };
    const first = await exportResult(parseOutputSpec(`type=docker,name=kiln-f-date:${tag}`), req);
    const inspect = JSON.parse(docker('image', 'inspect', `kiln-f-date:${tag}`))[0] as { Id: string; Created: string };
    // docker shows the step's time (BuildKit does the same), not 0001-01-01 / "N/A"
    expect(Date.parse(inspect.Created)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(inspect.Created)).toBeLessThanOrEqual(after + 1000);
    const history = JSON.parse(docker('history', '--no-trunc', '--format', '{{json .}}', `kiln-f-date:${tag}`).trim().split('\n')[0]!) as { CreatedAt: string };
    expect(history.CreatedAt).not.toMatch(/N\/A|0001/);

    // the same graph again: every step cached, the same config, so the same image id
    // docker events counts in whole seconds: start the window a second after the first load
    await new Promise((r) => setTimeout(r, 1100));
    const since = Math.floor(Date.now() / 1000);
    const again = await engine.build(s.marshal(), { jobId: `d2-${tag}` });
    const second = await exportResult(parseOutputSpec(`type=docker,name=kiln-f-date:${tag},name=kiln-f-date2:${tag}`), { ...req, result: again.result });
    expect(second['containerimage.id']).toBe(first['containerimage.id']);
    expect(second['containerimage.id']).toBe(inspect.Id);
    expect(docker('image', 'inspect', '-f', '{{.Id}}', `kiln-f-date2:${tag}`).trim()).toBe(inspect.Id);
    // the engine saw a tag and no load (a load would unpack the archive again)
    const events = docker('events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.Attributes.name}}');
    expect(events).toContain(`tag kiln-f-date2:${tag}`);
    expect(events).not.toContain(`load ${inspect.Id}`);
  }, 180_000);
});
