// The LLB builder and the Definition schema: topological output, digests that ignore metadata and
// key order, and validation that names the failing path and refuses lying digests.
import { describe, expect, it } from 'vitest';
import { copy, image, local, merge, mkdir, mkfile, scratch } from '../../engine/llb/builder.js';
import { canonicalJSON, digestOf } from '../../engine/llb/digest.js';
import { DefinitionError, validateDefinition, vertexDigest } from '../../engine/llb/schema.js';

const base = () => image('busybox:local');

describe('llb builder', () => {
  it('marshals vertices inputs-first, each once, with verifiable digests', () => {
    const ctx = local('context', { include: ['src'] });
    const b = base().run({ shell: 'echo hi > /a', network: 'none' }).root();
    const c = base().file(copy(ctx, 'src', '/app'));
    const out = merge([b, c]).file(mkdir('/out', 0o755, { makeParents: true }));
    const def = out.marshal();
    expect(def.vertices).toHaveLength(6); // busybox once, context, exec, copy, merge, mkdir;
    const pos = new Map(def.vertices.map((v, i) => [v.digest, i]));
    for (const [i, v] of def.vertices.entries()) for (const inp of v.inputs) expect(pos.get(inp.digest)).toBeLessThan(i);
    expect(new Set(def.vertices.map((v) => v.digest)).size).toBe(def.vertices.length);
    expect(def.vertices.filter((v) => v.op.kind === 'source' && v.op.identifier === 'docker-image://busybox:local')).toHaveLength(1);
    expect(def.output?.digest).toBe(def.vertices.at(-1)!.digest);
    expect(validateDefinition(JSON.parse(JSON.stringify(def)))).toEqual(def);
  });

  it('digests are stable across runs and ignore metadata', () => {
    const a = base().run({ shell: 'make', description: 'first' }).root().marshal();
    const b = base().run({ shell: 'make', description: 'second', ignoreCache: true }).root().marshal();
    expect(a.output).toEqual(b.output);
    expect(a.vertices.map((v) => v.digest)).toEqual(b.vertices.map((v) => v.digest));
    const c = base().run({ shell: 'make -j2' }).root().marshal();
    expect(c.output!.digest).not.toBe(a.output!.digest);
  });

  it('digests do not depend on object key order', () => {
    const x = { kind: 'source', identifier: 'docker-image://x', attrs: { b: '2', a: '1' } };
    const y = { attrs: { a: '1', b: '2' }, identifier: 'docker-image://x', kind: 'source' };
    expect(canonicalJSON(x)).toBe(canonicalJSON(y));
    expect(digestOf({ op: x, inputs: [] })).toBe(digestOf({ inputs: [], op: y }));
  });

  it('run mounts: writable binds become outputs reachable with getMount', () => {
    const e = base().run({ args: ['sh', '-c', 'touch /out/x'], mounts: [{ type: 'bind', from: scratch(), target: '/out' }, { type: 'tmpfs', target: '/tmp' }] });
    const def = e.getMount('/out').marshal();
    expect(def.output!.output).toBe(1);
    const exec = def.vertices.at(-1)!.op;
    expect(exec.kind === 'exec' && exec.mounts[0]).toMatchObject({ type: 'bind', input: -1, output: 1 });
    expect(() => e.getMount('/nope')).toThrow(/no writable bind mount/);
  });

  it('env, dir and user carry into later runs', () => {
    const s = base().env('A', '1').dir('/work').user('1000').dir('sub');
    const def = s.run({ shell: 'true' }).root().file(mkfile('/work/sub/f.txt', 0o644, 'hi')).marshal();
    const exec = def.vertices.find((v) => v.op.kind === 'exec')!.op;
    expect(exec).toMatchObject({ cwd: '/work/sub', user: '1000' });
    expect(exec.kind === 'exec' && exec.env).toContain('A=1');
    const file = def.vertices.at(-1)!.op;
    expect(file.kind === 'file' && file.actions[0]).toMatchObject({ action: 'mkfile', path: '/work/sub/f.txt', data: Buffer.from('hi').toString('base64') });
  });
});

describe('validateDefinition', () => {
  const good = () => JSON.parse(JSON.stringify(base().run({ shell: 'true' }).root().marshal()));

  it('names the failing path', () => {
    const d = good();
    d.vertices[1].op.args = 'true';
    expect(() => validateDefinition(d)).toThrow(/vertices\.1\.op\.args/);
  });

  it('refuses a vertex whose digest does not match its content', () => {
    const d = good();
    d.vertices[1].op.args = ['sh', '-c', 'rm -rf /'];
    const err = (() => {
      try {
        validateDefinition(d);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DefinitionError);
    expect((err as DefinitionError).message).toMatch(/vertices\.1\.digest.*does not match/);
  });

  it('refuses vertices out of order and out-of-range input indexes', () => {
    const d = good();
    d.vertices.reverse();
    expect(() => validateDefinition(d)).toThrow(/not an earlier vertex/);
    const e = good();
    e.vertices[1].op.rootfs = 3;
    e.vertices[1].digest = vertexDigest(e.vertices[1]);
    e.output.digest = e.vertices[1].digest;
    expect(() => validateDefinition(e)).toThrow(/rootfs 3 is not an input index/);
  });
});
