// `kiln serve`: the control API over HTTP + WebSocket on one port, with the renderer's built UI
// at `/`. Every /api route needs the bearer token (header, or ?token= for the browser page and
// the WebSocket, which cannot set headers); everything crossing is validated with ./schema.ts.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../package-root.js';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ControlAPI } from '../api.js';
import { methodSchemas, RPC_METHODS, formatZodError, wsClientMessageSchema, type RpcMethod } from '../schema.js';
import { statusWithEnd } from '../service.js';
import { tokenMatches } from './token.js';

export interface ServeOptions {
  api: ControlAPI;
  token: string;
  host?: string;
  port?: number;
  /** directory of the built renderer (default: dist/renderer next to the package) */
  staticDir?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024 * 1024;
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function defaultStaticDir(): string {
  return path.join(packageRoot(), 'dist', 'renderer');
}

function authorized(req: http.IncomingMessage, token: string, url: URL): boolean {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ') && tokenMatches(token, h.slice(7).trim())) return true;
  return tokenMatches(token, url.searchParams.get('token'));
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(data);
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > MAX_BODY) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw Object.assign(new Error('request body is not JSON'), { status: 400 });
  }
}

/** Call a method with its parsed request object (the HTTP body shape). */
async function dispatch(api: ControlAPI, method: RpcMethod, body: unknown): Promise<unknown> {
  const b = body as Record<string, unknown>;
  switch (method) {
    case 'solve':
      return api.solve(body as never);
    case 'cancel':
      await api.cancel(b['id'] as string);
      return {};
    case 'historyList':
      return api.historyList();
    case 'historyGet':
      return (await api.historyGet(b['id'] as string)) ?? null;
    case 'du':
      return api.du();
    case 'prune':
      return api.prune(body as never);
    case 'workers':
      return api.workers();
    case 'info':
      return api.info();
    case 'graph':
      return api.graph(body as never);
    case 'project':
      return api.project(body as never);
  }
}

const MIME: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.woff2': 'font/woff2' };

function serveStatic(dir: string, url: URL, res: http.ServerResponse): void {
  const rel = decodeURIComponent(url.pathname).replace(/^\/+/, '') || 'index.html';
  let file = path.resolve(dir, rel);
  if (!file.startsWith(path.resolve(dir) + path.sep)) {
    res.writeHead(403).end();
    return;
  }
  if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(dir, 'index.html');
  if (!fs.existsSync(file)) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('the renderer is not built: run `npm run build:renderer`\n');
    return;
  }
  res.writeHead(200, { 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream', 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
  fs.createReadStream(file).pipe(res);
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const { api, token } = opts;
  const host = opts.host ?? '127.0.0.1';
  const staticDir = opts.staticDir ?? defaultStaticDir();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith('/api/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
      return serveStatic(staticDir, url, res);
    }
    if (!authorized(req, token, url)) return send(res, 401, { error: 'unauthorized: a valid bearer token is required' });
    const method = url.pathname.slice('/api/'.length) as RpcMethod;
    if (!RPC_METHODS.includes(method)) return send(res, 404, { error: `unknown method ${method}` });
    if (req.method === 'GET' && method !== 'info' && method !== 'workers' && method !== 'historyList' && method !== 'du') return send(res, 405, { error: 'use POST' });
    if (req.method !== 'GET' && req.method !== 'POST') return send(res, 405, { error: 'method not allowed' });
    (async () => {
      const body = req.method === 'POST' ? await readBody(req) : {};
      const schema = methodSchemas[method];
      const parsed = schema.request.safeParse(body);
      if (!parsed.success) return send(res, 400, { error: `invalid ${method} request: ${formatZodError(parsed.error)}` });
      const out = await dispatch(api, method, parsed.data);
      send(res, 200, out);
    })().catch((e: Error & { status?: number; code?: string }) => {
      send(res, e.status ?? (e.code === 'invalid_request' ? 400 : 500), { error: e.message, ...(e.code ? { code: e.code } : {}) });
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/ws' || !authorized(req, token, url)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws));
  });

  function onSocket(ws: WebSocket): void {
    const subs = new Map<string, () => void>();
    const out = (m: unknown) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    ws.on('message', (data) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(data));
      } catch {
        return out({ type: 'error', message: 'message is not JSON' });
      }
      const p = wsClientMessageSchema.safeParse(msg);
      if (!p.success) return out({ type: 'error', message: formatZodError(p.error) });
      const { buildId } = p.data;
      if (p.data.type === 'unsubscribe') {
        subs.get(buildId)?.();
        subs.delete(buildId);
        return;
      }
      if (subs.has(buildId)) return;
      let ended = false;
      const un = statusWithEnd(
        api,
        buildId,
        (event) => out({ type: 'event', buildId, event }),
        () => {
          ended = true;
          subs.delete(buildId);
          out({ type: 'end', buildId });
        },
      );
      if (!ended) subs.set(buildId, un);
    });
    ws.on('close', () => {
      for (const un of subs.values()) un();
      subs.clear();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as import('node:net').AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${addr.port}/?token=${encodeURIComponent(token)}`,
    port: addr.port,
    host,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}
