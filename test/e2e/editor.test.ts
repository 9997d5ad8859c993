import { it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describeWith, DOCKER_HOST, REGISTRY } from '../helpers/env.js';
import { editorSession } from './harness.js';

describeWith(['engine', 'browser'], 'visual editor (headless Chromium against kiln serve)', () => {
  const ui = editorSession('editor');

  it('opens a Dockerfile as stage groups with nodes, and source lines select nodes', async () => {
    const df = path.join(ui.tmp, 'Dockerfile');
    fs.writeFileSync(df, 'FROM busybox:local as build\nRUN echo one > /one\nFROM busybox:local\nCOPY --from=build /one /one\nCMD ["cat", "/one"]\n');
    const chooser = ui.page.waitForEvent('filechooser');
    await ui.page.getByRole('button', { name: 'Open Dockerfile…' }).first().click();
    await (await chooser).setFiles(df);
    await ui.page.locator('.knode').first().waitFor();
    const kinds = await ui.page.locator('.knode').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    expect(kinds.filter((k) => k === 'image')).toHaveLength(2);
    expect(kinds).toContain('run');
    expect(kinds).toContain('copy');
    const groups = await ui.page.getByTestId('frame-title').allTextContents();
    expect(new Set(groups)).toEqual(new Set(['build', 'stage 1']));
    // build checks from the engine's Dockerfile frontend show on the node they point at
    await expect.poll(() => ui.page.locator('.knode[data-kind="image"] [data-testid="warning"]').first().textContent().catch(() => ''), { timeout: 20_000 }).toMatch(/FromAsCasing/);
    await ui.page.locator('.srcline[data-line="2"]').click();
    await expect.poll(() => ui.page.locator('.knode.sel').getAttribute('data-kind')).toBe('run');
    expect(await ui.page.locator('.srcline.hl').count()).toBe(1);
    await ui.shot('dockerfile-dark');
  });

  it('draws stages as frames around their nodes, colours the minimap by kind, and keeps status readable zoomed out', async () => {
    await ui.page.evaluate(() => window.location.reload());
    const df = path.join(ui.tmp, 'stages.Dockerfile');
    fs.writeFileSync(df, 'FROM busybox:local AS base\nRUN echo base > /base\n\nFROM base AS app\nRUN cat /base > /app\nCOPY --from=base /base /copied\n');
    const chooser = ui.page.waitForEvent('filechooser');
    await ui.page.getByRole('button', { name: 'Open Dockerfile…' }).first().click();
    await (await chooser).setFiles(df);
    await ui.page.getByTestId('frame').first().waitFor();
    expect(new Set(await ui.page.getByTestId('frame-title').allTextContents())).toEqual(new Set(['base', 'app']));
    // every node of a stage lies inside its frame's box on screen
    const box = async (sel: string) => (await ui.page.locator(sel).boundingBox())!;
    const appFrame = await box('[data-testid="frame"][data-group="app"]');
    const baseFrame = await box('[data-testid="frame"][data-group="base"]');
    const inside = (b: { x: number; y: number; width: number; height: number }, f: typeof b) => b.x >= f.x && b.y >= f.y && b.x + b.width <= f.x + f.width && b.y + b.height <= f.y + f.height;
    const copyNode = await box('.knode[data-kind="copy"]');
    expect(inside(copyNode, appFrame)).toBe(true);
    expect(inside(copyNode, baseFrame)).toBe(false);
    // frames do not overlap each other
    expect(appFrame.x >= baseFrame.x + baseFrame.width || baseFrame.x >= appFrame.x + appFrame.width || appFrame.y >= baseFrame.y + baseFrame.height || baseFrame.y >= appFrame.y + appFrame.height).toBe(true);
    // the minimap draws nodes in their kind's colour
    const fill = (cls: string) => ui.page.locator(`.react-flow__minimap-node.${cls}`).first().evaluate((el) => getComputedStyle(el).fill);
    const [src, op] = [await fill('mm-fam-source'), await fill('mm-fam-op')];
    expect(src).not.toBe(op);
    expect(src).not.toMatch(/none|transparent|rgba\(0, 0, 0, 0\)/);
    // run it, zoom far out: the state still reads at a legible size on screen
    const last = ui.page.locator('.knode[data-kind="copy"]');
    await last.click();
    await ui.page.keyboard.press('Control+Enter');
    await expect.poll(() => last.locator('[data-testid="status"]').textContent(), { timeout: 120_000 }).toMatch(/done|cached/);
    const zoomNow = () => ui.page.locator('.react-flow__viewport').evaluate((el) => new DOMMatrix(getComputedStyle(el).transform).a);
    // zoom out to a quarter: 12px text would be 3px on screen here
    for (let i = 0; i < 12 && (await zoomNow()) > 0.26; i++) await ui.page.locator('.react-flow__controls-zoomout').click();
    await expect.poll(() => ui.page.locator('.canvas').getAttribute('data-far')).toBe('true');
    expect(await zoomNow()).toBeLessThan(0.3);
    const badge = (await last.locator('[data-testid="status"]').boundingBox())!;
    expect(badge.height).toBeGreaterThanOrEqual(10);
    await ui.shot('stages-zoomed-out');
    await ui.page.locator('.react-flow__controls-fitview').click();
    await ui.shot('stages-dark');
  }, 200_000);

  it('runs the example to an OCI tar that skopeo reads, with nodes reaching done', async () => {
    ui.page.once('dialog', (d) => d.accept());
    await ui.page.evaluate(() => window.location.reload());
    await ui.page.getByRole('button', { name: 'Start from an example' }).click();
    await ui.page.locator('.knode[data-nodeid="oci"]').click();
    const dest = path.join(ui.tmp, 'example-oci.tar');
    await ui.page.locator('.inspector input[name="dest"]').fill(dest);
    await ui.page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => ui.page.locator('.knode[data-nodeid="run"] [data-testid="status"]').textContent(), { timeout: 120_000 }).toMatch(/done|cached/);
    await expect.poll(() => fs.existsSync(dest), { timeout: 60_000 }).toBe(true);
    await ui.page.getByRole('button', { name: 'Light' }).click();
    await ui.shot('example-run-light');
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${dest}`], { encoding: 'utf8' })) as { Layers: string[] };
    expect(inspect.Layers.length).toBeGreaterThan(0);
  }, 200_000);

  it('wires palette nodes by dragging, shows a failing run on the node, and undoes/redoes', async () => {
    await ui.page.evaluate(() => window.location.reload());
    await ui.page.locator('.pitem[data-kind="image"]').dblclick();
    await ui.page.locator('.pitem[data-kind="run"]').dblclick();
    const nodes = ui.page.locator('.knode');
    await expect.poll(() => nodes.count()).toBe(2);
    await ui.page.locator('.knode[data-kind="run"]').click();
    await ui.page.locator('.inspector input[name="command"]').fill('echo about to fail; exit 3');
    const from = ui.page.locator('.react-flow__node:has(.knode[data-kind="image"]) .react-flow__handle.source');
    const to = ui.page.locator('.react-flow__node:has(.knode[data-kind="run"]) .react-flow__handle.target').first();
    await from.dragTo(to);
    await expect.poll(() => ui.page.locator('.react-flow__edge').count()).toBe(1);
    await ui.page.locator('.knode[data-kind="run"]').click();
    await ui.page.keyboard.press('Control+Enter');
    await expect.poll(() => ui.page.locator('.knode[data-kind="run"] [data-testid="status"]').textContent(), { timeout: 120_000 }).toMatch(/failed/);
    await ui.shot('failed-run');
    await ui.page.locator('.canvas').click({ position: { x: 5, y: 5 } });
    await ui.page.keyboard.press('Control+z');
    await expect.poll(() => ui.page.locator('.react-flow__edge').count()).toBe(0);
    await ui.page.keyboard.press('Control+Shift+z');
    await expect.poll(() => ui.page.locator('.react-flow__edge').count()).toBe(1);
  }, 200_000);

  it('edits an exporter’s image config: the first edit inserts a config node, and the exported image carries the config', async () => {
    ui.page.once('dialog', (d) => d.accept());
    await ui.page.evaluate(() => window.location.reload());
    await ui.page.locator('.pitem[data-kind="image"]').dblclick();
    await ui.page.locator('.pitem[data-kind="export-docker"]').dblclick();
    await expect.poll(() => ui.page.locator('.knode').count()).toBe(2);
    const from = ui.page.locator('.react-flow__node:has(.knode[data-kind="image"]) .react-flow__handle.source');
    const to = ui.page.locator('.react-flow__node:has(.knode[data-kind="export-docker"]) .react-flow__handle.target').first();
    await from.dragTo(to);
    await expect.poll(() => ui.page.locator('.react-flow__edge').count()).toBe(1);
    await ui.page.locator('.knode[data-kind="export-docker"]').click();
    const tag = `kiln-e2e/config:${Date.now().toString(36)}`;
    await ui.page.locator('.inspector input[name="name"]').fill(tag);
    const section = ui.page.getByTestId('image-config');
    await expect.poll(() => section.textContent()).toMatch(/Editing adds an image config node/);
    // typed key by key: the node inserted on the first key must not take the field's focus or text
    await section.locator('input[name="config-cmd"]').pressSequentially('echo configured');
    await expect.poll(() => ui.page.locator('.knode[data-kind="config"]').count()).toBe(1);
    expect(await section.locator('input[name="config-cmd"]').inputValue()).toBe('echo configured');
    await expect.poll(() => section.textContent()).toMatch(/from node config\d+/);
    await section.locator('textarea[name="config-env"]').fill('GREETING=hi\nMODE=e2e');
    await section.locator('input[name="config-ports"]').fill('8080 53/udp');
    // a malformed value is shown as such and not applied
    await section.locator('input[name="config-user"]').fill('app');
    await section.locator('input[name="config-entrypoint"]').fill('["unclosed');
    await expect.poll(() => section.locator('.field-error').textContent()).toMatch(/JSON array/);
    await section.locator('input[name="config-entrypoint"]').fill('');
    expect(await section.locator('.field-error').count()).toBe(0);
    await ui.shot('image-config-dark');
    // the exporter made room for the config node on its left: fit to see all three again
    await ui.page.locator('.react-flow__controls-fitview').click();
    await expect.poll(() => ui.page.locator('.knode').count()).toBe(3);
    expect(await ui.page.locator('.react-flow__edge').count()).toBe(2);
    // the chain is image → config → export, and the config node says what it holds
    await ui.page.locator('.knode[data-kind="config"]').click();
    expect(await ui.page.getByTestId('image-config').locator('input[name="config-cmd"]').inputValue()).toBe('echo configured');
    await ui.page.locator('.knode[data-kind="export-docker"]').click();
    await ui.page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => ui.page.getByTestId('notice').textContent().catch(() => ''), { timeout: 120_000 }).toMatch(/exported|error|fail/i);
    expect(await ui.page.getByTestId('notice').textContent()).toMatch(/exported/);
    const [img] = JSON.parse(execFileSync('docker', ['image', 'inspect', tag], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST } })) as { Config: { Cmd: string[]; Env: string[]; ExposedPorts: Record<string, object>; User: string } }[];
    expect(img!.Config.Cmd).toEqual(['echo', 'configured']);
    expect(img!.Config.Env).toEqual(expect.arrayContaining(['GREETING=hi', 'MODE=e2e']));
    expect(Object.keys(img!.Config.ExposedPorts).sort()).toEqual(['53/udp', '8080/tcp']);
    expect(img!.Config.User).toBe('app');
    execFileSync('docker', ['image', 'rm', tag], { env: { ...process.env, DOCKER_HOST } });
  }, 200_000);

  it('exports a node to the registry from the export dialog', async () => {
    await ui.page.evaluate(() => window.location.reload());
    await ui.page.getByRole('button', { name: 'Start from an example' }).click();
    await ui.page.locator('.knode[data-nodeid="run"]').click();
    await ui.page.getByRole('button', { name: 'Export this node…' }).click();
    await ui.page.getByLabel('Export type').selectOption('export-registry');
    const name = `${REGISTRY}/kiln-e2e/editor-push:${Date.now().toString(36)}`;
    await ui.page.locator('.modal input[name="imagename"]').fill(name);
    await ui.page.locator('.modal').getByRole('button', { name: 'Export' }).click();
    await expect.poll(() => ui.page.getByTestId('notice').textContent().catch(() => ''), { timeout: 120_000 }).toMatch(/exported|error|fail/i);
    expect(await ui.page.getByTestId('notice').textContent()).toMatch(/exported/);
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${name}`], { encoding: 'utf8' })) as { Layers: string[] };
    expect(inspect.Layers.length).toBeGreaterThan(0);
  }, 200_000);
});
