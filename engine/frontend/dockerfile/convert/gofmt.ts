// History text is written by BuildKit with Go's fmt verbs; these reproduce exactly the forms it
// uses, so `docker history` reads the same for Kiln's images as for BuildKit's.
import type { HealthConfig } from '../../../llb/image.js';
import { formatGoDuration } from '../instructions/flags.js';

/** strconv.Quote for the strings Dockerfiles contain. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/** %q of a []string: ["a" "b"] */
export function goQuoteList(xs: string[]): string {
  return '[' + xs.map(goQuote).join(' ') + ']';
}

/** %v of a []string: [a b] */
export function goList(xs: string[]): string {
  return '[' + xs.join(' ') + ']';
}

/** %q of an int is a quoted rune */
export function goQuoteRune(n: number): string {
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 39: "\\'", 92: '\\\\' };
  if (named[n]) return `'${named[n]}'`;
  if (n < 0x20 || n === 0x7f) return `'\\x${n.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCodePoint(n)}'`;
}

/** `HEALTHCHECK %q` of *container.HealthConfig as BuildKit 20.10 writes it */
export function healthcheckHistory(h: HealthConfig): string {
  const d = (x?: number) => goQuote(formatGoDuration(x ?? 0));
  return `HEALTHCHECK &{${goQuoteList(h.Test ?? [])} ${d(h.Interval)} ${d(h.Timeout)} ${d(h.StartPeriod)} ${goQuoteRune(h.Retries ?? 0)}}`;
}

/** %v of a map[string]struct{}: keys sorted */
export function goSetMap(keys: string[]): string {
  return 'map[' + [...new Set(keys)].sort().map((k) => `${k}:{}`).join(' ') + ']';
}
