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
    try { docker('rmi', '-f', `kiln-f-eng:${tag}`, `kiln-f-mid:${tag}`); } catch { /* gone */ }
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
});
