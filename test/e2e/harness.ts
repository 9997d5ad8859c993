// The e2e suites drive the product's own `kiln serve` (engine/control/http/server.ts) in-process:
// the real control service on a random loopback port with a fresh token, serving the built
// renderer from dist/renderer — the same server `kiln serve` starts.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createControlService, type ControlService } from '../../engine/control/service.js';
import { startServer, type RunningServer } from '../../engine/control/http/server.js';
import { CHROMIUM } from '../helpers/env.js';

export const DIST = path.resolve('dist/renderer');
export const SHOTS = path.resolve('test-results/e2e');

/** Builds the renderer once per run of a suite file (force: always, e.g. after renderer edits). */
export function buildRenderer(force = true): void {
  if (!force && fs.existsSync(path.join(DIST, 'index.html'))) return;
  execFileSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'error'], { stdio: 'inherit' });
}

export interface Served {
  url: string;
  token: string;
  svc: ControlService;
  server: RunningServer;
  close(): Promise<void>;
}

export async function serveKiln(opts: { root: string; dockerHost?: string }): Promise<Served> {
  const svc = await createControlService({ root: opts.root, ...(opts.dockerHost ? { dockerHost: opts.dockerHost } : {}) });
  const token = randomBytes(16).toString('hex');
  const server = await startServer({ api: svc, token, port: 0, staticDir: DIST });
  return {
    url: server.url,
    token,
    svc,
    server,
    async close() {
      await server.close();
      await svc.close();
    },
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
}
