#!/usr/bin/env node
// `npm run bench`: Kiln against Docker's BuildKit on test/bench/*, measured in the same run,
// alternating the two builders, ROUNDS rounds (default 3); prints the median ratio per row.
// Speed goals live here, never in timed unit tests.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, copyFileSync, mkdtempSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const top = join(here, '..');
const benchDir = join(top, 'test/bench');
const rounds = Number(process.env.ROUNDS ?? 3);
const names = (process.env.BENCHES ?? 'parallel chain50 multistage context').split(/\s+/).filter(Boolean);
const env = { ...process.env, DOCKER_HOST: process.env.DOCKER_HOST ?? 'unix:///run/docker-kiln.sock' };
const kilnRoot = process.env.KILN_ROOT ?? mkdtempSync(join(tmpdir(), 'kiln-bench-'));
const kiln = ['node', join(top, 'bin/kiln.js')];
// SERVE=1 adds a row per build for `kiln build` as the client of a running `kiln serve` on its
// root — as BuildKit runs: its daemon (here inside dockerd) is up before `docker build` starts.
const withServe = process.env.SERVE === '1';
const outputLocal = process.env.OUTPUT === 'local';
const serveRoot = withServe ? mkdtempSync(join(tmpdir(), 'kiln-bench-serve-')) : undefined;
const rootOf = (builder) => (builder === 'kiln-serve' ? serveRoot : kilnRoot);
const serveEnv = () => ({ ...env, KILN_EMBEDDED: '0' });

function contextFor(name) {
  if (name !== 'context') return join(benchDir, name);
  const ctx = join(tmpdir(), 'kiln-bench-context');
  if (!existsSync(join(ctx, 'big.bin'))) {
    mkdirSync(ctx, { recursive: true });
    execFileSync('bash', [join(benchDir, 'context/make-context.sh'), ctx]);
  }
  copyFileSync(join(benchDir, 'context/Dockerfile'), join(ctx, 'Dockerfile'));
  return ctx;
}

function run(cmd, args, extraEnv = {}) {
  const s = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...env, ...extraEnv }, encoding: 'utf8', maxBuffer: 64 << 20 });
  const secs = Number(process.hrtime.bigint() - s) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${(r.stderr || r.stdout).slice(-2000)}`);
  return secs;
}

function time(builder, name, mode) {
  const ctx = contextFor(name);
  if (mode === 'cold') {
    if (builder === 'buildkit') spawnSync('/usr/bin/docker', ['builder', 'prune', '-af'], { env });
    else spawnSync(kiln[0], [...kiln.slice(1), 'prune', '--all'], { env: { ...serveEnv(), KILN_ROOT: rootOf(builder) } });
    spawnSync('/usr/bin/docker', ['rmi', '-f', `bench-${name}:${builder}`], { env });
  }
  if (mode === 'touch') writeFileSync(join(ctx, name === 'context' ? 'files/7/7.txt' : 'touched.txt'), String(process.hrtime.bigint()));
  // OUTPUT=local: both export the result's files to a fresh directory instead of loading an image
  // into the engine — the engine core's speed without dockerd's per-layer cost of `docker load`
  const local = outputLocal ? mkdtempSync(join(tmpdir(), `kiln-bench-out-${builder}-`)) : undefined;
  if (builder === 'buildkit') {
    return run('/usr/bin/docker', ['build', '--network=host', '--progress=plain', ...(local ? ['-o', `type=local,dest=${local}`] : ['-t', `bench-${name}:buildkit`]), ctx], { DOCKER_BUILDKIT: '1' });
  }
  // the embedded rows never talk to a serve (KILN_EMBEDDED=1), the serve rows always do
  const mode2 = builder === 'kiln-serve' ? { KILN_EMBEDDED: '0' } : { KILN_EMBEDDED: '1' };
  return run(kiln[0], [...kiln.slice(1), 'build', ctx, '--network', 'host', '--progress', 'plain', '--output', local ? `type=local,dest=${local}` : `type=docker,name=bench-${name}:${builder}`], { KILN_ROOT: rootOf(builder), ...mode2 });
}

let server;
if (withServe) {
  server = spawn(kiln[0], [...kiln.slice(1), 'serve'], { env: { ...env, KILN_ROOT: serveRoot }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => ((out += d), /listening on/.test(out) && resolve()));
    server.once('exit', () => reject(new Error('kiln serve exited')));
  });
}

let worst = 0;
for (const name of names) {
  for (const mode of ['cold', 'warm', ...(name === 'context' ? ['touch'] : [])]) {
    const rows = [];
    for (let i = 0; i < rounds; i++) {
      if (mode !== 'cold') { time('buildkit', name, 'cold'); time('kiln', name, 'cold'); if (withServe) time('kiln-serve', name, 'cold'); }
      const b = time('buildkit', name, mode);
      const k = time('kiln', name, mode);
      const s = withServe ? time('kiln-serve', name, mode) : undefined;
      rows.push({ r: k / b, b, k, s });
    }
    const median = (key) => rows.map((x) => ({ ...x, q: x[key] / x.b })).sort((x, y) => x.q - y.q)[Math.floor((rows.length - 1) / 2)];
    const m = median('k');
    worst = Math.max(worst, m.r);
    console.log(`${name.padEnd(10)} ${mode.padEnd(5)} buildkit ${m.b.toFixed(2).padStart(6)}s  kiln ${m.k.toFixed(2).padStart(6)}s  ratio ${m.r.toFixed(2)}`);
    if (withServe) {
      const v = median('s');
      console.log(`${name.padEnd(10)} ${mode.padEnd(5)} buildkit ${v.b.toFixed(2).padStart(6)}s  kiln ${v.s.toFixed(2).padStart(6)}s  ratio ${v.q.toFixed(2)}  (kiln build as a client of kiln serve)`);
    }
  }
}
console.log(`worst ratio kiln/buildkit: ${worst.toFixed(2)} (median of ${rounds} rounds; embedded kiln build; output ${outputLocal ? 'type=local to a directory' : 'into the engine'})`);
server?.kill('SIGTERM');
