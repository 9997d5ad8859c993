import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerodeOptions, resolveEndpoint, DEFAULT_SOCKET } from '../../engine/worker/docker/connect.js';

function home(): string {
  return mkdtempSync(join(tmpdir(), 'kiln-home-'));
}

function writeContext(h: string, name: string, host: string, current = true): void {
  const id = createHash('sha256').update(name).digest('hex');
  const dir = join(h, '.docker', 'contexts', 'meta', id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ Name: name, Endpoints: { docker: { Host: host } } }));
  if (current) writeFileSync(join(h, '.docker', 'config.json'), JSON.stringify({ currentContext: name }));
}

describe('docker endpoint resolution', () => {
  it('uses the default socket when nothing is configured', () => {
    const ep = resolveEndpoint(undefined, { env: {}, home: home(), socketExists: (p) => p === '/var/run/docker.sock' });
    expect(ep).toEqual({ host: DEFAULT_SOCKET, from: 'default' });
    expect(dockerodeOptions(ep)).toMatchObject({ socketPath: '/var/run/docker.sock' });
  });

  it("falls back to scripts/engine-up's private engine when there is no system socket", () => {
    expect(resolveEndpoint(undefined, { env: {}, home: home(), socketExists: (p) => p === '/run/docker-kiln.sock' })).toEqual({ host: 'unix:///run/docker-kiln.sock', from: 'kiln-engine' });
    expect(resolveEndpoint(undefined, { env: {}, home: home(), socketExists: () => false })).toEqual({ host: DEFAULT_SOCKET, from: 'default' });
  });

  it('prefers DOCKER_HOST over the current context', () => {
    const h = home();
    writeContext(h, 'remote', 'tcp://127.0.0.1:2999');
    const ep = resolveEndpoint(undefined, { env: { DOCKER_HOST: 'unix:///tmp/x.sock' }, home: h });
    expect(ep.host).toBe('unix:///tmp/x.sock');
    expect(ep.from).toBe('DOCKER_HOST');
  });

  it('reads the current context from config.json and the meta dir named by sha256(name)', () => {
    const h = home();
    writeContext(h, 'my-ctx', 'tcp://127.0.0.1:2999');
    const ep = resolveEndpoint(undefined, { env: {}, home: h });
    expect(ep.host).toBe('tcp://127.0.0.1:2999');
    expect(ep.from).toBe('context:my-ctx');
    expect(dockerodeOptions(ep)).toMatchObject({ host: '127.0.0.1', port: '2999', protocol: 'http' });
  });

  it('DOCKER_CONTEXT overrides currentContext', () => {
    const h = home();
    writeContext(h, 'a', 'unix:///tmp/a.sock');
    writeContext(h, 'b', 'unix:///tmp/b.sock', false);
    expect(resolveEndpoint(undefined, { env: { DOCKER_CONTEXT: 'b' }, home: h }).host).toBe('unix:///tmp/b.sock');
  });

  it('the "default" context means the default socket', () => {
    const h = home();
    mkdirSync(join(h, '.docker'));
    writeFileSync(join(h, '.docker', 'config.json'), JSON.stringify({ currentContext: 'default' }));
    expect(resolveEndpoint(undefined, { env: {}, home: h, socketExists: (p) => p === '/var/run/docker.sock' }).host).toBe(DEFAULT_SOCKET);
  });

  it('a missing context is a clear error', () => {
    const h = home();
    mkdirSync(join(h, '.docker'));
    writeFileSync(join(h, '.docker', 'config.json'), JSON.stringify({ currentContext: 'gone' }));
    expect(() => resolveEndpoint(undefined, { env: {}, home: h })).toThrow(/context "gone" not found/);
  });

  it('tcp with DOCKER_TLS_VERIFY loads certs from DOCKER_CERT_PATH', () => {
    const h = home();
    const certs = join(h, 'certs');
    mkdirSync(certs);
    writeFileSync(join(certs, 'ca.pem'), 'CA');
    writeFileSync(join(certs, 'cert.pem'), 'CERT');
    writeFileSync(join(certs, 'key.pem'), 'KEY');
    const ep = resolveEndpoint(undefined, { env: { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs }, home: h });
    expect(ep.tls).toEqual({ verify: true, certPath: certs });
    const o = dockerodeOptions(ep);
    expect(o.protocol).toBe('https');
    expect(String(o.ca)).toBe('CA');
    expect(String(o.key)).toBe('KEY');
  });

  it('ssh endpoints use dockerode ssh with user and port', () => {
    const o = dockerodeOptions(resolveEndpoint('ssh://me@127.0.0.1:2222', { env: {}, home: home() }));
    expect(o).toMatchObject({ protocol: 'ssh', host: '127.0.0.1', port: '2222', username: 'me' });
  });
});
