// Open → drawn on a Dockerfile the size of BuildKit's own (49 stages, ~500 lines): every node
// inside its stage's frame, frames apart, every edge ending on its ports, and the time from handing
// the file over to the first frame painted with all of it printed (the issue asks for under a
// second; the bound here is for sanity only, timings live in the output).
// BuildKit's parser corpus (../shared/conformance) has no file with more than one FROM, so the
// test writes a file of BuildKit's shape itself: meta ARGs, base stages, stages built FROM other
// stages, RUN --mount=from= and cache mounts, COPY --from=, heredocs, line continuations and
// scratch export stages.
import { it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { describeWith } from '../helpers/env.js';
import { dockerfileToGraph } from '../../engine/frontend/graph/dockerfile.js';
import { edgeEndGaps, editorSession } from './harness.js';

/** 48 stages and a final one (49), about 500 lines, in the shape of BuildKit's Dockerfile. Returns the text and stage names. */
export function bigDockerfile(stages = 48): { text: string; names: string[] } {
  const out: string[] = ['# a multi-stage build of the size of BuildKit\'s own Dockerfile', ''];
  for (const a of ['RUNC', 'CONTAINERD', 'REGISTRY', 'ROOTLESSKIT', 'CNI', 'STARGZ', 'NERDCTL', 'DNSNAME', 'NYDUS', 'MINIO', 'GOTESTSUM', 'DELVE']) out.push(`ARG ${a}_VERSION=v1.${a.length}.0`);
  out.push('ARG GO_VERSION=1.21', 'ARG ALPINE_VERSION=3.18', 'ARG BUILDKIT_DEBUG', '');
  const names: string[] = [];
  for (let i = 0; i < stages; i++) {
    const name = `st${String(i).padStart(2, '0')}-${['base', 'src', 'build', 'bin', 'export', 'tool', 'test'][i % 7]}`;
    const prev = names[i - 1];
    const far = names[Math.max(0, i - 5)];
    out.push(`# stage ${i}: ${name}`);
    if (i < 4 || i % 7 === 0) {
      out.push(`FROM ${i % 2 ? 'debian:bookworm-local' : 'busybox:local'} AS ${name}`, 'ARG TARGETPLATFORM', `LABEL org.example.stage=${name}`, `RUN mkdir -p /out && echo ${name} > /out/${name}`);
    } else if (i % 7 === 4) {
      out.push(`FROM scratch AS ${name}`, `COPY --link --from=${prev} /out/ /out/`, `COPY --link --from=${far} /out/${far} /${far}`, `COPY --from=${names[i - 2]} /out /extra`);
    } else if (i % 7 === 2) {
      out.push(
        `FROM ${prev} AS ${name}`,
        'ARG TARGETPLATFORM',
        'WORKDIR /src',
        `LABEL org.example.stage=${name}`,
        `RUN --mount=type=cache,target=/root/.cache \\`,
        `  --mount=from=${far},src=/out,target=/in \\`,
        `  set -e; \\`,
        `  ls /in > /out/${name}.list; \\`,
        `  echo built ${name} >> /out/${name}`,
        `RUN <<EOT`,
        `  set -ex`,
        `  echo "${name}: $TARGETPLATFORM" > /out/${name}.platform`,
        `  cat /out/${name}.platform`,
        `EOT`,
      );
    } else {
      out.push(
        `FROM ${prev} AS ${name}`,
        `ARG ${['RUNC', 'CNI', 'DELVE'][i % 3]}_VERSION`,
        `ENV STAGE=${name} CGO_ENABLED=0`,
        'WORKDIR /work',
        `LABEL org.example.stage=${name}`,
        `COPY --from=${far} /out/${far} /work/`,
        `RUN --mount=type=cache,target=/go/pkg/mod \\`,
        `  --mount=source=/out,target=/prev,from=${names[i - 2]} \\`,
        `  cp -r /prev /work/prev && echo ${name} > /out/${name}`,
      );
    }
    out.push('');
    names.push(name);
  }
  out.push(`FROM ${names[stages - 1]} AS final`, 'ENTRYPOINT ["/bin/sh"]');
  names.push('final');
  return { text: out.join('\n') + '\n', names };
}

describeWith(['engine', 'browser'], 'editor: a 49-stage Dockerfile opens, renders every node inside its stage frame, and lays out in reasonable time (kiln serve)', () => {
  const ui = editorSession('big');

  it('opens 49 stages as 49 frames holding all their nodes, laid out without overlap, and reports open → rendered time', async () => {
    const { text, names } = bigDockerfile();
    const lines = text.split('\n').length;
    expect(lines).toBeGreaterThanOrEqual(480);
    const df = path.join(ui.tmp, 'big.Dockerfile');
    fs.writeFileSync(df, text);
    const stageCount = names.length;
    // what the editor should draw: the Dockerfile frontend's graph of the same file
    const doc = dockerfileToGraph(text, path.basename(df));
    expect(doc.groups).toHaveLength(stageCount);
    const want = { frames: stageCount, nodes: doc.nodes.length, edges: doc.edges.length };

    const times: number[] = [];
    const domTimes: number[] = [];
    for (let round = 0; round < 3; round++) {
      if (round) {
        ui.page.once('dialog', (d) => d.accept());
        await ui.page.reload();
      }
      await ui.page.getByRole('button', { name: 'Start from an example' }).waitFor();
      if (round === 2) {
        // the last open replaces a small graph shown close up: the big one must still be drawn at
        // its whole-view zoom from its first render, not at the old zoom and then refitted
        await ui.page.getByRole('button', { name: 'Start from an example' }).click();
        await ui.page.locator('.knode').first().waitFor();
        ui.page.on('dialog', (d) => void d.accept().catch(() => undefined));
      }
      // the page notes the first frame painted once every frame, node and edge is in the DOM; t0 is
      // taken in the page just before the file is handed over
      await ui.page.evaluate((w0) => {
        const w = window as unknown as { __t0?: number; __laidOut?: number; __inDom?: number; __fullDrawn?: number };
        const check = () => {
          // drawn at the zoom it is seen at from the first render: never a full-detail node on the way
          if (w.__t0 !== undefined && w.__inDom === undefined) w.__fullDrawn = (w.__fullDrawn ?? 0) + document.querySelectorAll('.knode:not(.tiny)').length;
          if (w.__inDom !== undefined || document.querySelectorAll('[data-testid="frame"]').length < w0.frames || document.querySelectorAll('.knode').length < w0.nodes || document.querySelectorAll('.react-flow__edge').length < w0.edges) return;
          w.__inDom = performance.now();
          // style, layout and paint of that frame come before the next animation frame starts
          requestAnimationFrame(() => setTimeout(() => (w.__laidOut = performance.now())));
        };
        delete w.__laidOut;
        delete w.__inDom;
        delete w.__t0;
        w.__fullDrawn = 0;
        new MutationObserver(check).observe(document.body, { subtree: true, childList: true });
      }, want);
      const chooser = ui.page.waitForEvent('filechooser');
      await ui.page.getByRole('button', { name: 'Open Dockerfile…' }).first().click();
      const fc = await chooser;
      await ui.page.evaluate(() => ((window as unknown as { __t0?: number }).__t0 = performance.now()));
      await fc.setFiles(df);
      await expect.poll(() => ui.page.evaluate(() => (window as unknown as { __laidOut?: number }).__laidOut !== undefined), { timeout: 60_000 }).toBe(true);
      const [inDom, painted] = await ui.page.evaluate(() => {
        const w = window as unknown as { __t0: number; __laidOut: number; __inDom: number };
        return [w.__inDom - w.__t0, w.__laidOut - w.__t0];
      });
      expect(await ui.page.evaluate(() => (window as unknown as { __fullDrawn: number }).__fullDrawn), 'full-detail nodes drawn while opening').toBe(0);
      times.push(Math.round(painted!));
      domTimes.push(Math.round(inDom!));
    }
    console.log(`49-stage Dockerfile (${lines} lines, ${stageCount} stages incl. final, ${want.nodes} nodes, ${want.edges} edges): open → all in the DOM in ${domTimes.join(' ms, ')} ms, painted in ${times.join(' ms, ')} ms (3 opens; the first on a fresh page)`);
    // let the initial zoom-to-fit settle before measuring boxes
    await ui.page.waitForTimeout(300);

    // every stage is a frame titled with its name, and every node of the graph is drawn once
    const titles = await ui.page.getByTestId('frame-title').allTextContents();
    expect(new Set(titles)).toEqual(new Set(names));
    expect(titles).toHaveLength(stageCount);
    const drawn = await ui.page.locator('.knode').evaluateAll((els) => els.map((e) => e.getAttribute('data-nodeid')));
    expect(new Set(drawn)).toEqual(new Set(doc.nodes.map((n) => n.id)));
    expect(drawn).toHaveLength(want.nodes);

    type Rect = { x: number; y: number; w: number; h: number };
    const frames = new Map((await ui.page.getByTestId('frame').evaluateAll((els) => els.map((e) => {
      const r = e.getBoundingClientRect();
      return [e.getAttribute('data-group')!, { x: r.x, y: r.y, w: r.width, h: r.height }] as const;
    }))) as [string, Rect][]);
    const nodes = new Map((await ui.page.locator('.knode').evaluateAll((els) => els.map((e) => {
      const r = e.getBoundingClientRect();
      return [e.getAttribute('data-nodeid')!, { x: r.x, y: r.y, w: r.width, h: r.height }] as const;
    }))) as [string, Rect][]);
    // each stage's frame holds each of its nodes on screen, and its instructions read top to bottom in file order
    const eps = 0.5;
    for (const g of doc.groups) {
      const f = frames.get(g.name)!;
      expect(f, `frame ${g.name}`).toBeDefined();
      for (const id of g.nodes) {
        const b = nodes.get(id)!;
        expect(b.x >= f.x - eps && b.y >= f.y - eps && b.x + b.w <= f.x + f.w + eps && b.y + b.h <= f.y + f.h + eps, `node ${id} outside frame ${g.name}`).toBe(true);
      }
      const ordered = g.nodes.map((id) => doc.nodes.find((n) => n.id === id)!).filter((n) => n.location).sort((a, b) => a.location!.startLine - b.location!.startLine);
      for (let i = 1; i < ordered.length; i++) expect(nodes.get(ordered[i]!.id)!.y, `${g.name}: ${ordered[i]!.id} below ${ordered[i - 1]!.id}`).toBeGreaterThan(nodes.get(ordered[i - 1]!.id)!.y);
    }
    // frames never overlap each other
    const boxes = [...frames.entries()];
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [[na, a], [nb, b]] = [boxes[i]!, boxes[j]!];
      const apart = a.x + a.w <= b.x + eps || b.x + b.w <= a.x + eps || a.y + a.h <= b.y + eps || b.y + b.h <= a.y + eps;
      expect(apart, `frames ${na} and ${nb} overlap`).toBe(true);
    }
    // edges follow FROM <stage>, COPY --from and RUN --mount from=, each drawn once, ending on its ports
    expect(await ui.page.locator('.react-flow__edge').count()).toBe(want.edges);
    const far = await edgeEndGaps(ui.page, doc.edges);
    expect(far.measured).toBe(want.edges);
    expect(far.worst, `edge ${far.edge} ends ${far.worst.toFixed(2)} px off its port (whole view)`).toBeLessThan(1);
    await ui.shot('big-dockerfile-dark');
    // zoomed in until nodes show their text and real ports, the edges still meet them
    const zoomNow = () => ui.page.locator('.react-flow__viewport').evaluate((el) => new DOMMatrix(getComputedStyle(el).transform).a);
    for (let i = 0; i < 30 && (await zoomNow()) < 0.6; i++) await ui.page.locator('.react-flow__controls-zoomin').click();
    await expect.poll(() => ui.page.locator('.knode .ktitle').count()).toBeGreaterThan(0);
    expect(await ui.page.locator('.knode.tiny').count()).toBe(0);
    const near = await edgeEndGaps(ui.page, doc.edges);
    expect(near.measured).toBeGreaterThan(0);
    expect(near.worst, `edge ${near.edge} ends ${near.worst.toFixed(2)} px off its port (zoomed in)`).toBeLessThan(1);
    await ui.shot('big-dockerfile-zoomed-in');
    // a sanity bound only (the figures are printed above): compound dagre took 3.5–5.5 s here
    expect(Math.max(...times)).toBeLessThan(15_000);
  }, 300_000);
});
