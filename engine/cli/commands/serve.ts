// `kiln serve`: the control API and the editor UI on one loopback port (unless --listen).
import { createControlService } from '../../control/service.js';
import { startServer } from '../../control/http/server.js';
import { createToken } from '../../control/http/token.js';

export async function runServe(f: { listen?: string; port?: string }, root?: string): Promise<number> {
  const svc = await createControlService(root ? { root } : {});
  const token = createToken(svc.root);
  let host = '127.0.0.1';
  let port = f.port ? Number(f.port) : 0;
  if (f.listen) {
    const m = /^(.*?)(?::(\d+))?$/.exec(f.listen)!;
    host = m[1]!.replace(/^\[|\]$/g, '') || host;
    if (m[2]) port = Number(m[2]);
  }
  const server = await startServer({ api: svc, token, host, port });
  const info = await svc.info();
  if (!info.engine.ok) process.stderr.write(`WARNING: ${info.engine.error ?? 'no Docker Engine'}\n${info.engine.hint ?? ''}\n`);
  process.stdout.write(`kiln serve listening on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await svc.close();
  return 0;
}
