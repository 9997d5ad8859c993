#!/usr/bin/env node
// The `kiln` command. `npm install` runs `prepare`, which compiles engine/ into dist/.
import('../dist/engine/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  console.error(err?.message ?? err);
  process.exit(1);
});
