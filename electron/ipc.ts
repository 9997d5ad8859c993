// One IPC handler per ControlAPI method. Every call is checked against the sender's frame URL
// before it reaches the control service, so a page that somehow loaded inside the window (or a
// subframe) cannot drive builds. Arguments are handed to the service as-is: the service
// validates requests with its zod schemas, the same boundary the HTTP transport uses.
import type { ControlAPI } from '../engine/control/api.js';
import type { ProgressEvent } from '../engine/solver/types.js';
import {
  API_METHODS,
  STATUS_END,
  STATUS_EVENT,
  STATUS_SUBSCRIBE,
  STATUS_UNSUBSCRIBE,
  apiChannel,
  type ApiMethod,
} from './channels.js';
import type { IpcMain, IpcMainInvokeEvent, WebContents } from './electron-types.js';

export class UntrustedSenderError extends Error {
  constructor(url: string | undefined) {
    super(`IPC from untrusted frame ${JSON.stringify(url ?? null)} refused`);
    this.name = 'UntrustedSenderError';
  }
}

export type IpcHandler = (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown>;

export interface IpcRegistration {
  /** channel → handler, exactly what was passed to ipcMain.handle (tests call these directly) */
  handlers: Map<string, IpcHandler>;
  /** live status subscriptions (per renderer) */
  subscriptions(): number;
  dispose(): void;
}

export function assertTrustedSender(event: IpcMainInvokeEvent, isTrusted: (url: string | undefined) => boolean): void {
  const url = event.senderFrame?.url;
  if (!isTrusted(url)) throw new UntrustedSenderError(url);
}

/**
 * Electron passes only an error's message across IPC, so make that explicit (and drop stacks that
 * would leak main-process paths). Build failures are not thrown: solve() returns them as data.
 */
function serializable(e: unknown): Error {
  if (e instanceof Error) {
    const out = new Error(e.message);
    out.name = e.name;
    return out;
  }
  return new Error(String(e));
}

export function registerIpc(
  ipcMain: IpcMain,
  api: () => ControlAPI | Promise<ControlAPI>,
  isTrusted: (url: string | undefined) => boolean,
  extra: Record<string, (...args: unknown[]) => unknown> = {},
): IpcRegistration {
  const handlers = new Map<string, IpcHandler>();
  // sub id → stop function; per WebContents so a closed window drops its streams.
  const subs = new Map<string, { stop: () => void; contents: WebContents }>();
  let nextSub = 1;
  const watched = new WeakSet<WebContents>();

  const guard =
    (fn: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): IpcHandler =>
    async (event, ...args) => {
      assertTrustedSender(event, isTrusted);
      try {
        return await fn(event, ...args);
      } catch (e) {
        if (e instanceof UntrustedSenderError) throw e;
        throw serializable(e);
      }
    };

  for (const m of API_METHODS) {
    handlers.set(
      apiChannel(m),
      guard(async (_e, ...args) => {
        const svc = await api();
        const fn = svc[m as ApiMethod] as (...a: unknown[]) => Promise<unknown>;
        return fn.apply(svc, args);
      }),
    );
  }

  handlers.set(
    STATUS_SUBSCRIBE,
    guard(async (event, buildId) => {
      if (typeof buildId !== 'string' || buildId === '') throw new Error('status: buildId must be a non-empty string');
      const svc = await api();
      const sub = `s${nextSub++}`;
      const contents = event.sender;
      const send = (channel: string, payload: unknown): void => {
        if (!contents.isDestroyed()) contents.send(channel, payload);
      };
      const stop = svc.status(buildId, (ev: ProgressEvent) => send(STATUS_EVENT, { sub, event: ev }));
      subs.set(sub, { stop, contents });
      // A window that closes mid-build must not keep its streams (and their buffers) alive.
      if (!watched.has(contents)) {
        watched.add(contents);
        contents.on('destroyed', () => {
          for (const [id, s] of subs) {
            if (s.contents !== contents) continue;
            s.stop();
            subs.delete(id);
          }
        });
      }
      return sub;
    }),
  );

  handlers.set(
    STATUS_UNSUBSCRIBE,
    guard((_e, sub) => {
      const s = typeof sub === 'string' ? subs.get(sub) : undefined;
      if (s) {
        s.stop();
        subs.delete(sub as string);
        if (!s.contents.isDestroyed()) s.contents.send(STATUS_END, { sub });
      }
      return s !== undefined;
    }),
  );

  for (const [channel, fn] of Object.entries(extra)) handlers.set(channel, guard((_e, ...args) => fn(...args)));

  for (const [channel, h] of handlers) ipcMain.handle(channel, h);

  return {
    handlers,
    subscriptions: () => subs.size,
    dispose() {
      for (const s of subs.values()) s.stop();
      subs.clear();
      for (const channel of handlers.keys()) ipcMain.removeHandler(channel);
    },
  };
}
