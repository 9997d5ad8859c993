// `kiln debug dump-llb` and `kiln du --verbose` end to end: the Definition printed is the one a
// build solves (the engine checks every digest against its content, and the build reports the
// same vertex digests), and the verbose du lists each cache record the JSON form holds.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateDefinition } from '../../engine/llb/schema.js';
import type { Definition } from '../../engine/llb/definition.js';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';
import { rawEvents } from '../helpers/cli.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
let root: string;
let ctx: string;
let salt: string;

function kiln(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, KILN_ROOT: root, DOCKER_HOST }, encoding: 'utf8', cwd: ctx, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const execArgs = (d: Definition) => d.vertices.flatMap((v) => (v.op.kind === 'exec' ? [v.op.args.join(' ')] : []));

describeWith(['engine'], 'kiln debug dump-llb and du --verbose', () => {
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-dump-root-'));
    ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-dump-ctx-'));
    salt = Math.random().toString(36).slice(2);
    fs.writeFileSync(path.join(ctx, 'a.txt'), `a ${salt}\n`);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox:local AS base\nARG MSG=none\nRUN echo "$MSG ${salt}" > /msg\nFROM base\nCOPY a.txt /a\nRUN cat /a /msg\n`);
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(ctx, { recursive: true, force: true });
  });

  it('prints a Definition whose digests hold, follows --build-arg and --target, and is what the build solves', () => {
    const r = kiln(['debug', 'dump-llb', '--build-arg', 'MSG=hi', '.']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const def = validateDefinition(JSON.parse(r.stdout)); // throws if a digest does not match its content
    expect(execArgs(def)).toEqual([`/bin/sh -c echo "$MSG ${salt}" > /msg`, '/bin/sh -c cat /a /msg']);
    const msgRun = def.vertices.find((v) => v.op.kind === 'exec' && v.op.args.join(' ').endsWith('> /msg'))!;
    expect(msgRun.op.kind === 'exec' && msgRun.op.env).toContain('MSG=hi');
    expect(msgRun.metadata?.location?.[0]).toMatchObject({ file: 'Dockerfile', startLine: 3 });
    // the same inputs give the same bytes; another build arg changes the RUN (and what follows)
    expect(kiln(['debug', 'dump-llb', '--build-arg', 'MSG=hi', '.']).stdout).toBe(r.stdout);
    const other = validateDefinition(JSON.parse(kiln(['debug', 'dump-llb', '--build-arg', 'MSG=ho', '.']).stdout));
    const digests = new Set(def.vertices.map((v) => v.digest));
    expect(other.vertices.filter((v) => !digests.has(v.digest)).map((v) => v.op.kind).sort()).toEqual(['exec', 'exec', 'file']);
    // --target stops at the stage: its output is the first RUN
    const base = validateDefinition(JSON.parse(kiln(['debug', 'dump-llb', '--build-arg', 'MSG=hi', '--target', 'base', '.']).stdout));
    expect(base.output?.digest).toBe(msgRun.digest);
    expect(execArgs(base)).toHaveLength(1);
    // the build reports the vertices it solves by the same digests
    const b = kiln(['build', '--progress', 'rawjson', '--build-arg', 'MSG=hi', '-o', `type=local,dest=${path.join(ctx, 'out')}`, '.']);
    expect(b.code).toBe(0);
    const solved = new Set(rawEvents(b.stdout).flatMap((e) => (e['type'] === 'vertex' && /\] (RUN|COPY)/.test(String(e['name'])) ? [String(e['digest'])] : [])));
    expect(solved.size).toBe(3);
    for (const d of solved) expect(digests.has(d), `${d} is in the dump`).toBe(true);
  }, 240_000);

  it('a bad Dockerfile is a usage-level error naming its line, and prints no Definition', () => {
    fs.writeFileSync(path.join(ctx, 'Bad.Dockerfile'), 'FROM busybox:local\nRUN\n');
    const r = kiln(['debug', 'dump-llb', '-f', 'Bad.Dockerfile', '.']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Bad\.Dockerfile:2/);
  });

  it('du --verbose lists every cache record du --format json holds, with its type, size and usage', () => {
    const json = JSON.parse(kiln(['du', '--format', 'json']).stdout) as { total: number; records: { id: string; type: string; usageCount: number }[] };
    expect(json.records.length).toBeGreaterThanOrEqual(3);
    const r = kiln(['du', '--verbose']);
    expect(r.code).toBe(0);
    const blocks = r.stdout.split('\n\n').filter((b) => b.startsWith('ID:'));
    expect(blocks).toHaveLength(json.records.length);
    for (const rec of json.records) {
      const block = blocks.find((b) => b.startsWith(`ID:\t\t${rec.id}\n`));
      expect(block, rec.id).toBeDefined();
      expect(block).toContain(`Type:\t\t${rec.type}\n`);
      expect(block).toMatch(/Size:\t\t\d/);
      expect(block).toContain(`Usage count:\t${rec.usageCount}\n`);
      expect(block).toMatch(/Last used:\t\d{4}-\d\d-\d\dT/);
    }
    // the steps are described as the build named them
    expect(r.stdout).toContain(`Description:\t`);
    expect(r.stdout).toMatch(/Total:\t\S+/);
  });
});
