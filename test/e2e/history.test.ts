import { it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { describeWith } from '../helpers/env.js';
import { editorSession } from './harness.js';

describeWith(['engine', 'browser'], 'editor: recent files, unsaved mark, build history on the graph (kiln serve)', () => {
  const ui = editorSession('history');

  it('marks unsaved changes in the title and lists opened files under Recent across reloads', async () => {
    const df = path.join(ui.tmp, 'recent.Dockerfile');
    fs.writeFileSync(df, 'FROM busybox:local\nRUN echo remembered\n');
    const chooser = ui.page.waitForEvent('filechooser');
    await ui.page.getByRole('button', { name: 'Open Dockerfile…' }).first().click();
    await (await chooser).setFiles(df);
    await ui.page.locator('.knode').first().waitFor();
    expect(await ui.page.title()).toBe('recent.Dockerfile — Kiln');
    expect(await ui.page.getByTestId('dirty').count()).toBe(0);
    await ui.page.locator('.pitem[data-kind="mkdir"]').dblclick();
    await expect.poll(() => ui.page.title()).toBe('● recent.Dockerfile — Kiln');
    expect(await ui.page.getByTestId('dirty').count()).toBe(1);
    // a fresh page: the canvas is empty, and Recent reopens the Dockerfile
    ui.page.once('dialog', (d) => d.accept());
    await ui.page.reload();
    await ui.page.getByRole('button', { name: 'Start from an example' }).waitFor();
    await ui.page.getByRole('button', { name: 'Recent ▾' }).click();
    const item = ui.page.getByTestId('recent-item').first();
    expect(await item.textContent()).toContain('recent.Dockerfile');
    await ui.shot('recent-menu');
    await item.click();
    await expect.poll(() => ui.page.locator('.knode[data-kind="run"] .ktitle').textContent()).toContain('echo remembered');
    expect(await ui.page.title()).toBe('recent.Dockerfile — Kiln');
  });

  it('shows a past build’s timings and cached marks on the nodes, and compares two runs node by node', async () => {
    ui.page.once('dialog', (d) => d.accept());
    await ui.page.reload();
    await ui.page.getByRole('button', { name: 'Start from an example' }).click();
    // a command no cache has seen, so the first run executes and the second is cached
    await ui.page.locator('.knode[data-nodeid="run"]').click();
    await ui.page.locator('.inspector input[name="command"]').fill(`echo history-${process.pid}-${Date.now()} > /greeting`);
    await ui.page.locator('.knode[data-nodeid="oci"]').click();
    await ui.page.locator('.inspector input[name="dest"]').fill(path.join(ui.tmp, 'history-oci.tar'));
    const runBadge = ui.page.locator('.knode[data-nodeid="run"] [data-testid="status"]');
    const run = async (expected: RegExp) => {
      await ui.page.getByRole('button', { name: 'Run' }).click();
      await expect.poll(() => runBadge.textContent(), { timeout: 120_000 }).toMatch(expected);
      await expect.poll(() => ui.page.getByRole('button', { name: 'Run' }).isEnabled(), { timeout: 60_000 }).toBe(true);
    };
    await run(/^done/);
    await run(/cached/);
    await ui.page.getByRole('button', { name: 'History' }).click();
    const items = ui.page.getByTestId('history-item');
    await expect.poll(() => items.count()).toBeGreaterThanOrEqual(2);
    // newest first: [0] is the cached run, [1] the one that executed
    await items.nth(1).locator('.history-row').click();
    await expect.poll(() => runBadge.textContent()).toMatch(/^done \d/);
    expect(await ui.page.getByTestId('replay').textContent()).toContain('Showing past build');
    await items.nth(0).locator('.history-row').click();
    await expect.poll(() => runBadge.textContent()).toMatch(/cached/);
    await items.nth(0).locator('input[type="checkbox"]').check();
    await items.nth(1).locator('input[type="checkbox"]').check();
    await ui.page.getByRole('button', { name: 'Compare the two ticked runs' }).click();
    const row = ui.page.locator('[data-testid="compare"] tr[data-nodeid="run"]');
    await row.waitFor();
    // older run on the left: it ran the step; the newer one took it from the cache
    expect(await row.getByTestId('run-a').textContent()).toMatch(/^done \d/);
    expect(await row.getByTestId('run-b').textContent()).toBe('cached');
    expect(await row.getAttribute('class')).toContain('differs');
    await ui.shot('history-compare-dark');
    await ui.page.getByRole('button', { name: 'Light' }).click();
    await ui.shot('history-compare-light');
    await ui.page.getByRole('button', { name: 'Dark' }).click();
    await ui.page.getByRole('button', { name: 'Back to live' }).click();
    expect(await ui.page.getByTestId('replay').count()).toBe(0);
  }, 300_000);
});
