// kiln bake against the real engine: a bake file with three targets (two depending on `base`
// through `target:base`) and a compose file, each built as one job.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
let root: string;
let dir: string;
let salt: string;

function kiln(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, KILN_ROOT: root, DOCKER_HOST }, encoding: 'utf8', cwd: dir, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const lines = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

/** executions per vertex name: distinct start times of non-cached completions across all jobs */
function executions(evs: Record<string, unknown>[]): Map<string, number> {
  const m = new Map<string, Set<unknown>>();
  for (const e of evs) if (e['type'] === 'vertex' && e['completed'] && !e['cached'] && !e['error']) (m.get(String(e['name'])) ?? m.set(String(e['name']), new Set()).get(String(e['name']))!).add(e['started']);
  return new Map([...m].map(([k, v]) => [k, v.size]));
}

describeWith(['engine'], 'kiln bake', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/cli/commands/bake.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bake-root-'));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bake-'));
    salt = Math.random().toString(36).slice(2);
    fs.writeFileSync(path.join(dir, 'base.Dockerfile'), `FROM busybox:local\nRUN echo base-${salt} > /base\n`);
    fs.writeFileSync(path.join(dir, 'a.Dockerfile'), `FROM base\nRUN cat /base && echo a-${salt} > /a\n`);
    fs.writeFileSync(path.join(dir, 'b.Dockerfile'), `FROM busybox:local\nCOPY --from=base /base /b\nRUN cat /b\n`);
    fs.writeFileSync(
      path.join(dir, 'docker-bake.hcl'),
      `variable "SALT" {\n  default = "${salt}"\n}\ngroup "default" {\n  targets = ["a", "b"]\n}\ntarget "base" {\n  dockerfile = "base.Dockerfile"\n}\ntarget "a" {\n  dockerfile = "a.Dockerfile"\n  contexts = { base = "target:base" }\n  tags = ["kiln-bake-a:\${SALT}"]\n}\ntarget "b" {\n  dockerfile = "b.Dockerfile"\n  contexts = { base = "target:base" }\n}\n`,
    );
    fs.mkdirSync(path.join(dir, 'svc'));
    fs.writeFileSync(path.join(dir, 'svc', 'Dockerfile'), `FROM busybox:local AS one\nARG WHO\nRUN echo "compose $WHO ${salt}"\nFROM one AS two\nRUN echo two\n`);
    fs.writeFileSync(path.join(dir, 'compose.yaml'), `services:\n  web:\n    build:\n      context: svc\n      target: one\n      args:\n        WHO: web\n  worker:\n    build:\n      context: ./svc\n      args: [WHO=worker]\n`);
  });
  afterAll(() => {
    spawnSync('/usr/bin/docker', ['rmi', '-f', `kiln-bake-a:${salt}`], { env: { ...process.env, DOCKER_HOST } });
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--print resolves targets, groups, inherits and variables', () => {
    const p = JSON.parse(kiln(['bake', '-f', 'docker-bake.hcl', '--print']).stdout) as { target: Record<string, { tags: string[]; contexts: Record<string, string> }> };
    expect(Object.keys(p.target).sort()).toEqual(['a', 'b', 'base']);
    expect(p.target['a']!.tags).toEqual([`kiln-bake-a:${salt}`]);
    expect(p.target['b']!.contexts['base']).toBe('target:base');
  });

  it('builds three targets in one job, the shared base executed once', () => {
    const r = kiln(['bake', '-f', 'docker-bake.hcl', '--progress', 'rawjson']);
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
    const evs = lines(r.stdout);
    expect(evs.filter((e) => e['type'] === 'result' && e['ok'] === true)).toHaveLength(3);
    const ex = executions(evs);
    const baseRun = [...ex.keys()].find((k) => k.includes(`echo base-${salt}`))!;
    expect(ex.get(baseRun)).toBe(1);
    const run = spawnSync('/usr/bin/docker', ['run', '--rm', '--network', 'none', `kiln-bake-a:${salt}`, 'cat', '/base', '/a'], { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' });
    expect(run.stdout).toBe(`base-${salt}\na-${salt}\n`);
  });

  it('builds the services of a compose file', () => {
    const r = kiln(['bake', '-f', 'compose.yaml', '--progress', 'rawjson']);
    expect(r.code).toBe(0);
    const evs = lines(r.stdout);
    expect(evs.filter((e) => e['type'] === 'result' && e['ok'] === true).map((e) => e['target']).sort()).toEqual(['web', 'worker']);
    const logs = evs.filter((e) => e['type'] === 'log').map((e) => e['data']).join('');
    expect(logs).toContain(`compose web ${salt}`);
    expect(logs).toContain(`compose worker ${salt}`);
    expect(logs).toContain('two');
  });
});
