// kiln bake as ONE job against the real engine: three targets (two on `target:base`) share one
// job id, one history entry and one status stream, the base's RUN executes once and each target
// keeps its own result; docker-bake.json and a compose file (interpolation from .env, image: as
// the tag, service: contexts, list args, target, dockerfile) build end to end; bad files and
// unknown names exit 2 naming the file.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';
import { serveUrl } from '../helpers/cli.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
let root: string;
let dir: string;
let salt: string;
const images: string[] = [];

function kiln(args: string[], cwd = dir, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, KILN_ROOT: root, DOCKER_HOST, ...env }, encoding: 'utf8', cwd, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const lines = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const docker = (args: string[]) => spawnSync('/usr/bin/docker', args, { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' });
const write = (rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
};

describeWith(['engine'], 'kiln bake: one job', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/frontend/bake/compose.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bakejob-root-'));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bakejob-'));
    salt = Math.random().toString(36).slice(2);
  });
  afterAll(() => {
    if (images.length) docker(['rmi', '-f', ...images]);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('three targets, one on another through target:, run as one job: one id, one history entry, the base executed once', () => {
    write('hcl/base.Dockerfile', `FROM busybox:local\nRUN echo base-${salt} > /base\n`);
    write('hcl/a.Dockerfile', `FROM base\nRUN cat /base && echo a-${salt} > /a\n`);
    write('hcl/b.Dockerfile', `FROM busybox:local\nCOPY --from=base /base /b\nRUN echo b-${salt} >> /b\n`);
    write(
      'hcl/docker-bake.hcl',
      `variable "SALT" {\n  default = "none"\n}\ngroup "default" {\n  targets = ["a", "b"]\n}\ntarget "base" {\n  dockerfile = "base.Dockerfile"\n}\n` +
        `target "a" {\n  dockerfile = "a.Dockerfile"\n  contexts = { base = "target:base" }\n  tags = ["kiln-bakejob-a:\${SALT}"]\n}\n` +
        `target "b" {\n  dockerfile = "b.Dockerfile"\n  contexts = { base = "target:base" }\n  output = ["type=local,dest=out-b"]\n}\n`,
    );
    images.push(`kiln-bakejob-a:${salt}`);
    const before = JSON.parse(kiln(['history', 'ls', '--format', 'json']).stdout || '[]') as unknown[];
    // the variable's default is overridden by the environment
    const r = kiln(['bake', '--progress', 'rawjson'], path.join(dir, 'hcl'), { SALT: salt });
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
    const evs = lines(r.stdout);
    const results = evs.filter((e) => e['type'] === 'result');
    expect(results.map((e) => e['target'])).toEqual(['base', 'a', 'b']);
    expect(results.every((e) => e['ok'] === true)).toBe(true);
    // one job: every event and every result carries the same id
    const ids = new Set([...evs.filter((e) => e['jobId']).map((e) => e['jobId']), ...results.map((e) => e['id'])]);
    expect(ids.size).toBe(1);
    const [jobId] = [...ids] as string[];
    // each target has its own result: a exported an image, b a directory, base nothing
    expect((results[1]!['exports'] as unknown[]).length).toBe(1);
    expect((results[2]!['exports'] as unknown[]).length).toBe(1);
    expect(results[0]!['exports']).toEqual([]);
    expect(new Set(results.map((e) => e['output'])).size).toBe(3);
    // the shared base's RUN executed once
    const baseRuns = evs.filter((e) => e['type'] === 'vertex' && String(e['name']).includes(`echo base-${salt}`) && e['completed'] && !e['cached'] && !e['error']);
    expect(new Set(baseRuns.map((e) => e['started'])).size).toBe(1);
    // as in buildx, a step's name says which target it belongs to
    expect(String(baseRuns[0]!['name'])).toMatch(/^\[base 2\/2\] RUN echo base-/);
    expect(evs.some((e) => e['type'] === 'vertex' && /^\[a 2\/2\] RUN cat \/base/.test(String(e['name'])))).toBe(true);
    // history: one new entry, for all three targets
    const after = JSON.parse(kiln(['history', 'ls', '--format', 'json']).stdout) as { id: string; name: string; status: string }[];
    expect(after.length).toBe(before.length + 1);
    const entry = after.find((h) => h.id === jobId)!;
    expect(entry).toMatchObject({ name: 'bake base a b', status: 'completed' });
    const shown = JSON.parse(kiln(['history', 'show', jobId, '--format', 'json']).stdout) as { vertices: { name: string }[] };
    const names = shown.vertices.map((v) => v.name).join('\n');
    for (const s of [`echo base-${salt}`, `echo a-${salt}`, `echo b-${salt}`]) expect(names).toContain(s);
    // the text listing names the one job too
    const ls = kiln(['history', 'ls']).stdout;
    expect(ls).toContain('bake base a b');
    // artifacts
    const run = docker(['run', '--rm', '--network', 'none', `kiln-bakejob-a:${salt}`, 'cat', '/base', '/a']);
    expect(run.stdout).toBe(`base-${salt}\na-${salt}\n`);
    expect(fs.readFileSync(path.join(dir, 'hcl', 'out-b', 'b'), 'utf8')).toBe(`base-${salt}\nb-${salt}\n`);
  });

  it('docker-bake.json builds end to end, its variables, inherits and target: context applied', () => {
    write('json/Dockerfile', `FROM busybox:local AS one\nARG MSG\nRUN echo "$MSG" > /msg\nFROM one AS two\nRUN echo two >> /msg\n`);
    write('json/dep.Dockerfile', `FROM busybox:local\nRUN echo dep-${salt} > /dep\n`);
    write('json/use.Dockerfile', `FROM busybox:local\nCOPY --from=dep /dep /dep\n`);
    write(
      'json/docker-bake.json',
      JSON.stringify({
        variable: { WHO: { default: 'json' } },
        group: { default: { targets: ['app', 'use'] } },
        target: {
          common: { args: { MSG: 'common' }, target: 'one' },
          app: { inherits: ['common'], args: { MSG: `hello-\${WHO}-${salt}` }, output: ['type=local,dest=out-app'] },
          dep: { dockerfile: 'dep.Dockerfile' },
          use: { dockerfile: 'use.Dockerfile', contexts: { dep: 'target:dep' }, output: ['type=local,dest=out-use'] },
        },
      }),
    );
    const r = kiln(['bake', '--progress', 'rawjson'], path.join(dir, 'json'));
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).filter((e) => e['type'] === 'result' && e['ok'] === true).map((e) => e['target'])).toEqual(['app', 'dep', 'use']);
    // target=one from common: the second stage's line is not there
    expect(fs.readFileSync(path.join(dir, 'json', 'out-app', 'msg'), 'utf8')).toBe(`hello-json-${salt}\n`);
    expect(fs.readFileSync(path.join(dir, 'json', 'out-use', 'dep'), 'utf8')).toBe(`dep-${salt}\n`);
  });

  it('a compose file: .env interpolation, image: as the tag, service: context, list args, target and dockerfile', () => {
    write('compose/base/Dockerfile', `FROM busybox:local\nRUN echo svc-base-${salt} > /base\n`);
    write('compose/web/web.Dockerfile', `FROM busybox:local AS build\nARG WHO\nARG PRICE\nCOPY --from=base /base /base\nRUN echo "$WHO $PRICE" > /who\nFROM build AS final\nRUN echo final >> /who\n`);
    write('compose/.env', `TAG=${salt}\nWHO=from-dotenv\n`);
    write(
      'compose/compose.yaml',
      `services:\n  base:\n    build: ./base\n  web:\n    image: kiln-bakejob-web:\${TAG}\n    build:\n      context: web\n      dockerfile: web.Dockerfile\n      target: \${STAGE:-build}\n` +
        `      args:\n        - WHO=\${WHO}\n        - PRICE=$$5\n      additional_contexts:\n        base: service:base\n  db:\n    image: busybox:local\n`,
    );
    images.push(`kiln-bakejob-web:${salt}`);
    const r = kiln(['bake', '--progress', 'rawjson'], path.join(dir, 'compose'));
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
    const evs = lines(r.stdout);
    // db has no build: section, so it is no target; base comes first (web depends on it)
    expect(evs.filter((e) => e['type'] === 'result' && e['ok'] === true).map((e) => e['target'])).toEqual(['base', 'web']);
    expect(new Set(evs.filter((e) => e['jobId']).map((e) => e['jobId'])).size).toBe(1);
    const run = docker(['run', '--rm', '--network', 'none', `kiln-bakejob-web:${salt}`, 'cat', '/base', '/who']);
    // $$ is a literal $, target=build leaves "final" out
    expect(run.stdout).toBe(`svc-base-${salt}\nfrom-dotenv $5\n`);
  });

  it('a failing target fails the job (exit 1) and its result carries the error; the message names the target', () => {
    write('fail/ok.Dockerfile', `FROM busybox:local\nRUN echo fine-${salt} > /ok\n`);
    write('fail/bad.Dockerfile', `FROM dep\nRUN echo broken-${salt} && exit 3\n`);
    write('fail/docker-bake.hcl', `target "ok" {\n  dockerfile = "ok.Dockerfile"\n}\ntarget "bad" {\n  dockerfile = "bad.Dockerfile"\n  contexts = { dep = "target:ok" }\n}\n`);
    const r = kiln(['bake', 'bad', '--progress', 'rawjson'], path.join(dir, 'fail'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/target bad: ERROR: \[bad 2\/2\] RUN echo broken-/);
    const results = lines(r.stdout).filter((e) => e['type'] === 'result');
    expect(results.map((e) => [e['target'], e['ok']])).toEqual([['ok', false], ['bad', false]]);
    expect((results[1]!['error'] as { exitCode?: number }).exitCode).toBe(3);
    expect(results[0]!['error']).toBeUndefined();
    const hist = JSON.parse(kiln(['history', 'ls', '--format', 'json']).stdout) as { name: string; status: string }[];
    expect(hist.filter((h) => h.name === 'bake ok bad').map((h) => h.status)).toEqual(['failed']);
  });

  it('a failed export is reported against the target whose output it was, even when targets share the result', () => {
    write('export/Dockerfile', `FROM busybox:local\nRUN echo same-${salt} > /same\n`);
    write('export/blocker', 'a file, so no directory can be made under it\n');
    write('export/docker-bake.hcl', `target "one" {\n  output = ["type=local,dest=out-one"]\n}\ntarget "two" {\n  output = ["type=local,dest=blocker/out"]\n}\n`);
    const r = kiln(['bake', 'one', 'two', '--progress', 'rawjson'], path.join(dir, 'export'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/target two: ERROR: .*blocker\/out/);
    const results = lines(r.stdout).filter((e) => e['type'] === 'result');
    // one vertex, two targets: the error is two's
    expect(results[0]!['output']).toBe(results[1]!['output']);
    expect(results.map((e) => [e['target'], e['error'] !== undefined])).toEqual([['one', false], ['two', true]]);
  });

  it('through kiln serve (--addr), a failing target stops its siblings: none runs on after the job ends', async () => {
    const serve = spawn(process.execPath, [bin, 'serve'], { env: { ...process.env, KILN_ROOT: root, DOCKER_HOST }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await serveUrl(serve);
      const addr = new URL(url).origin;
      const token = new URL(url).searchParams.get('token')!;
      write('cancel/slow.Dockerfile', `FROM busybox:local\nRUN sleep 120 && echo slow-${salt}\n`);
      write('cancel/bad.Dockerfile', `FROM busybox:local\nRUN echo bad-${salt} && exit 5\n`);
      write('cancel/docker-bake.hcl', `target "slow" {\n  dockerfile = "slow.Dockerfile"\n}\ntarget "bad" {\n  dockerfile = "bad.Dockerfile"\n}\n`);
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const c = spawn(process.execPath, [bin, 'bake', 'slow', 'bad', '--addr', addr, '--token', token, '--progress', 'plain'], { env: { ...process.env, KILN_ROOT: root, DOCKER_HOST }, cwd: path.join(dir, 'cancel') });
        let stderr = '';
        c.stderr.on('data', (d) => (stderr += String(d)));
        c.on('exit', (code) => resolve({ code, stderr }));
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/target bad: ERROR: \[bad 2\/2\] RUN echo bad-/);
      // the slow sibling's RUN was stopped with the job, not left running in the server
      const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
      expect(ps).not.toContain(`echo slow-${salt}`);
      const hist = JSON.parse(kiln(['history', 'ls', '--format', 'json', '--addr', addr, '--token', token]).stdout) as { name: string; status: string }[];
      expect(hist.filter((h) => h.name === 'bake slow bad').map((h) => h.status)).toEqual(['failed']);
    } finally {
      serve.kill('SIGTERM');
    }
  });

  it('an unknown target or a bad file exits 2 naming the file (and line)', () => {
    write('bad/docker-bake.hcl', `target "a" {\n}\n`);
    const unknown = kiln(['bake', 'nosuch'], path.join(dir, 'bad'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/docker-bake\.hcl: no target or group named "nosuch"; targets: a/);
    write('bad/broken.hcl', `target "a" {\n  tags = [\n}\n`);
    const hcl = kiln(['bake', '-f', 'broken.hcl'], path.join(dir, 'bad'));
    expect(hcl.code).toBe(2);
    expect(hcl.stderr).toMatch(/broken\.hcl:3:1: /);
    write('bad/compose.yml', `services:\n  web:\n    build: .\n   image: x\n`);
    const yml = kiln(['bake', '-f', 'compose.yml'], path.join(dir, 'bad'));
    expect(yml.code).toBe(2);
    expect(yml.stderr).toMatch(/compose\.yml:4:\d+: /);
    // nothing ran: no history entries for the failed invocations
    expect(kiln(['history', 'ls', '--format', 'json']).stdout).not.toContain('nosuch');
  });
});
