// ControlAPI over HTTP + WebSocket (a running `kiln serve`): what `kiln build --addr` and the
// browser-served editor use. Responses are validated with the same schemas the server checks
// requests with.
import http from 'node:http';
import https from 'node:https';
import WebSocket from 'ws';
import type { ControlAPI } from './api.js';
import type { ProgressEvent } from '../solver/types.js';
import { methodSchemas, parseOrThrow, wsServerMessageSchema, type RpcMethod } from './schema.js';

export class HttpApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'HttpApiError';
  }
}

export type HttpControlAPI = ControlAPI & {
  /** status with an end callback (the server's end marker) */
  statusWithEnd(buildId: string, onEvent: (e: ProgressEvent) => void, onEnd: () => void): () => void;
  close(): void;
};

export function connectHttp(url: string, token: string): HttpControlAPI {
  const base = new URL(url);
  base.search = '';
  base.hash = '';
  const api = (m: string) => new URL(`/api/${m}`, base).href;

  async function call(method: RpcMethod, body: unknown): Promise<unknown> {
    const res = await post(api(method), token, JSON.stringify(body ?? {}));
    const text = res.text;
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      throw new HttpApiError(`${method}: HTTP ${res.status}: ${text.slice(0, 200)}`, res.status);
    }
    if (res.status < 200 || res.status > 299) {
      const e = data as { error?: string; code?: string } | undefined;
      throw new HttpApiError(e?.error ?? `${method}: HTTP ${res.status}`, res.status, e?.code);
    }
    return parseOrThrow(methodSchemas[method].response as never, data, `${method} response`);
  }

  // One socket shared by every subscription, opened on first use.
  let ws: WebSocket | undefined;
  let ready: Promise<WebSocket> | undefined;
  const subs = new Map<string, { onEvent: (e: ProgressEvent) => void; onEnd?: () => void }[]>();
  function socket(): Promise<WebSocket> {
    if (ready) return ready;
    const wsUrl = new URL('/api/ws', base);
    wsUrl.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    wsUrl.searchParams.set('token', token);
    ws = new WebSocket(wsUrl.href);
    ready = new Promise((resolve, reject) => {
      ws!.once('open', () => resolve(ws!));
      ws!.once('error', (e) => {
        ready = undefined;
        reject(e);
      });
    });
    ws.on('message', (data) => {
      let m;
      try {
        m = wsServerMessageSchema.parse(JSON.parse(String(data)));
      } catch {
        return;
      }
      if (m.type === 'error' || !m.buildId) return;
      const list = subs.get(m.buildId) ?? [];
      if (m.type === 'event') for (const s of list) s.onEvent(m.event as ProgressEvent);
      else {
        subs.delete(m.buildId);
        for (const s of list) s.onEnd?.();
      }
    });
    ws.on('close', () => {
      ready = undefined;
      ws = undefined;
    });
    return ready;
  }

  function statusWithEnd(buildId: string, onEvent: (e: ProgressEvent) => void, onEnd?: () => void): () => void {
    const entry = { onEvent, ...(onEnd ? { onEnd } : {}) };
    const list = subs.get(buildId) ?? [];
    const first = list.length === 0;
    list.push(entry);
    subs.set(buildId, list);
    if (first) socket().then((s) => s.send(JSON.stringify({ type: 'subscribe', buildId }))).catch(() => onEnd?.());
    return () => {
      const l = subs.get(buildId);
      if (!l) return;
      const i = l.indexOf(entry);
      if (i >= 0) l.splice(i, 1);
      if (l.length === 0) {
        subs.delete(buildId);
        ws?.send(JSON.stringify({ type: 'unsubscribe', buildId }));
      }
    };
  }

  return {
    solve: (req) => call('solve', req) as never,
    status: (buildId, onEvent) => statusWithEnd(buildId, onEvent),
    statusWithEnd,
    cancel: async (id) => {
      await call('cancel', { id });
    },
    historyList: () => call('historyList', {}) as never,
    historyGet: async (id) => ((await call('historyGet', { id })) ?? undefined) as never,
    du: () => call('du', {}) as never,
    prune: (req) => call('prune', req ?? {}) as never,
    workers: () => call('workers', {}) as never,
    info: () => call('info', {}) as never,
    graph: (input) => call('graph', input) as never,
    project: (req) => call('project', req) as never,
    close() {
      ws?.close();
    },
  };
}

/**
 * One POST over node:http. Why not fetch: its first use loads undici and compiles its llhttp
 * WebAssembly, and the process then waits at exit for the background tier-up (≈35 ms to load,
 * ≈200 ms at exit, measured on `kiln du --addr`) — longer than the call itself.
 */
function post(url: string, token: string, body: string): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
