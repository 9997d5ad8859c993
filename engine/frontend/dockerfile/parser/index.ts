// The Dockerfile parser: text → BuildKit-shaped AST (see ast.ts), with line/column positions.
// It follows BuildKit's parser.Parse loop: directives, comments, continuation lines (with
// comments and blank lines allowed inside), per-instruction dispatch, then heredoc bodies.

import type { Node, ParseResult, ParseWarning, Range } from './ast.js';
import { DirectiveState } from './directives.js';
import { DockerfileParseError, LineParseError } from './errors.js';
import { canContainHeredoc, heredocsFromLine } from './heredoc.js';
import { lineParserFor } from './line-parsers.js';
import { mkNode } from './node.js';
import { splitCommand } from './split.js';

export { DockerfileParseError } from './errors.js';
export type { ParseErrorLocation } from './errors.js';
export { dumpAST } from './dump.js';
export { chompHeredocContent, parseHeredoc } from './heredoc.js';
export { argValues } from './node.js';
export { INSTRUCTIONS } from './line-parsers.js';
export type * from './ast.js';

const trimNewline = (s: string): string => s.replace(/[\r\n]+$/, '');
const trimLeadingWhitespace = (s: string): string => s.replace(/^\s+/u, '');
const isComment = (s: string): boolean => trimLeadingWhitespace(trimNewline(s)).startsWith('#');
const isEmptyContinuationLine = (s: string): boolean => trimLeadingWhitespace(trimNewline(s)).length === 0;

interface PhysLine {
  no: number;
  text: string;
}

/** Build one instruction node from its joined line. */
function nodeFromLine(line: string, escapeToken: string, comments: string[]): Node {
  const { cmd, flags, args } = splitCommand(line);
  const parsed = lineParserFor(cmd)(args, escapeToken, (sub) => nodeFromLine(sub, escapeToken, []));
  const node = mkNode(cmd.toLowerCase(), parsed.next);
  node.original = line;
  node.flags = flags;
  node.prevComment = comments;
  if (parsed.json) node.attributes.json = true;
  return node;
}

/** Keyword and flag columns, found in the instruction's physical lines. */
function locate(node: Node, lines: PhysLine[], endLine: number): void {
  const first = lines[0]!;
  const col = first.text.length - trimLeadingWhitespace(first.text).length;
  const kwLen = /^\S*/u.exec(first.text.slice(col))![0].length;
  node.keywordRange = { start: { line: first.no, column: col }, end: { line: first.no, column: col + kwLen } };
  const last = lines[lines.length - 1]!;
  node.range = { start: { line: first.no, column: col }, end: { line: endLine, column: endLine === last.no ? trimNewline(last.text).length : 0 } };
  const ranges: Range[] = [];
  let li = 0;
  let from = col + kwLen;
  for (const f of node.flags) {
    const needle = f.split('=')[0]!;
    for (; li < lines.length; li++, from = 0) {
      const t = trimNewline(lines[li]!.text);
      const at = t.indexOf(needle, from);
      if (at >= 0) {
        const end = at + /^\S*/u.exec(t.slice(at))![0].length;
        ranges.push({ start: { line: lines[li]!.no, column: at }, end: { line: lines[li]!.no, column: end } });
        from = end;
        break;
      }
    }
  }
  node.flagRanges = ranges;
}

export function parse(text: string, filename = 'Dockerfile'): ParseResult {
  const d = new DirectiveState();
  // Tokens keep their newline: heredoc bodies are taken verbatim.
  const tokens = text.split(/(?<=\n)/).filter((t) => t.length > 0);
  if (tokens.length > 0 && tokens[0]!.startsWith('\uFEFF')) tokens[0] = tokens[0]!.slice(1);
  const fail = (msg: string, startLine: number, endLine = startLine, startColumn = 0, endColumn = 0): never => {
    throw new DockerfileParseError(msg, { file: filename, startLine: Math.max(startLine, 1), endLine: Math.max(endLine, startLine, 1), startColumn, endColumn });
  };
  const root = mkNode('');
  root.startLine = -1;
  const warnings: ParseWarning[] = [];
  let comments: string[] = [];
  let i = 0;
  let currentLine = 0;

  const processLine = (token: string, stripLeft: boolean, lineNo: number): string => {
    let t = trimNewline(token);
    if (stripLeft) t = trimLeadingWhitespace(t);
    try {
      // A directive is not a comment of the first instruction.
      if (d.feed(t, lineNo) && stripLeft) comments = comments.slice(0, -1);
    } catch (e) {
      if (e instanceof LineParseError) fail(e.message, lineNo);
      throw e;
    }
    return isComment(t) ? '' : t;
  };

  const trimContinuation = (line: string): [string, boolean] => {
    // the match guarantees the last non-blank char is the (unescaped) escape token: drop both
    if (d.continuation.test(line)) return [line.replace(/[ \t]*$/, '').slice(0, -1), false];
    return [line, true];
  };

  while (i < tokens.length) {
    const token = tokens[i++]!;
    if (isComment(token)) {
      const c = trimLeadingWhitespace(trimNewline(token)).slice(1).trim();
      comments = c === '' ? [] : [...comments, c];
    }
    const processed = processLine(token, true, currentLine + 1);
    currentLine++;
    const startLine = currentLine;
    const phys: PhysLine[] = [{ no: currentLine, text: token }];
    let [bytes, isEnd] = trimContinuation(processed);
    if (isEnd && bytes.length === 0) continue;
    let buf = bytes;
    let hasEmptyContinuation = false;
    while (!isEnd && i < tokens.length) {
      const raw = tokens[i++]!;
      const p = processLine(raw, false, currentLine + 1);
      currentLine++;
      if (isComment(raw)) continue;
      if (isEmptyContinuationLine(p)) {
        hasEmptyContinuation = true;
        continue;
      }
      phys.push({ no: currentLine, text: raw });
      [bytes, isEnd] = trimContinuation(p);
      buf += bytes;
    }
    const line = buf;
    if (hasEmptyContinuation) {
      warnings.push({
        short: 'Empty continuation line found in: ' + line,
        detail: 'Empty continuation lines will become errors in a future release',
        url: 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/',
        location: { start: { line: currentLine, column: 0 }, end: { line: currentLine, column: 0 } },
      });
    }
    let child: Node;
    try {
      child = nodeFromLine(line, d.directives.escape, comments);
    } catch (e) {
      if (e instanceof LineParseError || e instanceof SyntaxError) fail(e.message, startLine, currentLine);
      throw e;
    }
    const sub = child.value === 'onbuild' ? child.next?.children[0] : undefined;
    const heredocCapable = canContainHeredoc(child.value, !!child.attributes.json, sub && { value: sub.value, json: !!sub.attributes.json });
    if (heredocCapable && line.includes('<<')) {
      let docs;
      try {
        docs = heredocsFromLine(line);
      } catch (e) {
        fail((e as Error).message, startLine, currentLine);
      }
      for (const h of docs!) {
        let terminated = false;
        while (i < tokens.length) {
          const raw = tokens[i++]!;
          currentLine++;
          let candidate = trimNewline(raw);
          if (h.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === h.name) {
            terminated = true;
            break;
          }
          h.content += raw;
        }
        if (!terminated) fail('unterminated heredoc', startLine, currentLine);
        child.heredocs.push(h);
      }
    }
    child.startLine = startLine;
    child.endLine = currentLine;
    locate(child, phys, currentLine);
    if (root.startLine < 0) root.startLine = startLine;
    root.endLine = currentLine;
    root.children.push(child);
    comments = [];
  }
  if (root.startLine < 0) fail('file with no instructions', currentLine);
  return { ast: root, directives: d.directives, warnings };
}
