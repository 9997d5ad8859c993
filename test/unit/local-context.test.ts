// The local context source against real temp directories and a real SQLite index.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, chmodSync, rmSync, unlinkSync, utimesSync, statSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { walkContext, checksumPaths, parseDockerignore, type ChecksumStats } from '../../engine/source/local/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-local-'));
  mkdirSync(join(dir, 'src/lib'), { recursive: true });
  mkdirSync(join(dir, 'build/out'), { recursive: true });
  writeFileSync(join(dir, 'src/main.ts'), 'main\n');
  writeFileSync(join(dir, 'src/lib/a.ts'), 'a\n');
  writeFileSync(join(dir, 'src/lib/b.log'), 'log\n');
  writeFileSync(join(dir, 'build/out/x.bin'), 'x');
  writeFileSync(join(dir, 'build/keep.txt'), 'keep');
  writeFileSync(join(dir, 'README.md'), 'readme');
  symlinkSync('src/main.ts', join(dir, 'link'));
  symlinkSync('../../etc/passwd', join(dir, 'escape'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('walkContext', () => {
  it('lists everything sorted, parents first, without following symlinks', () => {
    const e = walkContext(dir);
    expect(e.map((x) => x.path)).toEqual([
      'README.md',
      'build',
      'build/keep.txt',
      'build/out',
      'build/out/x.bin',
      'escape',
      'link',
      'src',
      'src/lib',
      'src/lib/a.ts',
      'src/lib/b.log',
      'src/main.ts',
    ]);
    const link = e.find((x) => x.path === 'link')!;
    expect(link.type).toBe('symlink');
    expect(link.linkTarget).toBe('src/main.ts');
    expect(e.find((x) => x.path === 'escape')!.linkTarget).toBe('../../etc/passwd');
    const readme = e.find((x) => x.path === 'README.md')!;
    const st = statSync(join(dir, 'README.md'));
    expect(readme).toMatchObject({ type: 'file', size: 6, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
  });
  it('honours .dockerignore with exceptions, keeping parents of re-included files', () => {
    const patterns = parseDockerignore('build\n!build/keep.txt\n**/*.log\n*.md\n');
    const e = walkContext(dir, { excludePatterns: patterns });
    expect(e.map((x) => x.path)).toEqual(['build', 'build/keep.txt', 'escape', 'link', 'src', 'src/lib', 'src/lib/a.ts', 'src/main.ts']);
  });
  it('restricts to include patterns and follow paths', () => {
    expect(walkContext(dir, { includePatterns: ['src/lib/*.ts'] }).map((x) => x.path)).toEqual(['src', 'src/lib', 'src/lib/a.ts']);
    expect(walkContext(dir, { followPaths: ['build/out'] }).map((x) => x.path)).toEqual(['build', 'build/out', 'build/out/x.bin']);
    // a followed symlink brings its target along, but never one outside the context
    expect(walkContext(dir, { followPaths: ['link'] }).map((x) => x.path)).toEqual(['link', 'src', 'src/main.ts']);
    expect(walkContext(dir, { followPaths: ['escape'] }).map((x) => x.path)).toEqual(['escape']);
  });
});

describe('checksumPaths', () => {
  it('changes exactly when content, mode or symlink target change', () => {
    const base = checksumPaths(dir, ['.']);
    expect(base).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(checksumPaths(dir, ['.'])).toBe(base);

    // times alone do not matter
    utimesSync(join(dir, 'README.md'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(checksumPaths(dir, ['.'])).toBe(base);

    writeFileSync(join(dir, 'README.md'), 'readme!');
    const c1 = checksumPaths(dir, ['.']);
    expect(c1).not.toBe(base);
    writeFileSync(join(dir, 'README.md'), 'readme');
    expect(checksumPaths(dir, ['.'])).toBe(base);

    chmodSync(join(dir, 'README.md'), 0o755);
    const c2 = checksumPaths(dir, ['.']);
    expect(c2).not.toBe(base);
    chmodSync(join(dir, 'README.md'), statSync(join(dir, 'src/main.ts')).mode & 0o777);
    expect(checksumPaths(dir, ['.'])).toBe(base);

    unlinkSync(join(dir, 'link'));
    symlinkSync('src/lib/a.ts', join(dir, 'link'));
    const c3 = checksumPaths(dir, ['.']);
    expect(c3).not.toBe(base);
    expect(new Set([base, c1, c2, c3]).size).toBe(4);
  });
  it('covers only the selected paths (wildcards, directories recurse)', () => {
    const src = checksumPaths(dir, ['src']);
    const wild = checksumPaths(dir, ['src/lib/*.ts']);
    writeFileSync(join(dir, 'README.md'), 'unrelated change');
    expect(checksumPaths(dir, ['src'])).toBe(src);
    writeFileSync(join(dir, 'src/lib/b.log'), 'changed');
    expect(checksumPaths(dir, ['src'])).not.toBe(src);
    expect(checksumPaths(dir, ['src/lib/*.ts'])).toBe(wild);
    writeFileSync(join(dir, 'src/lib/a.ts'), 'changed');
    expect(checksumPaths(dir, ['src/lib/*.ts'])).not.toBe(wild);
  });
  it('honours exclude patterns and rejects paths outside the context', () => {
    const a = checksumPaths(dir, ['src'], { excludePatterns: ['**/*.log'] });
    writeFileSync(join(dir, 'src/lib/b.log'), 'changed');
    expect(checksumPaths(dir, ['src'], { excludePatterns: ['**/*.log'] })).toBe(a);
    expect(() => checksumPaths(dir, ['../x'])).toThrow(/outside of the context/);
    expect(() => checksumPaths(dir, ['missing'])).toThrow(/not found/);
    expect(() => checksumPaths(dir, ['build/out'], { excludePatterns: ['build'] })).toThrow(/excluded by build/);
  });
  it('gives the same checksum however the same files are selected', () => {
    expect(checksumPaths(dir, ['src/lib/a.ts', 'src/lib/b.log'])).toBe(checksumPaths(dir, ['src/lib/*']));
    expect(checksumPaths(dir, ['src', 'README.md'])).toBe(checksumPaths(dir, ['README.md', 'src/']));
    expect(checksumPaths(dir, ['src/lib'])).not.toBe(checksumPaths(dir, ['src/lib/*']));
  });
  it('uses the SQLite index so unchanged files are not re-read', () => {
    const db = new Database(':memory:');
    // Whole-second mtimes so the test can restore one exactly (utimes takes no nanoseconds).
    const p = join(dir, 'src/main.ts');
    const t = new Date(2020, 0, 1, 12, 0, 0);
    utimesSync(p, t, t);
    const stats: ChecksumStats = { filesRead: 0, filesCached: 0, entries: 0 };
    const first = checksumPaths(dir, ['.'], { db, stats });
    expect(stats.filesRead).toBe(6);
    expect(stats.filesCached).toBe(0);
    const rows = db.prepare('SELECT COUNT(*) AS n FROM local_file_index').get() as { n: number };
    expect(rows.n).toBe(6);

    expect(checksumPaths(dir, ['.'], { db, stats })).toBe(first);
    expect(stats.filesRead).toBe(0);
    expect(stats.filesCached).toBe(6);

    // Rewrite a file in place with same size and restore its mtime: (dev, ino, size, mtime) is
    // unchanged, so the index answers and the stale checksum proves the content was not read.
    const fd = openSync(p, 'r+');
    writeSync(fd, 'MAIN\n', 0);
    closeSync(fd);
    utimesSync(p, t, t);
    expect(checksumPaths(dir, ['.'], { db, stats })).toBe(first);
    expect(stats.filesRead).toBe(0);
    // Without the index the new content shows.
    expect(checksumPaths(dir, ['.'])).not.toBe(first);

    // A real change (new mtime) is re-read.
    writeFileSync(join(dir, 'src/lib/a.ts'), 'different\n');
    utimesSync(join(dir, 'src/lib/a.ts'), new Date(2030, 0, 1), new Date(2030, 0, 1));
    checksumPaths(dir, ['.'], { db, stats });
    expect(stats.filesRead).toBe(1);
    expect(stats.filesCached).toBe(5);
    db.close();
  });
});
