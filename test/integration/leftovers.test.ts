// A killed build's leftovers, against the real engine: `kill -9` of a `kiln build` mid-step leaves
// its step container running in dockerd and maybe images it never recorded; the next engine on
// that root removes them — and nothing a record names, nothing of a live process, nothing of
// another root.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { loadImage } from '../../engine/worker/docker/load.js';
import { OWNER_LABEL, PARTIAL_LABEL, ROOT_LABEL, rootId } from '../../engine/worker/docker/owner.js';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';
import { rawEvents, stepStates } from '../helpers/cli.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
const docker = new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, '') });
let root: string;
let ctx: string;
let salt: string;
const made: string[] = [];
const env = () => ({ ...process.env, KILN_ROOT: root, DOCKER_HOST, KILN_WORKER: 'docker', KILN_EMBEDDED: '1' });

function kiln(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: env(), encoding: 'utf8', cwd: ctx, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** an image on busybox's layers with these labels (a distinct config, so a distinct id) */
async function fixture(labels: Record<string, string>): Promise<string> {
  const base = await docker.getImage('busybox:local').inspect();
  const layers = base.RootFS.Layers!.map((d) => ({ diffId: d, size: 0, inEngine: true, open: () => Promise.reject(new Error('base layer opened')) }));
  const id = await loadImage(docker, layers, { architecture: 'amd64', os: 'linux', config: { Labels: { ...labels, fixture: randomBytes(6).toString('hex') } }, rootfs: { type: 'layers', diff_ids: base.RootFS.Layers } });
  made.push(id);
  return id;
}

const present = (id: string) => docker.getImage(id).inspect().then(() => true, () => false);

describeWith(['engine'], 'a killed build’s leftovers are collected by the next engine on its root', () => {
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-leftovers-root-'));
    ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-leftovers-ctx-'));
    salt = randomBytes(4).toString('hex');
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox:local\nRUN echo kept-${salt} > /k\nRUN sleep 120 && echo never-${salt}\n`);
  });
  afterAll(async () => {
    for (const id of made) await docker.getImage(id).remove({ force: true }).catch(() => undefined);
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${ROOT_LABEL}=${rootId(root)}`] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    kiln(['prune', '--all']);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(ctx, { recursive: true, force: true });
  });

  it('removes the dead build’s container and unrecorded images, keeps recorded, live and foreign ones', async () => {
    const child: ChildProcess = spawn(process.execPath, [bin, 'build', '--progress', 'rawjson', '--network', 'none', '.'], { env: env(), cwd: ctx, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += String(d)));
    const mine = `${ROOT_LABEL}=${rootId(root)}`;
    // the sleeping step's container is up: kill the build outright, as `kill -9` or a crash would
    const deadline = Date.now() + 60_000;
    let running: Docker.ContainerInfo | undefined;
    while (!running && Date.now() < deadline) {
      const cs = await docker.listContainers({ filters: { label: [mine] } });
      running = cs.find((c) => c.Command.includes(`never-${salt}`));
      if (!running) await new Promise((r) => setTimeout(r, 200));
    }
    expect(running, `no step container appeared; output: ${out}`).toBeDefined();
    const owner = running!.Labels[OWNER_LABEL]!;
    expect(owner).toBe(`${os.hostname()}/${child.pid}`);
    expect(fs.readdirSync(path.join(root, 'procs'))).toContain(`${child.pid}@${os.hostname()}`);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect((await docker.getContainer(running!.Id).inspect()).State.Running, 'the container outlives its build').toBe(true);
    // what a crash leaves besides: an image it made and never recorded, a partial image of a
    // load ahead — and, not its to take: a live process's image, another root's image
    const unrecorded = await fixture({ kiln: '1', [ROOT_LABEL]: rootId(root), [OWNER_LABEL]: owner });
    const partial = await fixture({ kiln: '1', [PARTIAL_LABEL]: '1', [OWNER_LABEL]: owner });
    const live = await fixture({ kiln: '1', [ROOT_LABEL]: rootId(root), [OWNER_LABEL]: `${os.hostname()}/${process.pid}` });
    const foreign = await fixture({ kiln: '1', [ROOT_LABEL]: rootId(root + '-other'), [OWNER_LABEL]: owner });
    const otherHost = await fixture({ kiln: '1', [ROOT_LABEL]: rootId(root), [OWNER_LABEL]: `not-${os.hostname()}/${child.pid}` });
    // the step that finished before the kill was recorded, with an image the dead process made
    const du = JSON.parse(kiln(['du', '--format', 'json']).stdout) as { records: { description?: string }[] };
    expect(du.records.some((r) => r.description?.includes(`kept-${salt}`))).toBe(true);
    // that `kiln du` was the next engine on the root: it collected on its way
    await expect.poll(() => docker.getContainer(running!.Id).inspect().then(() => 'there', () => 'gone'), { timeout: 20_000 }).toBe('gone');
    expect(await present(unrecorded)).toBe(false);
    expect(await present(partial)).toBe(false);
    expect(await present(live)).toBe(true);
    expect(await present(foreign)).toBe(true);
    expect(await present(otherHost)).toBe(true);
    // the dead build's marker (which told the next engine to look) is gone with its leftovers;
    // engines that closed left none
    expect(fs.readdirSync(path.join(root, 'procs'))).toEqual([]);
    // the recorded step survived: a rebuild finds it in the cache
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox:local\nRUN echo kept-${salt} > /k\nRUN cat /k\n`);
    const again = kiln(['build', '--progress', 'rawjson', '--network', 'none', '.']);
    expect(again.code, again.stderr).toBe(0);
    const steps = stepStates(rawEvents(again.stdout));
    expect([...steps].find(([n]) => n.includes(`kept-${salt}`))?.[1]).toEqual({ cached: true, executed: false });
  }, 180_000);
});
