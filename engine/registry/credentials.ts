// Registry credentials the way the docker CLI keeps them: $DOCKER_CONFIG/config.json (default
// ~/.docker) with `auths`, `credHelpers` and `credsStore`. Kiln reads the same file so that a
// `docker login` works for Kiln too, and `kiln login` writes what docker would.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type Credentials = { username: string; password: string } | { identitytoken: string };

interface AuthEntry { auth?: string; username?: string; password?: string; identitytoken?: string }
interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [k: string]: unknown;
}

// docker.io is stored under its legacy v1 index URL; all these names mean the same registry.
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com', DOCKER_HUB_KEY]);

export function configDir(): string {
  return process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
}

export function configPath(): string {
  return path.join(configDir(), 'config.json');
}

/** the key a host is stored under (docker.io → its v1 URL; scheme and path dropped otherwise) */
export function normalizeHost(host: string): string {
  const h = host.trim();
  if (DOCKER_HUB_ALIASES.has(h) || DOCKER_HUB_ALIASES.has(h.replace(/\/+$/, '') + '/')) return DOCKER_HUB_KEY;
  return h.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

async function readConfig(): Promise<DockerConfigFile> {
  try {
    return JSON.parse(await fs.readFile(configPath(), 'utf8')) as DockerConfigFile;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read docker config ${configPath()}: ${(e as Error).message}`);
  }
}

function matchKey<T>(map: Record<string, T> | undefined, host: string): T | undefined {
  if (!map) return undefined;
  const want = normalizeHost(host);
  for (const [k, v] of Object.entries(map)) if (normalizeHost(k) === want) return v;
  return undefined;
}

function runHelper(helper: string, action: 'get' | 'store' | 'erase', input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, [action], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', (e) => reject(new Error(`credential helper docker-credential-${helper} not runnable: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(Object.assign(new Error(`docker-credential-${helper} ${action} failed: ${(out + err).trim()}`), { helperOutput: out + err }));
    });
    child.stdin.end(input);
  });
}

async function fromHelper(helper: string, host: string): Promise<Credentials | undefined> {
  const key = normalizeHost(host);
  try {
    const out = await runHelper(helper, 'get', key);
    const j = JSON.parse(out) as { Username?: string; Secret?: string };
    if (!j.Secret) return undefined;
    // docker's convention: username "<token>" means the secret is an identity token
    if (j.Username === '<token>') return { identitytoken: j.Secret };
    return { username: j.Username ?? '', password: j.Secret };
  } catch (e) {
    if (/credentials not found/i.test(String((e as { helperOutput?: string }).helperOutput ?? ''))) return undefined;
    throw e;
  }
}

/** base64 "user:password": docker config's `auth` field and the HTTP Basic credential alike */
export function encodeAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`).toString('base64');
}

function fromEntry(e: AuthEntry | undefined): Credentials | undefined {
  if (!e) return undefined;
  if (e.identitytoken) return { identitytoken: e.identitytoken };
  if (e.auth) {
    const dec = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i < 0) throw new Error('invalid auth entry in docker config (expected base64 "user:password")');
    return { username: dec.slice(0, i), password: dec.slice(i + 1) };
  }
  if (e.username !== undefined && e.password !== undefined) return { username: e.username, password: e.password };
  return undefined;
}

/** Credentials for a registry host; precedence credHelpers > credsStore > auths (as docker). */
export async function resolveCredentials(host: string): Promise<Credentials | undefined> {
  const cfg = await readConfig();
  const helper = matchKey(cfg.credHelpers, host);
  if (helper) return fromHelper(helper, host);
  if (cfg.credsStore) {
    const c = await fromHelper(cfg.credsStore, host);
    if (c) return c;
  }
  return fromEntry(matchKey(cfg.auths, host));
}

/** Store credentials as `docker login` does: the helper/store if configured, else base64 in auths (file mode 0600). */
export async function storeCredentials(host: string, username: string, password: string): Promise<void> {
  const cfg = await readConfig();
  const key = normalizeHost(host);
  const helper = matchKey(cfg.credHelpers, host) ?? cfg.credsStore;
  cfg.auths ??= {};
  if (helper) {
    await runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: username, Secret: password }));
    cfg.auths[key] = {};
  } else {
    cfg.auths[key] = { auth: encodeAuth(username, password) };
  }
  await fs.mkdir(configDir(), { recursive: true, mode: 0o700 });
  const tmp = configPath() + '.tmp-' + process.pid;
  await fs.writeFile(tmp, JSON.stringify(cfg, null, '\t') + '\n', { mode: 0o600 });
  await fs.rename(tmp, configPath());
}

/** Remove credentials (kiln logout). */
export async function eraseCredentials(host: string): Promise<void> {
  const cfg = await readConfig();
  const key = normalizeHost(host);
  const helper = matchKey(cfg.credHelpers, host) ?? cfg.credsStore;
  if (helper) await runHelper(helper, 'erase', key).catch(() => undefined);
  if (cfg.auths) for (const k of Object.keys(cfg.auths)) if (normalizeHost(k) === key) delete cfg.auths[k];
  await fs.writeFile(configPath(), JSON.stringify(cfg, null, '\t') + '\n', { mode: 0o600 });
}
