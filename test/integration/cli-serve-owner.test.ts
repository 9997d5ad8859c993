// One engine per state root: while `kiln serve` runs on a root, `kiln build`/`du`/`history` on that
// root (no --addr) are its clients, as the docker CLI is dockerd's. Real serve, real engine.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';
import { serveUrl } from '../helpers/cli.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
let root: string;
let ctx: string;
let serve: ChildProcess | undefined;
let url: string;
const env = (extra: Record<string, string> = {}) => ({ ...process.env, KILN_ROOT: root, DOCKER_HOST, ...extra });

function kiln(args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: env(extra), cwd: ctx, timeout: 240_000, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}
const record = () => path.join(root, 'serve.json');

async function startServe(): Promise<string> {
  serve = spawn(process.execPath, [bin, 'serve'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  return serveUrl(serve);
}
async function stopServe(): Promise<void> {
  if (!serve || serve.exitCode !== null) return;
  const exited = new Promise((r) => serve!.once('exit', r));
  serve.kill('SIGTERM');
  await exited;
}
/** runs fn with the serve stopped (SIGSTOP): it accepts connections but never answers */
function frozen(fn: () => void): void {
  serve!.kill('SIGSTOP');
  try {
    fn();
  } finally {
    serve!.kill('SIGCONT');
  }
}
describeWith(['engine'], 'kiln serve owns its root', () => {
  beforeAll(async () => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/cli/main.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-owner-root-'));
    ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-owner-ctx-'));
    const salt = Math.random().toString(36).slice(2);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox:local\nRUN echo ${salt} > /made\n`);
    url = await startServe();
  }, 60_000);
  afterAll(async () => {
    await stopServe();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(ctx, { recursive: true, force: true });
  });

  it('serve records where it listens, readable only by its user, without the token', () => {
    const st = fs.statSync(record());
    expect(st.mode & 0o777).toBe(0o600);
    const rec = JSON.parse(fs.readFileSync(record(), 'utf8')) as { url: string; pid: number };
    expect(rec.pid).toBe(serve!.pid);
    expect(rec.url).toBe(new URL(url).origin + '/');
    expect(fs.readFileSync(record(), 'utf8')).not.toContain(new URL(url).searchParams.get('token')!);
  });

  it('kiln build and du on that root go through the serve; relative outputs land in the shell’s directory', () => {
    const r = kiln(['build', '--progress', 'rawjson', '-o', 'type=local,dest=out', '.']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(ctx, 'out/made'), 'utf8')).toMatch(/\w+/);
    const du = kiln(['du', '--format', 'json']);
    expect(du.code, du.stderr).toBe(0);
    expect((JSON.parse(du.stdout.toString()) as { records: unknown[] }).records.length).toBeGreaterThan(0);
    // the proof that they are its clients: with the serve frozen, they wait for it
    frozen(() => {
      const r = spawnSync(process.execPath, [bin, 'du'], { env: env(), cwd: ctx, timeout: 3000 });
      expect(r.signal).toBe('SIGTERM'); // killed by the timeout, still waiting
    });
  });

  it('KILN_EMBEDDED=1 and a tar to stdout build in the CLI’s own process (they finish with the serve frozen)', () => {
    frozen(() => {
      const own = kiln(['build', '--progress', 'plain', '.'], { KILN_EMBEDDED: '1' });
      expect(own.code, own.stderr).toBe(0);
      const tar = kiln(['build', '--progress', 'plain', '-o', 'type=tar,dest=-', '.']);
      expect(tar.code, tar.stderr).toBe(0);
      expect(tar.stdout.subarray(257, 262).toString()).toBe('ustar');
    });
  });

  it('a stopped serve takes its record with it, and a stale record is ignored', async () => {
    await stopServe();
    expect(fs.existsSync(record())).toBe(false);
    // a record left by a serve that was killed: its pid is gone
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    fs.writeFileSync(record(), JSON.stringify({ url, pid: Number(dead) }));
    const r = kiln(['build', '--progress', 'plain', '.']);
    expect(r.code, r.stderr).toBe(0);
  });
});
