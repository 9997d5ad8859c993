// ControlAPI over HTTP + WebSocket, for a browser served by `kiln serve`: POST /api/<method> with a
// JSON body, status over /api/ws. The token comes from the page URL (?token=).
import type { ControlAPI } from '../../../engine/control/api.js';
import type { ProgressEvent } from '../../../engine/solver/types.js';

export function httpClient(base: string, token: string): ControlAPI {
  const call = async (method: string, body?: unknown) => {
    const res = await fetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body ?? {}),
    });
    const text = await res.text();
    const data = text ? JSON.parse(text) : undefined;
    // kiln serve answers failures as { error: "message", code? } (engine/control/http/server.ts)
    if (!res.ok) throw new Error(typeof data?.error === 'string' ? data.error : (data?.error?.message ?? `${method}: HTTP ${res.status}`));
    return data;
  };
  let ws: WebSocket | undefined;
  let ready: Promise<WebSocket> | undefined;
  const listeners = new Map<string, Set<(e: ProgressEvent) => void>>();
  const socket = () =>
    (ready ??= new Promise<WebSocket>((resolve, reject) => {
      const u = new URL(`${base}/api/ws`, location.href);
      u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
      u.searchParams.set('token', token);
      ws = new WebSocket(u);
      ws.onopen = () => resolve(ws!);
      ws.onerror = () => reject(new Error('status stream unavailable'));
      ws.onclose = () => (ready = undefined);
      ws.onmessage = (m) => {
        const msg = JSON.parse(String(m.data)) as { type: string; buildId: string; event?: ProgressEvent };
        if (msg.type === 'event' && msg.event) for (const l of listeners.get(msg.buildId) ?? []) l(msg.event);
      };
    }));
  return {
    solve: (req) => call('solve', req),
    status(buildId, onEvent) {
      let set = listeners.get(buildId);
      if (!set) listeners.set(buildId, (set = new Set()));
      set.add(onEvent);
      socket().then((s) => s.send(JSON.stringify({ type: 'subscribe', buildId }))).catch(() => {});
      return () => set!.delete(onEvent);
    },
    cancel: async (buildId) => void (await call('cancel', { id: buildId })),
    historyList: () => call('historyList'),
    historyGet: async (id) => (await call('historyGet', { id })) ?? undefined,
    du: () => call('du'),
    prune: (req) => call('prune', req),
    workers: () => call('workers'),
    info: async () => {
      const res = await fetch(`${base}/api/info`, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`info: HTTP ${res.status}`);
      return res.json();
    },
    graph: (input) => call('graph', input),
    project: (req) => call('project', req),
  };
}
