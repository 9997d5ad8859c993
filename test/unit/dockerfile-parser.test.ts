// BuildKit's parser conformance corpus plus the syntax Kiln's frontend relies on.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, dumpAST, DockerfileParseError, chompHeredocContent } from '../../engine/frontend/dockerfile/parser/index.js';

const CORPUS = join(import.meta.dirname, '../fixtures/buildkit-parser');

describe('conformance: testfiles', () => {
  const cases = readdirSync(join(CORPUS, 'testfiles'));
  it('has all 33 cases', () => expect(cases.length).toBe(33));
  for (const c of cases) {
    it(c, () => {
      const text = readFileSync(join(CORPUS, 'testfiles', c, 'Dockerfile'), 'utf8');
      const expected = readFileSync(join(CORPUS, 'testfiles', c, 'result'), 'utf8');
      expect(dumpAST(parse(text).ast) + '\n').toBe(expected);
    });
  }
});

describe('conformance: testfiles-negative', () => {
  const cases = readdirSync(join(CORPUS, 'testfiles-negative'));
  it('has all 4 cases', () => expect(cases.length).toBe(4));
  for (const c of cases) {
    it(c, () => {
      const text = readFileSync(join(CORPUS, 'testfiles-negative', c, 'Dockerfile'), 'utf8');
      expect(() => parse(text, 'Dockerfile')).toThrow(DockerfileParseError);
    });
  }
});

describe('conformance: testfile-line', () => {
  it('gives each instruction its line range', () => {
    const text = readFileSync(join(CORPUS, 'testfile-line/Dockerfile'), 'utf8');
    const { ast } = parse(text);
    // The ranges BuildKit's TestLineInformation expects for this file.
    expect(ast.children.map((n) => [n.startLine, n.endLine])).toEqual([
      [5, 5],
      [11, 12],
      [17, 31],
    ]);
    expect([ast.startLine, ast.endLine]).toEqual([5, 31]);
  });
});

describe('parser', () => {
  it('reads directives and the backtick escape', () => {
    const r = parse('# syntax=docker/dockerfile:1\n# escape=`\n# check=skip=all\nFROM x\nRUN a `\n  b\n');
    expect(r.directives).toEqual({ syntax: 'docker/dockerfile:1', escape: '`', check: 'skip=all' });
    expect(dumpAST(r.ast)).toBe('(from "x")\n(run "a   b")');
  });
  it('stops looking for directives after the first other line', () => {
    const r = parse('# hello\n# escape=`\nFROM x\n');
    expect(r.directives.escape).toBe('\\');
    expect(r.ast.children[0]!.prevComment).toEqual(['hello', 'escape=`']);
    expect(parse('# syntax=x\n# about FROM\nFROM x\n').ast.children[0]!.prevComment).toEqual(['about FROM']);
  });
  it('rejects a duplicate directive', () => {
    expect(() => parse('# escape=\\\n# escape=`\nFROM x\n')).toThrow(/only one escape/);
  });
  it('joins continuations across comments and blank lines and warns about the blank', () => {
    const r = parse('FROM x\nRUN echo a \\\n# comment\n\n  b\n');
    expect(r.ast.children[1]!.next!.value).toBe('echo a   b');
    expect(r.ast.children[1]!.startLine).toBe(2);
    expect(r.ast.children[1]!.endLine).toBe(5);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]!.short).toMatch(/Empty continuation line/);
  });
  it('parses exec form, and falls back to shell form on invalid JSON', () => {
    const r = parse('FROM x\nCMD ["a", "b c"]\nCMD [\'a\']\nENTRYPOINT ["x",\n');
    const [, exec, bad, bad2] = r.ast.children;
    expect(exec!.attributes.json).toBe(true);
    expect(dumpAST(exec!)).toBe('cmd "a" "b c"');
    expect(bad!.attributes.json).toBeUndefined();
    expect(dumpAST(bad!)).toBe(`cmd "['a']"`);
    expect(dumpAST(bad2!)).toBe('entrypoint "[\\"x\\","');
  });
  it('parses flags with positions', () => {
    const text = 'FROM x AS b\n  COPY --from=b --chown=1:2 \\\n    --chmod=755 a /b\n';
    const n = parse(text).ast.children[1]!;
    expect(n.flags).toEqual(['--from=b', '--chown=1:2', '--chmod=755']);
    expect(n.keywordRange).toEqual({ start: { line: 2, column: 2 }, end: { line: 2, column: 6 } });
    expect(n.flagRanges).toEqual([
      { start: { line: 2, column: 7 }, end: { line: 2, column: 15 } },
      { start: { line: 2, column: 16 }, end: { line: 2, column: 27 } },
      { start: { line: 3, column: 4 }, end: { line: 3, column: 15 } },
    ]);
    expect(dumpAST(n)).toBe('copy ["--from=b" "--chown=1:2" "--chmod=755"] "a" "/b"');
  });
  it('parses ENV/LABEL in both forms, ARG, HEALTHCHECK and ONBUILD', () => {
    const text = [
      'FROM x',
      'ENV A=1 B="two words" C=',
      'ENV LEGACY some value',
      'LABEL "k"="v" x=y',
      'ARG N1 N2=v',
      'HEALTHCHECK --interval=5s CMD ["curl", "-f", "x"]',
      'HEALTHCHECK NONE',
      'ONBUILD RUN --mount=type=cache,target=/c echo hi',
      'MAINTAINER me <me@x>',
      'unknown thing',
    ].join('\n');
    const d = dumpAST(parse(text).ast).split('\n');
    expect(d).toEqual([
      '(from "x")',
      '(env "A" "1" "=" "B" "\\"two words\\"" "=" "C" "" "=")',
      '(env "LEGACY" "some value" "")',
      '(label "\\"k\\"" "\\"v\\"" "=" "x" "y" "=")',
      '(arg "N1" "N2=v")',
      '(healthcheck ["--interval=5s"] "CMD" "curl" "-f" "x")',
      '(healthcheck "NONE")',
      '(onbuild (run ["--mount=type=cache,target=/c"] "echo hi"))',
      '(maintainer "me <me@x>")',
      '(unknown "")',
    ]);
  });
  it('reads heredocs: several per instruction, quoted delimiters, <<-', () => {
    const text = 'FROM x\nRUN <<EOF cat - <<"END"\necho $A\nEOF\nliteral $B\nEND\nCOPY <<-EOT /file\n\t\tindented\n\tEOT\nRUN echo done\n';
    const r = parse(text);
    const [, run, copy, last] = r.ast.children;
    expect(run!.heredocs).toEqual([
      { name: 'EOF', content: 'echo $A\n', expand: true, chomp: false },
      { name: 'END', content: 'literal $B\n', expand: false, chomp: false },
    ]);
    expect([run!.startLine, run!.endLine]).toEqual([2, 6]);
    expect(copy!.heredocs[0]!.name).toBe('EOT');
    expect(copy!.heredocs[0]!.chomp).toBe(true);
    expect(chompHeredocContent(copy!.heredocs[0]!.content)).toBe('indented\n');
    expect(dumpAST(copy!)).toBe('copy "<<-EOT" "/file"');
    expect(last!.startLine).toBe(10);
  });
  it('reads a heredoc fed to another file descriptor', () => {
    const h = parse('FROM x\nRUN cat 3<<EOF /dev/fd/3\nthree\nEOF\n').ast.children[1]!.heredocs;
    expect(h).toEqual([{ name: 'EOF', content: 'three\n', expand: true, chomp: false, fileDescriptor: 3 }]);
  });
  it('handles CRLF line endings like LF', () => {
    const lf = 'FROM x\nRUN a \\\n  b\nCOPY <<EOF /f\nbody\nEOF\n';
    const a = parse(lf);
    const b = parse(lf.replace(/\n/g, '\r\n'));
    expect(dumpAST(b.ast)).toBe(dumpAST(a.ast));
    expect(b.ast.children.map((n) => [n.startLine, n.endLine])).toEqual(a.ast.children.map((n) => [n.startLine, n.endLine]));
    expect(b.ast.children[2]!.heredocs[0]!.content).toBe('body\r\n');
  });
  it('does not read heredocs in exec form', () => {
    const r = parse('FROM x\nRUN ["cat", "<<EOF"]\nRUN echo\n');
    expect(r.ast.children[1]!.heredocs).toEqual([]);
    expect(r.ast.children).toHaveLength(3);
  });
  it('names file, line and column in errors', () => {
    let err: unknown;
    try {
      parse('FROM x\nRUN <<EOF\nnever ends\n', 'sub/Dockerfile.dev');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DockerfileParseError);
    const pe = err as DockerfileParseError;
    expect(pe.location.file).toBe('sub/Dockerfile.dev');
    expect(pe.location.startLine).toBe(2);
    expect(pe.message).toMatch(/^sub\/Dockerfile.dev:2:1: unterminated heredoc/);
    expect(() => parse('FROM x\nENV ONLYKEY\n')).toThrow(/ENV must have two arguments/);
    expect(() => parse('\n# only a comment\n')).toThrow(/file with no instructions/);
  });
});
