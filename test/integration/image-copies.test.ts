// The runc worker's host copies of engine images (<root>/mounts): `kiln du` shows them on their
// own line, a copy stays while its image is in the engine, `kiln prune` removes the copy of an
// image that has left the engine — never one a live mount stands on — and the bytes it frees are
// in prune's total; builds on the images that stay are unaffected.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BUSYBOX, DOCKER_HOST, describeWith } from '../helpers/env.js';
import { copyKey } from '../../engine/worker/docker/rootfs-copies.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
const docker = new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, '') });
const canMount = process.getuid?.() === 0;

describeWith(['engine'], 'image copies: du shows them, prune removes those whose image is gone', () => {
  let root: string;
  let ctx: string;
  let tag: string;
  let imageId: string;
  const kiln = (args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, KILN_ROOT: root, DOCKER_HOST, KILN_WORKER: 'runc' }, encoding: 'utf8', cwd: ctx, timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };
  const du = () => JSON.parse(kiln(['du', '--format', 'json'])) as { imageCopies?: { count: number; size: number } };
  const copyDir = (id: string) => path.join(root, 'mounts', copyKey(id));

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-copies-'));
    ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-copies-ctx-'));
    tag = `kiln-copytest:${process.pid}`;
    // an image of its own, so removing it touches nothing else
    const c = await docker.createContainer({ Image: BUSYBOX, Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
    const [repoName, t] = tag.split(':');
    imageId = ((await c.commit({ repo: repoName, tag: t, changes: ['LABEL kiln.test=copies'] })) as { Id: string }).Id;
    await c.remove({ force: true });
  }, 60_000);
  afterAll(async () => {
    await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(ctx, { recursive: true, force: true });
  });

  it.skipIf(!canMount)('lists copies in du, keeps them while their image is there, and prune takes a gone image’s copy once nothing is mounted on it', async () => {
    fs.writeFileSync(path.join(ctx, 'own.Dockerfile'), `FROM ${tag}\nRUN echo own > /own\n`);
    fs.writeFileSync(path.join(ctx, 'base.Dockerfile'), `FROM ${BUSYBOX}\nRUN echo base > /base\n`);
    kiln(['build', '--progress', 'plain', '-f', 'own.Dockerfile', '.']);
    kiln(['build', '--progress', 'plain', '-f', 'base.Dockerfile', '.']);
    const own = copyDir(imageId);
    expect(fs.existsSync(path.join(own, 'bin/busybox')), 'the image unpacked for the RUN').toBe(true);
    expect(fs.readFileSync(`${own}.image`, 'utf8')).toBe(imageId);
    const before = du();
    expect(before.imageCopies?.count).toBe(2);
    expect(before.imageCopies!.size).toBeGreaterThan(100_000);
    expect(kiln(['du'])).toMatch(/Image copies:\t.+\(2 engine images unpacked for steps, kept while in the engine\)/);

    // the image is still in the engine: prune --all leaves both copies
    kiln(['prune', '--all']);
    expect(fs.existsSync(own)).toBe(true);
    expect(du().imageCopies?.count).toBe(2);

    // gone from the engine, but a mount stands on the copy: kept
    await docker.getImage(tag).remove({ force: true });
    const m = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-copies-mnt-'));
    for (const d of ['up', 'work', 'fs']) fs.mkdirSync(path.join(m, d));
    const mount = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${own},upperdir=${m}/up,workdir=${m}/work`, `${m}/fs`], { encoding: 'utf8' });
    expect(mount.status, mount.stderr).toBe(0);
    try {
      kiln(['prune', '--all']);
      expect(fs.existsSync(path.join(own, 'bin/busybox')), 'a mounted copy is not removed').toBe(true);
    } finally {
      spawnSync('umount', [`${m}/fs`]);
      fs.rmSync(m, { recursive: true, force: true });
    }

    // unmounted: the next prune takes it and counts what it freed; the base image's copy stays
    const size = before.imageCopies!.size / 2;
    const out = kiln(['prune', '--all', '--format', 'json']);
    expect(fs.existsSync(own)).toBe(false);
    expect(fs.existsSync(`${own}.image`)).toBe(false);
    expect((JSON.parse(out) as { reclaimed: number }).reclaimed).toBeGreaterThan(size / 2);
    expect(du().imageCopies?.count).toBe(1);
    const baseId = (await docker.getImage(BUSYBOX).inspect()).Id;
    expect(fs.existsSync(path.join(copyDir(baseId), 'bin/busybox'))).toBe(true);
    // and a build on the base still works, from its kept copy
    expect(kiln(['build', '--progress', 'plain', '-f', 'base.Dockerfile', '.'])).toBeDefined();
    expect(fs.readdirSync(path.join(root, 'mounts')).filter((n) => n.includes('.gone-') || n.includes('.tmp-'))).toEqual([]);
  }, 300_000);
});
