import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { dockerfileToGraph, graphToDockerfile, validateGraphDocument, graphToLLB } from '../../engine/frontend/graph/index.js';

const corpus = 'test/fixtures/buildkit-parser/testfiles';
const sig = (d: ReturnType<typeof dockerfileToGraph>) => ({ metaArgs: d.metaArgs, nodes: d.nodes.map((n) => [n.kind, n.params]), edges: d.edges.map((e) => [e.source, e.sourcePort, e.target, e.targetPort]), groups: d.groups.map((g) => g.nodes.length) });

describe('Dockerfile → graph', () => {
  const text = [
    'ARG BASE=busybox:local',
    'FROM busybox:local AS build',
    'WORKDIR /src',
    'COPY . .',
    'RUN --mount=type=cache,target=/root/.cache make',
    'FROM busybox:local',
    'COPY --from=build /src/out /app',
    'RUN --mount=type=bind,from=build,source=/src,target=/mnt ls /mnt',
    'ENV A="x y"',
    'CMD ["/app"]',
  ].join('\n');
  const g = dockerfileToGraph(text);

  it('makes stages groups and instructions nodes with their line ranges', () => {
    expect(g.groups.map((x) => x.name)).toEqual(['build', 'stage 1']);
    expect(g.groups[0]!.nodes.map((id) => g.nodes.find((n) => n.id === id)!.kind)).toEqual(['image', 'config', 'copy', 'run']);
    const run = g.nodes.find((n) => n.kind === 'run')!;
    expect(run.location).toEqual({ file: 'Dockerfile', startLine: 5, endLine: 5 });
    expect(run.params).toMatchObject({ command: 'make', mounts: [{ type: 'cache', target: '/root/.cache' }] });
    expect(g.metaArgs).toEqual(['ARG BASE=busybox:local']);
  });

  it('follows COPY --from and RUN --mount from= with edges to the stage result', () => {
    const buildTail = g.groups[0]!.nodes.at(-1)!;
    const copy2 = g.nodes.find((n) => n.kind === 'copy' && n.params.dest === '/app')!;
    expect(g.edges).toContainEqual(expect.objectContaining({ source: buildTail, target: copy2.id, targetPort: 'from' }));
    const run2 = g.nodes.find((n) => n.kind === 'run' && String(n.params.command).startsWith('ls'))!;
    expect(g.edges).toContainEqual(expect.objectContaining({ source: buildTail, target: run2.id, targetPort: 'mount0' }));
    expect(g.nodes.find((n) => n.kind === 'config' && n.params.env)!.params.env).toEqual({ A: 'x y' });
  });

  it('is a valid document that converts to LLB', async () => {
    const doc = validateGraphDocument(structuredClone(g));
    const last = doc.groups[1]!.nodes.at(-1)!;
    const r = await graphToLLB(doc, { target: last });
    expect(r.definition.vertices.filter((v) => v.op.kind === 'exec')).toHaveLength(2);
    expect(r.imageConfig?.config.Cmd).toEqual(['/app']);
    expect(r.imageConfig?.config.Env).toContain('A=x y');
  });

  it('graphToDockerfile names nodes with no Dockerfile form', () => {
    const d = structuredClone(g);
    d.nodes.push({ id: 'x', kind: 'export-oci', params: { dest: '/tmp/o.tar' }, position: { x: 0, y: 0 } });
    d.edges.push({ id: 'ex', source: d.groups[1]!.nodes.at(-1)!, sourcePort: 'out', target: 'x', targetPort: 'in' });
    const out = graphToDockerfile(d);
    expect(out.unsupported).toEqual([{ nodeId: 'x', reason: expect.stringMatching(/no Dockerfile form/) }]);
    expect(out.dockerfile).toMatch(/COPY --from=stage0 \/src\/out \/app/);
  });
});

describe('Dockerfile → graph → Dockerfile round trips (BuildKit parser corpus)', () => {
  const cases = fs.readdirSync(corpus).filter((d) => {
    try {
      dockerfileToGraph(fs.readFileSync(path.join(corpus, d, 'Dockerfile'), 'utf8'));
      return true;
    } catch {
      return false; // files the Dockerfile frontend rejects have no graph form
    }
  });
  it('has enough cases with a graph form', () => expect(cases.length).toBeGreaterThan(15));
  for (const c of cases) {
    it(c, () => {
      const g = dockerfileToGraph(fs.readFileSync(path.join(corpus, c, 'Dockerfile'), 'utf8'));
      validateGraphDocument(structuredClone(g));
      const back = graphToDockerfile(g);
      expect(back.unsupported).toEqual([]);
      expect(sig(dockerfileToGraph(back.dockerfile))).toEqual(sig(g));
    });
  }
});
