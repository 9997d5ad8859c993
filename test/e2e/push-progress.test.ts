import { it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { describeWith, REGISTRY } from '../helpers/env.js';
import { editorSession } from './harness.js';

interface Sample { state: string | null; current: number | null; total: number | null; text: string | null }

describeWith(['engine', 'registry', 'browser'], 'editor: registry push shows bytes pushed / total (kiln serve)', () => {
  const ui = editorSession('push');

  it('follows the push in the export dialog and on the node, ending at the image’s pushed size', async () => {
    await ui.page.getByRole('button', { name: 'Start from an example' }).click();
    // an 8 MB layer of random bytes (gzip cannot shrink it), new to every run and every registry repo
    await ui.page.locator('.knode[data-nodeid="run"]').click();
    await ui.page.locator('.inspector input[name="command"]').fill(`head -c 8000000 /dev/urandom > /big && echo push-${process.pid}-${Date.now()}`);
    await ui.page.getByRole('button', { name: 'Export this node…' }).click();
    await ui.page.getByLabel('Export type').selectOption('export-registry');
    const name = `${REGISTRY}/kiln-e2e/push-progress:${Date.now().toString(36)}`;
    await ui.page.locator('.modal input[name="imagename"]').fill(name);
    // record every state the dialog's progress goes through, as the DOM changes
    await ui.page.evaluate(() => {
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
    await ui.page.locator('.modal').getByRole('button', { name: 'Export' }).click();
    const progress = ui.page.getByTestId('export-progress');
    await expect.poll(() => progress.getAttribute('data-state'), { timeout: 180_000 }).toMatch(/done|failed/);
    await ui.page.getByTestId('export-result').waitFor();
    await ui.shot('push-progress-dialog');
    expect(await progress.getAttribute('data-state')).toBe('done');

    // what the registry holds: the pushed size is the config blob plus every layer blob
    const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${name}`], { encoding: 'utf8' })) as { config: { size: number }; layers: { size: number }[] };
    const pushed = manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
    expect(pushed).toBeGreaterThan(8_000_000);
    const { Digest } = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${name}`], { encoding: 'utf8' })) as { Digest: string };

    const samples = (await ui.page.evaluate(() => (window as unknown as { __samples: Sample[] }).__samples)) as Sample[];
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
    expect(await ui.page.getByTestId('export-bytes').textContent()).toBe(`${(pushed / 1e6).toFixed(2)} MB / ${(pushed / 1e6).toFixed(2)} MB`);
    expect(await ui.page.getByTestId('export-result').textContent()).toContain(`Pushed ${name}`);
    expect(await ui.page.getByTestId('export-digest').textContent()).toBe(Digest);

    // the exported node carries the same figure after the dialog is closed
    await ui.page.locator('.modal').getByRole('button', { name: 'Close' }).click();
    const line = ui.page.locator('.knode[data-nodeid="run"] [data-testid="transfer"]');
    expect(await line.getAttribute('data-state')).toBe('done');
    expect(Number(await line.getAttribute('data-total'))).toBe(pushed);
    expect(await line.textContent()).toContain(`pushed ${(pushed / 1e6).toFixed(2)} MB`);
    await ui.shot('push-progress-node');
  }, 300_000);
});
