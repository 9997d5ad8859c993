// .dockerignore semantics, checked against Docker's documented/implemented behaviour.
import { describe, it, expect } from 'vitest';
import { parseDockerignore, createMatcher } from '../../engine/source/local/dockerignore.js';

describe('parseDockerignore', () => {
  it('drops comments and blanks, cleans patterns, strips a leading slash, keeps !', () => {
    const text = '\uFEFF# comment\n\n  ./a//b/  \n/abs\n! keep/../x \n  # not a comment\n**/*.log\n';
    expect(parseDockerignore(text)).toEqual(['a/b', 'abs', '!x', '# not a comment', '**/*.log']);
  });
});

describe('createMatcher', () => {
  const m = (patterns: string[]) => createMatcher(patterns);
  it('matches plain names only at the root, and children of a matched dir', () => {
    const x = m(['node_modules']);
    expect(x.matches('node_modules')).toBe(true);
    expect(x.matches('node_modules/a/b.js')).toBe(true);
    expect(x.matches('src/node_modules')).toBe(false);
  });
  it('supports * and ? within one path segment', () => {
    const x = m(['*.md', 'docs/?.txt']);
    expect(x.matches('README.md')).toBe(true);
    expect(x.matches('sub/README.md')).toBe(false);
    expect(x.matches('docs/a.txt')).toBe(true);
    expect(x.matches('docs/ab.txt')).toBe(false);
  });
  it('supports ** across directories', () => {
    const x = m(['**/*.log', 'a/**/z']);
    expect(x.matches('x.log')).toBe(true);
    expect(x.matches('deep/er/x.log')).toBe(true);
    expect(x.matches('a/z')).toBe(true);
    expect(x.matches('a/b/c/z')).toBe(true);
    expect(x.matches('b/z')).toBe(false);
    expect(m(['**']).matches('anything/at/all')).toBe(true);
  });
  it('applies ! exceptions with last-match-wins', () => {
    const x = m(['*.md', '!README.md', 'README*.md']);
    expect(x.matches('CHANGES.md')).toBe(true);
    expect(x.matches('README.md')).toBe(true); // re-excluded by the last rule
    expect(x.ruleFor('README.md')).toBe('README*.md');
    const y = m(['*.md', '!README.md']);
    expect(y.matches('README.md')).toBe(false);
    expect(y.ruleFor('README.md')).toBe('!README.md');
    expect(y.ruleFor('CHANGES.md')).toBe('*.md');
    expect(y.ruleFor('main.go')).toBeUndefined();
    expect(y.hasExclusions).toBe(true);
  });
  it('re-includes a file inside an excluded directory', () => {
    const x = m(['build', '!build/keep.txt']);
    expect(x.matches('build/other')).toBe(true);
    expect(x.matches('build/keep.txt')).toBe(false);
  });
  it('applies an exception to a directory to everything inside it', () => {
    // Docker's MatchesOrParentMatches: `!dir/sub` matches dir/sub/f through its parent.
    const x = m(['dir/*', '!dir/sub']);
    expect(x.matches('dir/a')).toBe(true);
    expect(x.matches('dir/a/deep')).toBe(true);
    expect(x.matches('dir/sub')).toBe(false);
    expect(x.matches('dir/sub/f')).toBe(false);
  });
  it('treats regexp metacharacters literally and honours character classes', () => {
    const x = m(['a+b.(c)', 'file[0-9].txt', 'x[!a].y']);
    expect(x.matches('a+b.(c)')).toBe(true);
    expect(x.matches('aab.(c)')).toBe(false);
    expect(x.matches('file7.txt')).toBe(true);
    expect(x.matches('filex.txt')).toBe(false);
    expect(x.matches('xb.y')).toBe(true);
    expect(x.matches('xa.y')).toBe(false);
  });
  it('rejects a bare !', () => {
    expect(() => m(['!'])).toThrow(/illegal exclusion/);
  });
});
