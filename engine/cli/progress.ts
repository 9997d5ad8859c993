// Progress printers for `kiln build --progress`: plain (buildx's `#N` lines), rawjson (one event
// per line) and tty (a redrawn view of running steps with spinners, timings, CACHED and a log tail).
import type { ProgressEvent } from '../solver/types.js';

export interface Printer {
  event(e: ProgressEvent): void;
  done(): void;
}

type V = { n: number; name: string; started?: number; completed?: number; cached?: boolean; error?: string; logs: string[] };

const secs = (ms: number) => (ms / 1000).toFixed(1) + 's';

export function plainPrinter(write: (s: string) => void): Printer {
  const vs = new Map<string, V>();
  let next = 1;
  const get = (d: string, name: string) => {
    let v = vs.get(d);
    if (!v) vs.set(d, (v = { n: next++, name, logs: [] }));
    return v;
  };
  return {
    event(e) {
      if (e.type === 'vertex') {
        const v = get(e.digest, e.name);
        if (e.cached && !v.cached) {
          v.cached = true;
          write(`#${v.n} ${e.name}\n#${v.n} CACHED\n\n`);
          return;
        }
        if (e.started && !v.started && !e.cached) {
          v.started = e.started;
          write(`#${v.n} ${e.name}\n`);
        }
        if (e.error && !v.error) {
          v.error = e.error;
          write(`#${v.n} ERROR: ${e.error}\n\n`);
        } else if (e.completed && !v.completed && !e.cached) {
          v.completed = e.completed;
          write(`#${v.n} DONE ${secs(e.completed - (v.started ?? e.completed))}\n\n`);
        }
      } else if (e.type === 'log') {
        const v = get(e.vertex, e.vertex);
        const t = v.started ? secs(e.timestamp - v.started) : '0.0s';
        for (const line of e.data.replace(/\n$/, '').split('\n')) write(`#${v.n} ${t} ${line}\n`);
      } else if (e.type === 'status') {
        const v = get(e.vertex, e.vertex);
        if (e.total && e.current === e.total) write(`#${v.n} ${e.id} ${e.current}B done\n`);
      }
    },
    done() {},
  };
}

export function rawjsonPrinter(write: (s: string) => void): Printer {
  return { event: (e) => write(JSON.stringify(e) + '\n'), done() {} };
}

const SPIN = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** log lines kept per running step, as BuildKit's tty view shows them */
const LOG_TAIL = 6;

type TV = V & { statuses: Map<string, { current: number; total?: number }> };

export interface TtyOptions {
  /** redraw period (ms) */
  interval?: number;
  now?: () => number;
}

/**
 * BuildKit's tty view, redrawn in place: a header with elapsed time and done/total steps, one
 * line per step that started (spinner and elapsed time while running; CACHED, ERROR or its
 * duration after), byte progress and a log tail under running steps, and on done() a final frame
 * that ends the header with FINISHED (or ERROR) and drops the tails.
 */
export function ttyPrinter(stream: NodeJS.WritableStream & { columns?: number }, o: TtyOptions = {}): Printer {
  const now = o.now ?? Date.now;
  const vs = new Map<string, TV>();
  let next = 1;
  let lines = 0;
  let frame = 0;
  const t0 = now();
  const fit = (left: string, right: string, width: number) => {
    const room = Math.max(8, width - right.length - 1);
    const l = left.length > room ? left.slice(0, room - 1) + '…' : left.padEnd(room);
    return `${l} ${right}`;
  };
  const draw = (final: boolean) => {
    const width = stream.columns || 100;
    const t = now();
    const shown = [...vs.values()].filter((v) => v.started || v.cached || v.error);
    const done = shown.filter((v) => v.completed || v.cached || v.error).length;
    const failed = shown.some((v) => v.error);
    const out = [`[+] Building ${secs(t - t0)} (${done}/${vs.size})${final ? (failed ? ' ERROR' : ' FINISHED') : ''}`];
    for (const v of shown) {
      const running = !v.completed && !v.cached && !v.error;
      const took = secs((v.completed ?? (running ? t : v.started ?? t)) - (v.started ?? v.completed ?? t));
      const state = v.cached ? '0.0s' : running ? (final ? took : `${SPIN[frame % SPIN.length]} ${took}`) : took;
      out.push(fit(` => ${v.cached ? 'CACHED ' : v.error ? 'ERROR ' : ''}${v.name}`, state, width));
      if (!running || final) continue;
      for (const [id, st] of v.statuses) out.push(fit(` => => ${id}`, st.total ? `${st.current}/${st.total}B` : `${st.current}B`, width));
      for (const l of v.logs.slice(-LOG_TAIL)) out.push(` => => # ${l}`.slice(0, width - 1));
    }
    stream.write((lines ? `\x1b[${lines}A` : '') + out.map((l) => l + '\x1b[K').join('\n') + '\n\x1b[J');
    lines = out.length;
  };
  const timer = setInterval(() => {
    frame++;
    draw(false);
  }, o.interval ?? 120);
  timer.unref();
  const get = (digest: string, name: string) => {
    let v = vs.get(digest);
    if (!v) vs.set(digest, (v = { n: next++, name, logs: [], statuses: new Map() }));
    return v;
  };
  return {
    event(e) {
      if (e.type === 'vertex') {
        const v = get(e.digest, e.name);
        if (e.started) v.started ??= e.started;
        if (e.completed) v.completed = e.completed;
        if (e.cached) v.cached = true;
        if (e.error) v.error = e.error;
      } else if (e.type === 'log') {
        const v = vs.get(e.vertex);
        if (v) v.logs.push(...e.data.replace(/\n$/, '').split('\n'));
        if (v && v.logs.length > 50) v.logs.splice(0, v.logs.length - 50);
      } else if (e.type === 'status') {
        const v = vs.get(e.vertex);
        if (v) v.statuses.set(e.id, { current: e.current, ...(e.total !== undefined ? { total: e.total } : {}) });
      }
    },
    done() {
      clearInterval(timer);
      draw(true);
    },
  };
}

export function makePrinter(mode: string, stderr: NodeJS.WriteStream, stdout: NodeJS.WriteStream): Printer {
  if (mode === 'rawjson') return rawjsonPrinter((s) => stdout.write(s));
  if (mode === 'tty' || (mode === 'auto' && stderr.isTTY)) return ttyPrinter(stderr);
  return plainPrinter((s) => stderr.write(s));
}
