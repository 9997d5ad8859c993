// Parser directives (`# syntax=`, `# escape=`, `# check=`): only recognised in the comment block at
// the very top of the file; the first line that is not a directive ends the block, like BuildKit.

import type { Directives } from './ast.js';
import { LineParseError } from './errors.js';

const RE_DIRECTIVE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$/;
const VALID = new Set(['escape', 'syntax', 'check']);

export class DirectiveState {
  directives: Directives = { escape: '\\' };
  /** the escape token also ends a line to continue it */
  continuation = makeContinuation('\\');
  private done = false;
  private seen = new Set<string>();
  /** where each directive was found (1-based line) */
  lines: Record<string, number> = {};

  /** Feed one line (newline trimmed, leading whitespace trimmed). */
  feed(line: string, lineNo: number): void {
    if (this.done) return;
    const m = RE_DIRECTIVE.exec(line);
    if (!m) {
      this.done = true;
      return;
    }
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    if (!VALID.has(key)) {
      this.done = true;
      return;
    }
    if (this.seen.has(key)) throw new LineParseError(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    this.lines[key] = lineNo;
    if (key === 'escape') {
      if (value !== '`' && value !== '\\') throw new LineParseError(`invalid escape token '${value}' does not match \` or \\`);
      this.directives.escape = value;
      this.continuation = makeContinuation(value);
    } else if (key === 'syntax') {
      this.directives.syntax = value;
    } else {
      this.directives.check = value;
    }
  }
}

/**
 * Matches a line ending in an *unescaped* escape token (plus trailing blanks): an odd run of
 * escape tokens, so `foo\\` is a literal backslash, not a continuation.
 */
function makeContinuation(token: string): RegExp {
  const t = '\\' + token;
  return new RegExp(`(^|[^${t}])(${t}${t})*${t}[ \\t]*$`);
}
