// Bundles the compiled CLI (dist/engine/cli/main.js and everything it imports from engine/) into
// dist/cli/. Why: Node resolves, reads and compiles ~150 small ESM modules one by one at start,
// which cost more than a warm build itself; one bundle (split at the CLI's lazy imports, so
// `kiln --help` still loads little) starts in a fraction of that. Packages in node_modules stay
// external — they are resolved from the package root as usual (native better-sqlite3 included).
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist/cli');
const tmp = `${outdir}.tmp-${process.pid}`;

await esbuild.build({
  entryPoints: [path.join(root, 'dist/engine/cli/main.js')],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outdir: tmp,
  logLevel: 'warning',
  chunkNames: 'chunk-[hash]',
});
// Swap whole directories so a concurrently starting `kiln` never sees half a bundle.
fs.rmSync(`${outdir}.old`, { recursive: true, force: true });
if (fs.existsSync(outdir)) fs.renameSync(outdir, `${outdir}.old`);
fs.renameSync(tmp, outdir);
fs.rmSync(`${outdir}.old`, { recursive: true, force: true });
