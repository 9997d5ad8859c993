// `kiln login` against the basic-auth registry (127.0.0.1:5001): it checks the credentials, writes
// a docker config (a temp DOCKER_CONFIG), and a following push to that registry works; a wrong
// password exits 1 with a clear message and stores nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AUTH_REGISTRY, describeWith, DOCKER_HOST } from '../helpers/env.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
let root: string;
let ctx: string;
let salt: string;

function kiln(args: string[], dockerConfig: string, input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, KILN_ROOT: root, DOCKER_HOST, DOCKER_CONFIG: dockerConfig }, encoding: 'utf8', cwd: ctx, input, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describeWith(['engine', 'registry'], 'kiln login', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/cli/login.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-login-root-'));
    ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-login-ctx-'));
    salt = Math.random().toString(36).slice(2);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox:local\nRUN echo ${salt} > /salt\n`);
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(ctx, { recursive: true, force: true });
  });

  it('a wrong password exits 1, says so, and writes no config', () => {
    const cfg = path.join(root, 'docker-wrong');
    const r = kiln(['login', AUTH_REGISTRY, '-u', 'kiln', '--password-stdin'], cfg, 'not-the-password\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`login to ${AUTH_REGISTRY} failed: unauthorized: incorrect username or password`);
    expect(r.stdout).not.toContain('Login Succeeded');
    expect(fs.existsSync(path.join(cfg, 'config.json'))).toBe(false);
  });

  it('without a login the push is refused; after --password-stdin it works', () => {
    const cfg = path.join(root, 'docker');
    const ref = `${AUTH_REGISTRY}/kiln-login-test:${salt}`;
    const before = kiln(['build', '--progress', 'plain', '-o', `type=registry,name=${ref}`, '.'], cfg);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/kiln login 127\.0\.0\.1:5001/);

    const r = kiln(['login', AUTH_REGISTRY, '-u', 'kiln', '--password-stdin'], cfg, 'kiln\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Login Succeeded\n');
    const file = path.join(cfg, 'config.json');
    const written = JSON.parse(fs.readFileSync(file, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(written.auths[AUTH_REGISTRY]!.auth, 'base64').toString()).toBe('kiln:kiln');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const push = kiln(['build', '--progress', 'plain', '-o', `type=registry,name=${ref}`, '.'], cfg);
    expect(push.stderr).not.toMatch(/ERROR/);
    expect(push.code).toBe(0);
    // an independent client, with the same credentials, finds the pushed image
    const inspect = spawnSync('skopeo', ['inspect', '--tls-verify=false', '--creds', 'kiln:kiln', `docker://${ref}`], { encoding: 'utf8' });
    expect(inspect.status).toBe(0);
    expect((JSON.parse(inspect.stdout) as { Layers: string[] }).Layers.length).toBeGreaterThan(0);
  });
});
