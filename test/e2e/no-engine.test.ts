import { it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWith } from '../helpers/env.js';
import { buildRenderer, launchChromium, serveKiln } from './harness.js';

describeWith(['browser'], 'visual editor without a Docker Engine', () => {
  it('says clearly that the engine is unreachable, naming the endpoint', async () => {
    await buildRenderer();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-e2e-noengine-'));
    // the product's own server, pointed at an engine that is not there
    const srv = await serveKiln({ root: path.join(tmp, 'root'), dockerHost: `unix://${tmp}/no-such-docker.sock` });
    const browser = await launchChromium();
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
