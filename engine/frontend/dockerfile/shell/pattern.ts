// Shell patterns (`*`, `?`, `\` escapes) as used by ${VAR#pat}, ${VAR%pat} and ${VAR/pat/repl},
// translated to regular expressions the way BuildKit does it.

import { ShellLexError } from './errors.js';

const REGEX_SPECIAL = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

export function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '.*' : '.*?';
  for (let i = 0; i < chars.length; i++) {
    const tok = chars[i]!;
    if (tok === '*') {
      out += star;
      continue;
    }
    if (tok === '?') {
      out += '.';
      continue;
    }
    if (tok === '\\') {
      const nx = chars[i + 1];
      // `}` and `/` are escaped only to get them past the ${...} parser; the escape is not part
      // of the pattern.
      if (nx === '}' || nx === '/') continue;
      if (nx !== '*' && nx !== '?' && nx !== '\\') throw new ShellLexError(`invalid escape '\\${nx ?? ''}'`);
      out += '\\' + nx;
      i++;
      continue;
    }
    out += REGEX_SPECIAL.has(tok) ? '\\' + tok : tok;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  let re: RegExp;
  try {
    re = shellPatternToRegex(pattern, greedy, true);
  } catch (e) {
    throw new ShellLexError(`invalid pattern (${pattern}) in substitution: ${(e as Error).message}`);
  }
  const m = re.exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/** Reverse a pattern keeping `\x` escape pairs in order. */
function reversePattern(pattern: string): string {
  const r = Array.from(pattern);
  const out: string[] = new Array(r.length);
  const last = r.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = r[i]!;
    const o = last - i;
    if (tok === '\\' && i !== last) {
      out[o - 1] = tok;
      out[o] = r[i + 1]!;
      i += 2;
    } else {
      out[o] = tok;
      i++;
    }
  }
  return out.join('');
}

const reverse = (s: string): string => Array.from(s).reverse().join('');

export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // A regex finds leftmost matches only, so the shortest/longest *suffix* is found by reversing
  // both the pattern and the value.
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}
