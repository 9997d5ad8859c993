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

export function ttyPrinter(stream: NodeJS.WriteStream): Printer {
  const vs = new Map<string, V>();
  let next = 1;
  let lines = 0;
  let frame = 0;
  const t0 = Date.now();
  const draw = () => {
    const width = stream.columns || 100;
    const out: string[] = [`[+] Building ${secs(Date.now() - t0)}`];
    let lastLogs: string[] = [];
    for (const v of vs.values()) {
      const state = v.error ? 'ERROR' : v.cached ? 'CACHED' : v.completed ? secs(v.completed - (v.started ?? v.completed)) : v.started ? `${SPIN[frame % SPIN.length]} ${secs(Date.now() - v.started)}` : '';
      if (!v.started && !v.cached && !v.error) continue;
      out.push(` => ${v.name}`.slice(0, width - state.length - 2).padEnd(width - state.length - 2) + ' ' + state);
      if (v.started && !v.completed && !v.cached) lastLogs = v.logs.slice(-6);
    }
    for (const l of lastLogs) out.push(`    ${l}`.slice(0, width - 1));
    stream.write((lines ? `\x1b[${lines}A` : '') + out.map((l) => l + '\x1b[K').join('\n') + '\n\x1b[J');
    lines = out.length;
  };
  const timer = setInterval(() => {
    frame++;
    draw();
  }, 120);
  timer.unref();
  return {
    event(e) {
      if (e.type === 'vertex') {
        let v = vs.get(e.digest);
        if (!v) vs.set(e.digest, (v = { n: next++, name: e.name, logs: [] }));
        if (e.started) v.started ??= e.started;
        if (e.completed) v.completed = e.completed;
        if (e.cached) v.cached = true;
        if (e.error) v.error = e.error;
      } else if (e.type === 'log') {
        const v = vs.get(e.vertex);
        if (v) v.logs.push(...e.data.replace(/\n$/, '').split('\n'));
        if (v && v.logs.length > 50) v.logs.splice(0, v.logs.length - 50);
      }
    },
    done() {
      clearInterval(timer);
      draw();
    },
  };
}

export function makePrinter(mode: string, stderr: NodeJS.WriteStream, stdout: NodeJS.WriteStream): Printer {
  if (mode === 'rawjson') return rawjsonPrinter((s) => stdout.write(s));
  if (mode === 'tty' || (mode === 'auto' && stderr.isTTY)) return ttyPrinter(stderr);
  return plainPrinter((s) => stderr.write(s));
}
