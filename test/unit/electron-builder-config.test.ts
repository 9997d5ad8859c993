// electron/electron-builder.yml cannot be exercised here (packaging needs the Electron binary), so
// this reads it and checks it against the build: the per-OS targets, the entry point and preload
// the build produces, the files globs that must carry them, better-sqlite3 outside the asar, and
// the icon in buildResources.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
interface Config {
  directories: { output: string; buildResources: string };
  extraMetadata: { main: string };
  files: string[];
  asarUnpack: string[];
  npmRebuild: boolean;
  linux: { target: string[]; icon: string };
  mac: { target: string[]; icon: string };
  win: { target: string[]; icon: string };
}
// node:path's glob matcher (the same ** and ! rules electron-builder applies to these globs)
const matches = (p: string, glob: string): boolean => path.matchesGlob(p, glob);
const cfg = parse(readFileSync(path.join(repo, 'electron', 'electron-builder.yml'), 'utf8')) as Config;

/** electron-builder's files semantics: included by a positive glob and not excluded by a later "!" one */
function packaged(rel: string): boolean {
  let inc = false;
  for (const g of cfg.files) {
    if (g.startsWith('!')) { if (matches(rel, g.slice(1))) inc = false; }
    else if (matches(rel, g)) inc = true;
  }
  return inc;
}

describe('electron-builder config', () => {
  beforeAll(() => {
    if (!existsSync(path.join(repo, 'dist', 'electron', 'main.js')) || !existsSync(path.join(repo, 'dist', 'electron', 'preload.cjs'))) {
      const r = spawnSync('npm', ['run', '--silent', 'build:engine'], { cwd: repo, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`npm run build:engine failed: ${r.stderr}`);
    }
  }, 300_000);

  it('builds AppImage and deb on Linux, dmg on macOS, nsis on Windows', () => {
    expect(cfg.linux.target).toEqual(['AppImage', 'deb']);
    expect(cfg.mac.target).toEqual(['dmg']);
    expect(cfg.win.target).toEqual(['nsis']);
  });

  it('starts from the built Electron entry, which the files globs package with its preload and the renderer', () => {
    expect(cfg.extraMetadata.main).toBe('dist/electron/main.js');
    const main = path.join(repo, cfg.extraMetadata.main);
    expect(existsSync(main)).toBe(true);
    // main.ts resolves the preload and the engine host next to itself, the renderer at ../renderer
    const mainSrc = readFileSync(path.join(repo, 'electron', 'main.ts'), 'utf8');
    expect(mainSrc).toContain("path.join(here, 'preload.cjs')");
    expect(mainSrc).toContain("path.join(here, 'engine-host.js')");
    for (const rel of ['dist/electron/main.js', 'dist/electron/preload.cjs', 'dist/electron/engine-host.js', 'dist/renderer/index.html', 'dist/engine/control/service.js', 'package.json']) {
      expect(existsSync(path.join(repo, rel)), rel).toBe(true);
      expect(packaged(rel), rel).toBe(true);
    }
    expect(packaged('dist/electron/main.js.map')).toBe(false);
    expect(packaged('test/unit/electron-main.test.ts')).toBe(false);
    expect(packaged('assets/icon.png')).toBe(false);
  });

  it('keeps better-sqlite3 (and any native addon) outside the asar and rebuilds it for Electron', () => {
    const unpacked = (rel: string) => cfg.asarUnpack.some((g) => matches(rel, g));
    expect(unpacked('node_modules/better-sqlite3/build/Release/better_sqlite3.node')).toBe(true);
    expect(unpacked('node_modules/better-sqlite3/lib/index.js')).toBe(true);
    expect(unpacked('dist/electron/main.js')).toBe(false);
    expect(existsSync(path.join(repo, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).toBe(true);
    expect(cfg.npmRebuild).toBe(true);
  });

  it('finds a 512x512 PNG icon in buildResources', () => {
    expect(cfg.directories.buildResources).toBe('assets');
    for (const os of [cfg.linux, cfg.mac, cfg.win]) expect(os.icon).toBe('assets/icon.png');
    const png = readFileSync(path.join(repo, 'assets', 'icon.png'));
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
  });
});
