// Which API a command talks to: a running `kiln serve` (--addr, token from --token, KILN_TOKEN or
// <root>/serve.token), or an embedded service in this process.
import type { ControlAPI } from '../control/api.js';
import type { ProgressEvent } from '../solver/types.js';

export interface Connected {
  api: ControlAPI;
  /** the engine is another process (--addr, or the root's kiln serve) */
  remote: boolean;
  statusWithEnd(id: string, onEvent: (e: ProgressEvent) => void, onEnd: () => void): () => void;
  close(): Promise<void>;
}

/**
 * `useServe`: when no --addr is given and a `kiln serve` owns the root, talk to it instead of
 * starting a second engine on the same root. Commands pass it when everything they send is
 * absolute paths and values (not, for example, a tar to be written to this process's stdout).
 */
export async function connect(o: { addr?: string; token?: string; root?: string; useServe?: boolean }): Promise<Connected> {
  if (o.addr) {
    const { connectHttp } = await import('../control/client.js');
    let token = o.token ?? process.env.KILN_TOKEN;
    if (!token) {
      const { readToken } = await import('../control/http/token.js');
      const { resolveRootDir } = await import('../control/deps.js');
      token = readToken(o.root ?? (await resolveRootDir()));
    }
    if (!token) throw new UsageError('--addr needs a token: --token, KILN_TOKEN or <root>/serve.token');
    const c = connectHttp(o.addr, token);
    return { api: c, remote: true, statusWithEnd: (id, e, end) => c.statusWithEnd(id, e, end), close: async () => c.close() };
  }
  // a `kiln serve` that owns this root is the engine (see control/http/owner.ts)
  if (process.env.KILN_EMBEDDED !== '1' && o.useServe) {
    const root: string = o.root ?? (await (await import('../control/deps.js')).resolveRootDir());
    const { findServe } = await import('../control/http/owner.js');
    const owner = await findServe(root);
    if (owner) {
      const { connectHttp } = await import('../control/client.js');
      const c = connectHttp(owner.url, owner.token);
      return { api: c, remote: true, statusWithEnd: (id, e, end) => c.statusWithEnd(id, e, end), close: async () => c.close() };
    }
  }
  const { createControlService, statusWithEnd } = await import('../control/service.js');
  const svc = await createControlService({ ...(o.root ? { root: o.root } : {}), stdout: process.stdout });
  return { api: svc, remote: false, statusWithEnd: (id, e, end) => statusWithEnd(svc, id, e, end), close: () => svc.close() };
}

/** exit code 2 */
export class UsageError extends Error {
  override name = 'UsageError';
}
