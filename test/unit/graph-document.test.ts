import { describe, it, expect } from 'vitest';
import { validateGraphDocument, GraphValidationError, connectionProblem, checkGraph, graphToLLB, secretParams, type GraphDocument } from '../../engine/frontend/graph/index.js';

function doc(nodes: GraphDocument['nodes'], edges: Partial<GraphDocument['edges'][number]>[] = []): GraphDocument {
  return { kind: 'kiln.graph', version: 1, nodes, edges: edges.map((e, i) => ({ id: `e${i}`, sourcePort: 'out', targetPort: 'in', ...e }) as GraphDocument['edges'][number]), groups: [] };
}
const node = (id: string, kind: GraphDocument['nodes'][number]['kind'], params: Record<string, unknown> = {}) => ({ id, kind, params, position: { x: 0, y: 0 } });

describe('graph document validation', () => {
  it('accepts a minimal image → run → exporter graph and applies defaults', () => {
    const d = validateGraphDocument(doc([node('base', 'image', { ref: 'busybox:local' }), node('r', 'run', { command: 'echo hi' }), node('x', 'export-oci', { dest: '/tmp/x.tar' })], [{ source: 'base', target: 'r' }, { source: 'r', target: 'x' }]));
    expect(d.nodes[1]!.params).toMatchObject({ command: 'echo hi', shell: true, env: {}, mounts: [] });
  });

  it('names the node whose params are invalid', () => {
    try {
      validateGraphDocument(doc([node('base', 'image', { ref: 'busybox' }), node('bad-run', 'run', { command: '' })], [{ source: 'base', target: 'bad-run' }]));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(GraphValidationError);
      expect((e as GraphValidationError).issues.some((i) => i.nodeId === 'bad-run' && /command is required/.test(i.message))).toBe(true);
    }
  });

  it('rejects the wrong kind/version and unknown node kinds', () => {
    expect(() => validateGraphDocument({ kind: 'kiln.graph', version: 2, nodes: [] })).toThrow(GraphValidationError);
    expect(() => validateGraphDocument({ kind: 'kiln.graph', version: 1, nodes: [{ id: 'n', kind: 'teleport' }] })).toThrow(/n/);
  });

  it('reports unconnected required inputs', () => {
    const issues = checkGraph(doc([node('r', 'run', { command: 'true' })]));
    expect(issues).toContainEqual({ nodeId: 'r', message: 'input "in" is not connected' });
  });
});

describe('typed ports and cycles', () => {
  const d = doc([node('a', 'image', { ref: 'busybox' }), node('c', 'config', { cmd: ['sh'] }), node('r', 'run', { command: 'true' }), node('r2', 'run', { command: 'true' })], [{ source: 'a', target: 'c' }, { source: 'a', target: 'r' }, { source: 'r', target: 'r2' }]);
  it('refuses wiring a config port to a filesystem port', () => {
    expect(connectionProblem(d, { source: 'c', sourcePort: 'config', target: 'r2', targetPort: 'in' })).toMatch(/config port cannot be wired to a fs port/);
  });
  it('accepts fs → fs', () => {
    expect(connectionProblem(doc(d.nodes), { source: 'a', sourcePort: 'out', target: 'r', targetPort: 'in' })).toBeUndefined();
  });
  it('refuses a cycle as it is drawn, naming the path', () => {
    expect(connectionProblem(d, { source: 'r2', sourcePort: 'out', target: 'r', targetPort: 'in' })).toMatch(/cycle: r → r2 → r|cycle: r2 → r → r2/);
  });
  it('validation rejects a document with a cycle', () => {
    expect(() => validateGraphDocument(doc([node('r', 'run', { command: 'a' }), node('s', 'run', { command: 'b' })], [{ source: 'r', target: 's' }, { source: 's', target: 'r' }]))).toThrow(/cycle/);
  });
});

describe('graphToLLB', () => {
  const g = doc(
    [node('base', 'image', { ref: 'busybox:local' }), node('ctx', 'local', { name: 'context', exclude: ['node_modules'] }), node('cp', 'copy', { src: 'src/', dest: '/app', chown: '1000:1000' }), node('run', 'run', { command: 'make', env: { A: '1' }, workdir: '/app', mounts: [{ type: 'cache', target: '/root/.cache' }] }), node('cfg', 'config', { cmd: ['/app/bin'], ports: ['8080'] }), node('out', 'export-docker', { name: 'kiln/test' })],
    [{ source: 'base', target: 'cp' }, { source: 'ctx', target: 'cp', targetPort: 'from' }, { source: 'cp', target: 'run' }, { source: 'run', target: 'cfg' }, { source: 'cfg', target: 'out' }],
  );
  it('builds a Definition whose vertices carry their node ids', async () => {
    const r = await graphToLLB(g, { resolveImage: async () => ({ config: { os: 'linux', architecture: 'amd64', config: { Env: ['PATH=/bin'], Cmd: ['sh'] } } }) });
    const kinds = r.definition.vertices.map((v) => v.op.kind);
    expect(kinds).toEqual(['source', 'source', 'file', 'exec']);
    const exec = r.definition.vertices.find((v) => v.op.kind === 'exec')!;
    expect(exec.metadata?.location?.[0]?.nodeId).toBe('run');
    expect(r.definition.output?.digest).toBe(exec.digest);
    expect(r.nodeVertex['run']).toBe(exec.digest);
    expect(r.nodeVertex['out']).toBe(exec.digest);
    if (exec.op.kind === 'exec') {
      expect(exec.op.args).toEqual(['/bin/sh', '-c', 'make']);
      expect(exec.op.env).toEqual(['PATH=/bin', 'A=1']);
      expect(exec.op.cwd).toBe('/app');
      expect(exec.op.mounts.map((m) => m.type)).toEqual(['bind', 'cache']);
    }
    expect(r.imageConfig?.config.Cmd).toEqual(['/app/bin']);
    expect(r.imageConfig?.config.ExposedPorts).toEqual({ '8080/tcp': {} });
    const file = r.definition.vertices.find((v) => v.op.kind === 'file')!;
    if (file.op.kind === 'file') expect(file.op.actions[0]).toMatchObject({ action: 'copy', srcPath: 'src/', destPath: '/app', owner: { user: 1000, group: 1000 } });
  });
  it('is deterministic and a param change changes downstream digests only', async () => {
    const a = await graphToLLB(g);
    const b = await graphToLLB(g);
    expect(a.definition).toEqual(b.definition);
    const g2 = structuredClone(g);
    (g2.nodes[3]!.params as { command: string }).command = 'make all';
    const c = await graphToLLB(g2);
    expect(c.nodeVertex['cp']).toBe(a.nodeVertex['cp']);
    expect(c.nodeVertex['run']).not.toBe(a.nodeVertex['run']);
  });
  it('builds up to a target node', async () => {
    const r = await graphToLLB(g, { target: 'cp' });
    expect(r.definition.vertices.map((v) => v.op.kind)).toEqual(['source', 'source', 'file']);
  });
});

describe('registry passwords stay out of the document', () => {
  const old = () => doc([node('base', 'image', { ref: 'busybox:local' }), node('push', 'export-registry', { name: '127.0.0.1:5001/app:v1', username: 'kiln', password: 'hunter2-in-an-old-file' })], [{ source: 'base', target: 'push' }]);

  it('an older file with a password still opens, with the password dropped and the username kept', () => {
    const raw = old();
    expect(secretParams(raw)).toEqual([{ nodeId: 'push', param: 'password' }]);
    const d = validateGraphDocument(structuredClone(raw));
    expect(d.nodes[1]!.params).toEqual({ name: '127.0.0.1:5001/app:v1', username: 'kiln' });
    expect(JSON.stringify(d)).not.toContain('hunter2');
    expect(secretParams(d)).toEqual([]);
    // live validation does not flag the old field either: the file is valid, only the password is gone
    expect(checkGraph(raw)).toEqual([]);
  });

  it('secretParams ignores documents without secrets and junk input', () => {
    expect(secretParams(doc([node('push', 'export-registry', { name: 'r/x', username: 'u' })]))).toEqual([]);
    expect(secretParams(null)).toEqual([]);
    expect(secretParams({ nodes: 'no' })).toEqual([]);
    expect(secretParams({ nodes: [{ id: 'n', kind: 'export-registry', params: { password: '' } }] })).toEqual([{ nodeId: 'n', param: 'password' }]);
  });
});
