// .dockerignore with exactly Docker's semantics (moby/patternmatcher + ignorefile): patterns are
// cleaned like filepath.Clean, a leading `/` is dropped, `**` spans directories, `!` re-includes,
// the last matching pattern wins, and a pattern that matches a directory excludes everything in it.

import { cleanPath } from './clean.js';

/** Parse .dockerignore text into patterns (exceptions keep their leading `!`). */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    let line = i === 0 ? raw.replace(/^\uFEFF/, '') : raw;
    // Only a `#` in the first column starts a comment.
    if (line.startsWith('#')) return;
    line = line.trim();
    if (line === '') return;
    const invert = line.startsWith('!');
    if (invert) line = line.slice(1).trim();
    if (line.length > 0) {
      line = cleanPath(line);
      if (line.length > 1 && line.startsWith('/')) line = line.slice(1);
    }
    out.push(invert ? '!' + line : line);
  });
  return out;
}

export class PatternError extends Error {
  override name = 'PatternError';
}

interface Pattern {
  /** as given, for error messages */
  text: string;
  exclusion: boolean;
  re: RegExp;
}

const ESCAPE = new Set(['.', '+', '(', ')', '|', '{', '}', '^', '$']);

/** One cleaned pattern → an anchored regexp over slash paths. */
function compile(p: string): RegExp {
  const chars = Array.from(p);
  let re = '^';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++; // `**/` is `**`
        // `**` at the end matches everything below; elsewhere any number of directories.
        re += i + 1 >= chars.length ? '.*' : '(.*/)?';
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ESCAPE.has(ch)) {
      re += '\\' + ch;
    } else if (ch === '\\') {
      const nx = chars[i + 1];
      if (nx !== undefined) {
        re += /[A-Za-z0-9]/.test(nx) ? nx : '\\' + nx;
        i++;
      } else {
        re += '\\\\';
      }
    } else if (ch === '[') {
      // filepath.Match negates a class with `[^` or `[!`.
      re += chars[i + 1] === '!' ? (i++, '[^') : '[';
    } else if (ch === ']') {
      re += ']';
    } else {
      re += ch;
    }
  }
  try {
    return new RegExp(re + '$', 'u');
  } catch {
    throw new PatternError(`syntax error in pattern ${JSON.stringify(p)}`);
  }
}

export interface Matcher {
  /** true when `path` (slash-separated, relative to the context root) is excluded */
  matches(path: string, isDir?: boolean): boolean;
  /** the pattern that decided `path`'s fate (the excluding one, or the `!` one that re-included it) */
  ruleFor(path: string): string | undefined;
  /** whether any `!` exception exists: then an excluded directory must still be walked */
  readonly hasExclusions: boolean;
  readonly patterns: readonly string[];
}

export function createMatcher(patterns: string[]): Matcher {
  const compiled: Pattern[] = [];
  for (const raw of patterns) {
    let p = raw.trim();
    if (p === '') continue;
    p = cleanPath(p);
    let exclusion = false;
    if (p.startsWith('!')) {
      if (p.length === 1) throw new PatternError('illegal exclusion pattern: "!"');
      exclusion = true;
      p = p.slice(1);
    }
    compiled.push({ text: raw, exclusion, re: compile(p) });
  }

  // Docker's MatchesOrParentMatches: a pattern applies to the path or to any of its parent dirs;
  // inclusions are skipped once matched and exclusions until matched, so the last match wins.
  const decide = (path: string): { matched: boolean; rule?: string } => {
    const file = cleanPath(path.replace(/^\/+/, '')) ;
    const parts = file.split('/');
    const parents: string[] = [];
    for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join('/'));
    let matched = false;
    let rule: string | undefined;
    for (const pat of compiled) {
      if (pat.exclusion !== matched) continue;
      let m = pat.re.test(file);
      if (!m) for (const par of parents) if ((m = pat.re.test(par))) break;
      if (m) {
        matched = !pat.exclusion;
        rule = pat.text;
      }
    }
    return rule === undefined ? { matched } : { matched, rule };
  };

  return {
    matches: (path) => decide(path).matched,
    ruleFor: (path) => decide(path).rule,
    hasExclusions: compiled.some((p) => p.exclusion),
    patterns: compiled.map((p) => p.text),
  };
}
