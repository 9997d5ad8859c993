// The main-process end of the utility-process split (see engine-host.ts): a ControlAPI whose
// calls are messages to the engine process. If that process dies, pending calls fail with the
// reason and later calls report the engine as gone instead of hanging.
import type { ControlAPI } from '../engine/control/api.js';
import { API_METHODS } from './channels.js';
import type { HostReply, HostRequest } from './engine-host.js';
import type { HostedService } from './service.js';

export interface EngineProcess {
  postMessage(msg: HostRequest): void;
  onMessage(fn: (msg: HostReply) => void): void;
  onExit(fn: (code: number) => void): void;
  kill(): void;
}

export function connectEngineProcess(child: EngineProcess): HostedService {
  let nextId = 1;
  let nextSub = 1;
  let exited: string | undefined;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, (e: unknown) => void>();

  child.onMessage((msg) => {
    if (msg.type === 'event') {
      listeners.get(msg.sub)?.(msg.event);
      return;
    }
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.value);
    else {
      const err = new Error(msg.error.message);
      if (msg.error.name) err.name = msg.error.name;
      p.reject(err);
    }
  });
  child.onExit((code) => {
    exited = `the engine process exited (code ${code})`;
    for (const p of pending.values()) p.reject(new Error(exited));
    pending.clear();
    listeners.clear();
  });

  const request = (make: (id: number) => HostRequest): Promise<unknown> => {
    if (exited) return Promise.reject(new Error(exited));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      child.postMessage(make(id));
    });
  };

  const api: Partial<Record<keyof ControlAPI, unknown>> = {};
  for (const m of API_METHODS) api[m] = (...args: unknown[]) => request((id) => ({ type: 'call', id, method: m, args }));
  api.status = (buildId: string, onEvent: (e: unknown) => void) => {
    const sub = `u${nextSub++}`;
    listeners.set(sub, onEvent);
    if (!exited) child.postMessage({ type: 'subscribe', sub, buildId });
    return () => {
      listeners.delete(sub);
      if (!exited) child.postMessage({ type: 'unsubscribe', sub });
    };
  };
  return {
    ...(api as ControlAPI),
    async close() {
      if (!exited) {
        await request((id) => ({ type: 'close', id })).catch(() => undefined);
        child.kill();
      }
    },
  };
}
