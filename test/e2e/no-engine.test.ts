import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describeWith, CHROMIUM } from '../helpers/env.js';
import { serveEditor } from './serve.js';

describeWith(['browser'], 'visual editor without a Docker Engine', () => {
  it('says clearly that the engine is unreachable, naming the endpoint', async () => {
    if (!fs.existsSync('dist/renderer/index.html')) execFileSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'error'], { stdio: 'inherit' });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-e2e-noengine-'));
    const srv = await serveEditor({ root: path.join(tmp, 'root'), dockerHost: `unix://${tmp}/no-such-docker.sock`, token: 't', dist: path.resolve('dist/renderer') });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      await page.goto(srv.url);
      const banner = page.getByTestId('engine-banner');
      await banner.waitFor({ timeout: 30_000 });
      expect(await banner.textContent()).toContain('no-such-docker.sock');
      fs.mkdirSync('test-results/e2e', { recursive: true });
      await page.screenshot({ path: 'test-results/e2e/no-engine.png' });
    } finally {
      await browser.close();
      await srv.close();
    }
  }, 120_000);
});
