// Credentials given with an output (`registry.username`/`registry.password`, what the editor's
// export dialog sends) through the control service on the real engine:
// - a push to the basic-auth registry (127.0.0.1:5001, kiln/kiln) with explicit credentials and
//   an empty docker config works;
// - on a htpasswd registry of this test's own (a random password, so a leak is findable), the
//   explicit pair wins over a wrong docker-config entry, a wrong password fails naming the
//   export's credentials and creates no tag, and after all of it the password is in no progress
//   event, no history entry and nowhere in the bytes of the state root's SQLite files.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ProgressEvent } from '../../engine/solver/types.js';
import { createControlService, type ControlService } from '../../engine/control/service.js';
import { AUTH_REGISTRY, describeWith, DOCKER_HOST } from '../helpers/env.js';

let tmp: string;
let root: string;
let svc: ControlService | undefined;
let registry: ChildProcess | undefined;
let host: string;
let salt: string;
const user = `u${randomBytes(4).toString('hex')}`;
const pass = `pw-${randomBytes(12).toString('hex')}`;
const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
const events: ProgressEvent[] = [];
const savedDockerConfig = process.env.DOCKER_CONFIG;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** a real docker-registry with one htpasswd account (user/pass above) */
async function startRegistry(): Promise<string> {
  const port = await freePort();
  const dir = path.join(tmp, 'registry');
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  const h = spawnSync('htpasswd', ['-Bbn', user, pass], { encoding: 'utf8' });
  if (h.status !== 0) throw new Error(`htpasswd failed (apache2-utils needed, see scripts/registry-up): ${h.stderr}`);
  fs.writeFileSync(path.join(dir, 'htpasswd'), h.stdout);
  fs.writeFileSync(path.join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\nauth:\n  htpasswd:\n    realm: kiln-creds\n    path: ${dir}/htpasswd\n`);
  registry = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  registry.on('error', () => undefined);
  for (let i = 0; i < 80; i++) {
    const st = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status, () => 0);
    if (st === 401) return `127.0.0.1:${port}`;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('docker-registry did not come up (is it installed? see scripts/registry-up)');
}

function dockerfile(tag: string): string {
  return `FROM busybox:local\nRUN echo ${salt}-${tag} > /salt\n`;
}

async function push(name: string, creds?: { username: string; password: string }) {
  const id = `creds-${randomBytes(4).toString('hex')}`;
  const off = svc!.status(id, (e) => events.push(e));
  try {
    return await svc!.solve({
      id,
      input: { kind: 'dockerfile', dockerfile: dockerfile(name.replace(/\W+/g, '-')), context: tmp },
      options: { name: 'credentials', outputs: [{ type: 'image', attrs: { name, push: 'true', ...(creds ? { 'registry.username': creds.username, 'registry.password': creds.password } : {}) } }] },
    });
  } finally {
    off();
  }
}

async function manifestStatus(h: string, repoTag: string, auth: string): Promise<{ status: number; digest: string | null }> {
  const [repo, tag] = repoTag.split(':');
  const r = await fetch(`http://${h}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { authorization: auth, accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
  });
  return { status: r.status, digest: r.headers.get('docker-content-digest') };
}

describeWith(['engine', 'registry'], 'registry push with credentials given with the output', () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-creds-'));
    root = path.join(tmp, 'state');
    salt = randomBytes(4).toString('hex');
    host = await startRegistry();
    // the docker config holds a wrong entry for the test's registry: explicit credentials must win
    const cfg = path.join(tmp, 'docker');
    fs.mkdirSync(cfg);
    fs.writeFileSync(path.join(cfg, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from('nobody:stale').toString('base64') } } }));
    process.env.DOCKER_CONFIG = cfg;
    svc = await createControlService({ root, dockerHost: DOCKER_HOST });
  });
  afterAll(async () => {
    if (savedDockerConfig === undefined) delete process.env.DOCKER_CONFIG;
    else process.env.DOCKER_CONFIG = savedDockerConfig;
    await svc?.close();
    registry?.kill();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('pushes to the basic-auth registry with the given username and password (nothing in the docker config)', async () => {
    const ref = `kiln-creds/basic:${salt}`;
    const r = await push(`${AUTH_REGISTRY}/${ref}`, { username: 'kiln', password: 'kiln' });
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    const m = await manifestStatus(AUTH_REGISTRY, ref, basic('kiln', 'kiln'));
    expect(m.status).toBe(200);
    expect(m.digest).toBe(r.exports[0]!['containerimage.digest']);
  });

  it('explicit credentials win over the docker config for that registry', async () => {
    const denied = await push(`${host}/kiln-creds/app:from-config`);
    expect(denied.ok).toBe(false);
    expect(denied.error?.message).toMatch(new RegExp(`registry ${host}, repository kiln-creds/app: 401 .*kiln login ${host}`));

    const r = await push(`${host}/kiln-creds/app:v1`, { username: user, password: pass });
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.exports[0]!.pushed).toBe('true');
    const m = await manifestStatus(host, 'kiln-creds/app:v1', basic(user, pass));
    expect(m.status).toBe(200);
    expect(m.digest).toBe(r.exports[0]!['containerimage.digest']);
  });

  it('a wrong password fails clearly, without the password in the message, and creates no tag', async () => {
    const wrong = `wrong-${randomBytes(12).toString('hex')}`;
    const r = await push(`${host}/kiln-creds/app:wrong`, { username: user, password: wrong });
    expect(r.ok).toBe(false);
    expect(r.error?.message).toMatch(new RegExp(`registry ${host}, repository kiln-creds/app: 401 .*credentials rejected — check the username and password given for this export`));
    expect(JSON.stringify(r)).not.toContain(wrong);
    expect((await manifestStatus(host, 'kiln-creds/app:wrong', basic(user, pass))).status).toBe(404);
    const h = await svc!.historyGet(r.id);
    expect(h?.status).toBe('failed');
    expect(JSON.stringify(h)).not.toContain(wrong);
    expect(JSON.stringify(events)).not.toContain(wrong);
  });

  it('the password is in no progress event, no history entry and no byte of the state DB', async () => {
    const secrets = [pass, Buffer.from(`${user}:${pass}`).toString('base64')];
    const all = JSON.stringify(events);
    expect(events.some((e) => e.type === 'status')).toBe(true);
    const history = JSON.stringify(await Promise.all((await svc!.historyList()).map((e) => svc!.historyGet(e.id))));
    expect(history).toContain('exporting to image');
    await svc!.close();
    svc = undefined;
    const dbFiles = fs.readdirSync(root).filter((f) => f.startsWith('kiln.db'));
    expect(dbFiles).toContain('kiln.db');
    const bytes = Buffer.concat(dbFiles.map((f) => fs.readFileSync(path.join(root, f))));
    console.log(`state DB files ${dbFiles.join(', ')}: ${bytes.length} bytes searched`);
    // the DB did record these builds (so the search is over the right bytes)
    expect(bytes.includes(Buffer.from(`kiln-creds/app:wrong`))).toBe(true);
    for (const s of secrets) {
      expect(all).not.toContain(s);
      expect(history).not.toContain(s);
      expect(bytes.includes(Buffer.from(s))).toBe(false);
    }
  });
});
