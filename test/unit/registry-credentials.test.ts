import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveCredentials, storeCredentials } from '../../engine/registry/credentials.js';
import { parseReference } from '../../engine/registry/reference.js';

let dir: string;
let saved: string | undefined;
let savedPath: string | undefined;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-cred-'));
  saved = process.env.DOCKER_CONFIG; savedPath = process.env.PATH;
  process.env.DOCKER_CONFIG = dir;
});
afterEach(async () => {
  if (saved === undefined) delete process.env.DOCKER_CONFIG; else process.env.DOCKER_CONFIG = saved;
  process.env.PATH = savedPath;
  await fs.rm(dir, { recursive: true, force: true });
});

describe('docker config credentials', () => {
  it('reads base64 auth, username/password, identity tokens and docker.io aliases', async () => {
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ auths: {
      'reg.example:5000': { auth: Buffer.from('u:p:w').toString('base64') },
      'https://index.docker.io/v1/': { username: 'hub', password: 'pw' },
      'tok.example': { identitytoken: 'T' },
    } }));
    expect(await resolveCredentials('reg.example:5000')).toEqual({ username: 'u', password: 'p:w' });
    expect(await resolveCredentials('docker.io')).toEqual({ username: 'hub', password: 'pw' });
    expect(await resolveCredentials('tok.example')).toEqual({ identitytoken: 'T' });
    expect(await resolveCredentials('other.example')).toBeUndefined();
  });
  it('credHelpers beat credsStore beat auths, via a real docker-credential-* program', async () => {
    const bin = path.join(dir, 'bin');
    await fs.mkdir(bin);
    for (const [name, user] of [['one', 'helper'], ['two', 'store']]) {
      await fs.writeFile(path.join(bin, `docker-credential-${name}`), `#!/bin/sh\nread host\nif [ "$host" = "gone.example" ]; then echo "credentials not found in native keychain"; exit 1; fi\necho '{"Username":"${user}","Secret":"s-'"$host"'"}'\n`, { mode: 0o755 });
    }
    process.env.PATH = `${bin}:${savedPath}`;
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({
      credHelpers: { 'h.example': 'one' }, credsStore: 'two', auths: { 'gone.example': { auth: Buffer.from('a:b').toString('base64') } },
    }));
    expect(await resolveCredentials('h.example')).toEqual({ username: 'helper', password: 's-h.example' });
    expect(await resolveCredentials('x.example')).toEqual({ username: 'store', password: 's-x.example' });
    expect(await resolveCredentials('gone.example')).toEqual({ username: 'a', password: 'b' });
  });
  it('storeCredentials writes base64 auth with mode 0600 and keeps other keys', async () => {
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ psFormat: 'x' }));
    await storeCredentials('127.0.0.1:5001', 'kiln', 'kiln');
    const cfg = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')) as { psFormat: string; auths: Record<string, { auth: string }> };
    expect(cfg.psFormat).toBe('x');
    expect(Buffer.from(cfg.auths['127.0.0.1:5001']!.auth, 'base64').toString()).toBe('kiln:kiln');
    expect((await fs.stat(path.join(dir, 'config.json'))).mode & 0o777).toBe(0o600);
    expect(await resolveCredentials('127.0.0.1:5001')).toEqual({ username: 'kiln', password: 'kiln' });
  });
});

describe('parseReference', () => {
  it('splits registry, repository, tag and digest like docker', () => {
    expect(parseReference('busybox')).toEqual({ registry: 'docker.io', repository: 'library/busybox', tag: 'latest', digest: undefined });
    expect(parseReference('127.0.0.1:5000/a/b:v1')).toMatchObject({ registry: '127.0.0.1:5000', repository: 'a/b', tag: 'v1' });
    expect(parseReference('localhost/x@sha256:' + 'a'.repeat(64))).toMatchObject({ registry: 'localhost', repository: 'x', tag: undefined });
    expect(() => parseReference('Upper/Case')).toThrow(/invalid image reference/);
  });
});
