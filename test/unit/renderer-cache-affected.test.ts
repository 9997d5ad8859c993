// The Cache panel's attribution of du records to nodes, and the cache-invalidation preview computed
// from the engine's own vertex digests (graphToLLB through the graph call the editor uses).
import { describe, it, expect } from 'vitest';
import type { DuRecord } from '../../engine/control/api.js';
import { graphToLLB } from '../../engine/frontend/graph/llb.js';
import { definitionVertices } from '../../engine/control/graph.js';
import { validateGraphDocument } from '../../engine/frontend/graph/validate.js';
import type { GraphDocument } from '../../engine/frontend/graph/document.js';
import { usageByNode, humanSize } from '../../renderer/src/cacheUsage.js';
import { affectedNodes, nodeVertices, type GraphFn } from '../../renderer/src/affected.js';
import { EXAMPLE } from '../../renderer/src/example.js';

const rec = (description: string | undefined, size: number): DuRecord => ({ id: description ?? 'x', key: `k-${Math.random()}`, type: 'regular', size, createdAt: 0, lastUsedAt: 0, usageCount: 1, ...(description ? { description } : {}) });

describe('cache usage by node', () => {
  it('sums records per node through "[nodeId]" vertex names; the rest is "other", last', () => {
    const rows = usageByNode([rec('[run] RUN echo hi', 100), rec('[run] RUN echo hi', 50), rec('[base] FROM busybox', 400), rec('[gone] RUN x', 7), rec('RUN apt-get update', 3), rec(undefined, 1)], ['base', 'run', 'oci']);
    expect(rows).toEqual([
      { nodeId: 'base', size: 400, records: 1 },
      { nodeId: 'run', size: 150, records: 2 },
      { size: 11, records: 3 },
    ]);
    expect(usageByNode([], ['a'])).toEqual([]);
  });

  it('writes sizes as docker does (1024-based)', () => {
    expect([humanSize(0), humanSize(1023), humanSize(1024), humanSize(1536), humanSize(15 * 1024 * 1024), humanSize(300 * 1024 ** 3)]).toEqual(['0 B', '1023 B', '1.00 KiB', '1.50 KiB', '15.0 MiB', '300 GiB']);
  });
});

// the service's graph call, in process: the same conversion and vertex list kiln serve returns
const graph: GraphFn = async (input) => {
  if (input.kind !== 'graph') throw new Error('graph only');
  return { vertices: definitionVertices((await graphToLLB(input.document, input.target ? { target: input.target } : {})).definition) };
};

async function preview(base: GraphDocument, cur: GraphDocument): Promise<string[]> {
  const [a, b] = await Promise.all([nodeVertices(base, graph), nodeVertices(cur, graph)]);
  return [...affectedNodes(base, a, cur, b)].sort();
}

describe('cache-invalidation preview', () => {
  const base = validateGraphDocument(structuredClone(EXAMPLE));
  const edit = (f: (d: GraphDocument) => void) => {
    const d = structuredClone(base);
    f(d);
    return d;
  };

  it('gives every node of the example a vertex digest, or passes it through', async () => {
    const v = await nodeVertices(base, graph);
    expect([...v.keys()].sort()).toEqual(['base', 'hello', 'run']);
    expect(await preview(base, structuredClone(base))).toEqual([]);
  });

  it('marks an edited step and everything downstream of it, not what is upstream', async () => {
    expect(await preview(base, edit((d) => (d.nodes.find((n) => n.id === 'run')!.params.command = 'echo changed')))).toEqual(['cfg', 'oci', 'run']);
    // the image config only: no step reruns, the export does
    expect(await preview(base, edit((d) => (d.nodes.find((n) => n.id === 'cfg')!.params.cmd = ['sh'])))).toEqual(['cfg', 'oci']);
  });

  it('follows rewiring and deletion, which change no params', async () => {
    // run reads the image directly: hello is skipped, so run's input digest moves
    const rewired = edit((d) => {
      d.edges = d.edges.filter((e) => e.id !== 'e2');
      d.edges.push({ id: 'e9', source: 'base', sourcePort: 'out', target: 'run', targetPort: 'in' });
    });
    expect(await preview(base, rewired)).toEqual(['cfg', 'oci', 'run']);
    // deleting a node leaves its reader unwired: the engine refuses it (the editor falls back to
    // the structural preview); wiring the reader again gives digests to compare
    const deleted = edit((d) => {
      d.nodes = d.nodes.filter((n) => n.id !== 'hello');
      d.edges = d.edges.filter((e) => e.source !== 'hello' && e.target !== 'hello');
    });
    await expect(nodeVertices(deleted, graph)).rejects.toThrow(/node "run": input "in" is not connected/);
    deleted.edges.push({ id: 'e9', source: 'base', sourcePort: 'out', target: 'run', targetPort: 'in' });
    expect(await preview(base, deleted)).toEqual(['cfg', 'oci', 'run']);
    // a deleted leaf changes nothing that remains
    expect(await preview(base, edit((d) => {
      d.nodes = d.nodes.filter((n) => n.id !== 'oci');
      d.edges = d.edges.filter((e) => e.target !== 'oci');
    }))).toEqual([]);
    // back to the run's document (what undo does): nothing
    expect(await preview(base, validateGraphDocument(structuredClone(EXAMPLE)))).toEqual([]);
  });

  it('covers graphs with several end nodes', async () => {
    const two = edit((d) => {
      d.nodes.push({ id: 'side', kind: 'run', params: { command: 'echo side' }, position: { x: 0, y: 0 } });
      d.edges.push({ id: 'e10', source: 'hello', sourcePort: 'out', target: 'side', targetPort: 'in' });
    });
    expect((await nodeVertices(two, graph)).has('side')).toBe(true);
    expect(await preview(base, two)).toEqual(['side']);
  });
});
