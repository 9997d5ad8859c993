// `kiln bake --set` parsing and application on a bake file read from a temp dir.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyOverrides, parseOverride } from '../../engine/frontend/bake/overrides.js';
import { readBakeFile, selectTargets } from '../../engine/frontend/bake/read.js';

let dir: string;
beforeAll(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bake-set-')));
  fs.writeFileSync(
    path.join(dir, 'docker-bake.json'),
    JSON.stringify({ target: { web: { context: 'web', dockerfile: 'web.Dockerfile', tags: ['web:file'], args: { A: '1' } }, api: { tags: ['api:file'] }, base: {} } }),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('bake --set', () => {
  it('parses TARGET.KEY[.NAME]=VALUE and += for lists', () => {
    expect(parseOverride('web.args.A=x=y')).toMatchObject({ pattern: 'web', key: 'args', sub: 'A', value: 'x=y', append: false });
    expect(parseOverride('*.tags+=extra')).toMatchObject({ pattern: '*', key: 'tags', value: 'extra', append: true });
    expect(() => parseOverride('web.platform=linux/amd64,linux/arm64')).toThrow(/--set web\.platform=linux\/amd64,linux\/arm64: platform linux\/arm64 is not supported/);
    expect(() => parseOverride('web.target+=x')).toThrow(/\+= appends to lists only/);
    expect(() => parseOverride('web.tags.x=1')).toThrow(/tags takes no sub-key/);
  });

  it('applies overrides in order: globs, accumulation, replacement, paths', async () => {
    const bf = await readBakeFile(path.join(dir, 'docker-bake.json'));
    const sets = ['*.tags=all', 'web.tags=w1', 'web.tags=w2', 'api.tags+=api:more', 'web.args.B=2', 'web.context=elsewhere', 'api.contexts.dep=target:base', 'ap*.no-cache=true', 'api.output=type=docker'];
    const o = applyOverrides(bf, sets.map(parseOverride), dir);
    expect(o.targets['web']!.tags).toEqual(['w1', 'w2']);
    expect(o.targets['api']!.tags).toEqual(['all', 'api:more']);
    expect(o.targets['base']!.tags).toEqual(['all']);
    expect(o.targets['web']!.args).toEqual({ A: '1', B: '2' });
    // the file's dockerfile moves with its context
    expect(o.targets['web']!.context).toBe(path.join(dir, 'elsewhere'));
    expect(o.targets['web']!.dockerfile).toBe(path.join(dir, 'elsewhere', 'web.Dockerfile'));
    expect(o.targets['api']!.noCache).toBe(true);
    expect(o.targets['web']!.noCache).toBeUndefined();
    expect(o.targets['api']!.output).toEqual(['type=docker']);
    expect(selectTargets(o, ['api'])).toEqual(['base', 'api']);
    // the input file is untouched
    expect(bf.targets['web']!.tags).toEqual(['web:file']);
  });

  it('a dockerfile override is relative to the final context', async () => {
    const bf = await readBakeFile(path.join(dir, 'docker-bake.json'));
    const o = applyOverrides(bf, ['base.dockerfile=x.Dockerfile', 'base.context=sub'].map(parseOverride), dir);
    expect(o.targets['base']!.dockerfile).toBe(path.join(dir, 'sub', 'x.Dockerfile'));
    expect(() => applyOverrides(bf, [parseOverride('nope*.tags=x')], dir)).toThrow(/--set nope\*\.tags=x: no target matches "nope\*" \(targets: web, api, base\)/);
  });
});
