// The installed package's root (where package.json, dist/ and node_modules are), found by walking
// up from this module: the same code runs from dist/engine/… and from the CLI bundle in dist/cli/,
// so no fixed number of `..` is right for both.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'kiln') return (cached = dir);
    } catch {
      /* no package.json here */
    }
    if (path.dirname(dir) === dir) throw new Error(`kiln's package.json was not found above ${start}`);
  }
}
