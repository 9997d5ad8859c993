// The everyday conveniences of the editor, driven with the keyboard and mouse as a user would: the
// `?` sheet, select all / copy / paste / cut / delete with undo, auto-layout, the theme surviving a
// reload, an invalid node marked with its reason and refused by Run, and Save as Dockerfile.
import { it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { describeWith } from '../helpers/env.js';
import { editorSession } from './harness.js';

describeWith(['engine', 'browser'], 'editor conveniences (headless Chromium against kiln serve)', () => {
  const ui = editorSession('conveniences');
  const nodes = () => ui.page.locator('.knode');
  const canvas = () => ui.page.locator('.canvas').click({ position: { x: 5, y: 5 } });

  async function fresh(): Promise<void> {
    ui.page.once('dialog', (d) => void d.accept());
    await ui.page.evaluate(() => window.location.reload());
    await ui.page.locator('.pitem[data-kind="image"]').waitFor();
  }

  async function imageAndRun(command: string): Promise<void> {
    await ui.page.locator('.pitem[data-kind="image"]').dblclick();
    await ui.page.locator('.pitem[data-kind="run"]').dblclick();
    await expect.poll(() => nodes().count()).toBe(2);
    const from = ui.page.locator('.react-flow__node:has(.knode[data-kind="image"]) .react-flow__handle.source');
    const to = ui.page.locator('.react-flow__node:has(.knode[data-kind="run"]) .react-flow__handle.target').first();
    await from.dragTo(to);
    await expect.poll(() => ui.page.locator('.react-flow__edge').count()).toBe(1);
    await ui.page.locator('.knode[data-kind="run"]').click();
    await ui.page.locator('.inspector input[name="command"]').fill(command);
  }

  it('opens the shortcut sheet on ?, and closes it on Escape', async () => {
    await fresh();
    await canvas();
    await ui.page.keyboard.press('?');
    const sheet = ui.page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await sheet.waitFor();
    const text = await sheet.textContent();
    for (const k of ['Ctrl/Cmd+Z', 'Ctrl/Cmd+Enter', 'auto-layout', 'select all']) expect(text).toContain(k);
    await ui.shot('shortcut-sheet');
    await ui.page.keyboard.press('Escape');
    await expect.poll(() => sheet.count()).toBe(0);
  }, 120_000);

  it('selects all, copies and pastes with their wiring, cuts, deletes and undoes, from the keyboard', async () => {
    await fresh();
    await imageAndRun('echo hi > /hi');
    await canvas();
    await ui.page.keyboard.press('Control+a');
    await expect.poll(() => ui.page.locator('.knode.sel').count()).toBe(2);
    await ui.page.keyboard.press('Control+c');
    await ui.page.keyboard.press('Control+v');
    // the copies come with the edge between them, and become the selection
    await expect.poll(() => nodes().count()).toBe(4);
    await expect.poll(() => ui.page.locator('.react-flow__edge').count()).toBe(2);
    await expect.poll(() => ui.page.locator('.knode.sel').count()).toBe(2);
    const runs = await ui.page.locator('.knode[data-kind="run"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-nodeid')));
    expect(new Set(runs).size).toBe(2);
    await ui.shot('pasted');
    // Delete removes the selected copies and their edge
    await ui.page.keyboard.press('Delete');
    await expect.poll(() => nodes().count()).toBe(2);
    await expect.poll(() => ui.page.locator('.react-flow__edge').count()).toBe(1);
    await ui.page.keyboard.press('Control+z');
    await expect.poll(() => nodes().count()).toBe(4);
    // cut one node: it goes, and pastes back as a new node
    await ui.page.locator(`.knode[data-nodeid="${runs[1]}"]`).click();
    await expect.poll(() => ui.page.locator('.knode.sel').count()).toBe(1);
    await ui.page.keyboard.press('Control+x');
    await expect.poll(() => nodes().count()).toBe(3);
    await ui.page.keyboard.press('Control+v');
    await expect.poll(() => nodes().count()).toBe(4);
    // the file is marked as changed
    expect(await ui.page.getByTestId('dirty').count()).toBe(1);
  }, 120_000);

  it('lays the graph out on L: nodes no longer overlap and a source sits left of what it feeds', async () => {
    await fresh();
    await imageAndRun('true');
    // stack the run node on top of the image node, then auto-layout
    const img = ui.page.locator('.react-flow__node:has(.knode[data-kind="image"])');
    const run = ui.page.locator('.react-flow__node:has(.knode[data-kind="run"])');
    const ib = (await img.boundingBox())!;
    const rb = (await run.boundingBox())!;
    await ui.page.mouse.move(rb.x + 20, rb.y + 10);
    await ui.page.mouse.down();
    await ui.page.mouse.move(ib.x + 30, ib.y + 15, { steps: 8 });
    await ui.page.mouse.up();
    const overlapping = async () => {
      const a = (await img.boundingBox())!;
      const b = (await run.boundingBox())!;
      return !(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y);
    };
    expect(await overlapping()).toBe(true);
    await canvas();
    await ui.page.keyboard.press('l');
    await expect.poll(overlapping).toBe(false);
    const a = (await img.boundingBox())!;
    const b = (await run.boundingBox())!;
    expect(a.x + a.width / 2).toBeLessThan(b.x + b.width / 2);
    await ui.shot('auto-layout');
  }, 120_000);

  it('keeps the chosen theme across a reload', async () => {
    await fresh();
    const theme = () => ui.page.evaluate(() => document.documentElement.dataset.theme);
    expect(await theme()).toBe('dark');
    await ui.page.getByRole('button', { name: 'Light', exact: true }).click();
    expect(await theme()).toBe('light');
    await fresh();
    expect(await theme()).toBe('light');
    await ui.page.getByRole('button', { name: 'Dark', exact: true }).waitFor();
    await ui.shot('light-after-reload');
    await ui.page.getByRole('button', { name: 'Dark', exact: true }).click();
    await fresh();
    expect(await theme()).toBe('dark');
  }, 120_000);

  it('marks an invalid node with its reason, and Run refuses to start, naming and selecting it', async () => {
    await fresh();
    await imageAndRun('');
    const run = ui.page.locator('.knode[data-kind="run"]');
    await expect.poll(() => run.getAttribute('class')).toMatch(/\binvalid\b/);
    expect(await run.locator('.kissue').textContent()).toMatch(/command.*required/);
    const id = await run.getAttribute('data-nodeid');
    await canvas();
    await ui.page.getByRole('button', { name: 'Run', exact: true }).click();
    await expect.poll(() => ui.page.getByTestId('notice').textContent()).toContain(`Cannot run: node "${id}": command`);
    await expect.poll(() => ui.page.locator('.knode.sel').getAttribute('data-nodeid')).toBe(id);
    // nothing was queued: no node carries a run state
    expect(await ui.page.locator('.knode [data-testid="status"]').count()).toBe(0);
    await ui.shot('invalid-node');
    // fixing the field clears the mark
    await ui.page.locator('.inspector input[name="command"]').fill('true');
    await expect.poll(() => run.getAttribute('class')).not.toMatch(/\binvalid\b/);
  }, 120_000);

  it('opens a Dockerfile dropped on the canvas, refuses a file it cannot open, and adds a palette node dragged in', async () => {
    await fresh();
    const drop = (name: string, text: string) =>
      ui.page.locator('.canvas').evaluate((el, f) => {
        const dt = new DataTransfer();
        dt.items.add(new File([f.text], f.name, { type: 'text/plain' }));
        for (const type of ['dragenter', 'dragover', 'drop']) el.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, { name, text });
    await drop('notes.txt', 'hello');
    await expect.poll(() => ui.page.getByTestId('notice').textContent()).toMatch(/Cannot open notes\.txt: not a Dockerfile or \.kiln\.json graph/);
    await drop('Dockerfile', 'FROM busybox:local AS b\nRUN echo dropped > /d\nFROM busybox:local\nCOPY --from=b /d /d\n');
    await expect.poll(() => nodes().count()).toBe(4);
    expect(new Set(await ui.page.getByTestId('frame-title').allTextContents())).toEqual(new Set(['b', 'stage 1']));
    expect(await ui.page.getByTestId('filename').textContent()).toContain('Dockerfile');
    // a palette item dragged onto the canvas lands as a node where it was dropped
    await ui.page.locator('.pitem[data-kind="mkdir"]').dragTo(ui.page.locator('.react-flow__pane'), { targetPosition: { x: 60, y: 60 } });
    await expect.poll(() => ui.page.locator('.knode[data-kind="mkdir"]').count()).toBe(1);
    await ui.shot('dropped-dockerfile');
  }, 120_000);

  it('saves the graph as .kiln.json (Ctrl+S downloads it) and opening that file restores nodes, wiring and parameters', async () => {
    await fresh();
    await imageAndRun(`echo round-trip > /rt`);
    const download = ui.page.waitForEvent('download');
    await canvas();
    await ui.page.keyboard.press('Control+s');
    const d = await download;
    expect(d.suggestedFilename()).toMatch(/\.kiln\.json$/);
    const saved = path.join(ui.tmp, d.suggestedFilename());
    await d.saveAs(saved);
    // saved: the unsaved mark goes
    await expect.poll(() => ui.page.getByTestId('dirty').count()).toBe(0);
    await fresh();
    const chooser = ui.page.waitForEvent('filechooser');
    await ui.page.getByRole('button', { name: 'Open…', exact: true }).click();
    await (await chooser).setFiles(saved);
    await expect.poll(() => nodes().count()).toBe(2);
    await expect.poll(() => ui.page.locator('.react-flow__edge').count()).toBe(1);
    await ui.page.locator('.knode[data-kind="run"]').click();
    expect(await ui.page.locator('.inspector input[name="command"]').inputValue()).toBe('echo round-trip > /rt');
    expect(await ui.page.getByTestId('filename').textContent()).toContain('.kiln.json');
  }, 120_000);

  it('shows which engine it talks to and who hosts it', async () => {
    await fresh();
    const chip = ui.page.getByTestId('engine-info');
    await chip.waitFor();
    expect(await chip.textContent()).toMatch(/^Docker \d+\.\d+.* · kiln serve$/);
    const title = (await chip.getAttribute('title')) ?? '';
    expect(title).toContain(`Engine hosted by kiln serve (pid ${ui.srv.proc.pid})`);
    expect(title).toContain(`State root: ${path.join(ui.tmp, 'root')}`);
    expect(title).toMatch(/Docker Engine: unix:\/\/\S+/);
  }, 120_000);

  it('saves the graph as a Dockerfile (a download in the browser)', async () => {
    await fresh();
    await imageAndRun('echo saved > /saved');
    const download = ui.page.waitForEvent('download');
    await ui.page.getByRole('button', { name: 'Save as Dockerfile' }).click();
    const d = await download;
    expect(d.suggestedFilename()).toBe('Dockerfile');
    const text = fs.readFileSync((await d.path())!, 'utf8');
    expect(text).toMatch(/^FROM busybox:local/m);
    expect(text).toMatch(/^RUN echo saved > \/saved$/m);
  }, 120_000);
});
