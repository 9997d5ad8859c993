// The editor's cache features against a real kiln serve: the Cache panel (du per node, prune), the
// invalidation preview after a run, and a graph with two exporters run as one job.
import { it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describeWith } from '../helpers/env.js';
import { editorSession } from './harness.js';

describeWith(['engine', 'browser'], 'editor: cache panel, invalidation preview, multi-exporter run (kiln serve)', () => {
  const ui = editorSession('cache');

  const affected = () => ui.page.locator('.knode.affected').evaluateAll((els) => els.map((e) => e.getAttribute('data-nodeid')).sort());

  it('runs the example, previews what an edit would rebuild (edited node and its downstream only), and undo clears it', async () => {
    await ui.page.getByRole('button', { name: 'Start from an example' }).click();
    await ui.page.locator('.knode[data-nodeid="run"]').click();
    // a command no cache has seen, so the run executes and leaves records to show
    await ui.page.locator('.inspector input[name="command"]').fill(`cat /hello.txt > /greeting && echo cache-${Date.now()}`);
    await ui.page.locator('.knode[data-nodeid="oci"]').click();
    await ui.page.locator('.inspector input[name="dest"]').fill(path.join(ui.tmp, 'example.tar'));
    await ui.page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => ui.page.locator('.knode[data-nodeid="run"] [data-testid="status"]').textContent(), { timeout: 120_000 }).toMatch(/done/);
    await expect.poll(() => ui.page.getByRole('button', { name: 'Run' }).isEnabled(), { timeout: 60_000 }).toBe(true);
    expect(await affected()).toEqual([]);
    await ui.page.locator('.knode[data-nodeid="run"]').click();
    await ui.page.locator('.inspector input[name="command"]').fill('echo edited');
    // the engine's digests say: run moved, so cfg and oci follow; base and hello stay cached
    await expect.poll(affected, { timeout: 20_000 }).toEqual(['cfg', 'oci', 'run']);
    await ui.shot('invalidation-preview');
    await ui.page.locator('.canvas').click({ position: { x: 5, y: 5 } });
    await ui.page.keyboard.press('Control+z');
    await expect.poll(affected, { timeout: 20_000 }).toEqual([]);
  }, 200_000);

  it('shows the build cache per node, and prunes it, saying what was reclaimed', async () => {
    await ui.page.getByRole('button', { name: 'Cache' }).click();
    const rows = ui.page.getByTestId('cache-row');
    await rows.first().waitFor();
    const sizes = await rows.evaluateAll((els) => els.map((e) => ({ node: e.getAttribute('data-nodeid'), size: Number(e.getAttribute('data-size')) })));
    const du = await ui.srv.api.du();
    console.log('cache rows', sizes, 'du records', du.records.map((r) => [r.description, r.size]));
    // the run's records are attributed to its node, and the rows add up to du's total
    expect(sizes.find((s) => s.node === 'run')?.size ?? 0).toBeGreaterThan(0);
    expect(sizes.reduce((a, s) => a + s.size, 0)).toBe(du.records.reduce((a, r) => a + r.size, 0));
    expect(await ui.page.getByTestId('cache-total').textContent()).toMatch(/Total \d/);
    // the runc worker unpacked busybox for the run: shown apart from the records, and kept by prune
    expect(du.imageCopies?.count).toBeGreaterThanOrEqual(1);
    expect(await ui.page.getByTestId('cache-image-copies').textContent()).toMatch(/^Image copies \d.* \(\d+ images?, kept while in the engine\)$/);
    await ui.shot('cache-panel');
    ui.page.once('dialog', (d) => d.accept());
    await ui.page.getByRole('button', { name: 'Prune…' }).click();
    await expect.poll(() => ui.page.getByTestId('cache-pruned').textContent().catch(() => ''), { timeout: 60_000 }).toMatch(/Reclaimed/);
    const text = (await ui.page.getByTestId('cache-pruned').textContent())!;
    expect(text).not.toMatch(/Reclaimed 0 B/);
    expect(text).toMatch(/\(\d+ records?\)/);
    expect((await ui.srv.api.du()).records).toHaveLength(0);
    await expect.poll(() => ui.page.getByTestId('cache-row').count()).toBe(0);
    await ui.shot('cache-pruned');
    await ui.page.getByRole('button', { name: 'Close' }).click();
  }, 120_000);

  it('runs a graph with two exporters as one job, writing both outputs', async () => {
    const oci = path.join(ui.tmp, 'two-oci.tar');
    const rootfs = path.join(ui.tmp, 'two-rootfs.tar');
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
    const file = path.join(ui.tmp, 'two.kiln.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    const before = (await ui.srv.api.historyList()).length;
    ui.page.once('dialog', (d) => d.accept());
    await ui.page.reload();
    const chooser = ui.page.waitForEvent('filechooser');
    await ui.page.getByRole('button', { name: 'Open…', exact: true }).click();
    await (await chooser).setFiles(file);
    await ui.page.locator('.knode[data-nodeid="rootfs"]').waitFor();
    await ui.page.locator('.canvas').click({ position: { x: 5, y: 5 } });
    await ui.page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => ui.page.getByTestId('notice').textContent().catch(() => ''), { timeout: 120_000 }).toMatch(/exported|error|fail|choose/i);
    expect(await ui.page.getByTestId('notice').textContent()).not.toMatch(/choose a target|error|fail/i);
    await expect.poll(() => fs.existsSync(oci) && fs.existsSync(rootfs), { timeout: 30_000 }).toBe(true);
    expect(execFileSync('tar', ['-tf', rootfs], { encoding: 'utf8' }).split('\n').some((l) => /^(\.\/)?two\.txt$/.test(l))).toBe(true);
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${oci}`], { encoding: 'utf8' })) as { Layers: string[] };
    expect(inspect.Layers.length).toBeGreaterThan(0);
    expect((await ui.srv.api.historyList()).length).toBe(before + 1);
    await ui.shot('two-exporters');
  }, 200_000);
});
