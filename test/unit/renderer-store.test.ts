import { describe, it, expect, beforeEach } from 'vitest';
import fs from 'node:fs';
import { useEditor, nodeIdOfVertexName, downstreamOf, issuesByNode } from '../../renderer/src/store.js';
import { nodeTitle } from '../../renderer/src/titles.js';

const st = () => useEditor.getState();

describe('renderer store', () => {
  beforeEach(() => {
    st().newDocument();
    useEditor.temporal.getState().clear();
  });

  it('adds and wires nodes, refuses a config → fs wire with a message, and undoes/redoes', () => {
    const img = st().addNode('image', { ref: 'busybox:local' });
    const run = st().addNode('run', { command: 'echo hi' });
    const cfg = st().addNode('config', { cmd: ['sh'] });
    expect(st().connect({ source: img, sourcePort: 'out', target: run, targetPort: 'in' })).toBeUndefined();
    expect(st().connect({ source: run, sourcePort: 'out', target: cfg, targetPort: 'in' })).toBeUndefined();
    const refused = st().connect({ source: cfg, sourcePort: 'config', target: run, targetPort: 'in' });
    expect(refused).toMatch(/config port cannot be wired to a fs port/);
    expect(st().notice).toBe(refused);
    expect(st().connect({ source: cfg, sourcePort: 'out', target: run, targetPort: 'in' })).toMatch(/cycle/);
    expect(st().doc.edges).toHaveLength(2);
    expect(st().dirty).toBe(true);

    useEditor.temporal.getState().undo();
    expect(st().doc.edges).toHaveLength(1);
    useEditor.temporal.getState().undo();
    expect(st().doc.edges).toHaveLength(0);
    useEditor.temporal.getState().redo();
    useEditor.temporal.getState().redo();
    expect(st().doc.edges).toHaveLength(2);
  });

  it('deletes the selection with its edges, and copy/paste duplicates nodes with inner edges', () => {
    const a = st().addNode('image', { ref: 'busybox:local' });
    const b = st().addNode('run', { command: 'true' });
    st().connect({ source: a, sourcePort: 'out', target: b, targetPort: 'in' });
    st().select([a, b]);
    st().copy();
    st().paste();
    expect(st().doc.nodes).toHaveLength(4);
    expect(st().doc.edges).toHaveLength(2);
    st().select([a]);
    st().deleteSelected();
    expect(st().doc.nodes.map((n) => n.id)).not.toContain(a);
    expect(st().doc.edges).toHaveLength(1);
  });

  it('maps status events onto nodes by vertex name and shows failures with the exit code', () => {
    const r = st().addNode('run', { command: 'false' });
    st().startRun('b1');
    expect(st().status[r]!.state).toBe('queued');
    st().applyEvent({ type: 'vertex', jobId: 'b1', digest: 'sha256:x', name: `[${r}] RUN false`, inputs: [], started: 1000 });
    expect(st().status[r]!.state).toBe('running');
    st().applyEvent({ type: 'log', jobId: 'b1', vertex: 'sha256:x', stream: 2, data: 'oops\n', timestamp: 1 });
    expect(st().logs[r]).toEqual(['oops']);
    st().applyEvent({ type: 'vertex', jobId: 'b1', digest: 'sha256:x', name: `[${r}] RUN false`, inputs: [], started: 1000, completed: 1200, error: 'process "/bin/sh -c false" did not complete successfully: exit code: 1' });
    expect(st().status[r]).toMatchObject({ state: 'failed', exitCode: 1 });
    st().endRun({ message: 'failed' });
    expect(st().running).toBe(false);
    expect(nodeIdOfVertexName('[n12] COPY a b')).toBe('n12');
  });

  it('previews cache invalidation: a changed node and everything downstream', () => {
    const a = st().addNode('image', { ref: 'busybox:local' });
    const b = st().addNode('run', { command: 'one' });
    const c = st().addNode('run', { command: 'two' });
    st().connect({ source: a, sourcePort: 'out', target: b, targetPort: 'in' });
    st().connect({ source: b, sourcePort: 'out', target: c, targetPort: 'in' });
    st().updateParams(b, { command: 'one!' });
    expect([...downstreamOf(st().doc, st().changed)].sort()).toEqual([b, c].sort());
  });

  it('marks invalid nodes live with the reason', () => {
    const r = st().addNode('run', { command: '' });
    const issues = issuesByNode(st().doc)[r]!.map((i) => i.message);
    expect(issues).toEqual(expect.arrayContaining(['input "in" is not connected', expect.stringMatching(/command is required/)]));
  });

  it('opens a Dockerfile as groups with laid-out nodes and verb+object titles', () => {
    st().openDockerfile('FROM busybox:local AS a\nRUN apt-get install -y curl\nFROM a\nCOPY src/ /app\n');
    const { doc } = st();
    expect(doc.groups.map((g) => g.name)).toEqual(['a', 'stage 1']);
    expect(new Set(doc.nodes.map((n) => `${n.position.x},${n.position.y}`)).size).toBe(doc.nodes.length);
    const titles = doc.nodes.map(nodeTitle);
    expect(titles).toContain('RUN apt-get install -y curl');
    expect(titles).toContain('COPY src/ → /app');
  });

  it('lays out a big many-stage Dockerfile', () => {
    const stages = Array.from({ length: 49 }, (_, i) => `FROM busybox:local AS s${i}\n${i ? `COPY --from=s${i - 1} /a /a\n` : ''}RUN echo ${i} > /a\nENV N${i}=${i}\n`).join('');
    st().openDockerfile(stages);
    expect(st().doc.groups).toHaveLength(49);
    expect(st().doc.nodes.every((n) => Number.isFinite(n.position.x))).toBe(true);
  });
});

describe('renderer build output', () => {
  it('index.html loads the module entry', () => {
    expect(fs.readFileSync('renderer/index.html', 'utf8')).toMatch(/src\/main\.tsx/);
  });
});

describe('build-check warnings', () => {
  it('attach to the node whose Dockerfile lines they point at', () => {
    useEditor.getState().openDockerfile('FROM busybox:local as a\nRUN true\n');
    useEditor.getState().setWarnings([{ rule: 'FromAsCasing', message: "'as' and 'FROM' keywords' casing do not match", location: { startLine: 1, endLine: 1 } }]);
    const img = useEditor.getState().doc.nodes.find((n) => n.kind === 'image')!;
    expect(useEditor.getState().warnings[img.id]).toEqual(["FromAsCasing: 'as' and 'FROM' keywords' casing do not match"]);
  });
});
