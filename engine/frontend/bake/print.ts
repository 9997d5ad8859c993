// `kiln bake --print`: resolved targets in the JSON shape `docker buildx bake --print` prints.
import path from 'node:path';
import type { BakeFile, BakeTarget } from './read.js';

/**
 * `--print`: buildx's shape — `{ group: { default: { targets } }, target: { NAME: {…} } }`, its key
 * names (`no-cache`, `platforms`, `cache-from`, `cache-to`), empty fields left out, the context
 * relative to the working directory and the dockerfile relative to the context, as buildx shows them.
 */
export function printable(f: BakeFile, selected: string[], names: string[], cwd = process.cwd()): unknown {
  const rel = (from: string, p: string) => (p.includes('://') ? p : path.relative(from, p).split(path.sep).join('/') || '.');
  const shownTarget = (t: BakeTarget) => {
    const contexts = Object.fromEntries(Object.entries(t.contexts).map(([k, v]) => [k, v.includes('://') || v.startsWith('target:') ? v : rel(cwd, v)]));
    return {
      ...(t.description ? { description: t.description } : {}),
      context: rel(cwd, t.context),
      dockerfile: t.context.includes('://') ? path.basename(t.dockerfile) : rel(t.context, t.dockerfile),
      ...(Object.keys(t.args).length ? { args: t.args } : {}),
      ...(Object.keys(contexts).length ? { contexts } : {}),
      ...(t.tags.length ? { tags: t.tags } : {}),
      ...(t.target ? { target: t.target } : {}),
      ...(t.platforms?.length ? { platforms: t.platforms } : {}),
      ...(t.cacheFrom?.length ? { 'cache-from': t.cacheFrom } : {}),
      ...(t.cacheTo?.length ? { 'cache-to': t.cacheTo } : {}),
      ...(t.output.length ? { output: t.output } : {}),
      ...(t.noCache !== undefined ? { 'no-cache': t.noCache } : {}),
    };
  };
  // the requested groups (and groups inside them) are printed too, as buildx does
  const group: Record<string, { targets: string[] }> = { default: { targets: names.length ? names : (f.groups['default']?.targets ?? selected) } };
  const addGroup = (n: string) => {
    if (group[n] || !f.groups[n] || f.targets[n]) return;
    group[n] = { targets: f.groups[n].targets };
    f.groups[n].targets.forEach(addGroup);
  };
  (names.length ? names : (f.groups['default']?.targets ?? [])).forEach(addGroup);
  return {
    group,
    target: Object.fromEntries(selected.map((n) => [n, shownTarget(f.targets[n]!)])),
  };
}
