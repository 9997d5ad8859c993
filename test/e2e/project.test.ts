import { it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { describeWith } from '../helpers/env.js';
import { editorSession } from './harness.js';

describeWith(['engine', 'browser'], 'editor: Open project (bake / compose) against kiln serve', () => {
  const ui = editorSession('project');

  const openProject = async (file: string) => {
    await ui.page.getByRole('button', { name: 'Open project…' }).click();
    await ui.page.locator('.modal input[name="project-path"]').fill(file);
    await ui.page.locator('.modal').getByRole('button', { name: 'Open' }).click();
  };

  it('opens a bake file as one canvas of target frames fed by target: contexts, and runs it as one job', async () => {
    const dir = path.join(ui.tmp, 'bake');
    fs.mkdirSync(dir, { recursive: true });
    const stamp = `${process.pid}-${Date.now()}`;
    fs.writeFileSync(path.join(dir, 'base.Dockerfile'), `FROM busybox:local\nRUN echo base-${stamp} > /base.txt\n`);
    fs.writeFileSync(path.join(dir, 'app.Dockerfile'), 'FROM base\nCOPY hello.txt /hello.txt\nRUN cat /base.txt /hello.txt > /both.txt\n');
    fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello from the app context\n');
    const file = path.join(dir, 'docker-bake.hcl');
    fs.writeFileSync(file, ['group "default" {', '  targets = ["app"]', '}', 'target "base" {', '  dockerfile = "base.Dockerfile"', '}', 'target "app" {', '  dockerfile = "app.Dockerfile"', '  contexts = {', '    base = "target:base"', '  }', '}', ''].join('\n'));
    await openProject(file);
    await ui.page.locator('.kframe-target').first().waitFor();
    // each target is a frame named after it, wrapping its stage frames
    const targets = await ui.page.locator('.kframe-target [data-testid="frame-title"]').allTextContents();
    expect(new Set(targets)).toEqual(new Set(['base', 'app']));
    expect(await ui.page.locator('.kframe-stage').count()).toBe(2);
    expect(await ui.page.getByTestId('filename').textContent()).toContain('docker-bake.hcl');
    // base feeds app: one edge crosses from one target frame into the other
    expect(await ui.page.locator('.react-flow__edge.edge-target').count()).toBe(1);
    await ui.shot('project-dark');

    const before = (await ui.srv.api.historyList()).length;
    await ui.page.getByRole('button', { name: 'Run' }).click();
    const runs = ui.page.locator('.knode[data-kind="run"] [data-testid="status"]');
    await expect.poll(async () => (await runs.allTextContents()).join('|'), { timeout: 120_000 }).toMatch(/^(done|✓ cached)[^|]*\|(done|✓ cached)[^|]*$/);
    await expect.poll(() => ui.page.getByRole('button', { name: 'Run' }).isEnabled()).toBe(true);
    // both targets were built by one job: one history entry holding both RUN vertices
    const after = await ui.srv.api.historyList();
    expect(after.length).toBe(before + 1);
    const entry = await ui.srv.api.historyGet(after[0]!.id);
    expect(entry?.status).toBe('completed');
    const names = (entry?.vertices ?? []).map((v) => v.name).join('\n');
    expect(names).toContain(`echo base-${stamp}`);
    expect(names).toContain('cat /base.txt /hello.txt');
    await ui.page.getByRole('button', { name: 'Light' }).click();
    await ui.shot('project-run-light');
    await ui.page.getByRole('button', { name: 'Dark' }).click();
  }, 200_000);

  it('opens a compose file: services with build sections become target frames', async () => {
    const dir = path.join(ui.tmp, 'compose');
    fs.mkdirSync(path.join(dir, 'web'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'worker'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'web', 'Dockerfile'), 'FROM busybox:local\nRUN echo web\n');
    fs.writeFileSync(path.join(dir, 'worker', 'Dockerfile'), 'FROM busybox:local AS build\nRUN echo worker > /w\nFROM busybox:local\nCOPY --from=build /w /w\n');
    const file = path.join(dir, 'compose.yaml');
    fs.writeFileSync(file, 'services:\n  web:\n    build: ./web\n  worker:\n    build:\n      context: ./worker\n  cache:\n    image: busybox:local\n');
    await openProject(file);
    await expect.poll(() => ui.page.locator('.kframe-target [data-testid="frame-title"]').allTextContents().then((t) => t.sort().join(','))).toBe('web,worker');
    expect(await ui.page.locator('.kframe-stage').count()).toBe(3);
  });

  it('says what is wrong with a path that is not a project', async () => {
    await openProject(path.join(ui.tmp, 'no-such-bake.hcl'));
    await expect.poll(() => ui.page.getByTestId('notice').textContent().catch(() => '')).toMatch(/no-such-bake\.hcl/);
  });
});
