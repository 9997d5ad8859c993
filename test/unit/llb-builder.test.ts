// The typed LLB builder and the Definition schema: topological output, digests that cover op +
// inputs only (not metadata, not key order), and validation that names the failing path and
// refuses malformed or tampered definitions.
import { describe, expect, it } from 'vitest';
import { copy, git, http, image, local, merge, mkdir, mkfile, rm, scratch } from '../../engine/llb/builder.js';
import { canonicalJSON, digestOf } from '../../engine/llb/digest.js';
import type { Definition } from '../../engine/llb/definition.js';
import type { ExecOp, FileOp } from '../../engine/llb/ops.js';
import { DefinitionError, validateDefinition, vertexDigest } from '../../engine/llb/schema.js';

const base = () => image('busybox:local');

/** an image, a local context, an exec with bind + cache mounts, and a file op on scratch */
function sample(description = 'build') {
  const ctx = local('context', { include: ['src'] });
  const built = base()
    .dir('/work')
    .env('A', '1')
    .run({ shell: 'echo hi > out', description, mounts: [{ type: 'bind', from: ctx, target: '/src', readonly: true }, { type: 'cache', target: '/cache', id: 'c1' }] })
    .root();
  return scratch().file([mkdir('/app', 0o755), copy(built, '/work/out', '/app/out'), mkfile('/app/note', 0o644, 'hello'), rm('/app/tmp', { allowNotFound: true })]);
}

/** a marshalled definition as a client would send it: plain JSON, free to tamper with */
const wire = (def: Definition): any => JSON.parse(JSON.stringify(def));

describe('llb builder', () => {
  it('marshals vertices inputs-first, each once, with the output last', () => {
    const ctx = local('context', { include: ['src'] });
    const b = base().run({ shell: 'echo hi > /a', network: 'none' }).root();
    const c = base().file(copy(ctx, 'src', '/app'));
    const out = merge([b, c]).file(mkdir('/out', 0o755, { makeParents: true }));
    const def = out.marshal();
    expect(def.vertices).toHaveLength(6); // busybox once, context, exec, copy, merge, mkdir
    const pos = new Map(def.vertices.map((v, i) => [v.digest, i]));
    for (const [i, v] of def.vertices.entries()) for (const inp of v.inputs) expect(pos.get(inp.digest)).toBeLessThan(i);
    expect(new Set(def.vertices.map((v) => v.digest)).size).toBe(def.vertices.length);
    expect(def.vertices.filter((v) => v.op.kind === 'source' && v.op.identifier === 'docker-image://busybox:local')).toHaveLength(1);
    expect(def.output?.digest).toBe(def.vertices.at(-1)!.digest);
  });

  it('scratch is no vertex: a file op on scratch has base -1', () => {
    const def = sample().marshal();
    // four vertices: image, local, exec, file
    expect(def.vertices.map((v) => v.op.kind).sort()).toEqual(['exec', 'file', 'source', 'source']);
    expect((def.vertices.at(-1)!.op as FileOp).base).toBe(-1);
  });

  it('digests are stable across runs and ignore metadata, but not the op', () => {
    expect(sample().marshal()).toEqual(sample().marshal());
    expect(sample('one').marshal().output).toEqual(sample('two').marshal().output);
    const a = base().run({ shell: 'make', description: 'first' }).root().marshal();
    const b = base().run({ shell: 'make', description: 'second', ignoreCache: true }).root().marshal();
    expect(a.output).toEqual(b.output);
    expect(a.vertices.map((v) => v.digest)).toEqual(b.vertices.map((v) => v.digest));
    const c = base().run({ shell: 'make -j2' }).root().marshal();
    expect(c.output!.digest).not.toBe(a.output!.digest);
    const mode700 = scratch().file(mkdir('/app', 0o700)).marshal();
    expect(mode700.output).not.toEqual(scratch().file(mkdir('/app', 0o755)).marshal().output);
  });

  it('digests do not depend on object key order, and undefined fields drop out', () => {
    const x = { kind: 'source', identifier: 'docker-image://x', attrs: { b: '2', a: '1' } };
    const y = { attrs: { a: '1', b: '2' }, identifier: 'docker-image://x', kind: 'source' };
    expect(canonicalJSON(x)).toBe(canonicalJSON(y));
    expect(digestOf({ op: x, inputs: [] })).toBe(digestOf({ inputs: [], op: y }));
    expect(digestOf({ a: 1, b: { c: 2, d: [1, 2] } })).toBe(digestOf({ b: { d: [1, 2], c: 2 }, a: 1 }));
    expect(canonicalJSON({ z: 1, a: undefined, m: 2 })).toBe('{"m":2,"z":1}');
  });

  it('records run options and mounts with input indexes', () => {
    const def = sample().marshal();
    const exec = def.vertices.find((v) => v.op.kind === 'exec')!;
    const op = exec.op as ExecOp;
    expect(op.args).toEqual(['/bin/sh', '-c', 'echo hi > out']);
    expect(op.cwd).toBe('/work');
    expect(op.env).toEqual(['A=1']);
    expect(op.rootfs).toBe(0);
    const bind = op.mounts.find((m) => m.type === 'bind')!;
    expect(bind).toMatchObject({ type: 'bind', input: 1, target: '/src', readonly: true });
    expect(exec.inputs[1]!.digest).toBe(def.vertices.find((v) => v.op.kind === 'source' && v.op.identifier === 'local://context')!.digest);
    const file = def.vertices.at(-1)!.op as FileOp;
    expect(file.actions.map((a) => a.action)).toEqual(['mkdir', 'copy', 'mkfile', 'rm']);
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

  it('sources: git, http and merge', () => {
    const g = git('https://example.invalid/repo.git', { ref: 'v1', subdir: 'docs', keepGitDir: true }).marshal().vertices[0]!;
    expect(g.op).toMatchObject({ kind: 'source', identifier: 'https://example.invalid/repo.git#v1:docs', attrs: { keepGitDir: 'true' } });
    const h = http('https://example.invalid/f', { filename: 'f.txt', chmod: 0o755 }).marshal().vertices[0]!;
    expect(h.op).toMatchObject({ attrs: { filename: 'f.txt', chmod: '755' } });
    const m = merge([base(), scratch().file(mkdir('/x', 0o755))]).marshal();
    expect(m.vertices.at(-1)!.op).toEqual({ kind: 'merge', inputs: [0, 1] });
  });
});

describe('validateDefinition', () => {
  const good = () => wire(base().run({ shell: 'true' }).root().marshal());

  it('accepts what the builder marshals, after a JSON round trip', () => {
    for (const def of [wire(sample().marshal()), good()]) expect(validateDefinition(def)).toEqual(def);
  });

  it('names the failing path, in the message and as a path', () => {
    const d = good();
    d.vertices[1].op.args = 'true';
    expect(() => validateDefinition(d)).toThrow(/vertices\.1\.op\.args/);
    const def = wire(sample().marshal());
    const i = def.vertices.findIndex((v: { op: { kind: string } }) => v.op.kind === 'exec');
    def.vertices[i].op.mounts[0].target = 42;
    const err = (() => {
      try {
        validateDefinition(def);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DefinitionError);
    expect((err as DefinitionError).path).toEqual(['vertices', i, 'op', 'mounts', 0, 'target']);
    expect((err as DefinitionError).message).toContain(`vertices.${i}.op.mounts.0.target`);
  });

  it('refuses a vertex whose digest does not match its content', () => {
    const d = good();
    d.vertices[1].op.args = ['sh', '-c', 'rm -rf /'];
    expect(() => validateDefinition(d)).toThrow(DefinitionError);
    expect(() => validateDefinition(d)).toThrow(/vertices\.1\.digest: .*does not match/);
    const e = wire(sample().marshal());
    e.vertices[0].op.identifier = 'docker-image://evil:latest';
    expect(() => validateDefinition(e)).toThrow(/vertices\.0\.digest: .*does not match/);
  });

  it('refuses vertices out of order, out-of-range input indexes and an unknown output', () => {
    const d = good();
    d.vertices.reverse();
    expect(() => validateDefinition(d)).toThrow(/is not an earlier vertex/);
    const e = good();
    e.vertices[1].op.rootfs = 3;
    e.vertices[1].digest = vertexDigest(e.vertices[1].op, e.vertices[1].inputs);
    e.output.digest = e.vertices[1].digest;
    expect(() => validateDefinition(e)).toThrow(/rootfs 3 is not an input index/);
    const f = good();
    f.output = { digest: 'sha256:' + '0'.repeat(64) };
    expect(() => validateDefinition(f)).toThrow(/output/);
  });
});
