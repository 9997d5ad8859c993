// `kiln app`: the desktop app, when an Electron binary is installed here and a display is there.
// Electron is found from its files (node_modules/electron/path.txt), never by loading the module:
// `require('electron')` starts a binary download, which fails offline (see scripts/start.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../control/package-root.js';

/** the package root (bin/kiln.js's parent) */
export const PACKAGE_ROOT = packageRoot();

/** the Electron binary, or why there is none */
export function findElectron(root = PACKAGE_ROOT, env: NodeJS.ProcessEnv = process.env): { bin: string } | { reason: string } {
  const pkg = path.join(root, 'node_modules', 'electron');
  if (!fs.existsSync(path.join(pkg, 'package.json'))) return { reason: 'the electron package is not installed' };
  const pathTxt = path.join(pkg, 'path.txt');
  if (!fs.existsSync(pathTxt)) return { reason: 'the Electron binary was not downloaded (node_modules/electron/path.txt is missing)' };
  const bin = path.join(pkg, 'dist', fs.readFileSync(pathTxt, 'utf8').trim());
  if (!fs.existsSync(bin)) return { reason: `the Electron binary is missing at ${bin}` };
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return { reason: 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)' };
  return { bin };
}

export const APP_HINT = 'Install Electron with `npm install --save-dev electron` (its binary is downloaded on first run), or run `kiln serve` and open the printed URL in a browser.';
