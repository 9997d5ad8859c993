// The engine side of the utility-process split: the control service runs in an Electron utility
// process (a Node child), so checksumming a large context or parsing a big tar never stalls the
// main process that handles the window, menus and IPC. This module answers the main process's
// messages with calls on the real ControlAPI; engine-client.ts is the other end.
import type { ControlAPI } from '../engine/control/api.js';
import { API_METHODS, type ApiMethod } from './channels.js';
import { loadControlService, type HostedService } from './service.js';

export type HostRequest =
  | { type: 'call'; id: number; method: ApiMethod; args: unknown[] }
  | { type: 'subscribe'; sub: string; buildId: string }
  | { type: 'unsubscribe'; sub: string }
  | { type: 'close'; id: number };

export type HostReply =
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: { message: string; name?: string } }
  | { type: 'event'; sub: string; event: unknown };

export interface HostPort {
  onMessage(fn: (msg: HostRequest) => void): void;
  postMessage(msg: HostReply): void;
}

const methods = new Set<string>(API_METHODS);

export function serveControl(port: HostPort, api: ControlAPI | HostedService): void {
  const subs = new Map<string, () => void>();
  port.onMessage((msg) => {
    switch (msg.type) {
      case 'call': {
        if (!methods.has(msg.method)) {
          port.postMessage({ type: 'result', id: msg.id, ok: false, error: { message: `unknown method ${String(msg.method)}` } });
          return;
        }
        const fn = api[msg.method] as (...a: unknown[]) => Promise<unknown>;
        Promise.resolve()
          .then(() => fn.apply(api, Array.isArray(msg.args) ? msg.args : []))
          .then(
            (value) => port.postMessage({ type: 'result', id: msg.id, ok: true, value }),
            (e: unknown) =>
              port.postMessage({
                type: 'result',
                id: msg.id,
                ok: false,
                error: { message: e instanceof Error ? e.message : String(e), ...(e instanceof Error ? { name: e.name } : {}) },
              }),
          );
        return;
      }
      case 'subscribe':
        subs.get(msg.sub)?.();
        subs.set(msg.sub, api.status(msg.buildId, (event) => port.postMessage({ type: 'event', sub: msg.sub, event })));
        return;
      case 'unsubscribe':
        subs.get(msg.sub)?.();
        subs.delete(msg.sub);
        return;
      case 'close':
        for (const stop of subs.values()) stop();
        subs.clear();
        Promise.resolve('close' in api ? api.close() : undefined).finally(() =>
          port.postMessage({ type: 'result', id: msg.id, ok: true, value: null }),
        );
        return;
    }
  });
}

// Entry point inside the utility process: Electron gives it process.parentPort.
type ParentPort = { on(ev: 'message', fn: (e: { data: unknown }) => void): void; postMessage(m: unknown): void };
const parentPort = (process as { parentPort?: ParentPort }).parentPort;
if (parentPort) {
  const service = await loadControlService({});
  serveControl(
    {
      onMessage: (fn) => parentPort.on('message', (e) => fn(e.data as HostRequest)),
      postMessage: (m) => parentPort.postMessage(m),
    },
    service,
  );
}
