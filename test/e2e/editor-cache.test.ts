// The editor's cache features against a real kiln serve: the Cache panel (du per node, prune), the
// invalidation preview after a run, and a graph with two exporters run as one job.
import { it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';
import { buildRenderer, launchChromium, serveKiln, SHOTS, type Served } from './harness.js';

describeWith(['engine', 'browser'], 'editor: cache panel, invalidation preview, multi-exporter run (kiln serve)', () => {
  let browser: Browser;
  let page: Page;
  let srv: Served;
  let tmp: string;

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    await buildRenderer();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-e2e-cache-'));
    srv = await serveKiln({ root: path.join(tmp, 'root'), dockerHost: DOCKER_HOST });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(srv.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  const affected = () => page.locator('.knode.affected').evaluateAll((els) => els.map((e) => e.getAttribute('data-nodeid')).sort());

  it('runs the example, previews what an edit would rebuild (edited node and its downstream only), and undo clears it', async () => {
    await page.getByRole('button', { name: 'Start from an example' }).click();
    await page.locator('.knode[data-nodeid="run"]').click();
    // a command no cache has seen, so the run executes and leaves records to show
    await page.locator('.inspector input[name="command"]').fill(`cat /hello.txt > /greeting && echo cache-${Date.now()}`);
    await page.locator('.knode[data-nodeid="oci"]').click();
    await page.locator('.inspector input[name="dest"]').fill(path.join(tmp, 'example.tar'));
    await page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => page.locator('.knode[data-nodeid="run"] [data-testid="status"]').textContent(), { timeout: 120_000 }).toMatch(/done/);
    await expect.poll(() => page.getByRole('button', { name: 'Run' }).isEnabled(), { timeout: 60_000 }).toBe(true);
    expect(await affected()).toEqual([]);
    await page.locator('.knode[data-nodeid="run"]').click();
    await page.locator('.inspector input[name="command"]').fill('echo edited');
    // the engine's digests say: run moved, so cfg and oci follow; base and hello stay cached
    await expect.poll(affected, { timeout: 20_000 }).toEqual(['cfg', 'oci', 'run']);
    await page.screenshot({ path: path.join(SHOTS, 'invalidation-preview.png') });
    await page.locator('.canvas').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+z');
    await expect.poll(affected, { timeout: 20_000 }).toEqual([]);
  }, 200_000);

  it('shows the build cache per node, and prunes it, saying what was reclaimed', async () => {
    await page.getByRole('button', { name: 'Cache' }).click();
    const rows = page.getByTestId('cache-row');
    await rows.first().waitFor();
    const sizes = await rows.evaluateAll((els) => els.map((e) => ({ node: e.getAttribute('data-nodeid'), size: Number(e.getAttribute('data-size')) })));
    const du = await srv.api.du();
    console.log('cache rows', sizes, 'du records', du.records.map((r) => [r.description, r.size]));
    // the run's records are attributed to its node, and the rows add up to du's total
    expect(sizes.find((s) => s.node === 'run')?.size ?? 0).toBeGreaterThan(0);
    expect(sizes.reduce((a, s) => a + s.size, 0)).toBe(du.records.reduce((a, r) => a + r.size, 0));
    expect(await page.getByTestId('cache-total').textContent()).toMatch(/Total \d/);
    await page.screenshot({ path: path.join(SHOTS, 'cache-panel.png') });
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Prune…' }).click();
    await expect.poll(() => page.getByTestId('cache-pruned').textContent().catch(() => ''), { timeout: 60_000 }).toMatch(/Reclaimed/);
    const text = (await page.getByTestId('cache-pruned').textContent())!;
    expect(text).not.toMatch(/Reclaimed 0 B/);
    expect(text).toMatch(/\(\d+ records?\)/);
    expect((await srv.api.du()).records).toHaveLength(0);
    await expect.poll(() => page.getByTestId('cache-row').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'cache-pruned.png') });
    await page.getByRole('button', { name: 'Close' }).click();
  }, 120_000);

  it('runs a graph with two exporters as one job, writing both outputs', async () => {
    const oci = path.join(tmp, 'two-oci.tar');
    const rootfs = path.join(tmp, 'two-rootfs.tar');
    const doc = {
      kind: 'kiln.graph', version: 1, name: 'two-exporters',
      nodes: [
        { id: 'base', kind: 'image', params: { ref: 'busybox:local' }, position: { x: 0, y: 0 } },
        { id: 'file', kind: 'mkfile', params: { path: '/two.txt', data: 'two exporters\n' }, position: { x: 0, y: 0 } },
        { id: 'oci', kind: 'export-oci', params: { dest: oci }, position: { x: 0, y: 0 } },
        { id: 'rootfs', kind: 'export-rootfs', params: { dest: rootfs }, position: { x: 0, y: 0 } },
      ],
      edges: [
        { id: 'e1', source: 'base', sourcePort: 'out', target: 'file', targetPort: 'in' },
        { id: 'e2', source: 'file', sourcePort: 'out', target: 'oci', targetPort: 'in' },
        { id: 'e3', source: 'file', sourcePort: 'out', target: 'rootfs', targetPort: 'in' },
      ],
      groups: [],
    };
    const file = path.join(tmp, 'two.kiln.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    const before = (await srv.api.historyList()).length;
    page.once('dialog', (d) => d.accept());
    await page.reload();
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Open…', exact: true }).click();
    await (await chooser).setFiles(file);
    await page.locator('.knode[data-nodeid="rootfs"]').waitFor();
    await page.locator('.canvas').click({ position: { x: 5, y: 5 } });
    await page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => page.getByTestId('notice').textContent().catch(() => ''), { timeout: 120_000 }).toMatch(/exported|error|fail|choose/i);
    expect(await page.getByTestId('notice').textContent()).not.toMatch(/choose a target|error|fail/i);
    await expect.poll(() => fs.existsSync(oci) && fs.existsSync(rootfs), { timeout: 30_000 }).toBe(true);
    expect(execFileSync('tar', ['-tf', rootfs], { encoding: 'utf8' }).split('\n').some((l) => /^(\.\/)?two\.txt$/.test(l))).toBe(true);
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${oci}`], { encoding: 'utf8' })) as { Layers: string[] };
    expect(inspect.Layers.length).toBeGreaterThan(0);
    expect((await srv.api.historyList()).length).toBe(before + 1);
    await page.screenshot({ path: path.join(SHOTS, 'two-exporters.png') });
  }, 200_000);
});
