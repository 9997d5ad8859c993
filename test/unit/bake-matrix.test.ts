// bake's matrix targets (buildx semantics: one target per combination of the matrix values, each
// named by its `name` expression; the block's own name is a group of the variants), object values
// with attribute access, the errors a bad matrix gets, and declared variables as `--list` shows them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readBakeFiles, selectTargets } from '../../engine/frontend/bake/read.js';
import { printable } from '../../engine/frontend/bake/print.js';

let dir: string;
let n = 0;
const hcl = (text: string) => {
  const f = path.join(dir, `bake-${n++}.hcl`);
  fs.writeFileSync(f, text);
  return f;
};
const read = (text: string, env: NodeJS.ProcessEnv = {}) => readBakeFiles([hcl(text)], env);

beforeAll(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bakematrix-')));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('bake matrix targets', () => {
  it('forks a target per value, named by its name expression; the block name is a group of them', async () => {
    const f = await read(`target "app" {\n  name = "app-\${tgt}"\n  matrix = {\n    tgt = ["foo", "bar"]\n  }\n  target = tgt\n  tags = ["app:\${tgt}"]\n}\n`);
    expect(Object.keys(f.targets).sort()).toEqual(['app-bar', 'app-foo']);
    expect(f.targets['app-foo']!.target).toBe('foo');
    expect(f.targets['app-bar']!.tags).toEqual(['app:bar']);
    expect(f.targets['app']).toBeUndefined();
    expect(f.groups['app']).toEqual({ targets: ['app-foo', 'app-bar'] });
    expect(selectTargets(f, ['app'])).toEqual(['app-foo', 'app-bar']);
    expect(selectTargets(f, ['app-bar'])).toEqual(['app-bar']);
    // --print shows the group and the expanded targets, as buildx's does
    const printed = printable(f, selectTargets(f, ['app']), ['app'], dir) as { group: Record<string, { targets: string[] }>; target: Record<string, { target?: string }> };
    expect(printed.group['app']).toEqual({ targets: ['app-foo', 'app-bar'] });
    expect(printed.target['app-foo']!.target).toBe('foo');
  });

  it('several axes give every combination; a group can name the block or single variants', async () => {
    const f = await read(
      `group "default" {\n  targets = ["app"]\n}\ngroup "some" {\n  targets = ["app-1-a"]\n}\ntarget "app" {\n  name = "app-\${v}-\${d}"\n  matrix = {\n    v = ["1", "2"]\n    d = ["a", "b"]\n  }\n  args = {\n    V = v\n    D = d\n  }\n}\n`,
    );
    expect(Object.keys(f.targets).sort()).toEqual(['app-1-a', 'app-1-b', 'app-2-a', 'app-2-b']);
    expect(f.targets['app-2-b']!.args).toEqual({ V: '2', D: 'b' });
    expect(selectTargets(f, [])).toHaveLength(4);
    expect(selectTargets(f, ['some'])).toEqual(['app-1-a']);
  });

  it('values may be objects, read with attribute access; axes may come from variables (the environment wins)', async () => {
    const f = await read(
      `target "app" {\n  name = "app-\${item.variant}"\n  matrix = {\n    item = [\n      { variant = "small", base = "busybox:local" },\n      { variant = "big", base = "debian:bookworm-local" },\n    ]\n  }\n  args = {\n    BASE = item.base\n  }\n}\n`,
    );
    expect(f.targets['app-small']!.args['BASE']).toBe('busybox:local');
    expect(f.targets['app-big']!.args['BASE']).toBe('debian:bookworm-local');

    const text = `variable "FLAVOURS" {\n  default = "x,y"\n}\ntarget "t" {\n  name = "t-\${fl}"\n  matrix = {\n    fl = split(",", FLAVOURS)\n  }\n}\n`;
    expect(Object.keys((await read(text)).targets).sort()).toEqual(['t-x', 't-y']);
    expect(Object.keys((await read(text, { FLAVOURS: 'p,q,r' })).targets).sort()).toEqual(['t-p', 't-q', 't-r']);
  });

  it('a matrix of one value needs no name; a plain target may rename itself with name', async () => {
    const f = await read(`target "one" {\n  matrix = {\n    x = ["only"]\n  }\n  args = {\n    X = x\n  }\n}\ntarget "plain" {\n  name = "renamed"\n}\n`);
    expect(f.targets['one']!.args).toEqual({ X: 'only' });
    expect(f.targets['renamed']).toBeDefined();
    expect(selectTargets(f, ['plain'])).toEqual(['renamed']);
  });

  it('bad matrices are errors naming the file and target', async () => {
    const cases: [string, RegExp][] = [
      [`target "app" {\n  matrix = {\n    tgt = ["a", "b"]\n  }\n}\n`, /target "app": a matrix target needs a name expression giving each variant its own name \(e\.g\. name = "app-\$\{tgt\}"\)/],
      [`target "app" {\n  name = "app \${tgt}"\n  matrix = {\n    tgt = ["a"]\n  }\n}\n`, /target "app": matrix variant \(tgt=a\) is named "app a", which is not a valid target name/],
      [`target "app" {\n  name = "app"\n  matrix = {\n    tgt = ["a", "b"]\n  }\n}\n`, /target "app": two matrix variants are both named "app"/],
      [`target "app" {\n  name = "app-\${tgt}"\n  matrix = {\n    tgt = "a"\n  }\n}\n`, /target "app": matrix\.tgt must be a list of values/],
      [`target "app" {\n  name = "app-\${tgt}"\n  matrix = {\n    tgt = []\n  }\n}\n`, /target "app": matrix\.tgt is empty/],
      [`target "app" {\n  name = "app-\${item.nope}"\n  matrix = {\n    item = [{ a = "1" }]\n  }\n}\n`, /bake-\d+\.hcl: target "app": .*item has no attribute "nope" \(it has a\)/],
    ];
    for (const [text, re] of cases) await expect(read(text), text).rejects.toThrow(re);
  });
});

describe('bake variables', () => {
  it('lists each declared variable with its type, value (the environment over the default) and description', async () => {
    const f = await read(`variable "TAG" {\n  default = "latest"\n  description = "image tag"\n}\nvariable "DEBUG" {\n  default = false\n}\nvariable "N" {\n  type = number\n  default = 3\n}\ntarget "app" {\n  description = "the app"\n  tags = ["app:\${TAG}"]\n}\n`, { TAG: 'v2' });
    const byName = Object.fromEntries((f.variables ?? []).map((v) => [v.name, v]));
    expect(byName['TAG']).toEqual({ name: 'TAG', type: 'string', value: 'v2', description: 'image tag' });
    expect(byName['DEBUG']).toEqual({ name: 'DEBUG', type: 'bool', value: 'false' });
    expect(byName['N']).toMatchObject({ type: 'number', value: '3' });
    expect(f.targets['app']!.description).toBe('the app');
  });
});
