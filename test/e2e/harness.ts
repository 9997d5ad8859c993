// The e2e suites drive the product's own `kiln serve` (engine/control/http/server.ts) in-process:
// the real control service on a random loopback port with a fresh token, serving the built
// renderer from dist/renderer — the same server `kiln serve` starts.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createControlService, type ControlService } from '../../engine/control/service.js';
import { startServer, type RunningServer } from '../../engine/control/http/server.js';
import { CHROMIUM } from '../helpers/env.js';

export const SHOTS = path.resolve('test-results/e2e');

/**
 * Builds the renderer from the current sources into a fresh directory of this suite's own, so
 * suites running side by side never serve each other's half-written bundle.
 */
export function buildRenderer(): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-e2e-ui-'));
  execFileSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'error', '--outDir', out, '--emptyOutDir'], { stdio: 'inherit' });
  return out;
}

export interface Served {
  url: string;
  token: string;
  svc: ControlService;
  server: RunningServer;
  close(): Promise<void>;
}

export async function serveKiln(opts: { root: string; dockerHost?: string; ui: string }): Promise<Served> {
  const svc = await createControlService({ root: opts.root, ...(opts.dockerHost ? { dockerHost: opts.dockerHost } : {}) });
  const token = randomBytes(16).toString('hex');
  const server = await startServer({ api: svc, token, port: 0, staticDir: opts.ui });
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
