// `kiln graph --format json` end to end: the documented stage table and vertex locations for the
// conformance testfiles and two big multi-stage Dockerfiles, against hand-written expectations.
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

function graph(file: string, extra: string[] = []) {
  const r = spawnSync(process.execPath, [bin, 'graph', '-f', file, '--format', 'json', ...extra, ctx], {
    env: { ...process.env, KILN_ROOT: root, DOCKER_HOST },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stderr: r.stderr, json: r.status === 0 ? (JSON.parse(r.stdout) as { stages: Stage[]; vertices: Vertex[] }) : undefined };
}
// dependsOn is a set of stage names; order is not part of the contract.
const norm = (stages: Stage[]) => stages.map((s) => ({ ...s, dependsOn: [...s.dependsOn].sort() }));
const st = (name: string, index: number, base: string, dependsOn: string[] = []): Stage => ({ name, index, base, dependsOn: [...dependsOn].sort() });

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
