// Electron checklist items that live in files rather than in the main process's calls:
// - the page carries the strict CSP itself (<meta>), because the packaged app loads it with
//   loadFile and a header CSP is not guaranteed on file:// pages; the built page keeps it, equal to
//   electron/security.ts's policy minus the directives a meta tag cannot carry;
// - shell.openExternal is never called with anything but a fixed, allow-listed https URL.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CSP, META_CSP } from '../../electron/security.js';

const repo = path.resolve(import.meta.dirname, '../..');
const built = path.join(repo, 'dist', 'renderer', 'index.html');
const source = path.join(repo, 'renderer', 'index.html');

function metaCsp(html: string): string[] {
  return [...html.matchAll(/<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/gi)].map((m) => m[1]!);
}
const directives = (p: string) => new Map(p.split(';').map((d) => d.trim()).filter(Boolean).map((d) => [d.split(/\s+/)[0]!, d.split(/\s+/).slice(1).join(' ')]));

describe('renderer CSP meta tag', () => {
  beforeAll(() => {
    // a stale or missing build would test an old page
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs) {
      const r = spawnSync('npm', ['run', '--silent', 'build:renderer'], { cwd: repo, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`npm run build:renderer failed: ${r.stderr}`);
    }
  }, 300_000);

  it('dist/renderer/index.html carries exactly one CSP meta, equal to electron/security.ts META_CSP', () => {
    const html = readFileSync(built, 'utf8');
    expect(metaCsp(html)).toEqual([META_CSP]);
    expect(metaCsp(readFileSync(source, 'utf8'))).toEqual([META_CSP]);
    // it comes before any script, so it governs them all
    expect(html.search(/<meta\s+http-equiv="Content-Security-Policy"/i)).toBeLessThan(html.search(/<script/i));
  });

  it('META_CSP is the header policy without the header-only directives', () => {
    const header = directives(CSP);
    const meta = directives(META_CSP);
    expect([...header.keys()].filter((k) => !meta.has(k))).toEqual(['frame-ancestors']);
    for (const [k, v] of meta) expect(header.get(k), k).toBe(v);
    expect(meta.get('default-src')).toBe("'none'");
    expect(meta.get('script-src')).toBe("'self'");
  });

  it('the built page has no inline script (script-src self would block it)', () => {
    const html = readFileSync(built, 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\ssrc="\.\/assets\/[^"]+\.js"/);
      expect(body!.trim()).toBe('');
    }
  });
});

describe('shell.openExternal', () => {
  /** the only URLs the app may open in a browser; an empty list means it opens none */
  const ALLOWED = new Set<string>([]);
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() ? files(p) : /\.(ts|tsx|cts|mts|js|mjs|cjs)$/.test(e.name) ? [p] : [];
    });

  it('is called in electron/ and renderer/src/ only with a fixed allow-listed URL', () => {
    const scanned = [...files(path.join(repo, 'electron')), ...files(path.join(repo, 'renderer', 'src'))];
    expect(scanned.length).toBeGreaterThan(10);
    const bad: string[] = [];
    for (const f of scanned) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/openExternal\b(\s*\(\s*([^)]*)\))?/g)) {
        const line = text.slice(0, m.index).split('\n').length;
        // comments may mention it; code may call it only with a string literal on the list
        const lineText = text.split('\n')[line - 1]!.trim();
        if (/^(\/\/|\*|\/\*)/.test(lineText)) continue;
        const arg = m[2]?.trim() ?? '';
        const literal = /^(['"`])([^'"`$]*)\1$/.exec(arg);
        if (!literal || !ALLOWED.has(literal[2]!)) bad.push(`${path.relative(repo, f)}:${line}: ${lineText}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
