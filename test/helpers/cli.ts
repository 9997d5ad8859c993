// What the CLI suites read from bin/kiln.js: `--progress rawjson` output, the RUN/COPY steps it
// reports, and the URL a `kiln serve` child prints when it is listening.
import type { ChildProcess } from 'node:child_process';

export type Ev = Record<string, unknown>;

/** one ProgressEvent (or the final result line) per line of rawjson output */
export const rawEvents = (stdout: string): Ev[] => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);

/** the log data of rawjson events, concatenated */
export const rawLogs = (evs: Ev[]): string => evs.filter((e) => e['type'] === 'log').map((e) => e['data']).join('');

/** the build steps (RUN/COPY) of a rawjson run: name → cached? executed? */
export function stepStates(evs: Ev[]): Map<string, { cached: boolean; executed: boolean }> {
  const out = new Map<string, { cached: boolean; executed: boolean }>();
  for (const e of evs) {
    if (e['type'] !== 'vertex' || !/\] (RUN|COPY)/.test(String(e['name']))) continue;
    const s = out.get(String(e['name'])) ?? { cached: false, executed: false };
    if (e['cached'] === true) s.cached = true;
    else if (e['completed']) s.executed = true;
    out.set(String(e['name']), s);
  }
  return out;
}

/** the URL (with its token) a spawned `kiln serve` prints once it listens; rejects if it exits first */
export function serveUrl(serve: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    serve.stdout!.on('data', (d) => {
      out += String(d);
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    serve.once('exit', () => reject(new Error(`kiln serve exited before listening: ${out}`)));
  });
}
