import { it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWith, DOCKER_HOST, REGISTRY } from '../helpers/env.js';
import { buildRenderer, launchChromium, serveKiln, SHOTS, type Served } from './harness.js';

interface Sample { state: string | null; current: number | null; total: number | null; text: string | null }

describeWith(['engine', 'registry', 'browser'], 'editor: registry push shows bytes pushed / total (kiln serve)', () => {
  let browser: Browser;
  let page: Page;
  let srv: Served;
  let tmp: string;

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    await buildRenderer();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-e2e-push-'));
    srv = await serveKiln({ root: path.join(tmp, 'root'), dockerHost: DOCKER_HOST });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(srv.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('follows the push in the export dialog and on the node, ending at the image’s pushed size', async () => {
    await page.getByRole('button', { name: 'Start from an example' }).click();
    // an 8 MB layer of random bytes (gzip cannot shrink it), new to every run and every registry repo
    await page.locator('.knode[data-nodeid="run"]').click();
    await page.locator('.inspector input[name="command"]').fill(`head -c 8000000 /dev/urandom > /big && echo push-${process.pid}-${Date.now()}`);
    await page.getByRole('button', { name: 'Export this node…' }).click();
    await page.getByLabel('Export type').selectOption('export-registry');
    const name = `${REGISTRY}/kiln-e2e/push-progress:${Date.now().toString(36)}`;
    await page.locator('.modal input[name="imagename"]').fill(name);
    // record every state the dialog's progress goes through, as the DOM changes
    await page.evaluate(() => {
      const w = window as unknown as { __samples: Sample[] };
      w.__samples = [];
      let last = '';
      const sample = () => {
        const el = document.querySelector('[data-testid="export-progress"]');
        if (!el) return;
        const num = (a: string) => (el.hasAttribute(a) ? Number(el.getAttribute(a)) : null);
        const s = { state: el.getAttribute('data-state'), current: num('data-current'), total: num('data-total'), text: el.querySelector('[data-testid="export-bytes"]')?.textContent ?? null };
        const key = JSON.stringify(s);
        if (key !== last) w.__samples.push(s), (last = key);
      };
      new MutationObserver(sample).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    await page.locator('.modal').getByRole('button', { name: 'Export' }).click();
    const progress = page.getByTestId('export-progress');
    await expect.poll(() => progress.getAttribute('data-state'), { timeout: 180_000 }).toMatch(/done|failed/);
    await page.getByTestId('export-result').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'push-progress-dialog.png') });
    expect(await progress.getAttribute('data-state')).toBe('done');

    // what the registry holds: the pushed size is the config blob plus every layer blob
    const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${name}`], { encoding: 'utf8' })) as { config: { size: number }; layers: { size: number }[] };
    const pushed = manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
    expect(pushed).toBeGreaterThan(8_000_000);
    const { Digest } = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${name}`], { encoding: 'utf8' })) as { Digest: string };

    const samples = (await page.evaluate(() => (window as unknown as { __samples: Sample[] }).__samples)) as Sample[];
    const bytes = samples.filter((s) => s.total !== null);
    console.log(`push progress: ${bytes.length} byte figures seen in the dialog, ${samples.length} states in all; pushed ${pushed} bytes`);
    // the byte figure appeared while the push ran, below the total, in "x MB / y MB" form
    const during = bytes.filter((s) => s.state === 'running' && s.current! < s.total!);
    expect(during.length).toBeGreaterThan(0);
    expect(during[0]!.text).toMatch(/^\d+(\.\d+)? (B|kB|MB) \/ \d+(\.\d+)? MB$/);
    // never backwards, and the total is the image's size from the start
    for (let i = 1; i < bytes.length; i++) expect(bytes[i]!.current!).toBeGreaterThanOrEqual(bytes[i - 1]!.current!);
    expect(new Set(bytes.map((s) => s.total))).toEqual(new Set([pushed]));
    // the final figure is the pushed size, and the result names the digest the registry serves
    expect(Number(await progress.getAttribute('data-current'))).toBe(pushed);
    expect(Number(await progress.getAttribute('data-total'))).toBe(pushed);
    expect(await page.getByTestId('export-bytes').textContent()).toBe(`${(pushed / 1e6).toFixed(2)} MB / ${(pushed / 1e6).toFixed(2)} MB`);
    expect(await page.getByTestId('export-result').textContent()).toContain(`Pushed ${name}`);
    expect(await page.getByTestId('export-digest').textContent()).toBe(Digest);

    // the exported node carries the same figure after the dialog is closed
    await page.locator('.modal').getByRole('button', { name: 'Close' }).click();
    const line = page.locator('.knode[data-nodeid="run"] [data-testid="transfer"]');
    expect(await line.getAttribute('data-state')).toBe('done');
    expect(Number(await line.getAttribute('data-total'))).toBe(pushed);
    expect(await line.textContent()).toContain(`pushed ${(pushed / 1e6).toFixed(2)} MB`);
    await page.screenshot({ path: path.join(SHOTS, 'push-progress-node.png') });
  }, 300_000);
});
