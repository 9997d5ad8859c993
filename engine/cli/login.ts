// `kiln login` checks the credentials before storing them, as `docker login` does: GET /v2/ with
// them, through the registry's own challenge (Basic, or a Bearer token from its realm). Storing
// a wrong password would only move the failure to the next push, far from its cause.
import { isInsecureHost, registryApiHost } from '../registry/reference.js';

export class LoginError extends Error {
  override name = 'LoginError';
}

export async function verifyLogin(server: string, username: string, password: string, signal?: AbortSignal): Promise<void> {
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const registry = host === 'index.docker.io' || host === 'docker.io' ? 'docker.io' : host;
  const base = `${/^http:\/\//.test(server) || isInsecureHost(registry) ? 'http' : 'https'}://${registryApiHost(registry)}`;
  const basic = 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
  const get = async (url: string | URL, headers: Record<string, string> = {}) => {
    try {
      return await fetch(url, { headers, ...(signal ? { signal } : {}) });
    } catch (e) {
      const cause = (e as { cause?: Error }).cause;
      throw new LoginError(`login to ${host} failed: cannot reach ${base}: ${cause?.message ?? (e as Error).message}`);
    }
  };
  const denied = () => new LoginError(`login to ${host} failed: unauthorized: incorrect username or password`);
  const first = await get(`${base}/v2/`);
  await first.body?.cancel();
  if (first.ok) return; // an open registry accepts anyone
  if (first.status !== 401) throw new LoginError(`login to ${host} failed: GET /v2/ answered ${first.status}`);
  const www = first.headers.get('www-authenticate') ?? '';
  const scheme = /^(\w+)/.exec(www)?.[1]?.toLowerCase();
  if (scheme === 'bearer') {
    const params = Object.fromEntries([...www.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (!params['realm']) throw new LoginError(`login to ${host} failed: bearer challenge without a realm`);
    const url = new URL(params['realm']);
    if (params['service']) url.searchParams.set('service', params['service']);
    const tok = await get(url, { authorization: basic });
    await tok.body?.cancel();
    if (tok.status === 401 || tok.status === 403) throw denied();
    if (!tok.ok) throw new LoginError(`login to ${host} failed: token service answered ${tok.status}`);
    return;
  }
  const again = await get(`${base}/v2/`, { authorization: basic });
  await again.body?.cancel();
  if (again.status === 401 || again.status === 403) throw denied();
  if (!again.ok) throw new LoginError(`login to ${host} failed: GET /v2/ answered ${again.status}`);
}
