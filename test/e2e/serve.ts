// A test-side `kiln serve`: the real control service over the documented HTTP + WS contract, with
// the built renderer at `/`. Used until/unless the e2e suite is pointed at engine/control/http.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { createControlService } from '../../engine/control/service.js';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

export async function serveEditor(opts: { root: string; dockerHost?: string; token: string; dist: string }) {
  const svc = await createControlService({ root: opts.root, ...(opts.dockerHost ? { dockerHost: opts.dockerHost } : {}) });
  const authed = (req: http.IncomingMessage) => {
    const u = new URL(req.url ?? '/', 'http://x');
    return req.headers.authorization === `Bearer ${opts.token}` || u.searchParams.get('token') === opts.token;
  };
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? null));
    };
    if (u.pathname.startsWith('/api/')) {
      if (!authed(req)) return send(401, { error: { message: 'unauthorized' } });
      const method = u.pathname.slice('/api/'.length);
      try {
        if (method === 'info') return send(200, await svc.info());
        let raw = '';
        for await (const c of req) raw += c;
        const body = raw ? JSON.parse(raw) : {};
        switch (method) {
          case 'solve': return send(200, await svc.solve(body));
          case 'cancel': return send(200, await svc.cancel(body.buildId));
          case 'historyList': return send(200, await svc.historyList());
          case 'historyGet': return send(200, await svc.historyGet(body.id));
          case 'graph': return send(200, await svc.graph(body));
          case 'workers': return send(200, await svc.workers());
          default: return send(404, { error: { message: `no method ${method}` } });
        }
      } catch (e) {
        return send(500, { error: { message: (e as Error).message } });
      }
    }
    const file = path.join(opts.dist, u.pathname === '/' ? 'index.html' : path.normalize(u.pathname));
    if (!file.startsWith(opts.dist) || !fs.existsSync(file)) return send(404, { error: { message: 'not found' } });
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, sock, head) => {
    if (!authed(req)) return sock.destroy();
    wss.handleUpgrade(req, sock, head, (ws) => {
      const offs: (() => void)[] = [];
      ws.on('message', (m) => {
        const msg = JSON.parse(String(m)) as { type: string; buildId: string };
        if (msg.type === 'subscribe') offs.push(svc.status(msg.buildId, (event) => ws.send(JSON.stringify({ type: 'event', buildId: msg.buildId, event }))));
      });
      ws.on('close', () => offs.forEach((f) => f()));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${opts.token}`,
    async close() {
      wss.close();
      await new Promise((r) => server.close(r));
      await svc.close();
    },
  };
}
