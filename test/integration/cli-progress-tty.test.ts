// `kiln build --progress tty` under a real pseudo-terminal (util-linux `script`), against the real
// engine: the view is redrawn in place (cursor-up sequences), shows a spinner and a log tail while
// a step runs, and its final screen — replayed here the way a terminal would draw it — lists every
// step with its duration and FINISHED, then CACHED marks on a rebuild, and ERROR on a failure.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));
let root: string;
let ctx: string;
let salt: string;

/** runs kiln under a pty 100 columns wide; returns what the terminal received and the exit code */
function kilnTty(args: string[]): { code: number | null; raw: string } {
  const cmd = `stty cols 100 rows 50; exec ${process.execPath} ${bin} ${args.join(' ')}`;
  const r = spawnSync(SCRIPT!, ['-qfec', cmd, '/dev/null'], { env: { ...process.env, KILN_ROOT: root, DOCKER_HOST, TERM: 'xterm' }, cwd: ctx, encoding: 'utf8', timeout: 240_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, raw: r.stdout };
}

/** what a terminal shows after `raw`: text, \r, \n, ESC[nA (up), ESC[K (clear line), ESC[J (clear below) */
function screen(raw: string): string[] {
  const rows: string[] = [];
  let row = 0;
  let col = 0;
  const re = /\x1b\[(\d*)([A-Za-z])|\r|\n|[^\x1b\r\n]/gu;
  for (const m of raw.matchAll(re)) {
    const t = m[0];
    rows[row] ??= '';
    if (t === '\r') col = 0;
    else if (t === '\n') {
      row++;
      col = 0;
    } else if (m[2] === 'A') row = Math.max(0, row - Number(m[1] || 1));
    else if (m[2] === 'K') rows[row] = rows[row]!.slice(0, col);
    else if (m[2] === 'J') {
      rows[row] = rows[row]!.slice(0, col);
      rows.length = row + 1;
    } else if (!m[2]) {
      const line = rows[row]!.padEnd(col);
      rows[row] = line.slice(0, col) + t + line.slice(col + 1);
      col++;
    }
  }
  return rows.map((r) => r.trimEnd()).filter((r) => r !== '');
}

describeWith(['engine'], 'kiln build --progress tty under a pseudo-terminal', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/cli/main.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-tty-root-'));
    ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-tty-ctx-'));
    salt = Math.random().toString(36).slice(2);
    fs.writeFileSync(path.join(ctx, 'note.txt'), `note ${salt}\n`);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox:local\nCOPY note.txt /note\nRUN echo tty-${salt} && sleep 1.5 && echo after-${salt}\n`);
    fs.writeFileSync(path.join(ctx, 'Fail.Dockerfile'), `FROM busybox:local\nRUN echo failing-${salt} && exit 3\n`);
  });
  afterAll(() => {
    spawnSync(process.execPath, [bin, 'prune', '--all'], { env: { ...process.env, KILN_ROOT: root, DOCKER_HOST } });
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(ctx, { recursive: true, force: true });
  });

  it.skipIf(!SCRIPT)('redraws the running view, then a final screen with durations and FINISHED; a rebuild shows CACHED', () => {
    const first = kilnTty(['build', '--progress', 'tty', '.']);
    expect(first.code).toBe(0);
    // redrawn in place: many frames, each moving the cursor back up over the previous one
    expect((first.raw.match(/\x1b\[\d+A/g) ?? []).length).toBeGreaterThan(3);
    // while the RUN step ran, its line had a spinner and the tail of its output under it
    expect(first.raw).toMatch(new RegExp(`=> \\[3/3\\] RUN echo tty-${salt}[^\\n]*[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \\d+\\.\\ds`));
    expect(first.raw).toContain(` => => # tty-${salt}`);
    const done = screen(first.raw);
    expect(done[0]).toMatch(/^\[\+\] Building \d+\.\ds \(\d+\/\d+\) FINISHED$/);
    const run = done.find((l) => l.includes(`RUN echo tty-${salt}`))!;
    expect(run).toMatch(/^ => \[3\/3\] RUN echo tty-\S+ && sleep 1\.5 && echo after-\S+\s+(\d+\.\d)s$/);
    expect(Number(/(\d+\.\d)s$/.exec(run)![1])).toBeGreaterThanOrEqual(1.5);
    expect(done.some((l) => /^ => \[2\/3\] COPY note\.txt \/note\s+\d+\.\ds$/.test(l))).toBe(true);
    // the final frame drops spinners and log tails, and fits the terminal
    expect(done.join('\n')).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|=> => #/);
    for (const l of done) expect(l.length).toBeLessThanOrEqual(100);

    const again = screen(kilnTty(['build', '--progress', 'tty', '.']).raw);
    expect(again[0]).toMatch(/FINISHED$/);
    expect(again.some((l) => /^ => CACHED \[3\/3\] RUN echo tty-/.test(l))).toBe(true);
    expect(again.some((l) => l.includes(`after-${salt}`) && !l.includes('CACHED'))).toBe(false);
  });

  it.skipIf(!SCRIPT)('a failing step is marked ERROR in the view and the build exits 1', () => {
    const r = kilnTty(['build', '--progress', 'tty', '-f', 'Fail.Dockerfile', '.']);
    expect(r.code).toBe(1);
    const s = screen(r.raw);
    const head = s.findIndex((l) => l.startsWith('[+] Building'));
    expect(s[head]).toMatch(/\) ERROR$/);
    expect(s.some((l) => /^ => ERROR \[2\/2\] RUN echo failing-/.test(l))).toBe(true);
    // then the failure report, with the Dockerfile line marked
    expect(s.some((l) => /^>>>\s+2 \| RUN echo failing-/.test(l))).toBe(true);
  });
});
