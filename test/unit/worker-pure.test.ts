import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyChmod } from '../../engine/worker/docker/chmod.js';
import { TailBuffer, ExecError } from '../../engine/worker/docker/errors.js';
import { parseGitIdentifier } from '../../engine/worker/docker/source-git.js';
import { registryHost } from '../../engine/worker/docker/source-image.js';
import { CacheMounts } from '../../engine/worker/docker/cachemounts.js';
import { sourceScheme } from '../../engine/source/index.js';

describe('chmod', () => {
  it('numeric modes', () => {
    expect(applyChmod('0755', 0o644, false)).toBe(0o755);
    expect(applyChmod(0o600, 0o777, false)).toBe(0o600);
  });
  it('symbolic modes', () => {
    expect(applyChmod('u+x', 0o644, false)).toBe(0o744);
    expect(applyChmod('go-w', 0o666, false)).toBe(0o644);
    expect(applyChmod('a=rX', 0o700, true)).toBe(0o555);
    expect(applyChmod('a=rX', 0o600, false)).toBe(0o444);
    expect(applyChmod('u=rw,go=r', 0o777, false)).toBe(0o644);
    expect(() => applyChmod('q+z', 0o644, false)).toThrow(/invalid chmod/);
  });
});

describe('errors', () => {
  it('TailBuffer keeps the last n lines across chunk boundaries', () => {
    const t = new TailBuffer(3);
    t.push('a\nb');
    t.push('c\nd\ne\nf');
    expect(t.get()).toEqual(['d', 'e', 'f']);
  });
  it('ExecError carries code, command and tail in its message', () => {
    const e = new ExecError(2, ['/bin/sh', '-c', 'false'], ['boom']);
    expect(e.message).toContain('exit code: 2');
    expect(e.message).toContain('/bin/sh -c false');
    expect(e.message).toContain('boom');
  });
});

describe('source identifiers', () => {
  it('git ref and subdir', () => {
    expect(parseGitIdentifier('git:///srv/repo.git#v1:sub/dir')).toEqual({ remote: '/srv/repo.git', ref: 'v1', subdir: 'sub/dir' });
    expect(parseGitIdentifier('https://example.invalid/x.git')).toEqual({ remote: 'https://example.invalid/x.git', ref: undefined, subdir: undefined });
  });
  it('registry hosts as the docker CLI normalises them', () => {
    expect(registryHost('busybox')).toBe('docker.io');
    expect(registryHost('library/busybox:1')).toBe('docker.io');
    expect(registryHost('127.0.0.1:5000/x:y')).toBe('127.0.0.1:5000');
    expect(registryHost('localhost/x')).toBe('localhost');
    expect(registryHost('ghcr.io/a/b')).toBe('ghcr.io');
  });
  it('schemes', () => {
    expect(sourceScheme('docker-image://busybox')).toBe('docker-image');
    expect(sourceScheme('local://context')).toBe('local');
    expect(sourceScheme('git://x/y')).toBe('git');
    expect(sourceScheme('https://h/x.git#main')).toBe('git');
    expect(sourceScheme('https://h/file.tgz')).toBe('http');
  });
});

describe('cache mounts', () => {
  it('private gets a fresh dir while the usual one is busy; shared reuses; mode applied', async () => {
    const cm = new CacheMounts(mkdtempSync(join(tmpdir(), 'kiln-cm-')));
    const a = await cm.acquire({ type: 'cache', target: '/c', id: 'x', sharing: 'private', mode: 0o700 });
    const b = await cm.acquire({ type: 'cache', target: '/c', id: 'x', sharing: 'private' });
    expect(b.dir).not.toBe(a.dir);
    expect(statSync(a.dir).mode & 0o777).toBe(0o700);
    a.release();
    const c = await cm.acquire({ type: 'cache', target: '/c', id: 'x', sharing: 'private' });
    expect(c.dir).toBe(a.dir);
    const s1 = await cm.acquire({ type: 'cache', target: '/c', id: 'y', sharing: 'shared' });
    const s2 = await cm.acquire({ type: 'cache', target: '/c', id: 'y', sharing: 'shared' });
    expect(s1.dir).toBe(s2.dir);
  });
  it('locked serialises users of the same id', async () => {
    const cm = new CacheMounts(mkdtempSync(join(tmpdir(), 'kiln-cm-')));
    const m = { type: 'cache' as const, target: '/c', id: 'z', sharing: 'locked' as const };
    const first = await cm.acquire(m);
    const order: string[] = [];
    const second = cm.acquire(m).then((r) => {
      order.push('second');
      return r;
    });
    await new Promise((r) => setImmediate(r));
    order.push('first-release');
    first.release();
    (await second).release();
    expect(order).toEqual(['first-release', 'second']);
  });
});
