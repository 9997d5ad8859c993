// The tty progress view (engine/cli/progress.ts) driven by a sequence of progress events into a
// fake TTY (a Writable with columns set); the clock and the redraw timer are vitest's fake ones,
// so each frame is the view at a known instant.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import { ttyPrinter } from '../../engine/cli/progress.js';
import type { ProgressEvent } from '../../engine/solver/types.js';

class FakeTTY extends Writable {
  readonly isTTY = true;
  columns = 64;
  writes: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.writes.push(chunk.toString());
    cb();
  }
  /** the last frame, as the terminal would show it: escapes stripped, one string per line */
  frame(): string[] {
    const last = this.writes.at(-1) ?? '';
    return last.replace(/\x1b\[\d*[AKJ]/g, '').split('\n').filter((l) => l !== '');
  }
}

const T0 = Date.UTC(2026, 0, 1);
const J = 'job';
const vertex = (digest: string, name: string, x: Partial<Extract<ProgressEvent, { type: 'vertex' }>> = {}): ProgressEvent => ({ type: 'vertex', jobId: J, digest, name, inputs: [], ...x });
const log = (v: string, data: string): ProgressEvent => ({ type: 'log', jobId: J, vertex: v, stream: 1, data, timestamp: Date.now() });

describe('tty progress', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  it('redraws running steps with timings, CACHED marks and a log tail, then a final summary', () => {
    const tty = new FakeTTY();
    const p = ttyPrinter(tty as unknown as NodeJS.WriteStream, { interval: 100 });
    p.event(vertex('a', '[internal] load metadata for busybox:local', { started: T0, completed: T0 + 200 }));
    p.event(vertex('b', '[1/3] FROM busybox:local', { cached: true, started: T0, completed: T0 }));
    p.event(vertex('c', '[2/3] RUN make all', { started: T0 + 300 }));
    p.event(vertex('d', '[3/3] COPY --from=build /out /r'));
    for (let i = 1; i <= 8; i++) p.event(log('c', `compiling unit ${i}\n`));
    vi.advanceTimersByTime(2500); // now T0+2.5s; the step has run 2.2s

    const f = tty.frame();
    expect(f[0]).toBe('[+] Building 2.5s (2/4)');
    expect(f[1]).toMatch(/^ => \[internal\] load metadata for busybox:local +0\.2s$/);
    expect(f[2]).toMatch(/^ => CACHED \[1\/3\] FROM busybox:local +0\.0s$/);
    expect(f[3]).toMatch(/^ => \[2\/3\] RUN make all +[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] 2\.2s$/);
    // the last six log lines of the running step, under it
    expect(f.slice(4)).toEqual([3, 4, 5, 6, 7, 8].map((i) => ` => => # compiling unit ${i}`));
    // a step that has not started is not shown
    expect(f.join('\n')).not.toContain('COPY --from=build');
    // every line fits the terminal, and each frame moves the cursor back over the previous one
    for (const l of f) expect(l.length).toBeLessThanOrEqual(tty.columns);
    const before = tty.writes.length;
    vi.advanceTimersByTime(100);
    expect(tty.writes.length).toBe(before + 1);
    expect(tty.writes.at(-1)!.startsWith(`\x1b[${f.length}A`)).toBe(true);

    p.event(vertex('c', '[2/3] RUN make all', { started: T0 + 300, completed: T0 + 3000 }));
    p.event(vertex('d', '[3/3] COPY --from=build /out /r', { started: T0 + 3000, completed: T0 + 3400 }));
    vi.setSystemTime(T0 + 3500);
    p.done();
    expect(tty.frame()).toEqual([
      '[+] Building 3.5s (4/4) FINISHED',
      expect.stringMatching(/^ => \[internal\] load metadata for busybox:local +0\.2s$/),
      expect.stringMatching(/^ => CACHED \[1\/3\] FROM busybox:local +0\.0s$/),
      expect.stringMatching(/^ => \[2\/3\] RUN make all +2\.7s$/),
      expect.stringMatching(/^ => \[3\/3\] COPY --from=build \/out \/r +0\.4s$/),
    ]);
    // done() stops the redraws
    const n = tty.writes.length;
    vi.advanceTimersByTime(1000);
    expect(tty.writes.length).toBe(n);
  });

  it('marks a failed step ERROR, truncates long names to the width, shows byte progress', () => {
    const tty = new FakeTTY();
    tty.columns = 40;
    const p = ttyPrinter(tty as unknown as NodeJS.WriteStream, { interval: 100 });
    p.event(vertex('ctx', '[internal] load build context', { started: T0 }));
    p.event({ type: 'status', jobId: J, vertex: 'ctx', id: 'transferring context', current: 512, total: 2048, timestamp: T0 });
    p.event(vertex('run', '[2/2] RUN a-very-long-command --with --many --flags --that --overflow', { started: T0 }));
    vi.advanceTimersByTime(1000);
    const f = tty.frame();
    expect(f[1]).toMatch(/^ => \[internal\] load build context +[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] 1\.0s$/);
    expect(f[2]).toMatch(/^ => => transferring context +512\/2048B$/);
    expect(f[3]).toMatch(/^ => \[2\/2\] RUN a-very-long-com.*… [⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] 1\.0s$/);
    for (const l of f) expect(l.length).toBeLessThanOrEqual(40);

    p.event(vertex('ctx', '[internal] load build context', { started: T0, completed: T0 + 1100 }));
    p.event(vertex('run', '[2/2] RUN a-very-long-command --with --many --flags --that --overflow', { started: T0, completed: T0 + 1200, error: 'exit code: 3' }));
    vi.setSystemTime(T0 + 1300);
    p.done();
    const last = tty.frame();
    expect(last[0]).toBe('[+] Building 1.3s (2/2) ERROR');
    expect(last[2]).toMatch(/^ => ERROR \[2\/2\] RUN a-very-long.*… 1\.2s$/);
    expect(last).toHaveLength(3);
  });
});
