// A fault-injecting HTTP proxy on 127.0.0.1 in front of a real registry: answers chosen
// requests with 500 or resets the connection after reading part of an upload, so retry and
// "no half-pushed tag" behaviour can be checked against the real thing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultRule {
  /** which requests it applies to */
  match: (req: http.IncomingMessage) => boolean;
  kind: '500' | 'reset';
  /** how many matching requests to break (Infinity: all) */
  times: number;
}

export interface FaultProxy {
  host: string; // "127.0.0.1:PORT"
  stats: { requests: number; faults: number };
  close(): Promise<void>;
}

export async function startFaultProxy(target: string, rules: FaultRule[]): Promise<FaultProxy> {
  const [th, tp] = target.split(':');
  const stats = { requests: 0, faults: 0 };
  const left = rules.map((r) => r.times);
  const server = http.createServer((req, res) => {
    stats.requests++;
    const i = rules.findIndex((r, k) => left[k]! > 0 && r.match(req));
    if (i >= 0) {
      left[i]!--;
      stats.faults++;
      if (rules[i]!.kind === '500') {
        req.resume();
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNKNOWN","message":"injected fault"}]}');
        return;
      }
      // read a little of the body, then drop the connection mid-upload
      req.once('data', () => req.socket.destroy());
      req.once('end', () => req.socket.destroy());
      return;
    }
    // Host is passed through so the registry's Location headers point back at the proxy
    const up = http.request({ host: th, port: Number(tp), method: req.method, path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    stats,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
