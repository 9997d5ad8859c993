// `kiln graph` end to end: the documented stage table (`dependsOn`: stage names and image refs) and
// vertex locations for the conformance testfiles and three multi-stage Dockerfiles, against
// hand-written expectations; `--format dot|mermaid` parsed back and held to the JSON's stages.
//
// Rule for which testfiles run offline: the build context is an empty temp dir and base images
// resolve through the service's lenient graph resolver (unknown images get an empty config), so a
// testfile "converts" unless it COPY/ADDs context files or is invalid — those must exit 1.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
const testfiles = path.join(repo, 'test/fixtures/buildkit-parser/testfiles');
const fixtures = path.join(repo, 'test/fixtures/graph');
let root: string;
let ctx: string;

type Stage = { name: string; index: number; base: string; dependsOn: string[] };
type Vertex = { digest: string; name: string; op: string; inputs: string[]; location?: { startLine: number } };

function kilnGraph(file: string, format: string, extra: string[] = []) {
  return spawnSync(process.execPath, [bin, 'graph', '-f', file, '--format', format, ...extra, ctx], {
    env: { ...process.env, KILN_ROOT: root, DOCKER_HOST },
    encoding: 'utf8',
    timeout: 120_000,
  });
}
function graph(file: string, extra: string[] = []) {
  const r = kilnGraph(file, 'json', extra);
  return { code: r.status, stderr: r.stderr, json: r.status === 0 ? (JSON.parse(r.stdout) as { stages: Stage[]; vertices: Vertex[] }) : undefined };
}
// dependsOn is a set of stage names and image refs; order is not part of the contract.
const norm = (stages: Stage[]) => stages.map((s) => ({ ...s, dependsOn: [...s.dependsOn].sort() }));
/** a stage row; its base (a stage or an image, not scratch) is always among its dependencies */
const st = (name: string, index: number, base: string, dependsOn: string[] = []): Stage => ({ name, index, base, dependsOn: [...new Set([...dependsOn, ...(base === 'scratch' ? [] : [base])])].sort() });

const testfileStages: Record<string, Stage[]> = {
  args: [st('0', 0, 'ubuntu')],
  'brimstone-consuldock': [st('0', 0, 'brimstone/ubuntu:14.04')],
  'continue-at-eof': [st('0', 0, 'alpine:3.5')],
  continueIndent: [st('0', 0, 'ubuntu:14.04')],
  docker: [st('0', 0, 'ubuntu:14.04')],
  escape: [st('0', 0, 'image')],
  'lk4d4-the-edge-case-generator': [st('0', 0, 'busybox:buildroot-2014.02')],
  'multiple-volumes': [st('0', 0, 'foo')],
  'trailing-backslash': [st('0', 0, 'hello-world')],
};
// Need context files that the empty context lacks, or are invalid on purpose.
const mustFail = ['nginx', 'mumble', 'znc', 'env'];

describeWith(['engine'], 'kiln graph --format json', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/cli/main.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-graph-root-'));
    ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-graph-ctx-'));
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(ctx, { recursive: true, force: true });
  });

  it.each(Object.keys(testfileStages))('testfile %s: stage table', (name) => {
    const r = graph(path.join(testfiles, name, 'Dockerfile'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(norm(r.json!.stages)).toEqual(testfileStages[name]);
    expect(r.json!.vertices.length).toBeGreaterThan(0);
  });

  it.each(mustFail)('testfile %s: does not convert with an empty context (exit 1)', (name) => {
    const r = graph(path.join(testfiles, name, 'Dockerfile'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:\d+/);
  });

  it('vertex locations point at the instruction lines', () => {
    const docker = graph(path.join(testfiles, 'docker', 'Dockerfile')).json!;
    const line = (prefix: string) => docker.vertices.find((v) => v.name.startsWith(prefix))?.location?.startLine;
    expect(line('[internal] load metadata for ubuntu:14.04')).toBe(18);
    expect(line('RUN groupadd -r docker')).toBe(83);
    // names as BuildKit prints them: the tab after the keyword means the whole text is upper-cased
    expect(line('WORKDIR\t/GO/SRC/GITHUB.COM/DOCKER/DOCKER')).toBe(87);
    expect(line('COPY\t.\t/GO/SRC/GITHUB.COM/DOCKER/DOCKER')).toBe(94);
    const big = graph(path.join(fixtures, 'big-a.Dockerfile')).json!;
    // Vertex names drop the --from flag (the source is the vertex's input), so match on paths.
    const copies = big.vertices.filter((v) => v.op === 'file' && v.name.endsWith('/base /base0'));
    expect(copies.map((v) => v.location?.startLine)).toEqual([27]);
    expect(big.vertices.find((v) => v.name === 'RUN cat /arch')?.location?.startLine).toBe(10);
  });

  it('big-a: 11 stages, FROM stage, COPY --from, FROM cross-${CROSS}', () => {
    const expected = [
      st('base', 0, 'busybox:local'),
      st('cross-amd64', 1, 'base', ['base']),
      st('cross-arm64', 2, 'base', ['base']),
      st('cross', 3, 'cross-arm64', ['cross-arm64']),
      st('tools', 4, 'busybox:local'),
      st('lib', 5, 'base', ['base', 'tools']),
      st('app', 6, 'lib', ['lib', 'cross']),
      st('docs', 7, 'busybox:local'),
      st('assets', 8, 'scratch', ['docs']),
      st('test', 9, 'app', ['app', 'assets']),
      st('final', 10, 'busybox:local', ['app', 'test', 'base']),
    ];
    expect(expected[10]!.dependsOn).toEqual(['app', 'base', 'busybox:local', 'test']);
    const r = graph(path.join(fixtures, 'big-a.Dockerfile'));
    expect(r.code).toBe(0);
    expect(norm(r.json!.stages)).toEqual(expected);
    // The build arg switches which cross stage the ARG-expanded FROM resolves to.
    const amd = graph(path.join(fixtures, 'big-a.Dockerfile'), ['--build-arg', 'CROSS=amd64']);
    expect(norm(amd.json!.stages)[3]).toEqual(st('cross', 3, 'cross-amd64', ['cross-amd64']));
  });

  it('big-b: 11 stages, chained FROM, unnamed last stage, ARG default cross', () => {
    const expected = [
      st('s0', 0, 'busybox:local'),
      st('s1', 1, 's0', ['s0']),
      st('s2', 2, 's1', ['s1']),
      st('cross-amd64', 3, 'busybox:local'),
      st('cross-arm64', 4, 'busybox:local'),
      st('cross', 5, 'cross-amd64', ['cross-amd64']),
      st('a', 6, 's0', ['s0', 's2']),
      st('b', 7, 's0', ['s0', 's1']),
      st('c', 8, 'a', ['a', 'b', 'cross']),
      st('d', 9, 'scratch', ['c']),
      st('10', 10, 'busybox:local', ['d', 's2']),
    ];
    const r = graph(path.join(fixtures, 'big-b.Dockerfile'));
    expect(r.code).toBe(0);
    expect(norm(r.json!.stages)).toEqual(expected);
    const t = graph(path.join(fixtures, 'big-b.Dockerfile'), ['--target', 'b']);
    expect(t.code).toBe(0);
    expect(t.json!.vertices.some((v) => v.op === 'file' && v.name.endsWith('/s1 /b'))).toBe(true);
    expect(t.json!.vertices.some((v) => v.op === 'file' && v.name.endsWith('/c /d'))).toBe(false);
  });
});

// The stage graph as dot/mermaid: a node per stage and per distinct external ref, an edge per dependsOn entry.
type Drawn = { nodes: Map<string, string>; edges: [string, string][] };
const unDot = (s: string) => s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
function parseDot(text: string): Drawn {
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('digraph kiln {');
  expect(lines[lines.length - 1]).toBe('}');
  const nodes = new Map<string, string>();
  const edges: [string, string][] = [];
  for (const l of lines.slice(1, -1)) {
    const n = /^ {2}(\w+) \[label="((?:[^"\\]|\\.)*)"(?:, shape=ellipse)?\];$/.exec(l);
    const e = /^ {2}(\w+) -> (\w+);$/.exec(l);
    if (n) nodes.set(n[1]!, unDot(n[2]!));
    else if (e) edges.push([e[1]!, e[2]!]);
    else expect(l).toMatch(/^ {2}(rankdir=LR|node \[.*\]);$/);
  }
  return { nodes, edges };
}
const unMermaid = (s: string) => s.replace(/#(quot|lt|gt|35);/g, (_, c: string) => ({ quot: '"', lt: '<', gt: '>', '35': '#' })[c]!);
function parseMermaid(text: string): Drawn {
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('flowchart LR');
  const nodes = new Map<string, string>();
  const edges: [string, string][] = [];
  for (const l of lines.slice(1)) {
    // a label may hold no raw quote: Mermaid would end it there
    const n = /^ {2}(\w+)(?:\["([^"]*)"\]|\(\["([^"]*)"\]\))$/.exec(l);
    const e = /^ {2}(\w+) --> (\w+)$/.exec(l);
    if (n) nodes.set(n[1]!, unMermaid(n[2] ?? n[3]!));
    else if (e) edges.push([e[1]!, e[2]!]);
    else throw new Error(`unexpected mermaid line: ${l}`);
  }
  return { nodes, edges };
}
/** the drawing in the JSON's terms: labels of nodes, and `dependency -> stage` label pairs */
function asStageGraph(d: Drawn) {
  for (const [a, b] of d.edges) {
    expect(d.nodes.has(a)).toBe(true);
    expect(d.nodes.has(b)).toBe(true);
  }
  return { nodes: [...d.nodes.values()].sort(), edges: d.edges.map(([a, b]) => `${d.nodes.get(a)} -> ${d.nodes.get(b)}`).sort() };
}
function fromJson(stages: Stage[]) {
  const names = new Set(stages.map((s) => s.name));
  const external = new Set(stages.flatMap((s) => s.dependsOn).filter((d) => !names.has(d)));
  return { nodes: [...names, ...external].sort(), edges: stages.flatMap((s) => s.dependsOn.map((d) => `${d} -> ${s.name}`)).sort() };
}
const hasDot = spawnSync('dot', ['-V']).status === 0;

describeWith(['engine'], 'kiln graph: ARG-reached stages, image refs, dot and mermaid', () => {
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-graph-root-'));
    ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-graph-ctx-'));
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(ctx, { recursive: true, force: true });
  });
  const refs = path.join(fixtures, 'refs.Dockerfile');
  const refsStages = (cross: string, crossDeps: string[]) => [
    st('build-arm', 0, 'busybox:local'),
    st('build-x86', 1, 'busybox:local'),
    st('external', 2, 'example.com/some/image:1'),
    st('cross', 3, cross, crossDeps),
    st('4', 4, 'scratch', ['cross', 'external']),
  ];

  it('dependsOn names image refs (FROM, COPY --from, RUN --mount from) and the stages ARG-expanded names reach', () => {
    const r = graph(refs);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // FROM build-${CROSS} (global ARG) → build-arm; COPY --from=build-${X} (the stage's ARG) → build-x86.
    // (BuildKit refuses variables in --from; Kiln expands them as it builds, and the graph says what the build reads.)
    expect(norm(r.json!.stages)).toEqual(refsStages('build-arm', ['build-x86', 'alpine:3', 'we"ird', 'debian:bookworm-local']));
    // --build-arg switches the FROM; the --from still reads build-x86, now also the base
    const x86 = graph(refs, ['--build-arg', 'CROSS=x86']);
    expect(norm(x86.json!.stages)).toEqual(refsStages('build-x86', ['alpine:3', 'we"ird', 'debian:bookworm-local']));
    // with --target the other stages are not built: read statically, they say the same
    const t = graph(refs, ['--target', 'build-arm']);
    expect(norm(t.json!.stages)).toEqual(norm(r.json!.stages));
    expect(t.json!.vertices.some((v) => v.name.includes('alpine:3'))).toBe(false);
  });

  it.each(['big-a', 'big-b', 'refs'])('%s: dot and mermaid have the JSON stages as nodes and its dependsOn as edges', (name) => {
    const file = path.join(fixtures, `${name}.Dockerfile`);
    const json = graph(file).json!;
    const want = fromJson(json.stages);
    const dot = kilnGraph(file, 'dot');
    const mermaid = kilnGraph(file, 'mermaid');
    expect([dot.status, mermaid.status]).toEqual([0, 0]);
    const fromDot = asStageGraph(parseDot(dot.stdout));
    const fromMermaid = asStageGraph(parseMermaid(mermaid.stdout));
    expect(fromDot).toEqual(want);
    expect(fromMermaid).toEqual(want);
    expect(fromDot.nodes.length).toBe(json.stages.length + want.nodes.length - json.stages.length);
    expect(fromDot.edges.length).toBe(json.stages.reduce((a, s) => a + s.dependsOn.length, 0));
    if (name === 'refs') {
      // a quote in a name is escaped, not dropped: \" in dot, #quot; in mermaid
      expect(dot.stdout).toContain('[label="we\\"ird", shape=ellipse]');
      expect(mermaid.stdout).toContain('(["we#quot;ird"])');
      expect(fromMermaid.nodes).toContain('we"ird');
    }
    if (hasDot) {
      // Graphviz itself reads the file back: same labels, same edges
      const j = spawnSync('dot', ['-Tjson'], { input: dot.stdout, encoding: 'utf8' });
      expect(j.status).toBe(0);
      const g = JSON.parse(j.stdout) as { objects: { name: string; label: string }[]; edges?: { tail: number; head: number }[] };
      const label = (i: number) => g.objects[i]!.label;
      expect(g.objects.map((o) => o.label).sort()).toEqual(want.nodes);
      expect((g.edges ?? []).map((e) => `${label(e.tail)} -> ${label(e.head)}`).sort()).toEqual(want.edges);
    }
  });
});
