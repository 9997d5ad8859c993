#!/usr/bin/env node
// `npm run bench`: Kiln against Docker's BuildKit on test/bench/*, measured in the same run,
// alternating the two builders, ROUNDS rounds (default 3); prints the median ratio per row.
// Speed goals live here, never in timed unit tests.
import { execFileSync, spawnSync } from 'node:child_process';
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
    else spawnSync(kiln[0], [...kiln.slice(1), 'prune', '--all'], { env: { ...env, KILN_ROOT: kilnRoot } });
    spawnSync('/usr/bin/docker', ['rmi', '-f', `bench-${name}:${builder}`], { env });
  }
  if (mode === 'touch') writeFileSync(join(ctx, name === 'context' ? 'files/7/7.txt' : 'touched.txt'), String(process.hrtime.bigint()));
  if (builder === 'buildkit') {
    return run('/usr/bin/docker', ['build', '--network=host', '--progress=plain', '-t', `bench-${name}:buildkit`, ctx], { DOCKER_BUILDKIT: '1' });
  }
  return run(kiln[0], [...kiln.slice(1), 'build', ctx, '--network', 'host', '--progress', 'plain', '--output', `type=docker,name=bench-${name}:kiln`], { KILN_ROOT: kilnRoot });
}

let worst = 0;
for (const name of names) {
  for (const mode of ['cold', 'warm', ...(name === 'context' ? ['touch'] : [])]) {
    const rows = [];
    for (let i = 0; i < rounds; i++) {
      if (mode !== 'cold') { time('buildkit', name, 'cold'); time('kiln', name, 'cold'); }
      const b = time('buildkit', name, mode);
      const k = time('kiln', name, mode);
      rows.push({ r: k / b, b, k });
    }
    const m = rows.sort((x, y) => x.r - y.r)[Math.floor((rows.length - 1) / 2)];
    worst = Math.max(worst, m.r);
    console.log(`${name.padEnd(10)} ${mode.padEnd(5)} buildkit ${m.b.toFixed(2).padStart(6)}s  kiln ${m.k.toFixed(2).padStart(6)}s  ratio ${m.r.toFixed(2)}`);
  }
}
console.log(`worst ratio kiln/buildkit: ${worst.toFixed(2)} (median of ${rounds} rounds)`);
