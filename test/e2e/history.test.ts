import { it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';
import { buildRenderer, launchChromium, serveKiln, SHOTS, type Served } from './harness.js';

describeWith(['engine', 'browser'], 'editor: recent files, unsaved mark, build history on the graph (kiln serve)', () => {
  let browser: Browser;
  let page: Page;
  let srv: Served;
  let tmp: string;

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    await buildRenderer();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-e2e-history-'));
    srv = await serveKiln({ root: path.join(tmp, 'root'), dockerHost: DOCKER_HOST });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(srv.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('marks unsaved changes in the title and lists opened files under Recent across reloads', async () => {
    const df = path.join(tmp, 'recent.Dockerfile');
    fs.writeFileSync(df, 'FROM busybox:local\nRUN echo remembered\n');
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Open Dockerfile…' }).first().click();
    await (await chooser).setFiles(df);
    await page.locator('.knode').first().waitFor();
    expect(await page.title()).toBe('recent.Dockerfile — Kiln');
    expect(await page.getByTestId('dirty').count()).toBe(0);
    await page.locator('.pitem[data-kind="mkdir"]').dblclick();
    await expect.poll(() => page.title()).toBe('● recent.Dockerfile — Kiln');
    expect(await page.getByTestId('dirty').count()).toBe(1);
    // a fresh page: the canvas is empty, and Recent reopens the Dockerfile
    page.once('dialog', (d) => d.accept());
    await page.reload();
    await page.getByRole('button', { name: 'Start from an example' }).waitFor();
    await page.getByRole('button', { name: 'Recent ▾' }).click();
    const item = page.getByTestId('recent-item').first();
    expect(await item.textContent()).toContain('recent.Dockerfile');
    await page.screenshot({ path: path.join(SHOTS, 'recent-menu.png') });
    await item.click();
    await expect.poll(() => page.locator('.knode[data-kind="run"] .ktitle').textContent()).toContain('echo remembered');
    expect(await page.title()).toBe('recent.Dockerfile — Kiln');
  });

  it('shows a past build’s timings and cached marks on the nodes, and compares two runs node by node', async () => {
    page.once('dialog', (d) => d.accept());
    await page.reload();
    await page.getByRole('button', { name: 'Start from an example' }).click();
    // a command no cache has seen, so the first run executes and the second is cached
    await page.locator('.knode[data-nodeid="run"]').click();
    await page.locator('.inspector input[name="command"]').fill(`echo history-${process.pid}-${Date.now()} > /greeting`);
    await page.locator('.knode[data-nodeid="oci"]').click();
    await page.locator('.inspector input[name="dest"]').fill(path.join(tmp, 'history-oci.tar'));
    const runBadge = page.locator('.knode[data-nodeid="run"] [data-testid="status"]');
    const run = async (expected: RegExp) => {
      await page.getByRole('button', { name: 'Run' }).click();
      await expect.poll(() => runBadge.textContent(), { timeout: 120_000 }).toMatch(expected);
      await expect.poll(() => page.getByRole('button', { name: 'Run' }).isEnabled(), { timeout: 60_000 }).toBe(true);
    };
    await run(/^done/);
    await run(/cached/);
    await page.getByRole('button', { name: 'History' }).click();
    const items = page.getByTestId('history-item');
    await expect.poll(() => items.count()).toBeGreaterThanOrEqual(2);
    // newest first: [0] is the cached run, [1] the one that executed
    await items.nth(1).locator('.history-row').click();
    await expect.poll(() => runBadge.textContent()).toMatch(/^done \d/);
    expect(await page.getByTestId('replay').textContent()).toContain('Showing past build');
    await items.nth(0).locator('.history-row').click();
    await expect.poll(() => runBadge.textContent()).toMatch(/cached/);
    await items.nth(0).locator('input[type="checkbox"]').check();
    await items.nth(1).locator('input[type="checkbox"]').check();
    await page.getByRole('button', { name: 'Compare the two ticked runs' }).click();
    const row = page.locator('[data-testid="compare"] tr[data-nodeid="run"]');
    await row.waitFor();
    // older run on the left: it ran the step; the newer one took it from the cache
    expect(await row.getByTestId('run-a').textContent()).toMatch(/^done \d/);
    expect(await row.getByTestId('run-b').textContent()).toBe('cached');
    expect(await row.getAttribute('class')).toContain('differs');
    await page.screenshot({ path: path.join(SHOTS, 'history-compare-dark.png') });
    await page.getByRole('button', { name: 'Light' }).click();
    await page.screenshot({ path: path.join(SHOTS, 'history-compare-light.png') });
    await page.getByRole('button', { name: 'Dark' }).click();
    await page.getByRole('button', { name: 'Back to live' }).click();
    expect(await page.getByTestId('replay').count()).toBe(0);
  }, 300_000);
});
