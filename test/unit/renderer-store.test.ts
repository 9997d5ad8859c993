import { describe, it, expect, beforeEach } from 'vitest';
import fs from 'node:fs';
import { useEditor, nodeIdOfVertexName, downstreamOf, issuesByNode } from '../../renderer/src/store.js';
import { nodeTitle } from '../../renderer/src/titles.js';
import { computeFrames, FRAME_HEAD } from '../../renderer/src/groups.js';
import { layoutNodes, NODE_W, NODE_H } from '../../renderer/src/layout.js';
import { configNodeOf } from '../../renderer/src/exportConfig.js';
import { pushProgressId } from '../../engine/registry/progress.js';

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

  it('lays out a big many-stage Dockerfile: stages top to bottom inside frames that never overlap', () => {
    const stages = Array.from({ length: 49 }, (_, i) => `FROM busybox:local AS s${i}\n${i ? `COPY --from=s${i - 1} /a /a\n` : ''}RUN echo ${i} > /a\nENV N${i}=${i}\n`).join('');
    const t0 = performance.now();
    st().openDockerfile(stages);
    console.log(`49-stage open + layout in the store: ${Math.round(performance.now() - t0)} ms`);
    const { doc } = st();
    expect(doc.groups).toHaveLength(49);
    expect(doc.nodes.every((n) => Number.isFinite(n.position.x) && Number.isFinite(n.position.y))).toBe(true);
    const frames = computeFrames(doc);
    expect(frames).toHaveLength(49);
    const pos = new Map(doc.nodes.map((n) => [n.id, n.position]));
    for (const f of frames) {
      // every member inside its frame, below the title bar
      for (const id of f.members) {
        const p = pos.get(id)!;
        expect(p.x >= f.x && p.y >= f.y + FRAME_HEAD && p.x + NODE_W <= f.x + f.w && p.y + NODE_H <= f.y + f.h, `${id} outside ${f.name}`).toBe(true);
      }
      // a stage's instructions read top to bottom, in file order
      const lines = f.members.map((id) => doc.nodes.find((n) => n.id === id)!).filter((n) => n.location).sort((a, b) => a.location!.startLine - b.location!.startLine);
      for (let i = 1; i < lines.length; i++) expect(lines[i]!.position.y).toBeGreaterThan(lines[i - 1]!.position.y);
    }
    for (let i = 0; i < frames.length; i++) for (let j = i + 1; j < frames.length; j++) {
      const [a, b] = [frames[i]!, frames[j]!];
      expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y, `${a.name} overlaps ${b.name}`).toBe(true);
    }
  });

  it('lays out a graph without groups left to right, and a branching stage with dagre inside its frame', () => {
    st().openDockerfile('FROM busybox:local AS a\nRUN --mount=from=b,target=/b cp /b/x /x\nFROM busybox:local AS b\nRUN echo > /x\n');
    const frames = computeFrames(st().doc);
    expect(frames.map((f) => f.name).sort()).toEqual(['a', 'b']);
    const pos = new Map(st().doc.nodes.map((n) => [n.id, n.position]));
    for (const f of frames) for (const id of f.members) expect(pos.get(id)!.x >= f.x && pos.get(id)!.x + NODE_W <= f.x + f.w).toBe(true);
    const nodes = layoutNodes(
      [{ id: 'x', kind: 'image', params: { ref: 'a' }, position: { x: 0, y: 0 } }, { id: 'y', kind: 'run', params: { command: 'true' }, position: { x: 0, y: 0 } }],
      [{ id: 'e', source: 'x', sourcePort: 'out', target: 'y', targetPort: 'in' }],
    );
    expect(nodes[1]!.position.x).toBeGreaterThan(nodes[0]!.position.x + NODE_W - 1);
    expect(nodes[1]!.position.y).toBe(nodes[0]!.position.y);
  });
});

describe('image config of an export', () => {
  beforeEach(() => {
    st().newDocument();
    useEditor.temporal.getState().clear();
  });

  const wired = () => {
    const img = st().addNode('image', { ref: 'busybox:local' }, { x: 0, y: 0 });
    const x = st().addNode('export-docker', { name: 'kiln/cfg:1' }, { x: 300, y: 0 });
    st().connect({ source: img, sourcePort: 'out', target: x, targetPort: 'in' });
    return { img, x };
  };

  it('the first edit inserts a config node between the input and the exporter; later edits change it; one undo removes it', () => {
    const { img, x } = wired();
    expect(configNodeOf(st().doc, x)).toBeUndefined();
    st().setExportConfig(x, { cmd: ['nginx'] });
    const cfg = configNodeOf(st().doc, x)!;
    expect(cfg).toMatchObject({ kind: 'config', params: { cmd: ['nginx'] }, position: { x: 300, y: 0 } });
    const edges = st().doc.edges.map((e) => `${e.source}.${e.sourcePort}->${e.target}.${e.targetPort}`).sort();
    expect(edges).toEqual([`${cfg.id}.out->${x}.in`, `${img}.out->${cfg.id}.in`].sort());
    expect(st().doc.nodes.find((n) => n.id === x)!.position.x).toBeGreaterThan(300);
    expect(issuesByNode(st().doc)[cfg.id]).toBeUndefined();
    st().setExportConfig(x, { cmd: ['nginx'], env: { A: '1' } });
    expect(st().doc.nodes.filter((n) => n.kind === 'config')).toHaveLength(1);
    expect(configNodeOf(st().doc, x)!.params).toEqual({ cmd: ['nginx'], env: { A: '1' } });
    useEditor.temporal.getState().undo();
    useEditor.temporal.getState().undo();
    expect(st().doc.nodes.map((n) => n.kind).sort()).toEqual(['export-docker', 'image']);
    expect(st().doc.edges).toHaveLength(1);
  });

  it('edits the config node wired to the exporter’s config port; an exporter without input is left as it is', () => {
    const { x } = wired();
    const src = st().doc.edges[0]!.source;
    const cfg = st().addNode('config', { user: 'app' });
    st().connect({ source: src, sourcePort: 'out', target: cfg, targetPort: 'in' });
    st().connect({ source: cfg, sourcePort: 'config', target: x, targetPort: 'config' });
    st().setExportConfig(x, { user: 'app', workdir: '/srv' });
    expect(configNodeOf(st().doc, x)!.id).toBe(cfg);
    expect(st().doc.nodes.find((n) => n.id === cfg)!.params).toEqual({ user: 'app', workdir: '/srv' });
    const lone = st().addNode('export-oci', { dest: '/tmp/x.tar' });
    const before = st().doc;
    st().setExportConfig(lone, { cmd: ['x'] });
    expect(st().doc).toBe(before);
  });

  it('a Dockerfile’s CMD node is not edited from the exporter: a config node goes after it', () => {
    st().openDockerfile('FROM busybox:local\nCMD ["sh"]\n');
    const cmd = st().doc.nodes.find((n) => n.kind === 'config')!;
    const x = st().addNode('export-docker', { name: 'kiln/df:1' });
    st().connect({ source: cmd.id, sourcePort: 'out', target: x, targetPort: 'in' });
    expect(configNodeOf(st().doc, x)).toBeUndefined();
    st().setExportConfig(x, { env: { B: '2' } });
    const added = configNodeOf(st().doc, x)!;
    expect(added.id).not.toBe(cmd.id);
    expect(st().doc.nodes.find((n) => n.id === cmd.id)!.params).toEqual(cmd.params);
    expect(st().doc.edges.some((e) => e.source === cmd.id && e.target === added.id)).toBe(true);
  });
});

describe('export transfers', () => {
  it('follow the export vertex and the aggregate push figure on the exported node, then the result', () => {
    st().newDocument();
    const r = st().addNode('run', { command: 'true' });
    st().startRun('b2', [r]);
    const name = '127.0.0.1:5000/kiln/t:1';
    st().applyEvent({ type: 'vertex', jobId: 'b2', digest: 'export:b2:0', name: `exporting to image ${name}`, inputs: [], started: 1 });
    expect(st().transfers[r]).toMatchObject({ state: 'running', name: `exporting to image ${name}` });
    // a per-blob figure is not the image's
    st().applyEvent({ type: 'status', jobId: 'b2', vertex: 'export:b2:0', id: 'abcdef012345', current: 10, total: 100, timestamp: 2 });
    expect(st().transfers[r]!.pushed).toBeUndefined();
    st().applyEvent({ type: 'status', jobId: 'b2', vertex: 'export:b2:0', id: pushProgressId(name), current: 400, total: 1000, timestamp: 3 });
    expect(st().transfers[r]!.pushed).toEqual({ name, current: 400, total: 1000 });
    // the run node's own status is untouched by the export's events
    expect(st().status[r]!.state).toBe('queued');
    st().applyEvent({ type: 'vertex', jobId: 'b2', digest: 'export:b2:0', name: `exporting to image ${name}`, inputs: [], started: 1, completed: 5 });
    st().finishExports([{ 'containerimage.digest': 'sha256:abc' }]);
    expect(st().transfers[r]).toMatchObject({ state: 'done', result: { 'containerimage.digest': 'sha256:abc' }, pushed: { current: 400 } });
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
