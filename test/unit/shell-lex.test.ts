// BuildKit's shell-lexer conformance data (envVarTest, wordsTest) run through Kiln's ShellLex.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShellLex } from '../../engine/frontend/dockerfile/shell/lex.js';

const CORPUS = join(import.meta.dirname, '../fixtures/buildkit-parser');

describe('envVarTest (ProcessWord)', () => {
  const env = ['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL='];
  const lines = readFileSync(join(CORPUS, 'envVarTest'), 'utf8').split('\n');
  const cases: { platform: string; input: string; expected: string; line: number }[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split('|');
    if (parts.length !== 3) throw new Error(`bad line ${i + 1}: ${raw}`);
    cases.push({ platform: parts[0]!.trim(), input: parts[1]!.trim(), expected: parts[2]!.trim(), line: i + 1 });
  });
  const ours = cases.filter((c) => c.platform === 'A' || c.platform === 'U');

  it('has the corpus cases', () => {
    expect(ours.length).toBeGreaterThan(200);
  });
  for (const c of ours) {
    it(`line ${c.line}: ${c.input}`, () => {
      const lex = new ShellLex('\\');
      if (c.expected === 'error') expect(() => lex.processWord(c.input, env)).toThrow();
      else expect(lex.processWord(c.input, env)).toBe(c.expected);
    });
  }
});

describe('wordsTest (ProcessWords)', () => {
  const lines = readFileSync(join(CORPUS, 'wordsTest'), 'utf8').split('\n');
  const env: string[] = [];
  const cases: { input: string; expected: string[]; env: string[]; line: number }[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    if (line.startsWith('ENV ')) {
      env.push(line.slice(3).replace(/^ +/, ''));
      return;
    }
    const parts = line.split('|');
    if (parts.length !== 2) throw new Error(`bad line ${i + 1}: ${line}`);
    cases.push({ input: parts[0]!.trim(), expected: parts[1]!.replace(/^ +/, '').split(','), env: [...env], line: i + 1 });
  });
  it('has the corpus cases', () => {
    expect(cases.length).toBeGreaterThan(20);
  });
  for (const c of cases) {
    it(`line ${c.line}: ${c.input}`, () => {
      const lex = new ShellLex('\\');
      if (c.expected[0] === 'error') expect(() => lex.processWords(c.input, c.env)).toThrow();
      else expect(lex.processWords(c.input, c.env)).toEqual(c.expected);
    });
  }
});

describe('ShellLex extras', () => {
  it('reports referenced and unset variables', () => {
    const r = new ShellLex().processWordWithMatches('$A ${B:-x} ${C} "$A"', { A: '1' });
    expect(r.result).toBe('1 x  1');
    expect([...r.matched]).toEqual(['A']);
    expect([...r.unmatched].sort()).toEqual(['B', 'C']);
  });
  it('supports prefix/suffix trimming and replacement', () => {
    const env = { P: '/usr/local/bin/tool.tar.gz' };
    const lex = new ShellLex();
    expect(lex.processWord('${P#*/}', env)).toBe('usr/local/bin/tool.tar.gz');
    expect(lex.processWord('${P##*/}', env)).toBe('tool.tar.gz');
    expect(lex.processWord('${P%.*}', env)).toBe('/usr/local/bin/tool.tar');
    expect(lex.processWord('${P%%.*}', env)).toBe('/usr/local/bin/tool');
    expect(lex.processWord('${P/local/opt}', env)).toBe('/usr/opt/bin/tool.tar.gz');
    expect(lex.processWord('${P//o/0}', env)).toBe('/usr/l0cal/bin/t00l.tar.gz');
    expect(lex.processWord('${P-x}${Q-y}${Q+z}${P+w}', env)).toBe(env.P + 'yw');
  });
  it('uses the backtick escape token', () => {
    const lex = new ShellLex('`');
    expect(lex.processWord('a`$B\\c', { B: 'no' })).toBe('a$B\\c');
  });
  it('keeps quotes and escapes in raw mode (heredoc bodies)', () => {
    const lex = new ShellLex('\\', { rawQuotes: true, rawEscapes: true });
    const body = 'echo "hi $A \\$A" \'$A\' \\$A \\n\n';
    expect(lex.processWord(body, { A: '1' })).toBe('echo "hi 1 \\$A" \'$A\' \\$A \\n\n');
  });
  it('treats quotes as plain characters with skipProcessQuotes', () => {
    const lex = new ShellLex('\\', { skipProcessQuotes: true });
    expect(lex.processWords('"a $B" \'c\'', { B: 'x y' })).toEqual(['"a', 'x', 'y"', "'c'"]);
  });
  it('leaves unset references alone with skipUnsetEnv', () => {
    const lex = new ShellLex('\\', { skipUnsetEnv: true });
    expect(lex.processWord('$X ${Y} ${Z:-d} $A', { A: 'a' })).toBe('$X ${Y} ${Z:-d} a');
  });
});
