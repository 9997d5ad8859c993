#!/usr/bin/env node
// The `kiln` command. `npm install` runs `prepare`, which compiles engine/ into dist/ and bundles
// the CLI into dist/cli/ (scripts/bundle-cli.mjs: one file loads much faster than ~150 modules).
// The bundle is used only while it is at least as new as the compiled modules, so a `tsc` run
// without re-bundling never leaves `kiln` running stale code.
import fs from 'node:fs';

const mtime = (rel) => {
  try {
    return fs.statSync(new URL(rel, import.meta.url)).mtimeMs;
  } catch {
    return -1;
  }
};
const bundled = mtime('../dist/cli/main.js');
const entry = bundled >= 0 && bundled >= mtime('../dist/engine/cli/main.js') ? '../dist/cli/main.js' : '../dist/engine/cli/main.js';
import(entry).then((m) => m.main(process.argv)).catch((err) => {
  console.error(err?.message ?? err);
  process.exit(1);
});
