// Runs from the editor against a real kiln serve: nodes dragged from the palette (HTML5 drag and
// drop) wired into an OCI export, an opened Dockerfile reading its build context, and Cancel.
import { it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describeWith } from '../helpers/env.js';
import { editorSession } from './harness.js';

describeWith(['engine', 'browser'], 'editor: palette drag to an OCI tar, build context, cancel (kiln serve)', () => {
  const ui = editorSession('runs');

  const node = (kind: string) => ui.page.locator(`.knode[data-kind="${kind}"]`);
  const status = (kind: string) => node(kind).locator('[data-testid="status"]').textContent();
  const wire = async (from: string, to: string) => {
    const n = await ui.page.locator('.react-flow__edge').count();
    await ui.page.locator(`.react-flow__node:has(.knode[data-kind="${from}"]) .react-flow__handle.source`).first().dragTo(ui.page.locator(`.react-flow__node:has(.knode[data-kind="${to}"]) .react-flow__handle.target`).first());
    await expect.poll(() => ui.page.locator('.react-flow__edge').count()).toBe(n + 1);
  };

  it('drags image, run and OCI tar from the palette, wires them, runs, and skopeo reads the tar', async () => {
    const canvas = ui.page.locator('.canvas');
    await ui.page.locator('.pitem[data-kind="image"]').dragTo(canvas, { targetPosition: { x: 40, y: 200 } });
    await ui.page.locator('.pitem[data-kind="run"]').dragTo(canvas, { targetPosition: { x: 340, y: 200 } });
    await ui.page.locator('.pitem[data-kind="export-oci"]').dragTo(canvas, { targetPosition: { x: 640, y: 200 } });
    await expect.poll(() => ui.page.locator('.knode').count()).toBe(3);
    // each landed where it was dropped, left to right
    const xs = await Promise.all(['image', 'run', 'export-oci'].map(async (k) => (await node(k).boundingBox())!.x));
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    await wire('image', 'run');
    await wire('run', 'export-oci');
    await node('run').click();
    await ui.page.locator('.inspector input[name="command"]').fill(`echo dragged > /dragged && echo ran-${Date.now()}`);
    await node('export-oci').click();
    const dest = path.join(ui.tmp, 'dragged-oci.tar');
    await ui.page.locator('.inspector input[name="dest"]').fill(dest);
    await ui.page.locator('.canvas').click({ position: { x: 5, y: 5 } });
    await ui.page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => status('run'), { timeout: 120_000 }).toMatch(/done|cached/);
    await expect.poll(() => status('image'), { timeout: 30_000 }).toMatch(/done|cached/);
    await expect.poll(() => ui.page.getByTestId('notice').textContent().catch(() => ''), { timeout: 60_000 }).toMatch(/exported/);
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${dest}`], { encoding: 'utf8' })) as { Layers: string[] };
    expect(inspect.Layers.length).toBeGreaterThan(1);
    await ui.shot('palette-drag-run');
  }, 200_000);

  it('builds an opened Dockerfile against its build context (COPY . reads the context dir)', async () => {
    const ctx = path.join(ui.tmp, 'ctx');
    fs.mkdirSync(ctx, { recursive: true });
    const marker = `from the context ${Date.now()}`;
    fs.writeFileSync(path.join(ctx, 'hello.txt'), marker + '\n');
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox:local\nCOPY . /src\nRUN cat /src/hello.txt\n');
    ui.page.once('dialog', (d) => d.accept());
    await ui.page.reload();
    const chooser = ui.page.waitForEvent('filechooser');
    await ui.page.getByRole('button', { name: 'Open Dockerfile…' }).first().click();
    await (await chooser).setFiles(path.join(ctx, 'Dockerfile'));
    await node('run').waitFor();
    // a browser pick carries no directory: the context is typed, and every solve sends it
    await ui.page.getByTestId('context').fill(ctx);
    await node('run').click();
    await ui.page.keyboard.press('Control+Enter');
    await expect.poll(() => status('run'), { timeout: 120_000 }).toMatch(/done|cached|failed/);
    expect(await status('run')).toMatch(/done/);
    await node('run').click();
    await ui.page.getByRole('button', { name: 'Logs' }).click();
    await expect.poll(() => ui.page.getByTestId('logs').textContent()).toContain(marker);
    expect(await ui.page.locator('.knode.sel').getAttribute('data-kind')).toBe('run');
    await ui.shot('dockerfile-context-run');
  }, 200_000);

  it('cancels a running build: the step ends canceled, Run is enabled again, history says canceled', async () => {
    ui.page.once('dialog', (d) => d.accept());
    await ui.page.reload();
    await ui.page.locator('.pitem[data-kind="image"]').dblclick();
    await ui.page.locator('.pitem[data-kind="run"]').dblclick();
    await wire('image', 'run');
    await node('run').click();
    await ui.page.locator('.inspector input[name="command"]').fill(`sleep 30 # ${Date.now()}`);
    await node('run').click();
    await ui.page.keyboard.press('Control+Enter');
    await expect.poll(() => status('run'), { timeout: 60_000 }).toMatch(/running/);
    expect(await ui.page.getByRole('button', { name: 'Run' }).isEnabled()).toBe(false);
    const t0 = Date.now();
    await ui.page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => ui.page.getByRole('button', { name: 'Run' }).isEnabled(), { timeout: 30_000 }).toBe(true);
    console.log(`cancel → Run enabled in ${Date.now() - t0} ms`);
    expect(await status('run')).not.toMatch(/running/);
    expect(await status('run')).toMatch(/canceled/);
    const [last] = await ui.srv.api.historyList();
    expect(last!.status).toBe('canceled');
    await ui.shot('run-canceled');
    await ui.page.getByRole('button', { name: 'History' }).click();
    await expect.poll(() => ui.page.locator('.hstatus').first().textContent()).toMatch(/canceled/);
  }, 200_000);
});
