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

  /** Feed one line (newline trimmed, leading whitespace trimmed); true when it was a directive. */
  feed(line: string, lineNo: number): boolean {
    if (this.done) return false;
    const m = RE_DIRECTIVE.exec(line);
    if (!m) {
      this.done = true;
      return false;
    }
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    if (!VALID.has(key)) {
      this.done = true;
      return false;
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
    return true;
  }
}

/**
 * BuildKit's continuation rule: the line ends in the escape token (plus blanks) that is either
 * alone on the line or preceded by a character other than the escape token, so `foo\\` is a
 * literal backslash. Like BuildKit, an escaped escape followed by a continuation (`foo\\\`)
 * is not recognised either.
 */
function makeContinuation(token: string): RegExp {
  const t = '\\' + token;
  return new RegExp(`(^|[^${t}])${t}[ \\t]*$`);
}
