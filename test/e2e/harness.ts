// The e2e suites drive the product as a user runs it: a real `kiln serve` process (bin/kiln.js →
// dist/engine/cli/main.js) with its own KILN_ROOT and DOCKER_HOST, serving the built editor from
// dist/renderer, and headless Chromium on the URL it prints. The tests reach the API only the way
// a client does: over HTTP with the token from that URL (engine/control/client.ts).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { connectHttp, type HttpControlAPI } from '../../engine/control/client.js';
import { CHROMIUM, DOCKER_HOST } from '../helpers/env.js';

export const SHOTS = path.resolve('test-results/e2e');

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const CLI = path.join(REPO, 'bin/kiln.js');
const CLI_MAIN = path.join(REPO, 'dist/engine/cli/main.js');
const UI = path.join(REPO, 'dist/renderer');

function newest(dir: string, skip = (p: string) => p.includes('node_modules')): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (skip(p)) continue;
    if (e.isDirectory()) t = Math.max(t, newest(p, skip));
    else if (/\.(tsx?|css|html)$/.test(e.name)) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Makes sure `kiln serve` will serve a renderer built from the current sources: when
 * dist/renderer is older than renderer/ (or the engine modules the bundle imports), it is rebuilt
 * once, under a lock, so suites starting side by side never serve a half-written bundle.
 * Returns the directory `kiln serve` serves.
 */
export async function buildRenderer(): Promise<string> {
  if (!fs.existsSync(CLI_MAIN)) throw new Error(`${path.relative(REPO, CLI_MAIN)} is missing: run \`npm run build\` first (npm test does)`);
  const lock = path.join(REPO, 'dist/.renderer-build.lock');
  const stale = () => {
    const built = fs.existsSync(path.join(UI, 'index.html')) ? fs.statSync(path.join(UI, 'index.html')).mtimeMs : 0;
    const src = Math.max(newest(path.join(REPO, 'renderer')), newest(path.join(REPO, 'engine/frontend')), newest(path.join(REPO, 'engine/control')), newest(path.join(REPO, 'engine/llb')));
    return built < src;
  };
  for (const t0 = Date.now(); stale(); ) {
    try {
      fs.mkdirSync(lock);
    } catch {
      // another suite is building; a lock older than 5 minutes is a leftover
      if (Date.now() - fs.statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 300_000) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() - t0 > 600_000) throw new Error('timed out waiting for another suite to build the renderer');
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      if (!stale()) break;
      const tmp = path.join(REPO, `dist/.renderer-${process.pid}`);
      execFileSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'error', '--outDir', tmp, '--emptyOutDir'], { cwd: REPO, stdio: 'inherit' });
      fs.rmSync(UI, { recursive: true, force: true });
      fs.renameSync(tmp, UI);
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
  return UI;
}

export interface Served {
  /** the URL `kiln serve` printed (with ?token=) */
  url: string;
  token: string;
  /** the same API over HTTP, as `kiln build --addr` would use it */
  api: HttpControlAPI;
  proc: ChildProcess;
  /** everything the process wrote to stderr */
  stderr(): string;
  close(): Promise<void>;
}

/** Starts `kiln serve` as its own process and waits for the URL it prints. */
export async function serveKiln(opts: { root: string; dockerHost?: string }): Promise<Served> {
  fs.mkdirSync(opts.root, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, KILN_ROOT: opts.root, ...(opts.dockerHost ? { DOCKER_HOST: opts.dockerHost } : {}) };
  const proc = spawn(process.execPath, [CLI, 'serve'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiln serve printed no URL within 60s; stdout: ${out} stderr: ${err}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /kiln serve listening on (http:\/\/\S+)/.exec(out);
      if (m) clearTimeout(timer), resolve(m[1]!);
    });
    proc.once('exit', (code, sig) => (clearTimeout(timer), reject(new Error(`kiln serve exited (${code ?? sig}) before listening: ${err}`))));
  });
  const token = new URL(url).searchParams.get('token') ?? '';
  const api = connectHttp(url, token);
  return {
    url,
    token,
    api,
    proc,
    stderr: () => err,
    async close() {
      api.close();
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
}

/** What one suite drives: its own `kiln serve`, one Chromium and one page on the served editor. */
export interface EditorSession {
  browser: Browser;
  page: Page;
  srv: Served;
  /** the suite's scratch directory (the service's KILN_ROOT is root/ inside it) */
  tmp: string;
  /** saves a screenshot of the page as SHOTS/<name>.png */
  shot(name: string): Promise<void>;
}

/**
 * Registers the suite's beforeAll/afterAll (call it inside the describe) and returns the session,
 * filled in once beforeAll has run: the renderer built, `kiln serve` started on a fresh root
 * against `dockerHost` (default: the test engine), and a page open on its URL.
 */
export function editorSession(name: string, opts: { dockerHost?: string; viewport?: { width: number; height: number } } = {}): EditorSession {
  const s = {} as EditorSession;
  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    await buildRenderer();
    s.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `kiln-e2e-${name}-`));
    s.srv = await serveKiln({ root: path.join(s.tmp, 'root'), dockerHost: opts.dockerHost ?? DOCKER_HOST });
    s.browser = await launchChromium();
    s.page = await s.browser.newPage({ viewport: opts.viewport ?? { width: 1400, height: 900 } });
    s.shot = async (shot) => void (await s.page.screenshot({ path: path.join(SHOTS, `${shot}.png`) }));
    await s.page.goto(s.srv.url);
  }, 180_000);
  afterAll(async () => {
    await s.browser?.close();
    await s.srv?.close();
  });
  return s;
}

/**
 * How far, in canvas pixels, the drawn edges end from the ports they connect: for each edge, the
 * distance from its path's first and last points to the source and target handles' outer edge
 * centres as laid out in the DOM (where React Flow attaches an edge). The editor hands React
 * Flow computed port boxes (renderer/src/nodeGeometry.ts), so a drift between those numbers
 * and the CSS shows up here. Returns the worst gap and the edge it was on.
 */
export async function edgeEndGaps(page: Page, edges: { id: string; source: string; sourcePort: string; target: string; targetPort: string }[]): Promise<{ worst: number; edge?: string; measured: number }> {
  return page.evaluate((es) => {
    const vp = document.querySelector('.react-flow__viewport') as HTMLElement;
    const m = new DOMMatrix(getComputedStyle(vp).transform);
    const origin = (vp.parentElement as HTMLElement).getBoundingClientRect();
    const toFlow = (x: number, y: number) => ({ x: (x - origin.left - m.e) / m.a, y: (y - origin.top - m.f) / m.a });
    const attach = (nodeId: string, port: string, type: 'source' | 'target') => {
      const h = document.querySelector(`.react-flow__node[data-id="${CSS.escape(nodeId)}"] .${type}[data-handleid="${CSS.escape(port)}"]`);
      if (!h) return undefined;
      const r = h.getBoundingClientRect();
      const pos = h.getAttribute('data-handlepos');
      const [x, y] = pos === 'top' ? [r.left + r.width / 2, r.top] : pos === 'bottom' ? [r.left + r.width / 2, r.bottom] : pos === 'left' ? [r.left, r.top + r.height / 2] : [r.right, r.top + r.height / 2];
      return toFlow(x, y);
    };
    let worst = 0, edge: string | undefined, measured = 0;
    for (const e of es) {
      const path = document.querySelector(`.react-flow__edge[data-id="${CSS.escape(e.id)}"] path.react-flow__edge-path`) as SVGPathElement | null;
      const a = attach(e.source, e.sourcePort, 'source'), b = attach(e.target, e.targetPort, 'target');
      if (!path || !a || !b) continue;
      const p0 = path.getPointAtLength(0), p1 = path.getPointAtLength(path.getTotalLength());
      const gap = Math.max(Math.hypot(p0.x - a.x, p0.y - a.y), Math.hypot(p1.x - b.x, p1.y - b.y));
      measured++;
      if (gap > worst) (worst = gap), (edge = e.id);
    }
    return { worst, edge, measured };
  }, edges);
}
