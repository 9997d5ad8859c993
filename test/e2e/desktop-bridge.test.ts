// The editor's desktop paths in real Chromium: `window.kiln` is there, as the Electron preload puts
// it, but the Electron binary is not (see the launch test). The bridge here forwards each API call
// to the real `kiln serve` of the suite (status events streamed back into the page) and plays the
// main process's part for the shell: menu commands, native open/save dialogs that read and write
// real files, drops. So the renderer runs the code it runs in the app: menu-driven open, builds
// over the bridge with live states, Save writing back to the opened file, drops handed to main.
import { it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { describeWith } from '../helpers/env.js';
import { editorSession } from './harness.js';

type Api = Record<string, (...a: unknown[]) => unknown> & { status(id: string, cb: (e: unknown) => void): () => void };

describeWith(['engine', 'browser'], 'the editor on the desktop bridge (window.kiln over the real service)', () => {
  const ui = editorSession('bridge');
  const saves: { path?: string; text?: string; kind?: string }[] = [];
  const dropped: string[] = [];
  let picked: { path: string; text: string; context: string } | undefined;

  async function install(): Promise<void> {
    const api = ui.srv.api as unknown as Api;
    const subs = new Map<number, () => void>();
    await ui.page.exposeFunction('__kilnCall', (m: string, a: unknown[]) => api[m]!(...a));
    await ui.page.exposeFunction('__kilnStatus', (sub: number, id: string) => {
      subs.set(sub, api.status(id, (e) => void ui.page.evaluate(([s, ev]) => (window as unknown as { __kilnEvent(s: number, e: unknown): void }).__kilnEvent(s, ev), [sub, e] as const).catch(() => undefined)));
    });
    await ui.page.exposeFunction('__kilnUnstatus', (sub: number) => (subs.get(sub)?.(), subs.delete(sub)));
    await ui.page.exposeFunction('__shellOpen', () => picked);
    await ui.page.exposeFunction('__shellSave', (o: { path?: string; text?: string; kind?: string }) => {
      saves.push(o);
      const dest = o.path ?? path.join(ui.tmp, `saved-${saves.length}.${o.kind === 'dockerfile' ? 'Dockerfile' : 'kiln.json'}`);
      fs.writeFileSync(dest, o.text ?? '');
      return dest;
    });
    await ui.page.exposeFunction('__shellDropped', (p: string) => (dropped.push(p), 'opened'));
    await ui.page.addInitScript(() => {
      const w = window as unknown as Record<string, (...a: unknown[]) => unknown> & { kiln?: unknown; __command?: (c: unknown) => void };
      const call = (m: string) => (...a: unknown[]) => w.__kilnCall!(m, a);
      const listeners = new Map<number, (e: unknown) => void>();
      let seq = 0;
      w.__kilnEvent = ((s: number, e: unknown) => listeners.get(s)?.(e)) as (...a: unknown[]) => unknown;
      w.kiln = {
        ...Object.fromEntries(['solve', 'cancel', 'historyList', 'historyGet', 'du', 'prune', 'workers', 'info', 'graph', 'project'].map((m) => [m, call(m)])),
        status(id: string, cb: (e: unknown) => void) {
          const s = ++seq;
          listeners.set(s, cb);
          void w.__kilnStatus!(s, id);
          return () => (listeners.delete(s), void w.__kilnUnstatus!(s));
        },
        shell: {
          onCommand(cb: (c: unknown) => void) {
            w.__command = cb;
            return () => undefined;
          },
          openFile: (kind: string) => w.__shellOpen!(kind),
          saveFile: (o: unknown) => w.__shellSave!(o),
          recent: async () => [],
          openDropped: (p: string) => w.__shellDropped!(p),
          pathForFile: (f: File) => `/dropped/${f.name}`,
        },
      };
    });
    await ui.page.reload();
    await ui.page.getByTestId('engine-info').waitFor();
  }

  const command = (c: Record<string, string>) => ui.page.evaluate((x) => (window as unknown as { __command(c: unknown): void }).__command(x), c);

  it('opens from the menu, builds over the bridge with live node states, saves back to the opened file, hands drops to main', async () => {
    await install();
    // the info, like every call, came over the bridge from the real service
    expect(await ui.page.getByTestId('engine-info').textContent()).toMatch(/· kiln serve$/);

    // File ▸ Open Dockerfile…: main reads the file and sends it with its directory as the context
    const dir = path.join(ui.tmp, 'proj');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'msg.txt'), 'from the context\n');
    const dockerfile = 'FROM busybox:local\nCOPY msg.txt /msg.txt\nRUN cat /msg.txt > /out\n';
    fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
    await command({ command: 'open-dockerfile', path: path.join(dir, 'Dockerfile'), text: dockerfile, context: dir });
    // image, the build context, the COPY and the RUN
    await expect.poll(() => ui.page.locator('.knode').count()).toBe(4);
    expect(await ui.page.getByTestId('context').inputValue()).toBe(dir);
    // Build ▸ Run: states stream back through the bridge to the nodes
    const run = ui.page.locator('.knode[data-kind="run"]');
    await run.click();
    await command({ command: 'build-run-node' });
    await expect.poll(() => run.locator('[data-testid="status"]').textContent(), { timeout: 120_000 }).toMatch(/done|cached/);
    await ui.shot('bridge-run');

    // Open… a graph through the native dialog, edit it, Save: written back to that very file
    const graphFile = path.join(dir, 'app.kiln.json');
    const doc = {
      kind: 'kiln.graph',
      version: 1,
      name: 'bridge',
      nodes: [
        { id: 'base', kind: 'image', params: { ref: 'busybox:local' }, position: { x: 0, y: 0 } },
        { id: 'step', kind: 'run', params: { command: 'echo before' }, position: { x: 300, y: 0 } },
      ],
      edges: [{ id: 'e1', source: 'base', sourcePort: 'out', target: 'step', targetPort: 'in' }],
      groups: [],
    };
    fs.writeFileSync(graphFile, JSON.stringify(doc));
    picked = { path: graphFile, text: fs.readFileSync(graphFile, 'utf8'), context: dir };
    await ui.page.getByRole('button', { name: 'Open…', exact: true }).click();
    await ui.page.locator('.knode[data-nodeid="step"]').click();
    await ui.page.locator('.inspector input[name="command"]').fill('echo after');
    await expect.poll(() => ui.page.getByTestId('dirty').count()).toBe(1);
    await command({ command: 'save' });
    await expect.poll(() => ui.page.getByTestId('dirty').count()).toBe(0);
    expect(saves.at(-1)?.path).toBe(graphFile);
    const written = JSON.parse(fs.readFileSync(graphFile, 'utf8')) as typeof doc;
    expect(written.nodes.find((n) => n.id === 'step')?.params.command).toBe('echo after');
    expect(written.edges).toHaveLength(1);
    // Save as Dockerfile asks main for a destination (no browser download)
    await ui.page.getByRole('button', { name: 'Save as Dockerfile' }).click();
    await expect.poll(() => saves.length).toBe(2);
    expect(saves[1]).toMatchObject({ kind: 'dockerfile' });
    expect(saves[1]!.text).toMatch(/^RUN echo after$/m);

    // a file dropped on the window is handed to main by its path (main opens it)
    await ui.page.locator('.canvas').evaluate((el) => {
      const dt = new DataTransfer();
      dt.items.add(new File(['FROM busybox:local\n'], 'Dockerfile'));
      for (const type of ['dragenter', 'dragover', 'drop']) el.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await expect.poll(() => dropped).toEqual(['/dropped/Dockerfile']);
  }, 200_000);
});
