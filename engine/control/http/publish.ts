// One engine per root (./owner.ts) for the processes that host one: `kiln serve` and the desktop
// app. publishService serves a control service on loopback and records it as the root's owner,
// so a CLI started on that root becomes its client; openRootService is the app's way in: the
// running owner of the root as a client if there is one, else a service of its own, published.
import path from 'node:path';
import type { ControlAPI } from '../api.js';
import type { ControlService } from '../service.js';
import { findServe, removeServeRecord, writeServeRecord } from './owner.js';
import { startServer, type RunningServer } from './server.js';
import { createToken } from './token.js';

export interface Published {
  /** where it listens, with the token (what `kiln serve` prints) */
  url: string;
  server: RunningServer;
  /** removes the owner record and closes the server (not the service) */
  stop(): Promise<void>;
}

export async function publishService(svc: ControlService, o: { host?: string; port?: number } = {}): Promise<Published> {
  const token = createToken(svc.root);
  const server = await startServer({ api: svc, token, host: o.host ?? '127.0.0.1', port: o.port ?? 0 });
  const base = new URL(server.url);
  base.search = '';
  // unless it listens on every address, the CLI on this root reaches it where it listens
  if (base.hostname === '0.0.0.0' || base.hostname === '[::]') base.hostname = '127.0.0.1';
  writeServeRecord(svc.root, base.href);
  return {
    url: server.url,
    server,
    async stop() {
      removeServeRecord(svc.root);
      await server.close();
    },
  };
}

export type RootService = ControlAPI & {
  close(): Promise<void>;
  /** 'self': this process hosts the engine (and publishes it); else the owner's URL */
  owner: 'self' | string;
};

/** the engine of `root` (default: the user's state root) for a process that shows it, such as the desktop app */
export async function openRootService(opts: { root?: string; role?: string } = {}): Promise<RootService> {
  const { resolveRootDir } = await import('../deps.js');
  const root = path.resolve(opts.root ?? (await resolveRootDir()));
  if (process.env.KILN_EMBEDDED !== '1') {
    const owner = await findServe(root);
    if (owner) {
      const { connectHttp } = await import('../client.js');
      const c = connectHttp(owner.url, owner.token);
      return Object.assign(Object.create(c) as ControlAPI, { owner: owner.url, close: async () => c.close() });
    }
  }
  const { createControlService } = await import('../service.js');
  const svc = await createControlService({ root, ...(opts.role ? { role: opts.role } : {}) });
  const pub = await publishService(svc);
  return Object.assign(Object.create(svc) as ControlAPI, {
    owner: 'self' as const,
    async close() {
      await pub.stop();
      await svc.close();
    },
  });
}
