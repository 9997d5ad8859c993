// `kiln serve --listen/--port`: host[:port], :port, bare and bracketed IPv6. The parser, then a
// real `kiln serve` process (no Docker Engine needed: the API answers info without one) bound to
// ::1 from both IPv6 spellings, reached through the URL it prints.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseListen } from '../../engine/cli/commands/serve.js';
import { UsageError } from '../../engine/cli/connect.js';

const repo = path.resolve(import.meta.dirname, '../..');

describe('parseListen', () => {
  it('reads host, host:port, :port and a --port fallback', () => {
    expect(parseListen(undefined)).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListen(undefined, '8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('0.0.0.0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListen('0.0.0.0', '9000')).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(parseListen('localhost:8080', '9000')).toEqual({ host: 'localhost', port: 8080 });
    expect(parseListen(':7000')).toEqual({ host: '127.0.0.1', port: 7000 });
  });

  it('reads IPv6 bare (no port) and in brackets (with or without a port)', () => {
    expect(parseListen('::1')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('::1', '8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseListen('::')).toEqual({ host: '::', port: 0 });
    expect(parseListen('fe80::1:2')).toEqual({ host: 'fe80::1:2', port: 0 });
    expect(parseListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseListen('[::1]')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('[2001:db8::5]:443', '1')).toEqual({ host: '2001:db8::5', port: 443 });
  });

  it('refuses bad ports and unbracketed IPv6 with something that is not an address', () => {
    expect(() => parseListen('127.0.0.1:http')).toThrow(/--listen "127\.0\.0\.1:http": port "http" is not a port/);
    expect(() => parseListen('[::1]:70000')).toThrow(/port "70000" is not a port \(0-65535\)/);
    expect(() => parseListen(undefined, '-1')).toThrow(/--port "-1" is not a port/);
    expect(() => parseListen('[nothost]:80')).toThrow(/"nothost" in brackets is not an IPv6 address/);
    expect(() => parseListen('::zz:80')).toThrow(/write an IPv6 address with a port as \[addr\]:port/);
    // a usage error: kiln exits 2
    expect(() => parseListen('x:y')).toThrowError(UsageError);
  });
});

async function serveOn(args: string[]): Promise<{ url: string; stop: () => void }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-listen-'));
  const p = spawn(process.execPath, [path.join(repo, 'bin/kiln.js'), 'serve', ...args], {
    env: { ...process.env, KILN_ROOT: root, DOCKER_HOST: `unix://${path.join(root, 'no-docker.sock')}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += String(d);
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    p.stderr.on('data', (d) => (err += String(d)));
    p.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return {
    url,
    stop: () => {
      p.kill('SIGTERM');
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

describe('kiln serve --listen on IPv6', () => {
  for (const args of [['--listen', '::1'], ['--listen', '[::1]:0']]) {
    it(`binds ::1 for ${args.join(' ')} and prints a bracketed URL`, async () => {
      const s = await serveOn(args);
      try {
        expect(s.url).toMatch(/^http:\/\/\[::1\]:\d+\/\?token=/);
        const u = new URL(s.url);
        const res = await fetch(`${u.origin}/api/info`, { headers: { authorization: `Bearer ${u.searchParams.get('token')}` } });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { version: string }).version).toMatch(/^\d+\.\d+\.\d+/);
      } finally {
        s.stop();
      }
    });
  }
  it('a bad --listen exits 2 before starting', async () => {
    const p = spawn(process.execPath, [path.join(repo, 'bin/kiln.js'), 'serve', '--listen', '[::1]:notaport'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += String(d)));
    const code = await new Promise<number | null>((r) => p.once('exit', r));
    expect(code).toBe(2);
    expect(err).toMatch(/port "notaport" is not a port/);
  });
});
