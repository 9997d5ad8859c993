// One engine per root for the desktop app: the app's engine (electron/service.ts's
// loadControlService, as the engine process calls it) publishes itself on loopback in
// <root>/serve.json, so `kiln build` / `kiln du` on that root become its clients; and when a
// `kiln serve` already owns the root, the app becomes that serve's client instead of opening a
// second engine. The app's side runs in a child Node process, as the engine process does.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';
import { serveUrl } from '../helpers/cli.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
let tmp: string;
let ctx: string;
const env = (root: string) => ({ ...process.env, KILN_ROOT: root, DOCKER_HOST, KILN_EMBEDDED: '' });

/** the app's engine side on `root`: prints `ready OWNER`, answers `du` on stdin, closes on SIGTERM */
function startApp(root: string): { child: ChildProcess; ready: Promise<{ owner: string; records: number; host: { role: string; pid: number } }> } {
  const service = path.join(repo, 'dist/electron/service.js');
  const script = `
    const { loadControlService } = await import(${JSON.stringify(service)});
    const s = await loadControlService({});
    const du = await s.du({});
    const info = await s.info();
    process.stdout.write('ready ' + s.owner + ' ' + du.records.length + ' ' + JSON.stringify(info.service) + '\\n');
    process.on('SIGTERM', async () => { await s.close(); process.exit(0); });
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: env(root), stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = new Promise<{ owner: string; records: number; host: { role: string; pid: number } }>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /ready (\S+) (\d+) (\{.*\})\n/.exec(out);
      if (m) resolve({ owner: m[1]!, records: Number(m[2]), host: JSON.parse(m[3]!) as { role: string; pid: number } });
    });
    child.stderr!.on('data', (d) => (err += String(d)));
    child.once('exit', (code) => reject(new Error(`the app's engine exited (${code}): ${err}`)));
  });
  return { child, ready };
}
async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await exited;
}
const kiln = (root: string, args: string[], timeout = 240_000) => spawnSync(process.execPath, [bin, ...args], { env: env(root), cwd: ctx, encoding: 'utf8', timeout });

describeWith(['engine'], 'the desktop app takes part in one engine per root', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/control/http/publish.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-app-owner-'));
    ctx = path.join(tmp, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox:local\nRUN echo ${Math.random().toString(36).slice(2)} > /made\n`);
  });
  afterAll(() => {
    for (const r of ['r1', 'r2']) spawnSync(process.execPath, [bin, 'prune', '--all'], { env: { ...env(path.join(tmp, r)), KILN_EMBEDDED: '1' }, timeout: 60_000 });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the app hosting the engine records itself; a CLI on the root is its client; quitting takes the record away', async () => {
    const root = path.join(tmp, 'r1');
    const app = startApp(root);
    try {
      const { owner, host } = await app.ready;
      expect(owner).toBe('self');
      // what the editor shows as the engine's host
      expect(host).toEqual({ role: 'Kiln app', pid: app.child.pid });
      const record = path.join(root, 'serve.json');
      expect(fs.statSync(record).mode & 0o777).toBe(0o600);
      const rec = JSON.parse(fs.readFileSync(record, 'utf8')) as { url: string; pid: number };
      expect(rec.pid).toBe(app.child.pid);
      expect(rec.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

      const b = kiln(root, ['build', '--progress', 'plain', '-o', 'type=local,dest=out', '.']);
      expect(b.status, b.stderr).toBe(0);
      expect(fs.existsSync(path.join(ctx, 'out/made'))).toBe(true);
      // the proof that the CLI is the app's client: with the app frozen, it waits for it
      app.child.kill('SIGSTOP');
      try {
        const du = kiln(root, ['du'], 3000);
        expect(du.signal).toBe('SIGTERM');
      } finally {
        app.child.kill('SIGCONT');
      }
    } finally {
      await stop(app.child);
    }
    expect(fs.existsSync(path.join(root, 'serve.json'))).toBe(false);
  });

  it('with a kiln serve owning the root, the app is that serve\'s client (no second engine, no second record)', async () => {
    const root = path.join(tmp, 'r2');
    const serve = spawn(process.execPath, [bin, 'serve'], { env: env(root), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await serveUrl(serve);
      expect(kiln(root, ['build', '--progress', 'plain', '.']).status).toBe(0);
      const app = startApp(root);
      try {
        const { owner, records, host } = await app.ready;
        expect(owner).toBe(new URL(url).origin + '/');
        expect(host).toEqual({ role: 'kiln serve', pid: serve.pid });
        // the serve's cache, seen through it
        expect(records).toBeGreaterThan(0);
        const rec = JSON.parse(fs.readFileSync(path.join(root, 'serve.json'), 'utf8')) as { pid: number };
        expect(rec.pid).toBe(serve.pid);
      } finally {
        await stop(app.child);
      }
      // the app's quitting leaves the serve's record alone
      expect((JSON.parse(fs.readFileSync(path.join(root, 'serve.json'), 'utf8')) as { pid: number }).pid).toBe(serve.pid);
    } finally {
      await stop(serve);
    }
  });
});
