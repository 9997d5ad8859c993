// Bake and compose files read from real files in a temp dir: files merged in order (repeated -f,
// buildx's default files), HCL variables/expressions/functions and multi-level inherits, compose
// interpolation (.env, defaults, $$), args as list and map, and the --print shape of buildx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readBakeFiles, selectTargets } from '../../engine/frontend/bake/read.js';
import { printable } from '../../engine/frontend/bake/print.js';
import { resolveBake } from '../../engine/cli/commands/bake.js';
import { interpolate } from '../../engine/frontend/bake/compose.js';
import { readProject } from '../../engine/control/project.js';

let dir: string;
const at = (...p: string[]) => path.join(dir, ...p);
const write = (rel: string, text: string) => {
  fs.mkdirSync(path.dirname(at(rel)), { recursive: true });
  fs.writeFileSync(at(rel), text);
  return at(rel);
};

beforeAll(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bakeread-')));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('bake files merged in order', () => {
  it('repeated -f: later files override earlier ones key by key, maps merge, variables are shared', async () => {
    const a = write('m/a.hcl', `variable "TAG" {\n  default = "a"\n}\ntarget "app" {\n  dockerfile = "app.Dockerfile"\n  args = { X = "1", Y = "1" }\n  tags = ["app:\${TAG}"]\n}\n`);
    const b = write('m/b.json', JSON.stringify({ variable: { TAG: { default: 'b' } }, target: { app: { args: { Y: '2' }, target: 'two' }, extra: {} } }));
    const f = await readBakeFiles([a, b], {});
    expect(f.targets['app']).toMatchObject({ dockerfile: at('m', 'app.Dockerfile'), args: { X: '1', Y: '2' }, target: 'two', tags: ['app:b'] });
    expect(Object.keys(f.targets).sort()).toEqual(['app', 'extra']);
    // the other order: a's keys win
    const g = await readBakeFiles([b, a], {});
    expect(g.targets['app']).toMatchObject({ args: { X: '1', Y: '1' }, target: 'two', tags: ['app:a'] });
  });

  it('without -f every default file present is read, in buildx order (compose first, overrides last)', async () => {
    write('d/compose.yaml', `services:\n  web:\n    build:\n      context: .\n      args: { FROM: compose }\n`);
    write('d/docker-bake.hcl', `target "web" {\n  args = { FROM = "hcl" }\n  tags = ["web:hcl"]\n}\n`);
    write('d/docker-bake.override.hcl', `target "web" {\n  tags = ["web:override"]\n}\n`);
    const { bf, selected } = await resolveBake([], { file: [] }, at('d'));
    expect(bf.files).toEqual(['compose.yaml', 'docker-bake.hcl', 'docker-bake.override.hcl'].map((x) => at('d', x)));
    expect(selected).toEqual(['web']);
    expect(bf.targets['web']).toMatchObject({ args: { FROM: 'hcl' }, tags: ['web:override'] });
    await expect(resolveBake([], { file: [] }, at('m', 'nothing-here'))).rejects.toThrow(/no bake or compose file/);
  });
});

describe('HCL', () => {
  it('inherits over several levels, later parents and the target itself overriding', async () => {
    const f = await readBakeFiles(
      [
        write(
          'i/docker-bake.hcl',
          `target "os" {\n  args = { OS = "linux", LEVEL = "os" }\n  target = "base"\n}\ntarget "lang" {\n  args = { LEVEL = "lang" }\n  tags = ["lang"]\n}\n` +
            `target "mid" {\n  inherits = ["os", "lang"]\n  args = { MID = "1" }\n}\ntarget "leaf" {\n  inherits = ["mid"]\n  tags = ["leaf"]\n}\n`,
        ),
      ],
      {},
    );
    expect(f.targets['leaf']).toMatchObject({ args: { OS: 'linux', LEVEL: 'lang', MID: '1' }, target: 'base', tags: ['leaf'] });
    expect(f.targets['mid']!.tags).toEqual(['lang']);
  });

  it('variables: environment over defaults, defaults using other variables; functions and conditionals', async () => {
    const file = write(
      'v/docker-bake.hcl',
      `variable "V" {\n  default = "v\${W}"\n}\nvariable "W" {\n  default = "1"\n}\nvariable "EMPTY" {\n  default = ""\n}\n` +
        `target "t" {\n  args = { N = "\${add(1, 2)}", U = upper(V), R = replace("a-b-c", "-", "."), J = join(",", ["x", "y"]) }\n` +
        `  tags = ["t:\${V}", notequal("", EMPTY) ? "t:\${EMPTY}" : "", "lit:$\${V}"]\n  target = V == "v1" ? "one" : "two"\n}\n`,
    );
    const f = await readBakeFiles([file], {});
    expect(f.targets['t']).toMatchObject({ args: { N: '3', U: 'V1', R: 'a.b.c', J: 'x,y' }, tags: ['t:v1', 'lit:${V}'], target: 'one' });
    const g = await readBakeFiles([file], { W: '9', EMPTY: 'set' });
    expect(g.targets['t']).toMatchObject({ args: { U: 'V9' }, tags: ['t:v9', 't:set', 'lit:${V}'], target: 'two' });
  });

  it('user functions (function blocks): params bound over variables, nested calls, arity and recursion errors', async () => {
    const file = write(
      'fn/docker-bake.hcl',
      `variable "REPO" {\n  default = "reg/app"\n}\nfunction "inc" {\n  params = [number]\n  result = number + 1\n}\nfunction "tag" {\n  params = [t]\n  result = "\${REPO}:\${t}-\${inc(1)}"\n}\n` +
        `target "a" {\n  args = { N = "\${inc(inc(3))}" }\n  tags = [tag("v")]\n}\n`,
    );
    const f = await readBakeFiles([file], {});
    expect(f.targets['a']).toMatchObject({ args: { N: '5' }, tags: ['reg/app:v-2'] });
    const arity = write('fn/arity.hcl', `function "one" {\n  params = [x]\n  result = x\n}\ntarget "a" {\n  tags = [one("a", "b")]\n}\n`);
    await expect(readBakeFiles([arity], {})).rejects.toThrow(/arity\.hcl: target "a": function one takes 1 argument\(s\), got 2/);
    const loop = write('fn/loop.hcl', `function "f" {\n  params = [x]\n  result = f(x)\n}\ntarget "a" {\n  tags = [f("a")]\n}\n`);
    await expect(readBakeFiles([loop], {})).rejects.toThrow(/loop\.hcl: target "a": function f: calls nest deeper than 32/);
  });

  it('errors name the file: undeclared variables, unknown functions, inherits of nothing, unknown names', async () => {
    await expect(readBakeFiles([write('e/u.hcl', `target "t" {\n  tags = ["\${NOPE}"]\n}\n`)], {})).rejects.toThrow(/u\.hcl: target "t": there is no variable named NOPE/);
    await expect(readBakeFiles([write('e/f.hcl', `target "t" {\n  tags = [nofn("x")]\n}\n`)], {})).rejects.toThrow(/f\.hcl: target "t": .*unknown function nofn/);
    await expect(readBakeFiles([write('e/i.hcl', `target "t" {\n  inherits = ["ghost"]\n}\n`)], {})).rejects.toThrow(/i\.hcl: target "t" inherits from "ghost", which is not a target/);
    await expect(readBakeFiles([write('e/p.hcl', `target "t" {\n  tags = [\n}\n`)], {})).rejects.toThrow(/e\/p\.hcl:3:1: Invalid expression/);
    await expect(readBakeFiles([write('e/j.json', `{"target": {"t": {"tags": [1,]}}}`)], {})).rejects.toThrow(/j\.json:1:30: Unexpected token/);
    await expect(readBakeFiles([write('e/k.json', `{\n "a": tru\n}`)], {})).rejects.toThrow(/k\.json:2:7: /);
    const f = await readBakeFiles([write('e/ok.hcl', `group "g" {\n  targets = ["t", "missing"]\n}\ntarget "t" {\n}\n`)], {});
    expect(() => selectTargets(f, ['g'])).toThrow(/ok\.hcl: no target or group named "missing" \(needed by g\); targets: t; groups: g/);
  });
});

describe('compose', () => {
  it('interpolates as compose does', () => {
    const env = { SET: 'v', EMPTY: '' };
    expect(interpolate('${SET} $SET ${UNSET}', env, 'x')).toBe('v v ');
    expect(interpolate('${UNSET:-d} ${EMPTY:-d} ${UNSET-d} ${EMPTY-d}|', env, 'x')).toBe('d d d |');
    expect(interpolate('${SET:+alt} ${EMPTY:+alt} ${EMPTY+alt}', env, 'x')).toBe('alt  alt');
    expect(interpolate('$$SET $${SET}', env, 'x')).toBe('$SET ${SET}');
    expect(() => interpolate('${UNSET:?is required}', env, 'compose.yaml: services.web.image')).toThrow(/compose\.yaml: services\.web\.image: required variable UNSET is missing a value: is required/);
  });

  it('services with build: as targets — .env under the environment, args as list and map, image: as the tag when build.tags is empty, x-bake, service: contexts', async () => {
    write('c/.env', `WHO=dotenv\nTAG="from-dotenv"\n# a comment\nexport REG=localhost:5000\n`);
    const file = write(
      'c/compose.yaml',
      `services:\n  base:\n    build: ./base\n  web:\n    image: \${REG}/web:\${TAG}\n    build:\n      context: web\n      dockerfile: web.Dockerfile\n      target: \${STAGE:-final}\n` +
        `      args:\n        - WHO=\${WHO}\n        - FROMENV\n        - NOTSET\n      tags: ["web:extra"]\n      additional_contexts:\n        base: service:base\n        files: ./shared\n` +
        `  api:\n    image: api:\${TAG}\n    build:\n      context: .\n      args:\n        A: 1\n        B:\n      x-bake:\n        tags: [api:more]\n        output: [\"type=local,dest=out\"]\n  db:\n    image: postgres\n`,
    );
    const f = await readBakeFiles([file], { TAG: 'from-env', FROMENV: 'fe', B: 'b-env' });
    expect(Object.keys(f.targets).sort()).toEqual(['api', 'base', 'web']);
    expect(f.groups['default']!.targets).toEqual(['base', 'web', 'api']);
    expect(f.targets['web']).toEqual({
      context: at('c', 'web'),
      dockerfile: at('c', 'web', 'web.Dockerfile'),
      args: { WHO: 'dotenv', FROMENV: 'fe' },
      // build.tags given: image: is not added (buildx)
      tags: ['web:extra'],
      target: 'final',
      contexts: { base: 'target:base', files: at('c', 'shared') },
      output: [],
    });
    expect(f.targets['api']).toMatchObject({ args: { A: '1', B: 'b-env' }, tags: ['api:from-env', 'api:more'], output: ['type=local,dest=out'] });
    expect(selectTargets(f, ['web'])).toEqual(['base', 'web']);
  });
});

it('--print has buildx shape: group default, targets with relative context/dockerfile, empty fields left out', async () => {
  const file = write('p/docker-bake.hcl', `target "a" {\n  context = "sub"\n  dockerfile = "a.Dockerfile"\n  contexts = { b = "target:b", src = "src" }\n}\ntarget "b" {\n}\n`);
  const f = await readBakeFiles([file], {});
  const sel = selectTargets(f, ['a']);
  expect(printable(f, sel, ['a'], at('p'))).toEqual({
    group: { default: { targets: ['a'] } },
    target: {
      b: { context: '.', dockerfile: 'Dockerfile' },
      a: { context: 'sub', dockerfile: 'a.Dockerfile', contexts: { b: 'target:b', src: 'sub/src' } },
    },
  });
  // a requested group is printed with its targets
  const g = await readBakeFiles([write('p/g.hcl', `group "all" {\n  targets = ["x"]\n}\ntarget "x" {\n}\n`)], {});
  expect((printable(g, selectTargets(g, ['all']), ['all'], at('p')) as { group: unknown }).group).toEqual({ default: { targets: ['all'] }, all: { targets: ['x'] } });
});

it("the editor's project call reports a bad file or an unknown target as the caller's error, naming the file", async () => {
  const bad = write('proj/docker-bake.hcl', `target "a" {\n  tags = [\n}\n`);
  await expect(readProject({ path: bad })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/^project: .*docker-bake\.hcl:3:1: /) });
  const ok = write('proj/ok.hcl', `target "a" {\n}\n`);
  await expect(readProject({ path: ok, targets: ['zz'] })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/ok\.hcl: no target or group named "zz"/) });
});
