#!/usr/bin/env node
// `npm test`: build, lint, typecheck, then every vitest suite (unit, integration, e2e — the
// global setup provisions what the latter need). Ends with one line CI reads, alone on a line:
//   Tests: <passed> passed, <failed> failed, <skipped> skipped
// Lint, typecheck and build failures count as failed tests, so the line never hides them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const extra = process.argv.slice(2); // passed through to vitest (file filters, -t …)

function step(name, cmd, args) {
  console.log(`\n>>> ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: repo, stdio: 'inherit', env: process.env });
  const ok = r.status === 0;
  console.log(`<<< ${name}: ${ok ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`}`);
  return ok;
}

const failures = [];
if (!step('build', npm, ['run', '--silent', 'build'])) failures.push('build');
if (!step('lint', npx, ['eslint', '.'])) failures.push('lint');
if (!step('typecheck', npm, ['run', '--silent', 'typecheck'])) failures.push('typecheck');

const dir = mkdtempSync(path.join(tmpdir(), 'kiln-test-'));
const json = path.join(dir, 'vitest.json');
const vitestOk = step('vitest', npx, ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${json}`, ...extra]);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(json)) {
  const report = JSON.parse(readFileSync(json, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that failed to load (or threw in its describe) has no failed test of its own.
  for (const f of report.testResults ?? []) {
    if (f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed')) {
      failed++;
      console.log(`!!! suite failed without a failing test: ${path.relative(repo, f.name)}: ${(f.message ?? '').split('\n')[0]}`);
    }
  }
} else if (!vitestOk) {
  failures.push('vitest (no report)');
}
if (!vitestOk && failed === 0 && existsSync(json)) failures.push('vitest (exit code)');
rmSync(dir, { recursive: true, force: true });

failed += failures.length;
if (failures.length) console.log(`\n!!! failed steps: ${failures.join(', ')}`);
console.log(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
