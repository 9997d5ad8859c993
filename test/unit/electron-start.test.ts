// scripts/start.mjs decides between the desktop app and `kiln serve` from the files the electron
// package leaves behind, never by loading it (that would start a download).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { findElectron } from '../../scripts/start.mjs';

type Found = { bin?: string; reason?: string };
const find = findElectron as (root: string) => Found;

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function project(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'kiln-start-'));
  dirs.push(d);
  return d;
}

describe('npm start: finding Electron', () => {
  it('reports that the package is absent', () => {
    expect(find(project()).reason).toMatch(/not installed/);
  });

  it('reports a package whose binary download never happened', () => {
    const root = project();
    mkdirSync(path.join(root, 'node_modules', 'electron'), { recursive: true });
    writeFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), '{"name":"electron"}');
    expect(find(root).reason).toMatch(/not downloaded/);
  });

  it('finds the binary named by path.txt (given a display)', () => {
    const root = project();
    const pkg = path.join(root, 'node_modules', 'electron');
    mkdirSync(path.join(pkg, 'dist'), { recursive: true });
    writeFileSync(path.join(pkg, 'package.json'), '{"name":"electron"}');
    writeFileSync(path.join(pkg, 'path.txt'), 'electron');
    expect(find(root).reason).toMatch(/binary is missing/);
    writeFileSync(path.join(pkg, 'dist', 'electron'), '');
    const saved = { d: process.env.DISPLAY, w: process.env.WAYLAND_DISPLAY };
    try {
      process.env.DISPLAY = ':99';
      expect(find(root)).toEqual({ bin: path.join(pkg, 'dist', 'electron') });
      if (process.platform === 'linux') {
        delete process.env.DISPLAY;
        delete process.env.WAYLAND_DISPLAY;
        expect(find(root).reason).toMatch(/no display/);
      }
    } finally {
      if (saved.d === undefined) delete process.env.DISPLAY;
      else process.env.DISPLAY = saved.d;
      if (saved.w !== undefined) process.env.WAYLAND_DISPLAY = saved.w;
    }
  });
});
