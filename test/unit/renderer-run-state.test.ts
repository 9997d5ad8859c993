// How a run ends on the graph: interrupted steps, the failing step selected with its output tail,
// and the one exporter mapping shared with the engine.
import { describe, it, expect, beforeEach } from 'vitest';
import { useEditor } from '../../renderer/src/store.js';
import { outputFor } from '../../renderer/src/run.js';
import { exporterOutput } from '../../engine/frontend/graph/llb.js';
import { droppedKind } from '../../renderer/src/shell.js';
import type { GraphNode } from '../../engine/frontend/graph/document.js';

const st = () => useEditor.getState();

describe('run end states', () => {
  beforeEach(() => st().newDocument());

  function twoSteps() {
    const a = st().addNode('run', { command: 'sleep 30' });
    const b = st().addNode('run', { command: 'exit 3' });
    st().startRun('b1');
    st().applyEvent({ type: 'vertex', digest: 'sha256:a', name: `[${a}] RUN sleep 30`, inputs: [], started: 1 } as never);
    st().applyEvent({ type: 'vertex', digest: 'sha256:b', name: `[${b}] RUN exit 3`, inputs: [], started: 1 } as never);
    st().applyEvent({ type: 'log', vertex: 'sha256:b', stream: 1, data: 'one\ntwo\nthree\nabout to fail\n', timestamp: 2 } as never);
    return { a, b };
  }

  it('a canceled build leaves no step running: running steps end canceled, and Run is enabled', () => {
    const { a, b } = twoSteps();
    st().endRun({ message: 'build canceled', canceled: true });
    expect(st().running).toBe(false);
    expect(st().status[a]!.state).toBe('canceled');
    expect(st().status[b]!.state).toBe('canceled');
    expect(st().lastRun).toBeUndefined();
  });

  it('a failed step is marked with its exit code and selected; steps still running were interrupted', () => {
    const { a, b } = twoSteps();
    st().select([a]);
    st().endRun({ message: 'process "/bin/sh -c exit 3" did not complete successfully: exit code: 3', exitCode: 3, nodeId: b });
    expect(st().status[b]).toMatchObject({ state: 'failed', exitCode: 3 });
    expect(st().status[a]!.state).toBe('canceled');
    expect(st().selected).toEqual([b]);
    expect(st().logs[b]!.slice(-3)).toEqual(['two', 'three', 'about to fail']);
  });

  it('a successful run becomes the baseline of the invalidation preview', () => {
    st().addNode('image', { ref: 'busybox:local' });
    const doc = st().doc;
    st().startRun('b2');
    st().endRun();
    expect(st().lastRun).toBe(doc);
  });
});

describe('exporter output mapping', () => {
  const node = (kind: GraphNode['kind'], params: Record<string, unknown>): GraphNode => ({ id: 'x', kind, params, position: { x: 0, y: 0 } });
  it('is the engine’s, for every exporter kind (registry.insecure included)', () => {
    for (const n of [node('export-registry', { name: 'r/x:1', insecure: true }), node('export-oci', { dest: '/t.tar' }), node('export-docker', { name: 'a' }), node('export-docker-tar', { dest: '/d.tar', name: 'a' }), node('export-rootfs', { dest: '/r.tar' }), node('export-local', { dest: '/out' })]) {
      expect(outputFor(n)).toEqual(exporterOutput(n));
    }
    expect(outputFor(node('export-registry', { name: 'r/x:1', insecure: true }))!.attrs['registry.insecure']).toBe('true');
    expect(outputFor(node('run', { command: 'x' }))).toBeUndefined();
  });
});

describe('dropped files', () => {
  it('opens Dockerfiles and graphs by name, nothing else', () => {
    expect(['Dockerfile', 'app.Dockerfile', 'Dockerfile.dev', 'Containerfile', 'x.dockerfile', 'b.kiln.json', 'notes.txt', 'package.json'].map(droppedKind)).toEqual(['dockerfile', 'dockerfile', 'dockerfile', 'dockerfile', 'dockerfile', 'graph', undefined, undefined]);
  });
});
