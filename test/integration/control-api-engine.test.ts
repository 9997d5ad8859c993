// The control API suite on the real engine, over the in-process service and over HTTP +
// WebSocket (kiln serve's transport), on both workers: solve with its status stream (every step
// started and completed, RUN output as logs), cancel of a running step (the solve ends canceled,
// history says so, no container or process of the step is left), history with per-vertex timings,
// cached flags, errors and logs, du, prune of chosen records, workers and info.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import type { ControlAPI, SolveInput, SolveResponse } from '../../engine/control/api.js';
import type { ProgressEvent } from '../../engine/solver/types.js';
import { createControlService, statusWithEnd, type ControlService } from '../../engine/control/service.js';
import { startServer, type RunningServer } from '../../engine/control/http/server.js';
import { createToken } from '../../engine/control/http/token.js';
import { connectHttp } from '../../engine/control/client.js';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';

type Sub = (id: string, on: (e: ProgressEvent) => void, end: () => void) => () => void;
interface Transport {
  api: ControlAPI;
  sub: Sub;
}

const docker = new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, '') });

/** solve with a status subscription opened first; resolves when both the solve and the stream end */
async function solveWatched(t: Transport, id: string, input: SolveInput, onEvent?: (e: ProgressEvent) => void): Promise<{ r: SolveResponse; events: ProgressEvent[] }> {
  const events: ProgressEvent[] = [];
  let ended!: () => void;
  const end = new Promise<void>((res) => (ended = res));
  const un = t.sub(
    id,
    (e) => {
      events.push(e);
      onEvent?.(e);
    },
    () => ended(),
  );
  const r = await t.api.solve({ id, input, options: { name: `api-engine ${id}` } });
  await end;
  un();
  return { r, events };
}

/** processes on this host whose command line holds `marker` (runc and Docker steps both run here) */
function processesWith(marker: string): number {
  let n = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) n++;
    } catch {
      /* gone meanwhile */
    }
  }
  return n;
}

/** kiln=1 containers whose command holds `marker` (other suites share this Docker Engine) */
async function containersWith(marker: string): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { label: ['kiln=1'] } });
  return list.filter((c) => c.Command.includes(marker)).length;
}

function suite(label: string, worker: 'runc' | 'docker', get: () => Transport, root: () => string) {
  const salt = `${worker}-${label}-${Math.random().toString(36).slice(2, 8)}`.replace(/\W+/g, '-');
  let ctx: string;
  const input = (dockerfile: string): SolveInput => ({ kind: 'dockerfile', dockerfile, context: ctx });
  const DF = `FROM busybox:local\nRUN echo one-${salt}\nCOPY f.txt /f.txt\nRUN cat /f.txt && echo two-${salt} > /two\n`;

  describe(label, () => {
    beforeAll(() => {
      ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-api-engine-ctx-'));
      fs.writeFileSync(path.join(ctx, 'f.txt'), `file-${salt}\n`);
    });
    afterAll(() => fs.rmSync(ctx, { recursive: true, force: true }));

    it('solve streams started/completed for every step and the RUN output as logs; history has it all', async () => {
      const t = get();
      const g = await t.api.graph(input(DF));
      const runs = g.vertices.filter((v) => v.op === 'exec');
      expect(runs).toHaveLength(2);
      const id = `ok-${salt}`;
      const { r, events } = await solveWatched(t, id, input(DF));
      expect(r.error).toBeUndefined();
      expect(r.ok).toBe(true);
      const vev = events.filter((e): e is Extract<ProgressEvent, { type: 'vertex' }> => e.type === 'vertex');
      for (const v of g.vertices) {
        const mine = vev.filter((e) => e.digest === v.digest);
        expect(mine.length, `events for ${v.name}`).toBeGreaterThan(0);
        expect(mine.some((e) => e.completed !== undefined && !e.error), `${v.name} completed`).toBe(true);
      }
      for (const run of runs) {
        // a fresh salt: both RUNs executed, announced before they completed
        expect(vev.some((e) => e.digest === run.digest && e.started !== undefined && e.completed === undefined)).toBe(true);
        expect(vev.some((e) => e.digest === run.digest && e.completed !== undefined && !e.cached)).toBe(true);
      }
      const logOf = (d: string) => events.filter((e) => e.type === 'log' && e.vertex === d).map((e) => (e as { data: string }).data).join('');
      expect(logOf(runs[0]!.digest)).toContain(`one-${salt}`);
      expect(logOf(runs[1]!.digest)).toContain(`file-${salt}`);
      expect(events.every((e) => e.jobId === id)).toBe(true);

      const h = (await t.api.historyGet(id))!;
      expect(h.status).toBe('completed');
      expect(h.completedAt).toBeGreaterThanOrEqual(h.createdAt);
      for (const run of runs) {
        const hv = h.vertices!.find((v) => v.digest === run.digest)!;
        expect(hv.started).toBeTypeOf('number');
        expect(hv.completed).toBeGreaterThanOrEqual(hv.started!);
        expect(hv.cached).toBe(false);
        expect(hv.location?.startLine).toBe(run.location?.startLine);
        console.log(`[${label}] ${hv.name}: ${hv.completed! - hv.started!} ms`);
      }
      expect(h.logs![runs[0]!.digest]).toContain(`one-${salt}`);
      expect(h.logs![runs[1]!.digest]).toContain(`file-${salt}`);
      expect((await t.api.historyList()).find((e) => e.id === id)?.status).toBe('completed');

      // the same build again: every step a cache hit, and history records the cached marks
      const again = await solveWatched(t, `again-${salt}`, input(DF));
      expect(again.r.ok).toBe(true);
      const h2 = (await t.api.historyGet(`again-${salt}`))!;
      for (const run of runs) expect(h2.vertices!.find((v) => v.digest === run.digest)?.cached).toBe(true);
    });

    it('a failing step: the response and history carry the error, its vertex and its log', async () => {
      const t = get();
      const id = `fail-${salt}`;
      const { r } = await solveWatched(t, id, input(`FROM busybox:local\nRUN echo bad-${salt} && exit 4\n`));
      expect(r.ok).toBe(false);
      expect(r.error?.exitCode).toBe(4);
      expect(r.error?.location?.startLine).toBe(2);
      const h = (await t.api.historyGet(id))!;
      expect(h.status).toBe('failed');
      expect(h.error?.exitCode).toBe(4);
      const hv = h.vertices!.find((v) => v.digest === r.error!.vertex)!;
      expect(hv.error).toMatch(/exit code: 4|exit/);
      expect(h.logs![hv.digest]).toContain(`bad-${salt}`);
    });

    it('cancel of a running `sleep 30` step: canceled in the response and history, nothing left running', async () => {
      const t = get();
      const id = `cancel-${salt}`;
      const marker = `cancel-marker-${salt}`;
      const df = `FROM busybox:local\nRUN sleep 30; echo ${marker}\n`;
      const run = (await t.api.graph(input(df))).vertices.find((v) => v.op === 'exec')!;
      let started!: () => void;
      const running = new Promise<void>((res) => (started = res));
      const t0 = Date.now();
      const done = solveWatched(t, id, input(df), (e) => {
        if (e.type === 'vertex' && e.digest === run.digest && e.started && !e.completed) started();
      });
      await running;
      // the step really runs: its process is up (and, on the Docker worker, its container)
      for (let i = 0; i < 50 && processesWith(marker) === 0; i++) await new Promise((res) => setTimeout(res, 100));
      expect(processesWith(marker)).toBeGreaterThan(0);
      if (worker === 'docker') expect(await containersWith(marker)).toBe(1);
      expect((await t.api.historyGet(id))?.status).toBe('running');
      await t.api.cancel(id);
      const { r, events } = await done;
      console.log(`[${label}] cancel: solve ended ${Date.now() - t0} ms after it began`);
      expect(r.ok).toBe(false);
      expect(r.error?.code).toBe('canceled');
      expect(events.some((e) => e.type === 'log' && e.data.includes(marker))).toBe(false);
      const h = (await t.api.historyGet(id))!;
      expect(h.status).toBe('canceled');
      expect(h.completedAt).toBeTypeOf('number');
      expect(processesWith(marker)).toBe(0);
      expect(await containersWith(marker)).toBe(0);
      if (worker === 'runc') {
        const l = spawnSync('runc', ['--root', path.join(root(), 'runc'), 'list', '-q'], { encoding: 'utf8' });
        expect(l.stdout.trim()).toBe('');
      }
    });

    it('du reports sized records; prune of chosen records removes them and du shrinks', async () => {
      const t = get();
      const du = await t.api.du();
      expect(du.total).toBeGreaterThan(0);
      const mine = du.records.filter((r) => r.description?.includes(salt));
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(mine.some((r) => r.size > 0)).toBe(true);
      for (const r of du.records) expect(r.size).toBeGreaterThanOrEqual(0);
      expect(Object.values(du.byType).reduce((a, b) => a + b, 0)).toBe(du.total);
      const pr = await t.api.prune({ filters: [`description=two-${salt}`] });
      expect(pr.removed.length).toBeGreaterThan(0);
      expect(pr.removed.every((r) => r.description?.includes(`two-${salt}`))).toBe(true);
      const after = await t.api.du();
      const gone = new Set(pr.removed.map((r) => r.id));
      expect(after.records.filter((r) => gone.has(r.id))).toHaveLength(0);
      expect(after.records.some((r) => r.description?.includes(`one-${salt}`))).toBe(true);
      expect(after.total).toBeLessThan(du.total);
      await expect(t.api.prune({ filters: ['colour=blue'] })).rejects.toThrow(/unknown prune filter colour=blue/);
    });

    it('workers lists the real worker and info the engine', async () => {
      const t = get();
      const ws = await t.api.workers();
      expect(ws).toHaveLength(1);
      expect(ws[0]!.kind).toBe(worker);
      expect(ws[0]!.ok).toBe(true);
      expect(ws[0]!.platforms).toContain('linux/amd64');
      const info = await t.api.info();
      expect(info.engine.ok).toBe(true);
      expect(info.engine.version).toMatch(/^\d+\./);
      expect(info.root).toBe(root());
    });
  });
}

for (const worker of ['runc', 'docker'] as const) {
  describeWith(['engine'], `ControlAPI on the real engine (${worker} worker)`, () => {
    let dir: string;
    let svc: ControlService;
    let server: RunningServer;
    let http: ReturnType<typeof connectHttp>;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `kiln-api-engine-${worker}-`));
      const prev = process.env.KILN_WORKER;
      process.env.KILN_WORKER = worker;
      try {
        svc = await createControlService({ root: path.join(dir, 'state'), dockerHost: DOCKER_HOST });
      } finally {
        if (prev === undefined) delete process.env.KILN_WORKER;
        else process.env.KILN_WORKER = prev;
      }
      const token = createToken(svc.root);
      server = await startServer({ api: svc, token, staticDir: path.join(dir, 'no-ui') });
      http = connectHttp(server.url, token);
    });
    afterAll(async () => {
      http?.close();
      await server?.close();
      await svc?.prune({ all: true }).catch(() => undefined);
      await svc?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    suite('in-process', worker, () => ({ api: svc, sub: (id, on, end) => statusWithEnd(svc, id, on, end) }), () => svc.root);
    suite('over HTTP', worker, () => ({ api: http, sub: (id, on, end) => http.statusWithEnd(id, on, end) }), () => svc.root);
  });
}
