// `kiln` end to end against the real Docker Engine: node bin/kiln.js in a temp KILN_ROOT.
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
let ctx: string;
const env = () => ({ ...process.env, KILN_ROOT: root, DOCKER_HOST });

function kiln(args: string[], opts: { input?: string; cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: env(), encoding: 'utf8', cwd: opts.cwd ?? ctx, input: opts.input, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const events = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describeWith(['engine'], 'kiln CLI', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/cli/main.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-root-'));
    ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-ctx-'));
    const salt = Math.random().toString(36).slice(2);
    fs.writeFileSync(path.join(ctx, 'hello.txt'), `hello ${salt}\n`);
    fs.writeFileSync(
      path.join(ctx, 'Dockerfile'),
      `FROM busybox:local AS base\nARG MSG=none\nRUN echo "$MSG ${salt}" > /msg\nFROM base AS final\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt /msg\n`,
    );
    fs.writeFileSync(path.join(ctx, 'Fail.Dockerfile'), `FROM busybox:local\nRUN echo ok-${salt}\nRUN echo boom-${salt} && exit 3\n`);
  });
  afterAll(() => {
    spawnSync('/usr/bin/docker', ['rmi', '-f', `kiln-cli-test:${path.basename(ctx)}`.toLowerCase()], { env: env() });
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(ctx, { recursive: true, force: true });
  });

  it('--version and usage errors exit 0 and 2', () => {
    expect(kiln(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(kiln(['build', '--no-such-flag']).code).toBe(2);
    expect(kiln(['build', '--progress', 'fancy', '.']).code).toBe(2);
    expect(kiln(['build', '--build-arg', 'NOEQUALS_UNSET_VAR_X', '.']).code).toBe(2);
  });

  it('builds with --progress rawjson, --build-arg, --metadata-file and -t', () => {
    const tag = `kiln-cli-test:${path.basename(ctx)}`.toLowerCase();
    const meta = path.join(root, 'meta.json');
    const r = kiln(['build', '--progress', 'rawjson', '--build-arg', 'MSG=argval', '-t', tag, '--metadata-file', meta, '.']);
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
    const evs = events(r.stdout);
    const result = evs.find((e) => e['type'] === 'result')!;
    expect(result['ok']).toBe(true);
    const logs = evs.filter((e) => e['type'] === 'log').map((e) => e['data']).join('');
    expect(logs).toContain('argval');
    expect(evs.some((e) => e['type'] === 'vertex' && String(e['name']).includes('exporting to docker'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(meta, 'utf8'))['kiln.build.ref']).toBe(result['id']);
    const run = spawnSync('/usr/bin/docker', ['run', '--rm', '--network', 'none', tag, 'cat', '/msg'], { env: env(), encoding: 'utf8' });
    expect(run.stdout).toContain('argval');
    // a second identical build is served from the cache
    const again = events(kiln(['build', '--progress', 'rawjson', '--build-arg', 'MSG=argval', '.']).stdout);
    expect(again.some((e) => e['type'] === 'vertex' && e['cached'] === true)).toBe(true);
  });

  it('a failing step exits 1 with the Dockerfile excerpt and the output tail', () => {
    const r = kiln(['build', '--progress', 'plain', '-f', 'Fail.Dockerfile', '.']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/>>>\s+3 \| RUN echo boom/);
    expect(r.stderr).toMatch(/boom-/);
    expect(r.stderr).toMatch(/exit code: 3/);
    expect(r.stderr).toMatch(/#\d+ DONE \d+\.\d+s/);
  });

  it('history lists the builds and shows one with its vertices', () => {
    const list = JSON.parse(kiln(['history', 'ls', '--format', 'json']).stdout) as { id: string; status: string }[];
    expect(list.length).toBeGreaterThanOrEqual(3);
    expect(list.map((h) => h.status)).toContain('failed');
    const shown = JSON.parse(kiln(['history', 'show', list.at(-1)!.id, '--format', 'json']).stdout) as { vertices: unknown[] };
    expect(shown.vertices.length).toBeGreaterThan(0);
  });

  it('du reports records, prune frees what du reported, and a build after prune works', () => {
    const du = JSON.parse(kiln(['du', '--format', 'json']).stdout) as { total: number; records: unknown[] };
    expect(du.records.length).toBeGreaterThan(0);
    const pr = JSON.parse(kiln(['prune', '--all', '--format', 'json']).stdout) as { reclaimed: number; removed: unknown[] };
    expect(pr.removed.length).toBe(du.records.length);
    expect(pr.reclaimed).toBe(du.total);
    expect((JSON.parse(kiln(['du', '--format', 'json']).stdout) as { records: unknown[] }).records).toHaveLength(0);
    expect(kiln(['build', '--progress', 'plain', '.']).code).toBe(0);
  });

  it('--addr builds through a kiln serve started by the test', async () => {
    const serve = spawn(process.execPath, [bin, 'serve'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await serveUrl(serve);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
      const addr = new URL(url).origin;
      const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const c = spawn(process.execPath, [bin, 'build', '--addr', addr, '--progress', 'rawjson', '--build-arg', 'MSG=remote', '.'], { env: env(), cwd: ctx });
        let stdout = '';
        c.stdout.on('data', (d) => (stdout += String(d)));
        c.on('exit', (code) => resolve({ code, stdout }));
      });
      expect(r.code).toBe(0);
      const evs = events(r.stdout);
      expect(evs.filter((e) => e['type'] === 'log').map((e) => e['data']).join('')).toContain('remote');
      const bad = kiln(['info', '--addr', addr, '--token', 'wrong']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/unauthorized/);
    } finally {
      serve.kill('SIGTERM');
    }
  });
});
