// `kiln du` / `kiln prune` end to end on both workers, checked on disk: what du reports is what
// prune --all frees (the overlay layer dirs under the state root, or the kiln=1 engine images,
// behind the records are gone; the user's base image stays), --filter type=…, --keep-duration and
// --keep-storage remove the records they should and their snapshots, and a build after prune works.
// Also `kiln history show` in text form: each step's timing, cached mark and log tail, with a
// step's log over the history cap clipped and marked.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import Docker from 'dockerode';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
const docker = new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, '') });

interface Du {
  total: number;
  records: { id: string; type: string; size: number; description?: string }[];
}
interface Snap {
  key: string;
  type: string;
  description: string;
  sys: { kind: string; imageId?: string; layer?: string };
}

for (const worker of ['runc', 'docker'] as const) {
  describeWith(['engine'], `kiln du/prune on disk (${worker} worker)`, () => {
    let root: string;
    let ctx: string;
    let salt: string;
    const kiln = (args: string[]) => {
      const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, KILN_ROOT: root, DOCKER_HOST, KILN_WORKER: worker }, encoding: 'utf8', cwd: ctx, timeout: 240_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const json = <T>(args: string[]): T => {
      const r = kiln([...args, '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as T;
    };
    const build = (file: string) => {
      const r = kiln(['build', '--progress', 'rawjson', '-f', file, '.']);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    };
    /** the records' snapshots, as the state DB has them */
    const snaps = (): Snap[] => {
      const db = new Database(path.join(root, 'kiln.db'), { readonly: true });
      try {
        return (db.prepare('SELECT key, type, description, result_sys FROM cache_records').all() as { key: string; type: string; description: string; result_sys: string }[]).map((r) => ({ ...r, sys: JSON.parse(r.result_sys) as Snap['sys'] }));
      } finally {
        db.close();
      }
    };
    const layerDirs = () => (fs.existsSync(path.join(root, 'overlay/l')) ? fs.readdirSync(path.join(root, 'overlay/l')) : []);
    const bytesUnder = (p: string): number => {
      const st = fs.lstatSync(p, { throwIfNoEntry: false });
      if (!st) return 0;
      if (!st.isDirectory()) return st.size;
      return fs.readdirSync(p).reduce((a, n) => a + bytesUnder(path.join(p, n)), 0);
    };
    const imageExists = async (id: string) =>
      docker
        .getImage(id)
        .inspect()
        .then(
          () => true,
          () => false,
        );
    /** does the snapshot behind a record still exist where the worker keeps it */
    const present = async (s: Snap) => (s.sys.kind === 'overlay' ? fs.existsSync(path.join(root, 'overlay/l', s.sys.layer!)) : s.sys.kind === 'image' ? imageExists(s.sys.imageId!) : true);
    const mine = (s: { description?: string }, tag: string) => (s.description ?? '').includes(`${tag}-${salt}`);

    beforeAll(() => {
      if (!fs.existsSync(path.join(repo, 'dist/engine/cli/main.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
      root = fs.mkdtempSync(path.join(os.tmpdir(), `kiln-prune-${worker}-`));
      ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-prune-ctx-'));
      salt = Math.random().toString(36).slice(2, 8);
      fs.writeFileSync(path.join(ctx, 'x.txt'), `x-${salt}\n`);
      for (const tag of ['a', 'b', 'c'])
        fs.writeFileSync(path.join(ctx, `${tag}.Dockerfile`), `FROM busybox:local\nRUN head -c 300000 /dev/urandom > /big && echo big-${tag}-${salt}\nRUN head -c 100000 /dev/urandom > /small && echo small-${tag}-${salt}\nCOPY x.txt /x\n`);
      // 100 KiB of output from one step: over the history's 64 KiB per-step cap
      fs.writeFileSync(path.join(ctx, 'chatty.Dockerfile'), `FROM busybox:local\nRUN echo quiet-${salt}\nRUN i=0; while [ $i -lt 2000 ]; do echo "chatty-${salt} line $i ................................"; i=$((i+1)); done\n`);
    });
    afterAll(() => {
      kiln(['prune', '--all']);
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(ctx, { recursive: true, force: true });
    });

    it('prune --all frees on disk what du reported; the base image stays; a build after it runs every step', async () => {
      build('a.Dockerfile');
      const du = json<Du>(['du']);
      expect(du.total).toBeGreaterThan(400_000);
      const before = snaps();
      expect(before.filter((s) => mine(s, 'big-a') || mine(s, 'small-a'))).toHaveLength(2);
      for (const s of before) expect(await present(s), s.description).toBe(true);
      const diskBefore = bytesUnder(path.join(root, 'overlay/l'));
      const pr = json<{ reclaimed: number; removed: unknown[] }>(['prune', '--all']);
      expect(pr.removed).toHaveLength(du.records.length);
      expect(pr.reclaimed).toBe(du.total);
      for (const s of before) if (s.type !== 'source.image' && s.sys.kind !== 'local') expect(await present(s), `${s.description} is gone`).toBe(false);
      // the user's base image is the engine's, not the cache's
      expect(await imageExists('busybox:local')).toBe(true);
      if (worker === 'runc') {
        expect(layerDirs()).toEqual([]);
        const freed = diskBefore - bytesUnder(path.join(root, 'overlay/l'));
        console.log(`[${worker}] du said ${du.total} B, prune freed ${freed} B of layer dirs (fs + layer tars)`);
        expect(freed).toBeGreaterThanOrEqual(du.total);
      }
      const after = json<Du>(['du']);
      expect(after.records).toHaveLength(0);
      expect(after.total).toBe(0);
      // the same build again executes its steps (nothing cached survives) and succeeds
      const evs = build('a.Dockerfile');
      const runs = evs.filter((e) => e['type'] === 'vertex' && e['completed'] && String(e['name']).includes(`-a-${salt}`));
      expect(runs.length).toBeGreaterThanOrEqual(2);
      expect(runs.every((e) => !e['cached'])).toBe(true);
    });

    it('--filter type=source.local removes only context records; type=regular the step records and their snapshots', async () => {
      const du = json<Du>(['du']);
      expect(du.records.some((r) => r.type === 'source.local')).toBe(true);
      const ctxOnly = json<{ removed: Du['records'] }>(['prune', '--filter', 'type=source.local']);
      expect(ctxOnly.removed.length).toBeGreaterThan(0);
      expect(ctxOnly.removed.every((r) => r.type === 'source.local')).toBe(true);
      const mid = snaps();
      expect(mid.some((s) => s.type === 'source.local')).toBe(false);
      expect(mid.filter((s) => mine(s, 'big-a') || mine(s, 'small-a'))).toHaveLength(2);
      const steps = mid.filter((s) => s.type === 'regular');
      const regular = json<{ removed: Du['records']; reclaimed: number }>(['prune', '--filter', 'type=regular']);
      expect(regular.removed.map((r) => r.id).sort()).toEqual(steps.map((s) => s.key).sort());
      expect(regular.reclaimed).toBeGreaterThan(400_000);
      for (const s of steps) expect(await present(s), s.description).toBe(false);
      // the base image's record is not `regular`: it stays
      expect(snaps().map((s) => s.type)).toEqual(['source.image']);
      expect(kiln(['prune', '--filter', 'colour=blue']).code).toBe(1);
    });

    it('--keep-duration drops records unused for longer and keeps recent ones', async () => {
      build('b.Dockerfile');
      // b's records are older than 2s once this wait is over; c's are fresh
      await new Promise((r) => setTimeout(r, 2500));
      build('c.Dockerfile');
      const pr = json<{ removed: Du['records'] }>(['prune', '--keep-duration', '2s']);
      const left = snaps();
      expect(pr.removed.some((r) => mine(r, 'big-b'))).toBe(true);
      expect(left.some((s) => mine(s, 'big-b') || mine(s, 'small-b'))).toBe(false);
      expect(left.filter((s) => mine(s, 'big-c') || mine(s, 'small-c'))).toHaveLength(2);
      for (const s of left) expect(await present(s), s.description).toBe(true);
      // the base image's record was used by c's build: it is recent and stays
      expect(left.some((s) => s.type === 'source.image')).toBe(true);
    });

    it('--keep-storage keeps the most recently used records within the budget, leaves first', async () => {
      // c's chain (~400 kB) is now older than b's, rebuilt here
      build('b.Dockerfile');
      const du = json<Du>(['du']);
      const before = snaps();
      expect(du.total).toBeGreaterThan(800_000);
      const pr = json<{ removed: Du['records']; reclaimed: number }>(['prune', '--keep-storage', '450000']);
      const after = json<Du>(['du']);
      console.log(`[${worker}] keep-storage 450000: du ${du.total} → ${after.total}, reclaimed ${pr.reclaimed}`);
      expect(after.total).toBeLessThanOrEqual(450_000);
      expect(du.total - after.total).toBe(pr.reclaimed);
      // the least recently used chain went (its leaf first, so its layers could be freed), b's stayed
      const left = snaps();
      expect(left.some((s) => mine(s, 'big-c') || mine(s, 'small-c'))).toBe(false);
      expect(left.filter((s) => mine(s, 'big-b') || mine(s, 'small-b'))).toHaveLength(2);
      const gone = new Set(pr.removed.map((r) => r.id));
      for (const s of before) if (gone.has(s.key) && s.type === 'regular') expect(await present(s), s.description).toBe(false);
      for (const s of left) expect(await present(s), s.description).toBe(true);
      expect(kiln(['prune', '--keep-storage', 'lots']).code).toBe(2);
      // and what is left still builds from the cache
      const evs = build('b.Dockerfile');
      expect(evs.filter((e) => e['type'] === 'vertex' && String(e['name']).includes(`big-b-${salt}`)).every((e) => e['cached'] === true)).toBe(true);
    });

    it('history show prints each step with its timing, cached mark and log tail; a chatty step is clipped', () => {
      const first = build('chatty.Dockerfile');
      const id = String(first.find((e) => e['type'] === 'result')!['id']);
      const again = build('chatty.Dockerfile');
      const id2 = String(again.find((e) => e['type'] === 'result')!['id']);
      const show = kiln(['history', 'show', id]);
      expect(show.code).toBe(0);
      const lines = show.stdout.split('\n');
      const quiet = lines.findIndex((l) => l.includes(`RUN echo quiet-${salt}`));
      expect(lines[quiet]).toMatch(/^\s+\d+\.\ds\s+\[2\/3\] RUN echo quiet-/);
      expect(lines[quiet + 1]).toBe(`           | quiet-${salt}`);
      const chatty = lines.findIndex((l) => /^\s+\d+\.\ds\s+\[3\/3\] RUN i=0/.test(l));
      expect(chatty).toBeGreaterThan(quiet);
      // the tail: the last line of the step's output, the head summarised
      expect(show.stdout).toContain(`| chatty-${salt} line 1999 `);
      expect(show.stdout).not.toContain(`chatty-${salt} line 0 `);
      expect(show.stdout).toMatch(/\| … \d+ earlier lines/);
      // the whole kept log: capped at 64 KiB behind the clipped marker
      const h = json<{ vertices: { digest: string; name: string }[]; logs: Record<string, string> }>(['history', 'show', id]);
      const v = h.vertices.find((x) => x.name.includes('RUN i=0'))!;
      const log = h.logs[v.digest]!;
      expect(log).toMatch(/^\[output clipped: \d+ earlier bytes dropped, the last 64 KiB kept\]\n/);
      expect(Buffer.byteLength(log.slice(log.indexOf('\n') + 1))).toBeLessThanOrEqual(64 * 1024);
      expect(log).toContain(`chatty-${salt} line 1999 `);
      // the rebuild: every step cached, no logs
      const cached = kiln(['history', 'show', id2]).stdout;
      expect(cached).toMatch(/^\s+CACHED\s+\[2\/3\] RUN echo quiet-/m);
      expect(cached).toMatch(/^\s+CACHED\s+\[3\/3\] RUN i=0/m);
      expect(cached).not.toContain('| ');
    });
  });
}
