// `kiln build` flags as docker buildx reads them, end to end against the real engine:
// --no-cache-filter, --build-context relative to the shell's cwd, --ssh default from
// SSH_AUTH_SOCK, and the refusals for flags that do not apply to a graph document.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describeWith, DOCKER_HOST, REGISTRY } from '../helpers/env.js';

const repo = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repo, 'bin/kiln.js');
let root: string;
let work: string;
let agent: net.Server | undefined;

function kiln(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, KILN_ROOT: root, DOCKER_HOST, ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', cwd: opts.cwd ?? work, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
type Ev = Record<string, unknown>;
const events = (stdout: string): Ev[] => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);
/** the last vertex event per step name: was it served from the cache? */
function cachedByName(evs: Ev[]): Map<string, boolean> {
  const m = new Map<string, boolean>();
  for (const e of evs) if (e['type'] === 'vertex' && typeof e['name'] === 'string' && (e['completed'] || e['cached'])) m.set(e['name'], e['cached'] === true);
  return m;
}
const write = (rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
  fs.writeFileSync(path.join(work, rel), text);
};

describeWith(['engine'], 'kiln build flags', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repo, 'dist/engine/cli/main.js'))) spawnSync('npm', ['run', 'build:engine'], { cwd: repo, stdio: 'inherit' });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-flags-root-'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-flags-work-'));
    const salt = Math.random().toString(36).slice(2);
    write(
      'app/Dockerfile',
      [
        'FROM busybox:local AS gen',
        `RUN cat /proc/sys/kernel/random/uuid > /gen.id # ${salt}`,
        'FROM busybox:local AS other',
        `RUN cat /proc/sys/kernel/random/uuid > /other.id # ${salt}`,
        'FROM gen',
        'COPY --from=other /other.id /other.id',
        `RUN cat /proc/sys/kernel/random/uuid > /final.id # ${salt}`,
        '',
      ].join('\n'),
    );
    write('app/Ctx.Dockerfile', 'FROM busybox:local\nCOPY --from=extra note.txt /note.txt\n');
    write('extra/note.txt', `from the extra context ${salt}\n`);
    write('app/Ssh.Dockerfile', `FROM busybox:local\nRUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo "agent at $SSH_AUTH_SOCK ${salt}"\n`);
    write('app/graph.kiln.json', '{ "version": 1, "nodes": [ }');
  });
  afterAll(() => {
    agent?.close();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f), 'utf8');

  it('--no-cache-filter re-runs the named stage and what is built on it; other stages stay cached', () => {
    const out1 = path.join(work, 'out1');
    const out2 = path.join(work, 'out2');
    const first = kiln(['build', '--progress', 'rawjson', '-o', `type=local,dest=${out1}`, 'app']);
    expect(first.code, first.stderr).toBe(0);
    const again = kiln(['build', '--progress', 'rawjson', '--no-cache-filter', 'gen', '-o', `type=local,dest=${out2}`, 'app']);
    expect(again.code, again.stderr).toBe(0);
    const cached = cachedByName(events(again.stdout));
    const step = (frag: string) => [...cached.entries()].find(([n]) => n.includes(frag));
    expect(step('/gen.id')?.[1]).toBe(false);
    expect(step('/final.id')?.[1]).toBe(false); // built on gen: it cannot be a hit
    expect(step('/other.id')?.[1]).toBe(true);
    // the files say the same: gen and final were made again, other was reused
    expect(read(out2, 'gen.id')).not.toBe(read(out1, 'gen.id'));
    expect(read(out2, 'final.id')).not.toBe(read(out1, 'final.id'));
    expect(read(out2, 'other.id')).toBe(read(out1, 'other.id'));
    // the comma form names several stages; an unknown flag spelled like it is still a usage error
    const both = kiln(['build', '--progress', 'rawjson', '--no-cache-filter=gen,other', 'app']);
    expect(both.code, both.stderr).toBe(0);
    expect([...cachedByName(events(both.stdout)).entries()].find(([n]) => n.includes('/other.id'))?.[1]).toBe(false);
    expect(kiln(['build', '--no-cache-filterx', 'gen', 'app']).code).toBe(2);
  });

  it('--build-context name=dir is read relative to the shell’s directory, not the build context', () => {
    const out = path.join(work, 'out-ctx');
    const r = kiln(['build', '--progress', 'plain', '-f', 'app/Ctx.Dockerfile', '--build-context', 'extra=./extra', '-o', `type=local,dest=${out}`, 'app']);
    expect(r.code, r.stderr).toBe(0);
    expect(read(out, 'note.txt')).toContain('from the extra context');
    const missing = kiln(['build', '-f', 'app/Ctx.Dockerfile', '--build-context', 'extra=./nope', 'app']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--build-context extra=./nope: ${path.join(work, 'nope')} is not a directory`);
  });

  it('--ssh default forwards $SSH_AUTH_SOCK; without an agent it says how to start one', async () => {
    const sock = path.join(work, 'agent.sock');
    agent = net.createServer((c) => c.end());
    await new Promise<void>((ok) => agent!.listen(sock, ok));
    const r = kiln(['build', '--progress', 'plain', '--no-cache', '-f', 'app/Ssh.Dockerfile', '--ssh', 'default', 'app'], { env: { SSH_AUTH_SOCK: sock } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/agent at \/run\/buildkit\/ssh_agent\.0/);
    const none = kiln(['build', '-f', 'app/Ssh.Dockerfile', '--ssh', 'default', 'app'], { env: { SSH_AUTH_SOCK: undefined } });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('SSH_AUTH_SOCK is not set; start an agent');
    const gone = kiln(['build', '-f', 'app/Ssh.Dockerfile', '--ssh', 'default=./no.sock', 'app']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`${path.join(work, 'no.sock')}: no such socket`);
  });

  it('a graph document refuses Dockerfile-only flags and names itself when it is not JSON', () => {
    const args = kiln(['build', '-f', 'app/graph.kiln.json', '--build-arg', 'A=1', 'app']);
    expect(args.code).toBe(2);
    expect(args.stderr).toContain('--build-arg applies to Dockerfiles only, not to the graph document graph.kiln.json');
    const ctx = kiln(['build', '-f', 'app/graph.kiln.json', '--build-context', 'x=./extra', 'app']);
    expect(ctx.code).toBe(2);
    expect(ctx.stderr).toContain('--build-context applies to Dockerfiles only');
    const bad = kiln(['build', '-f', 'app/graph.kiln.json', 'app']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/graph\.kiln\.json: not valid JSON/);
  });

  it('--push and --load are buildx\'s shorthands: pushed under the -t names, loaded into the engine; a push with no name is a usage error', () => {
    const salt = Math.random().toString(36).slice(2, 8);
    write('short/Dockerfile', `FROM busybox:local\nRUN echo short-${salt} > /s\n`);
    const pushed = `${REGISTRY}/kiln-flags-push:${salt}`;
    const push = kiln(['build', '--progress', 'plain', '--push', '-t', pushed, 'short']);
    expect(push.code, push.stderr).toBe(0);
    const manifest = JSON.parse(spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${pushed}`], { encoding: 'utf8' }).stdout) as { Layers: string[] };
    expect(manifest.Layers.length).toBeGreaterThan(1);
    // -o type=registry takes its name from -t as well
    const viaOutput = kiln(['build', '--progress', 'plain', '-o', 'type=registry', '-t', `${pushed}-o`, 'short']);
    expect(viaOutput.code, viaOutput.stderr).toBe(0);
    expect(spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${pushed}-o`]).status).toBe(0);
    const loaded = `kiln-flags-load:${salt}`;
    const load = kiln(['build', '--progress', 'plain', '--load', '-t', loaded, 'short']);
    expect(load.code, load.stderr).toBe(0);
    const run = spawnSync('/usr/bin/docker', ['run', '--rm', '--network', 'none', loaded, 'cat', '/s'], { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' });
    expect(run.stdout).toBe(`short-${salt}\n`);
    spawnSync('/usr/bin/docker', ['rmi', '-f', loaded], { env: { ...process.env, DOCKER_HOST } });
    const nameless = kiln(['build', '--push', 'short']);
    expect(nameless.code).toBe(2);
    expect(nameless.stderr).toMatch(/--push needs a name to push to: give -t\/--tag NAME/);
    const bare = kiln(['build', '-o', 'type=registry', 'short']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/type=registry needs name= \(or -t\/--tag NAME\)/);
    // bake: a target with no tags cannot be pushed, and the error names it
    write('short/docker-bake.hcl', 'target "untagged" {\n  dockerfile = "Dockerfile"\n}\n');
    const bake = kiln(['bake', '--push', 'untagged'], { cwd: path.join(work, 'short') });
    expect(bake.code).toBe(2);
    expect(bake.stderr).toMatch(/bake target untagged: .*needs name= \(or give the target tags/);
  }, 240_000);
});
