// `kiln app` where Electron cannot start: a clear message naming the reason and exit code 1,
// through bin/kiln.js; and the detection rules (engine/cli/app.ts) on real package trees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findElectron } from '../../engine/cli/app.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
let tmp: string;

describe('kiln app', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/cli/app.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-app-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('without Electron it says why and how to get it, and exits 1', () => {
    const here = findElectron(repo);
    // on a machine with Electron and a display the command would open the app: nothing to check here
    if ('bin' in here) return console.warn('*** kiln app: Electron is installed here; the no-Electron path is covered by the tree cases below');
    const r = spawnSync(process.execPath, [bin, 'app'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, DISPLAY: '' } });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`kiln app: the desktop app cannot start: ${here.reason}.`);
    expect(r.stderr).toContain('npm install --save-dev electron');
    expect(r.stderr).toContain('kiln serve');
  });

  it('finds the binary only from a complete install with a display', () => {
    const root = path.join(tmp, 'pkg');
    const pkg = path.join(root, 'node_modules', 'electron');
    expect(findElectron(root, {})).toEqual({ reason: 'the electron package is not installed' });
    fs.mkdirSync(path.join(pkg, 'dist'), { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), '{"name":"electron"}');
    expect(findElectron(root, {})).toEqual({ reason: 'the Electron binary was not downloaded (node_modules/electron/path.txt is missing)' });
    fs.writeFileSync(path.join(pkg, 'path.txt'), 'electron');
    expect(findElectron(root, {})).toEqual({ reason: `the Electron binary is missing at ${path.join(pkg, 'dist', 'electron')}` });
    fs.writeFileSync(path.join(pkg, 'dist', 'electron'), '', { mode: 0o755 });
    if (process.platform === 'linux') expect(findElectron(root, {})).toEqual({ reason: 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)' });
    expect(findElectron(root, { DISPLAY: ':0' })).toEqual({ bin: path.join(pkg, 'dist', 'electron') });
    expect(findElectron(root, { WAYLAND_DISPLAY: 'wayland-0' })).toEqual({ bin: path.join(pkg, 'dist', 'electron') });
  });
});
