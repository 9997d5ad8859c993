// renderer/src/credentials.ts: registry logins per host, outside the graph document. Node has no
// window/localStorage, so the test gives the module a Map-backed localStorage and, for the
// Electron case, a window.kiln.shell whose encrypt/decrypt behave like the main process's
// handlers (ciphertext only, errors when the OS has no keychain).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

type Mod = typeof import('../../renderer/src/credentials.js');
const g = globalThis as unknown as { window?: unknown; localStorage?: unknown };
let items: Map<string, string>;

function shell(mode: 'ok' | 'no-keychain') {
  const calls: string[] = [];
  return {
    calls,
    encrypt: async (plain: string) => {
      calls.push('encrypt');
      if (mode === 'no-keychain') throw new Error("Error invoking remote method 'kiln:shell:encrypt': Error: encrypt: OS secret storage is not available");
      return Buffer.from(Buffer.from(plain).map((b) => b ^ 0x33)).toString('base64');
    },
    decrypt: async (b64: string) => {
      calls.push('decrypt');
      return Buffer.from(Buffer.from(b64, 'base64').map((b) => b ^ 0x33)).toString();
    },
  };
}

/** a fresh module (its memory empty, as after a restart) over the same localStorage */
async function load(s?: ReturnType<typeof shell>): Promise<Mod> {
  vi.resetModules();
  g.window = s ? { kiln: { shell: s } } : {};
  return import('../../renderer/src/credentials.js');
}

beforeEach(() => {
  items = new Map();
  g.localStorage = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) };
});
afterEach(() => {
  delete g.window;
  delete g.localStorage;
});

describe('registry logins in the browser', () => {
  it('stay in page memory only and say so', async () => {
    const c = await load();
    expect(c.keeping().kind).toBe('session');
    expect(c.keeping().note).toMatch(/memory only/);
    expect(await c.rememberLogin('127.0.0.1:5001', { username: 'kiln', password: 'sekrit-1' })).toBe('session');
    expect(await c.loginFor('127.0.0.1:5001')).toEqual({ username: 'kiln', password: 'sekrit-1' });
    expect([...items.values()].join()).not.toContain('sekrit-1');
    const reloaded = await load();
    expect(await reloaded.loginFor('127.0.0.1:5001')).toBeUndefined();
  });
});

describe('registry logins in Electron', () => {
  it('are kept as ciphertext per host and decrypted after a restart', async () => {
    const s = shell('ok');
    const c = await load(s);
    expect(c.keeping().kind).toBe('encrypted');
    expect(await c.rememberLogin('reg.example:5000', { username: 'me', password: 'sekrit-2' })).toBe('encrypted');
    const raw = items.get('kiln.registryLogins')!;
    expect(Object.keys(JSON.parse(raw) as object)).toEqual(['reg.example:5000']);
    expect(raw).not.toContain('sekrit-2');
    expect(raw).not.toContain('"me"');
    const restarted = await load(s);
    expect(await restarted.loginFor('reg.example:5000')).toEqual({ username: 'me', password: 'sekrit-2' });
    expect(await restarted.loginFor('other.example')).toBeUndefined();
    restarted.forgetLogin('reg.example:5000');
    expect(JSON.parse(items.get('kiln.registryLogins')!)).toEqual({});
    expect(await (await load(s)).loginFor('reg.example:5000')).toBeUndefined();
  });

  it('fall back to memory when the OS has no keychain, and the note gives the reason', async () => {
    const c = await load(shell('no-keychain'));
    expect(await c.rememberLogin('reg.example', { username: 'me', password: 'sekrit-3' })).toBe('session');
    expect(items.has('kiln.registryLogins')).toBe(false);
    expect(c.keeping()).toEqual({ kind: 'session', note: 'kept in memory only: OS secret storage is not available' });
    expect(await c.loginFor('reg.example')).toEqual({ username: 'me', password: 'sekrit-3' });
  });
});

describe('withRegistryLogins', () => {
  it('adds the remembered login to a push without a password, keeps typed ones, and drops a bare username', async () => {
    const c = await load(shell('ok'));
    await c.rememberLogin('127.0.0.1:5001', { username: 'kiln', password: 'kiln-pw' });
    const out = await c.withRegistryLogins([
      { type: 'image', attrs: { name: '127.0.0.1:5001/app:v1', push: 'true' } },
      // what run.ts's outputFor makes of a node with a username and no password
      { type: 'image', attrs: { name: '127.0.0.1:5001/app:v2', push: 'true', 'registry.username': 'kiln', 'registry.password': '' } },
      { type: 'image', attrs: { name: '127.0.0.1:5001/app:v3', push: 'true', 'registry.username': 'someone-else', 'registry.password': '' } },
      { type: 'image', attrs: { name: '127.0.0.1:5001/app:v4', push: 'true', 'registry.username': 'typed', 'registry.password': 'typed-pw' } },
      { type: 'image', attrs: { name: 'elsewhere.example/app', push: 'true' } },
      { type: 'oci', attrs: { dest: '/tmp/x.tar' } },
    ]);
    expect(out.map((o) => [o.attrs['registry.username'], o.attrs['registry.password']])).toEqual([
      ['kiln', 'kiln-pw'],
      ['kiln', 'kiln-pw'],
      [undefined, undefined], // another account's password is not sent; the docker config applies
      ['typed', 'typed-pw'],
      [undefined, undefined],
      [undefined, undefined],
    ]);
    expect(c.registryHost('busybox')).toBe('docker.io');
    expect(c.registryHost('Not A Name')).toBeUndefined();
  });
});
