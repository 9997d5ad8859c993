// The typed LLB builder and Definition validation: digests are stable, cover op + inputs only,
// and validateDefinition refuses malformed or tampered definitions with a clear path.
import { describe, expect, it } from 'vitest';
import { copy, image, local, merge, mkdir, mkfile, rm, scratch, git, http } from '../../engine/llb/builder.js';
import { canonicalJSON, digestOf } from '../../engine/llb/digest.js';
import { DefinitionError, validateDefinition } from '../../engine/llb/schema.js';
import type { ExecOp, FileOp } from '../../engine/llb/ops.js';

function sample(description = 'build') {
  const base = image('busybox:local');
  const ctx = local('context', { include: ['src'] });
  const built = base
    .dir('/work')
    .env('A', '1')
    .run({ shell: 'echo hi > out', description, mounts: [{ type: 'bind', from: ctx, target: '/src', readonly: true }, { type: 'cache', target: '/cache', id: 'c1' }] })
    .root();
  return scratch().file([mkdir('/app', 0o755), copy(built, '/work/out', '/app/out'), mkfile('/app/note', 0o644, 'hello'), rm('/app/tmp', { allowNotFound: true })]);
}

describe('llb builder', () => {
  it('marshals a topologically ordered definition with stable digests', () => {
    const a = sample().marshal();
    const b = sample().marshal();
    expect(a).toEqual(b);
    const order = new Map(a.vertices.map((v, i) => [v.digest, i]));
    for (const v of a.vertices) for (const i of v.inputs) expect(order.get(i.digest)!).toBeLessThan(order.get(v.digest)!);
    expect(a.output?.digest).toBe(a.vertices.at(-1)!.digest);
    // four vertices: image, local, exec, file
    expect(a.vertices.map((v) => v.op.kind).sort()).toEqual(['exec', 'file', 'source', 'source']);
  });

  it('keeps descriptions out of the digest but not the op', () => {
    expect(sample('one').marshal().output).toEqual(sample('two').marshal().output);
    const other = scratch().file(mkdir('/app', 0o700)).marshal();
    expect(other.output).not.toEqual(scratch().file(mkdir('/app', 0o755)).marshal().output);
  });

  it('digest is independent of object key order', () => {
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
    expect(file.base).toBe(-1);
    expect(file.actions.map((a) => a.action)).toEqual(['mkdir', 'copy', 'mkfile', 'rm']);
  });

  it('getMount returns the writable mount as another output of the exec', () => {
    const e = image('busybox:local').run({ args: ['true'], mounts: [{ type: 'bind', from: scratch(), target: '/out' }] });
    const def = e.getMount('/out').marshal();
    expect(def.output?.output).toBe(1);
    expect(() => e.getMount('/nope')).toThrow(/no writable bind mount/);
  });

  it('sources: git, http and merge', () => {
    const g = git('https://example.invalid/repo.git', { ref: 'v1', subdir: 'docs', keepGitDir: true }).marshal().vertices[0]!;
    expect(g.op).toMatchObject({ kind: 'source', identifier: 'https://example.invalid/repo.git#v1:docs', attrs: { keepGitDir: 'true' } });
    const h = http('https://example.invalid/f', { filename: 'f.txt', chmod: 0o755 }).marshal().vertices[0]!;
    expect(h.op).toMatchObject({ attrs: { filename: 'f.txt', chmod: '755' } });
    const m = merge([image('busybox:local'), scratch().file(mkdir('/x', 0o755))]).marshal();
    expect(m.vertices.at(-1)!.op).toEqual({ kind: 'merge', inputs: [0, 1] });
  });
});

describe('validateDefinition', () => {
  it('accepts what the builder marshals, after a JSON round trip', () => {
    const def = JSON.parse(JSON.stringify(sample().marshal())) as unknown;
    expect(validateDefinition(def)).toEqual(def);
  });

  it('refuses a vertex whose digest does not match its content', () => {
    const def = JSON.parse(JSON.stringify(sample().marshal()));
    (def.vertices[0].op as { identifier: string }).identifier = 'docker-image://evil:latest';
    expect(() => validateDefinition(def)).toThrow(/vertices\.0\.digest: .*does not match/);
  });

  it('names the offending path for malformed input', () => {
    const def = JSON.parse(JSON.stringify(sample().marshal()));
    const exec = def.vertices.find((v: { op: { kind: string } }) => v.op.kind === 'exec');
    exec.op.mounts[0].target = 42;
    const i = def.vertices.indexOf(exec);
    try {
      validateDefinition(def);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DefinitionError);
      expect((e as DefinitionError).path).toEqual(['vertices', i, 'op', 'mounts', 0, 'target']);
      expect((e as Error).message).toContain(`vertices.${i}.op.mounts.0.target`);
    }
  });

  it('refuses inputs that are not earlier vertices and outputs that are unknown', () => {
    const def = JSON.parse(JSON.stringify(sample().marshal()));
    def.vertices.reverse();
    expect(() => validateDefinition(def)).toThrow(/is not an earlier vertex/);
    const d2 = JSON.parse(JSON.stringify(sample().marshal()));
    d2.output = { digest: 'sha256:' + '0'.repeat(64) };
    expect(() => validateDefinition(d2)).toThrow(/output/);
  });
});
