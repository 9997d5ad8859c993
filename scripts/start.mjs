#!/usr/bin/env node
// `npm start`: the desktop app when an Electron binary is installed and a display is there,
// otherwise `kiln serve`, which prints the URL of the same UI for a browser. Neither needs
// Docker to start: without an engine the UI says so and how to get one.
//
// Electron is detected from its files, never with require('electron'): that module's install
// step downloads the binary, and on a machine without internet the download is what failed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** The Electron binary that `npm install electron` left behind, or a reason there is none. */
export function findElectron(root = repo) {
  const pkg = path.join(root, 'node_modules', 'electron');
  if (!existsSync(path.join(pkg, 'package.json'))) return { reason: 'the electron package is not installed' };
  const pathTxt = path.join(pkg, 'path.txt');
  if (!existsSync(pathTxt)) return { reason: 'the Electron binary was not downloaded (node_modules/electron/path.txt missing)' };
  const bin = path.join(pkg, 'dist', readFileSync(pathTxt, 'utf8').trim());
  if (!existsSync(bin)) return { reason: `the Electron binary is missing at ${bin}` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: 'no display (DISPLAY/WAYLAND_DISPLAY unset)' };
  }
  return { bin };
}

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { cwd: repo, stdio: 'inherit' });
  return r.status === 0;
}

/** Newest mtime of the sources under `dirs` (a git checkout that moved on leaves dist/ stale). */
function newestSource(dirs) {
  let newest = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|tsx|cts|css|html)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return newest;
}

function ensureBuilt(needElectron) {
  const need = [path.join(repo, 'dist', 'engine', 'cli', 'main.js'), path.join(repo, 'dist', 'renderer', 'index.html')];
  if (needElectron) need.push(path.join(repo, 'dist', 'electron', 'main.js'));
  const src = newestSource(['engine', 'electron', 'renderer'].map((d) => path.join(repo, d)));
  if (need.some((f) => !existsSync(f) || statSync(f).mtimeMs < src)) {
    console.log('kiln: building (npm run build)…');
    if (!run(npm, ['run', '--silent', 'build'])) console.error('kiln: build failed; trying to start anyway');
  }
  // The sandboxed preload is CommonJS and has its own tsconfig (electron/tsconfig.preload.json).
  if (needElectron && !existsSync(path.join(repo, 'dist', 'electron', 'preload.cjs'))) {
    run(npx, ['tsc', '-p', path.join(repo, 'electron', 'tsconfig.preload.json')]);
  }
}

function forward(child) {
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

async function main() {
  const electron = findElectron();
  if (electron.bin) {
    ensureBuilt(true);
    console.log(`kiln: starting the desktop app (${path.relative(repo, electron.bin)})`);
    const child = spawn(electron.bin, [path.join(repo, 'dist', 'electron', 'main.js'), ...args], { cwd: repo, stdio: 'inherit' });
    const started = Date.now();
    const code = await forward(child);
    // A binary that dies at once (missing shared libraries, GPU trouble) should not leave the
    // user with nothing: fall back to the browser UI.
    if (code === 0 || Date.now() - started > 10_000) process.exit(code);
    console.error(`kiln: the desktop app exited with ${code}; starting the browser UI instead`);
  } else {
    console.log(`kiln: no desktop app (${electron.reason}); starting the browser UI with kiln serve`);
    ensureBuilt(false);
  }
  const child = spawn(process.execPath, [path.join(repo, 'bin', 'kiln.js'), 'serve', ...args], { cwd: repo, stdio: 'inherit' });
  process.exit(await forward(child));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
