// Heredoc detection (`<<EOF`, `<<-EOF`, `<<"EOF"`): which words of a RUN/COPY/ADD line open a
// heredoc, whether its body is expanded (unquoted delimiter) and whether tabs are chomped.

import type { Heredoc } from './ast.js';
import { ShellLex } from '../shell/lex.js';

const RE_HEREDOC = /^(\d*)<<(-?)([^<]*)$/u;
const HEREDOC_INSTRUCTIONS = new Set(['add', 'copy', 'run']);

/** Parse one word as a heredoc opener; undefined when it is not one. */
export function parseHeredoc(src: string): Heredoc | undefined {
  const m = RE_HEREDOC.exec(src);
  if (!m) return undefined;
  const fd = m[1] ? Number(m[1]) : 0;
  const chomp = m[2] === '-';
  const rest = m[3]!;
  if (rest.length === 0) return undefined;
  // Lex the delimiter with and without quotes: if the quote counts differ, part of it was
  // quoted, and a quoted delimiter means the body is not expanded.
  const lex = new ShellLex('\\', { skipUnsetEnv: true });
  const words = lex.processWords(rest, {});
  if (words.length !== 1) return undefined;
  lex.rawQuotes = true;
  const raw = lex.processWords(rest, {});
  if (raw.length !== words.length) throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const count = (s: string): number => (s.match(/['"]/g) ?? []).length;
  const name = words[0]!;
  return { name, expand: count(name) === count(raw[0]!), chomp, content: '', ...(fd ? { fileDescriptor: fd } : {}) };
}

/** All heredoc openers of an instruction line, in order. */
export function heredocsFromLine(line: string): Heredoc[] {
  const lex = new ShellLex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  let words: string[];
  try {
    words = lex.processWords(line, {});
  } catch {
    return [];
  }
  const docs: Heredoc[] = [];
  for (const w of words) {
    const h = parseHeredoc(w);
    if (h) docs.push(h);
  }
  return docs;
}

export function canContainHeredoc(value: string, json: boolean, onbuildChild?: { value: string; json: boolean }): boolean {
  if (value === 'onbuild' && onbuildChild) return canContainHeredoc(onbuildChild.value, onbuildChild.json);
  return HEREDOC_INSTRUCTIONS.has(value) && !json;
}

/** `<<-`: strip leading tabs from every line of the body (applied when the body is used). */
export function chompHeredocContent(src: string): string {
  return src.replace(/^\t+/gm, '');
}
