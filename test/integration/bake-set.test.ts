// kiln bake --set (buildx's overrides) and kiln bake --addr (a kiln serve started by the test),
// end to end against the real engine through bin/kiln.js.
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
const env = () => ({ ...process.env, KILN_ROOT: root, DOCKER_HOST });

function kiln(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: env(), encoding: 'utf8', cwd: dir, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function kilnAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [bin, ...args], { env: env(), cwd: dir });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += String(d)));
    c.stderr.on('data', (d) => (stderr += String(d)));
    c.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
const lines = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const logs = (evs: Record<string, unknown>[]) => evs.filter((e) => e['type'] === 'log').map((e) => e['data']).join('');

type Printed = { target: Record<string, { context: string; dockerfile: string; args: Record<string, string>; tags: string[]; target?: string; contexts: Record<string, string>; output: string[]; platforms?: string[]; 'no-cache'?: boolean }> };

describeWith(['engine'], 'kiln bake --set and --addr', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/frontend/bake/overrides.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bakeset-root-'));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bakeset-'));
    salt = Math.random().toString(36).slice(2);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM busybox:local AS one\nARG X=file\nRUN echo "x=$X ${salt}" > /x && cat /x\nFROM one AS two\nRUN echo "two ${salt}" >> /x\n`);
    fs.writeFileSync(path.join(dir, 'base.Dockerfile'), `FROM busybox:local\nRUN echo base-${salt} > /base\n`);
    fs.writeFileSync(path.join(dir, 'uses.Dockerfile'), `FROM busybox:local\nCOPY --from=dep /base /b\nRUN cat /b\n`);
    fs.mkdirSync(path.join(dir, 'alt'));
    fs.writeFileSync(path.join(dir, 'alt', 'Dockerfile'), `FROM busybox:local\nCOPY note.txt /note\nRUN cat /note\n`);
    fs.writeFileSync(path.join(dir, 'alt', 'note.txt'), `alt-context ${salt}\n`);
    fs.writeFileSync(
      path.join(dir, 'docker-bake.hcl'),
      `group "default" {\n  targets = ["app"]\n}\ntarget "app" {\n  args = { X = "fromfile" }\n}\ntarget "base" {\n  dockerfile = "base.Dockerfile"\n}\ntarget "uses" {\n  dockerfile = "uses.Dockerfile"\n  contexts = { dep = "docker-image://busybox:local" }\n}\ntarget "alt" {\n}\n`,
    );
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--print shows every --set override, repeated list keys accumulating', () => {
    const r = kiln([
      'bake', '--print', 'app', 'uses', 'alt',
      '--set', 'app.args.X=cli', '--set', '*.tags=all', '--set', 'app.tags=one', '--set', 'app.tags=two',
      '--set', 'app.target=one', '--set', 'app.no-cache=true', '--set', 'app.platform=linux/amd64',
      '--set', 'app.output=type=local,dest=out', '--set', 'uses.contexts.dep=target:base',
      '--set', 'alt.context=alt', '--set', 'alt.dockerfile=Dockerfile',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout) as Printed;
    const app = p.target['app']!;
    expect(app.args).toEqual({ X: 'cli' });
    expect(app.tags).toEqual(['one', 'two']);
    expect(app.target).toBe('one');
    expect(app['no-cache']).toBe(true);
    expect(app.platforms).toEqual(['linux/amd64']);
    expect(app.output).toEqual(['type=local,dest=out']);
    expect(p.target['uses']!.tags).toEqual(['all']);
    expect(p.target['uses']!.contexts['dep']).toBe('target:base');
    // the override's target: context pulls base into the job
    expect(Object.keys(p.target).sort()).toEqual(['alt', 'app', 'base', 'uses']);
    // buildx prints the context relative to the working directory, the dockerfile relative to it
    expect(p.target['alt']!.context).toBe('alt');
    expect(p.target['alt']!.dockerfile).toBe('Dockerfile');
  });

  it('a bad --set exits 2 naming the flag', () => {
    const cases: [string, RegExp][] = [
      ['app.platform=linux/arm64', /--set app\.platform=linux\/arm64: platform linux\/arm64 is not supported/],
      ['app.bogus=1', /--set app\.bogus=1: unknown key "bogus"/],
      ['nosuch.tags=x', /--set nosuch\.tags=x: no target matches "nosuch"/],
      ['app.args=x', /--set app\.args=x: args needs a name/],
      ['noequals', /--set noequals: expected TARGET\.KEY=VALUE/],
      ['app.no-cache=maybe', /--set app\.no-cache=maybe: no-cache is true or false/],
    ];
    for (const [set, re] of cases) {
      const r = kiln(['bake', '--print', '--set', set]);
      expect(r.code, set).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  });

  it('builds with args, target, output, context, dockerfile and contexts overridden', () => {
    const out = path.join(dir, 'out-app');
    const r = kiln([
      'bake', 'app', 'uses', 'alt', '--progress', 'rawjson',
      '--set', `app.args.X=cli-${salt}`, '--set', 'app.target=one', '--set', `app.output=type=local,dest=${out}`,
      '--set', 'uses.contexts.dep=target:base', '--set', 'alt.context=alt', '--set', 'alt.dockerfile=Dockerfile',
    ]);
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
    const evs = lines(r.stdout);
    expect(evs.filter((e) => e['type'] === 'result' && e['ok'] === true).map((e) => e['target']).sort()).toEqual(['alt', 'app', 'base', 'uses']);
    const text = logs(evs);
    expect(text).toContain(`x=cli-${salt} ${salt}`);
    expect(text).toContain(`base-${salt}`);
    expect(text).toContain(`alt-context ${salt}`);
    // target=one: the second stage's line is not in the exported rootfs
    expect(fs.readFileSync(path.join(out, 'x'), 'utf8')).toBe(`x=cli-${salt} ${salt}\n`);
  });

  it('*.no-cache=true re-executes what the previous bake cached', () => {
    const first = lines(kiln(['bake', 'app', '--progress', 'rawjson']).stdout);
    expect(first.some((e) => e['type'] === 'result' && e['ok'] === true)).toBe(true);
    const cachedAgain = lines(kiln(['bake', 'app', '--progress', 'rawjson']).stdout);
    // the output vertex: when it is a cache hit the solver reports it alone
    const runName = (e: Record<string, unknown>) => e['type'] === 'vertex' && String(e['name']).includes(`echo "two ${salt}"`);
    expect(cachedAgain.some((e) => runName(e) && e['cached'] === true)).toBe(true);
    const fresh = lines(kiln(['bake', 'app', '--progress', 'rawjson', '--set', '*.no-cache=true']).stdout);
    expect(fresh.some((e) => e['type'] === 'result' && e['ok'] === true)).toBe(true);
    expect(fresh.some((e) => runName(e) && e['completed'])).toBe(true);
    expect(fresh.some((e) => runName(e) && e['cached'] === true)).toBe(false);
  });

  it('--addr bakes through a kiln serve: all targets at once, the shared base executed once', async () => {
    const serve = spawn(process.execPath, [bin, 'serve'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await serveUrl(serve);
      const addr = new URL(url).origin;
      const token = new URL(url).searchParams.get('token')!;
      const s2 = Math.random().toString(36).slice(2);
      // two targets depending on one base that no earlier test built
      fs.writeFileSync(path.join(dir, 'rbase.Dockerfile'), `FROM busybox:local\nRUN echo rbase-${s2} > /base\n`);
      fs.writeFileSync(path.join(dir, 'r1.Dockerfile'), `FROM dep\nRUN cat /base && echo r1-${s2}\n`);
      fs.writeFileSync(path.join(dir, 'r2.Dockerfile'), `FROM busybox:local\nCOPY --from=dep /base /b\nRUN cat /b && echo r2-${s2}\n`);
      fs.writeFileSync(
        path.join(dir, 'remote.hcl'),
        `target "rbase" {\n  dockerfile = "rbase.Dockerfile"\n}\ntarget "r1" {\n  dockerfile = "r1.Dockerfile"\n  contexts = { dep = "target:rbase" }\n}\ntarget "r2" {\n  dockerfile = "r2.Dockerfile"\n  contexts = { dep = "target:rbase" }\n}\n`,
      );
      const r = await kilnAsync(['bake', '-f', 'remote.hcl', 'r1', 'r2', '--addr', addr, '--token', token, '--progress', 'rawjson']);
      expect(r.stderr).not.toMatch(/ERROR/);
      expect(r.code).toBe(0);
      const evs = lines(r.stdout);
      expect(evs.filter((e) => e['type'] === 'result' && e['ok'] === true).map((e) => e['target']).sort()).toEqual(['r1', 'r2', 'rbase']);
      const text = logs(evs);
      expect(text).toContain(`r1-${s2}`);
      expect(text).toContain(`r2-${s2}`);
      // three jobs reached the base's RUN; the server's solver executed it once
      const baseRuns = evs.filter((e) => e['type'] === 'vertex' && String(e['name']).includes(`echo rbase-${s2}`) && e['completed'] && !e['cached']);
      expect(new Set(baseRuns.map((e) => e['started'])).size).toBe(1);
      // the bake ran in the server as one job: its history lists one entry for the three targets
      const hist = JSON.parse(kiln(['history', 'ls', '--format', 'json', '--addr', addr, '--token', token]).stdout) as { name: string }[];
      expect(hist.map((h) => h.name).filter((n) => n.includes('r1'))).toEqual(['bake rbase r1 r2']);
    } finally {
      serve.kill('SIGTERM');
    }
  });
});
