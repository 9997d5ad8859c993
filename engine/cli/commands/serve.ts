// `kiln serve`: the control API and the editor UI on one loopback port (unless --listen).
import net from 'node:net';
import { UsageError } from '../connect.js';

const DEFAULT_HOST = '127.0.0.1';

/**
 * `--listen` and `--port` → where to bind. `--listen` is `host`, `host:port`, `:port`, or an IPv6
 * address: bare (`::1`, no port: its colons are the address's own) or in brackets (`[::1]`,
 * `[::1]:8080`). A port in `--listen` wins over `--port`; 0 means any free port.
 */
export function parseListen(listen: string | undefined, portFlag?: string): { host: string; port: number } {
  const port = (s: string, what: string) => {
    if (!/^\d+$/.test(s) || Number(s) > 65535) throw new UsageError(`serve: ${what} ${JSON.stringify(s)} is not a port (0-65535)`);
    return Number(s);
  };
  let host = DEFAULT_HOST;
  let p = portFlag !== undefined ? port(portFlag, '--port') : 0;
  if (listen === undefined) return { host, port: p };
  const l = listen.trim();
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(l);
  if (bracketed) {
    if (!net.isIPv6(bracketed[1]!)) throw new UsageError(`serve: --listen ${JSON.stringify(listen)}: ${JSON.stringify(bracketed[1])} in brackets is not an IPv6 address`);
    host = bracketed[1]!;
    if (bracketed[2] !== undefined) p = port(bracketed[2], `--listen ${JSON.stringify(listen)}: port`);
  } else if (net.isIPv6(l)) {
    host = l;
  } else if (l.includes(':')) {
    const i = l.lastIndexOf(':');
    const h = l.slice(0, i);
    if (h.includes(':')) throw new UsageError(`serve: --listen ${JSON.stringify(listen)}: write an IPv6 address with a port as [addr]:port`);
    if (h) host = h;
    p = port(l.slice(i + 1), `--listen ${JSON.stringify(listen)}: port`);
  } else if (l) {
    host = l;
  }
  return { host, port: p };
}

export async function runServe(f: { listen?: string; port?: string }, root?: string): Promise<number> {
  // flags first: a bad address fails before the engine starts
  const { host, port } = parseListen(f.listen, f.port);
  const { createControlService } = await import('../../control/service.js');
  const { publishService } = await import('../../control/http/publish.js');
  const svc = await createControlService({ ...(root ? { root } : {}), role: 'kiln serve' });
  const published = await publishService(svc, { host, port });
  const info = await svc.info();
  if (!info.engine.ok) process.stderr.write(`WARNING: ${info.engine.error ?? 'no Docker Engine'}\n${info.engine.hint ?? ''}\n`);
  process.stdout.write(`kiln serve listening on ${published.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await published.stop();
  await svc.close();
  return 0;
}
