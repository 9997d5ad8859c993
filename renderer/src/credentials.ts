// Registry logins the editor asks for (export dialog, a registry exporter's inspector), kept per
// registry host and never in the graph document. In Electron the login is encrypted by the main
// process with the OS keychain (safeStorage, `shell.encrypt`) and only the ciphertext is kept,
// in localStorage, so it survives a restart. In a browser, or when the OS has no keychain, it
// stays in this page's memory only: a reload forgets it. A run sends the login with the output
// (`registry.username`/`registry.password`), where it wins over the docker config.
import type { OutputSpec } from '../../engine/control/api.js';
import { parseReference } from '../../engine/registry/reference.js';

export interface RegistryLogin { username: string; password: string }
/** where a login is kept: 'encrypted' (Electron safeStorage) or 'session' (memory, this page only) */
export type Keeping = 'encrypted' | 'session';

interface SecretShell { encrypt(plain: string): Promise<string>; decrypt(cipher: string): Promise<string> }

const STORE_KEY = 'kiln.registryLogins';
const memory = new Map<string, RegistryLogin>();
/** why the last encrypt failed (the OS has no keychain …), shown next to the fields */
let encryptProblem: string | undefined;

function secretShell(): SecretShell | undefined {
  const s = (window as unknown as { kiln?: { shell?: Partial<SecretShell> } }).kiln?.shell;
  return s?.encrypt && s.decrypt ? (s as SecretShell) : undefined;
}

function stored(): Record<string, string> {
  try {
    const v = JSON.parse(localStorage.getItem(STORE_KEY) ?? '{}') as unknown;
    return v && typeof v === 'object' ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

function store(all: Record<string, string>): void {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify(all));
  } catch {
    /* storage full or disabled: the login stays in memory */
  }
}

/** The registry host an image name pushes to (docker.io for bare names), or undefined if it is not a valid name. */
export function registryHost(imageName: string): string | undefined {
  try {
    return imageName.trim() ? parseReference(imageName).registry : undefined;
  } catch {
    return undefined;
  }
}

/** How a login typed now would be kept, and a sentence saying so for the UI. */
export function keeping(): { kind: Keeping; note: string } {
  if (!secretShell()) return { kind: 'session', note: 'kept in this page’s memory only (a reload forgets it); never saved to the graph file' };
  if (encryptProblem) return { kind: 'session', note: `kept in memory only: ${encryptProblem}` };
  return { kind: 'encrypted', note: 'remembered for this registry, encrypted with the OS keychain; never saved to the graph file' };
}

/** The login remembered for a registry host (memory first, then the encrypted store). */
export async function loginFor(host: string): Promise<RegistryLogin | undefined> {
  const m = memory.get(host);
  if (m) return m;
  const shell = secretShell();
  const cipher = stored()[host];
  if (!shell || !cipher) return undefined;
  try {
    const login = JSON.parse(await shell.decrypt(cipher)) as RegistryLogin;
    if (typeof login.username !== 'string' || typeof login.password !== 'string') return undefined;
    memory.set(host, login);
    return login;
  } catch {
    // another user's or machine's ciphertext, or a keychain that changed: ask again
    return undefined;
  }
}

/** Remember a login for a host; says how it was kept. */
export async function rememberLogin(host: string, login: RegistryLogin): Promise<Keeping> {
  memory.set(host, login);
  const shell = secretShell();
  if (!shell) return 'session';
  try {
    const cipher = await shell.encrypt(JSON.stringify(login));
    store({ ...stored(), [host]: cipher });
    encryptProblem = undefined;
    return 'encrypted';
  } catch (e) {
    encryptProblem = (e as Error).message.replace(/^.*?encrypt: /, '');
    return 'session';
  }
}

export function forgetLogin(host: string): void {
  memory.delete(host);
  const all = stored();
  if (host in all) {
    delete all[host];
    store(all);
  }
}

/**
 * Outputs as a run sends them: a registry push that came without a password gets the login
 * remembered for its host (when the usernames agree); with none remembered, any bare username
 * is dropped so the docker config applies instead of an empty password.
 */
export async function withRegistryLogins(outputs: OutputSpec[]): Promise<OutputSpec[]> {
  return Promise.all(
    outputs.map(async (o) => {
      const a = o.attrs;
      if (!(o.type === 'image' || o.type === 'registry') || !a.name || a['registry.password']) return o;
      const host = registryHost(a.name.split(',')[0]!);
      const login = host ? await loginFor(host) : undefined;
      const attrs = { ...a };
      delete attrs['registry.username'];
      delete attrs['registry.password'];
      if (login && (!a['registry.username'] || a['registry.username'] === login.username)) {
        attrs['registry.username'] = login.username;
        attrs['registry.password'] = login.password;
      }
      return { ...o, attrs };
    }),
  );
}
