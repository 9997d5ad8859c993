// Errors from the Dockerfile frontend. Every one names the file and the line range, and carries
// an excerpt of the source with the failing line marked, so the CLI and the editor can show the
// user *where* without re-reading the file.

export interface DockerfileLocation {
  file: string;
  startLine: number;
  endLine: number;
  startColumn?: number;
  endColumn?: number;
}

export class DockerfileError extends Error {
  readonly location: DockerfileLocation;
  readonly excerpt: string;
  constructor(message: string, location: DockerfileLocation, source?: string) {
    super(`${location.file}:${location.startLine}${location.startColumn !== undefined ? ':' + (location.startColumn + 1) : ''}: ${message}`);
    this.name = 'DockerfileError';
    this.location = location;
    this.excerpt = source === undefined ? '' : makeExcerpt(source, location);
  }
}

/** A few lines around the location, the failing ones marked with ">>>" as BuildKit's CLI does. */
export function makeExcerpt(source: string, loc: { startLine: number; endLine: number }, context = 2): string {
  const lines = source.split(/\r?\n/);
  const from = Math.max(1, loc.startLine - context);
  const to = Math.min(lines.length, loc.endLine + context);
  const out: string[] = [];
  const width = String(to).length;
  for (let n = from; n <= to; n++) {
    const mark = n >= loc.startLine && n <= loc.endLine ? '>>>' : '   ';
    out.push(`${mark} ${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`);
  }
  return out.join('\n');
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/** The closest candidate within a small edit distance, or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const dist = distance(w, c.toLowerCase());
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(w.length / 2)));
  return bestD <= limit ? best : undefined;
}

export function suggestSuffix(word: string, candidates: Iterable<string>): string {
  const s = didYouMean(word, candidates);
  return s ? ` (did you mean ${s}?)` : '';
}
