// Runs from the editor against a real kiln serve: nodes dragged from the palette (HTML5 drag and
// drop) wired into an OCI export, an opened Dockerfile reading its build context, and Cancel.
import { it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';
import { buildRenderer, launchChromium, serveKiln, SHOTS, type Served } from './harness.js';

describeWith(['engine', 'browser'], 'editor: palette drag to an OCI tar, build context, cancel (kiln serve)', () => {
  let browser: Browser;
  let page: Page;
  let srv: Served;
  let tmp: string;

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    await buildRenderer();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-e2e-runs-'));
    srv = await serveKiln({ root: path.join(tmp, 'root'), dockerHost: DOCKER_HOST });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(srv.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  const node = (kind: string) => page.locator(`.knode[data-kind="${kind}"]`);
  const status = (kind: string) => node(kind).locator('[data-testid="status"]').textContent();
  const wire = async (from: string, to: string) => {
    const n = await page.locator('.react-flow__edge').count();
    await page.locator(`.react-flow__node:has(.knode[data-kind="${from}"]) .react-flow__handle.source`).first().dragTo(page.locator(`.react-flow__node:has(.knode[data-kind="${to}"]) .react-flow__handle.target`).first());
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(n + 1);
  };

  it('drags image, run and OCI tar from the palette, wires them, runs, and skopeo reads the tar', async () => {
    const canvas = page.locator('.canvas');
    await page.locator('.pitem[data-kind="image"]').dragTo(canvas, { targetPosition: { x: 40, y: 200 } });
    await page.locator('.pitem[data-kind="run"]').dragTo(canvas, { targetPosition: { x: 340, y: 200 } });
    await page.locator('.pitem[data-kind="export-oci"]').dragTo(canvas, { targetPosition: { x: 640, y: 200 } });
    await expect.poll(() => page.locator('.knode').count()).toBe(3);
    // each landed where it was dropped, left to right
    const xs = await Promise.all(['image', 'run', 'export-oci'].map(async (k) => (await node(k).boundingBox())!.x));
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    await wire('image', 'run');
    await wire('run', 'export-oci');
    await node('run').click();
    await page.locator('.inspector input[name="command"]').fill(`echo dragged > /dragged && echo ran-${Date.now()}`);
    await node('export-oci').click();
    const dest = path.join(tmp, 'dragged-oci.tar');
    await page.locator('.inspector input[name="dest"]').fill(dest);
    await page.locator('.canvas').click({ position: { x: 5, y: 5 } });
    await page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => status('run'), { timeout: 120_000 }).toMatch(/done|cached/);
    await expect.poll(() => status('image'), { timeout: 30_000 }).toMatch(/done|cached/);
    await expect.poll(() => page.getByTestId('notice').textContent().catch(() => ''), { timeout: 60_000 }).toMatch(/exported/);
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${dest}`], { encoding: 'utf8' })) as { Layers: string[] };
    expect(inspect.Layers.length).toBeGreaterThan(1);
    await page.screenshot({ path: path.join(SHOTS, 'palette-drag-run.png') });
  }, 200_000);

  it('builds an opened Dockerfile against its build context (COPY . reads the context dir)', async () => {
    const ctx = path.join(tmp, 'ctx');
    fs.mkdirSync(ctx, { recursive: true });
    const marker = `from the context ${Date.now()}`;
    fs.writeFileSync(path.join(ctx, 'hello.txt'), marker + '\n');
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox:local\nCOPY . /src\nRUN cat /src/hello.txt\n');
    page.once('dialog', (d) => d.accept());
    await page.reload();
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Open Dockerfile…' }).first().click();
    await (await chooser).setFiles(path.join(ctx, 'Dockerfile'));
    await node('run').waitFor();
    // a browser pick carries no directory: the context is typed, and every solve sends it
    await page.getByTestId('context').fill(ctx);
    await node('run').click();
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => status('run'), { timeout: 120_000 }).toMatch(/done|cached|failed/);
    expect(await status('run')).toMatch(/done/);
    await node('run').click();
    await page.getByRole('button', { name: 'Logs' }).click();
    await expect.poll(() => page.getByTestId('logs').textContent()).toContain(marker);
    expect(await page.locator('.knode.sel').getAttribute('data-kind')).toBe('run');
    await page.screenshot({ path: path.join(SHOTS, 'dockerfile-context-run.png') });
  }, 200_000);

  it('cancels a running build: the step ends canceled, Run is enabled again, history says canceled', async () => {
    page.once('dialog', (d) => d.accept());
    await page.reload();
    await page.locator('.pitem[data-kind="image"]').dblclick();
    await page.locator('.pitem[data-kind="run"]').dblclick();
    await wire('image', 'run');
    await node('run').click();
    await page.locator('.inspector input[name="command"]').fill(`sleep 30 # ${Date.now()}`);
    await node('run').click();
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => status('run'), { timeout: 60_000 }).toMatch(/running/);
    expect(await page.getByRole('button', { name: 'Run' }).isEnabled()).toBe(false);
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Run' }).isEnabled(), { timeout: 30_000 }).toBe(true);
    console.log(`cancel → Run enabled in ${Date.now() - t0} ms`);
    expect(await status('run')).not.toMatch(/running/);
    expect(await status('run')).toMatch(/canceled/);
    const [last] = await srv.api.historyList();
    expect(last!.status).toBe('canceled');
    await page.screenshot({ path: path.join(SHOTS, 'run-canceled.png') });
    await page.getByRole('button', { name: 'History' }).click();
    await expect.poll(() => page.locator('.hstatus').first().textContent()).toMatch(/canceled/);
  }, 200_000);
});
