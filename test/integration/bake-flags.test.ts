// kiln bake's buildx shorthands and listing, end to end through bin/kiln.js on the real engine and
// the registry at 127.0.0.1:5000: --load puts every target's image in the engine under its tags,
// --push sends them to the registry, --no-cache runs every step again, --metadata-file writes one
// entry per target, --list targets|variables prints buildx's tables, and a matrix target builds
// every variant in one job.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWith, DOCKER_HOST, REGISTRY } from '../helpers/env.js';
import { rawEvents, stepStates } from '../helpers/cli.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
let root: string;
let dir: string;
let salt: string;

function kiln(args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, KILN_ROOT: root, KILN_EMBEDDED: '1', DOCKER_HOST, ...extra }, encoding: 'utf8', cwd: dir, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const docker = (...args: string[]) => spawnSync('/usr/bin/docker', args, { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' });

describeWith(['engine', 'registry'], 'kiln bake --load, --push, --no-cache, --metadata-file, --list, matrix', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/frontend/bake/read.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bakeflags-root-'));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bakeflags-'));
    salt = Math.random().toString(36).slice(2);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM busybox:local\nARG WHO=nobody\nRUN echo "hello $WHO ${salt}" > /hello\n`);
    fs.writeFileSync(
      path.join(dir, 'docker-bake.hcl'),
      [
        `variable "REPO" {\n  default = "kiln-bakeflags-${salt}"\n  description = "where images go"\n}`,
        `variable "WHO" {\n  default = "world"\n}`,
        `group "default" {\n  targets = ["a", "b"]\n  description = "both"\n}`,
        `target "a" {\n  description = "the first"\n  args = { WHO = "a-\${WHO}" }\n  tags = ["\${REPO}:a"]\n}`,
        `target "b" {\n  args = { WHO = "b" }\n  tags = ["\${REPO}:b"]\n}`,
        `target "pushed" {\n  args = { WHO = "pushed" }\n  tags = ["${REGISTRY}/kiln-bakeflags-${salt}:pushed"]\n}`,
        `target "m" {\n  name = "m-\${who}"\n  matrix = {\n    who = ["x", "y"]\n  }\n  args = { WHO = who }\n  tags = ["\${REPO}:m-\${who}"]\n}`,
      ].join('\n') + '\n',
    );
  });
  afterAll(() => {
    docker('rmi', '-f', ...['a', 'b', 'm-x', 'm-y'].map((t) => `kiln-bakeflags-${salt}:${t}`));
    kiln(['prune', '--all']);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--list targets and --list variables print buildx\'s tables; a bad --list is a usage error', () => {
    const t = kiln(['bake', '--list', 'targets']);
    expect(t.code).toBe(0);
    const rows = t.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^TARGET\s+DESCRIPTION$/);
    expect(rows.slice(1).map((r) => r.split(/\s{2,}/)[0])).toEqual(['a', 'b', 'default', 'm', 'm-x', 'm-y', 'pushed']);
    expect(rows.find((r) => r.startsWith('a '))).toMatch(/^a\s+the first$/);
    expect(rows.find((r) => r.startsWith('default '))).toMatch(/^default\s+both$/);
    expect(rows.find((r) => r.startsWith('m '))).toMatch(/^m\s+m-x m-y$/);

    const v = kiln(['bake', '--list', 'variables'], { WHO: 'env' });
    expect(v.code).toBe(0);
    const vrows = v.stdout.trimEnd().split('\n');
    expect(vrows[0]).toMatch(/^VARIABLE\s+TYPE\s+VALUE\s+DESCRIPTION$/);
    expect(vrows[1]).toMatch(new RegExp(`^REPO\\s+string\\s+kiln-bakeflags-${salt}\\s+where images go$`));
    expect(vrows[2]).toMatch(/^WHO\s+string\s+env$/);

    const bad = kiln(['bake', '--list', 'everything']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--list must be targets or variables, not "everything"/);
  });

  it('--load loads every target under its tags (without it nothing reaches the engine); --metadata-file has an entry per target', () => {
    expect(docker('image', 'inspect', `kiln-bakeflags-${salt}:a`).status).not.toBe(0);
    const printed = JSON.parse(kiln(['bake', '--print', '--load']).stdout) as { target: Record<string, { output?: string[] }> };
    expect(printed.target['a']!.output).toEqual(['type=docker']);

    const meta = path.join(dir, 'meta.json');
    const r = kiln(['bake', '--load', '--progress', 'plain', '--metadata-file', meta]);
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
    for (const t of ['a', 'b']) {
      const out = docker('run', '--rm', '--network', 'none', `kiln-bakeflags-${salt}:${t}`, 'cat', '/hello');
      expect(out.stdout).toBe(`hello ${t === 'a' ? 'a-world' : 'b'} ${salt}\n`);
    }
    const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as Record<string, Record<string, string>>;
    expect(Object.keys(m).sort()).toEqual(['a', 'b']);
    const id = docker('image', 'inspect', '--format', '{{.Id}}', `kiln-bakeflags-${salt}:a`).stdout.trim();
    expect(m['a']!['containerimage.config.digest']).toBe(id);
    expect(m['a']!['image.name']).toBe(`kiln-bakeflags-${salt}:a`);
    expect(m['a']!['kiln.build.ref']).toBe(m['b']!['kiln.build.ref']);
  });

  it('--no-cache runs every step again; without it the same bake is all cached', () => {
    const cached = kiln(['bake', 'a', '--progress', 'rawjson']);
    expect(cached.code).toBe(0);
    const c = [...stepStates(rawEvents(cached.stdout)).values()];
    expect(c.length).toBeGreaterThan(0);
    expect(c.every((s) => s.cached && !s.executed)).toBe(true);
    const fresh = kiln(['bake', 'a', '--no-cache', '--progress', 'rawjson']);
    expect(fresh.code).toBe(0);
    const f = [...stepStates(rawEvents(fresh.stdout)).values()];
    expect(f.length).toBe(c.length);
    expect(f.every((s) => s.executed && !s.cached)).toBe(true);
  });

  it('--push sends the target to its registry tag; the metadata names the pushed digest', async () => {
    const meta = path.join(dir, 'meta-push.json');
    const r = kiln(['bake', 'pushed', '--push', '--progress', 'plain', '--metadata-file', meta]);
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
    const res = await fetch(`http://${REGISTRY}/v2/kiln-bakeflags-${salt}/manifests/pushed`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
    expect(res.status).toBe(200);
    const digest = res.headers.get('docker-content-digest');
    const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as Record<string, Record<string, string>>;
    expect(m['pushed']!['containerimage.digest']).toBe(digest);
  });

  it('a matrix target builds every variant in one job, each with its own args and tag', () => {
    const r = kiln(['bake', 'm', '--load', '--progress', 'rawjson']);
    expect(r.code).toBe(0);
    const results = rawEvents(r.stdout).filter((e) => e['type'] === 'result');
    expect(results.map((x) => x['target']).sort()).toEqual(['m-x', 'm-y']);
    expect(new Set(results.map((x) => x['id'])).size).toBe(1);
    for (const w of ['x', 'y']) expect(docker('run', '--rm', '--network', 'none', `kiln-bakeflags-${salt}:m-${w}`, 'cat', '/hello').stdout).toBe(`hello ${w} ${salt}\n`);
  });
});
