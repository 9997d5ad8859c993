// Which API a command talks to: a running `kiln serve` (--addr, token from --token, KILN_TOKEN or
// <root>/serve.token), or an embedded service in this process.
import type { ControlAPI } from '../control/api.js';
import type { ProgressEvent } from '../solver/types.js';

export interface Connected {
  api: ControlAPI;
  statusWithEnd(id: string, onEvent: (e: ProgressEvent) => void, onEnd: () => void): () => void;
  close(): Promise<void>;
}

export async function connect(o: { addr?: string; token?: string; root?: string }): Promise<Connected> {
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
    return { api: c, statusWithEnd: (id, e, end) => c.statusWithEnd(id, e, end), close: async () => c.close() };
  }
  const { createControlService, statusWithEnd } = await import('../control/service.js');
  const svc = await createControlService(o.root ? { root: o.root } : {});
  return { api: svc, statusWithEnd: (id, e, end) => statusWithEnd(svc, id, e, end), close: () => svc.close() };
}

/** exit code 2 */
export class UsageError extends Error {
  override name = 'UsageError';
}
