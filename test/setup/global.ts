// Vitest globalSetup: makes sure the real parts the integration and e2e suites need are up —
// a Docker Engine (with its embedded BuildKit), the open and the authenticated registry, the
// base images and Chromium — provisioning them through scripts/* when this machine allows it
// (root on Debian/Ubuntu). The outcome reaches the test workers through the environment, which
// test/helpers/env.ts reads: a part listed in KILN_TEST_MISSING makes its suites skip loudly,
// or fail under CI=true.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = (name: string): string => path.join(repo, 'scripts', name);

export type Part = 'engine' | 'registry' | 'browser' | 'buildkit' | 'debian';

/** True when every file filter on the vitest command line is under test/unit (nothing to provision). */
export function isUnitOnly(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (env.KILN_TEST_UNIT_ONLY === '1') return true;
  const runIdx = argv.findIndex((a) => a === 'run' || a === 'watch' || a === 'related');
  const rest = argv.slice(runIdx >= 0 ? runIdx + 1 : 2);
  const filters: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a.startsWith('-')) {
      // Options that take a separate value; skip the value so it is not mistaken for a filter.
      if (/^--(reporter|outputFile|config|project|root|dir|testNamePattern|t)$/.test(a) || a === '-t' || a === '-c') i++;
      continue;
    }
    filters.push(a);
  }
  return filters.length > 0 && filters.every((f) => /(^|\/)test\/unit(\/|$)/.test(f.replace(/\\/g, '/')) || f.startsWith('unit/'));
}

/** Can this process install Debian packages (the scripts' apt-get path)? KILN_TEST_NO_PROVISION=1 says no. */
export function canProvision(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.KILN_TEST_NO_PROVISION === '1') return false;
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    const osr = readFileSync('/etc/os-release', 'utf8');
    return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(osr);
  } catch {
    return false;
  }
}

/** Runs a setup script, streaming its progress (stderr) live so a slow apt or debootstrap shows. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => process.stderr.write(c.replace(/^(?=.)/gm, `  [${path.basename(cmd)}] `)));
    child.on('error', () => resolve({ ok: false, out }));
    child.on('close', (code) => resolve({ ok: code === 0, out: out.trim() }));
  });
}

/** GET path on the engine at dockerHost (unix:// or tcp:// without TLS); resolves the status + body. */
function engineGet(dockerHost: string, urlPath: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    let opts: http.RequestOptions;
    if (dockerHost.startsWith('unix://')) opts = { socketPath: dockerHost.slice('unix://'.length), path: urlPath };
    else if (dockerHost.startsWith('tcp://')) {
      const u = new URL(dockerHost.replace(/^tcp:/, 'http:'));
      opts = { host: u.hostname, port: Number(u.port || 2375), path: urlPath };
    } else return resolve(undefined);
    const req = http.get({ ...opts, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

function registryStatus(hostPort: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(`http://${hostPort}/v2/`, { timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Does the open registry hold the pushed base image (scripts/base-images pushes it there)? */
function registryHasBusybox(hostPort: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request(
      `http://${hostPort}/v2/busybox/manifests/local`,
      {
        method: 'HEAD',
        timeout: 5000,
        headers: {
          accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function engineUp(dockerHost: string): Promise<boolean> {
  const r = await engineGet(dockerHost, '/_ping');
  return r?.status === 200;
}

async function imagePresent(dockerHost: string, ref: string): Promise<boolean> {
  const r = await engineGet(dockerHost, `/images/${encodeURIComponent(ref)}/json`);
  return r?.status === 200;
}

/** BuildKit ships inside every engine from 18.09 on; the oracle tests drive it through /usr/bin/docker. */
async function buildkitUsable(dockerHost: string): Promise<boolean> {
  const r = await engineGet(dockerHost, '/version');
  if (r?.status !== 200 || !existsSync('/usr/bin/docker')) return false;
  try {
    const v = String((JSON.parse(r.body) as { Version?: string }).Version ?? '0');
    const [maj = 0, min = 0] = v.split('.').map((n) => Number.parseInt(n, 10));
    return maj > 18 || (maj === 18 && min >= 9);
  } catch {
    return false;
  }
}

export default async function setup(): Promise<void> {
  // Forked test workers inherit this process's environment, which is how the results reach them.
  await provision(process.env, process.argv);
}

/** Brings up what is missing (when allowed) and records the outcome in `env`. */
export async function provision(env: NodeJS.ProcessEnv, argv: readonly string[]): Promise<void> {
  if (isUnitOnly(argv, env)) {
    env.KILN_TEST_MISSING ??= '';
    return;
  }
  const t0 = Date.now();
  const dockerHost = env.KILN_TEST_DOCKER_HOST ?? env.DOCKER_HOST ?? 'unix:///run/docker-kiln.sock';
  const registry = env.KILN_TEST_REGISTRY ?? '127.0.0.1:5000';
  const authRegistry = env.KILN_TEST_AUTH_REGISTRY ?? '127.0.0.1:5001';
  const chromium = env.KILN_TEST_CHROMIUM ?? '/usr/bin/chromium';
  const allowed = canProvision(env);
  const scriptEnv = { ...env, DOCKER_HOST: dockerHost };
  const log: string[] = [];

  let engine = await engineUp(dockerHost);
  if (!engine && allowed && dockerHost === 'unix:///run/docker-kiln.sock') {
    console.log('[kiln test setup] no Docker Engine reachable: running scripts/engine-up');
    await run(script('tools-up'), [], scriptEnv, 15 * 60_000);
    await run(script('engine-up'), [], scriptEnv, 15 * 60_000);
    engine = await engineUp(dockerHost);
  }

  const regs: Array<[string, boolean]> = [
    [registry, false],
    [authRegistry, true],
  ];
  let registriesUp = true;
  for (const [hostPort, auth] of regs) {
    let status = await registryStatus(hostPort);
    const port = hostPort.split(':')[1] ?? '5000';
    if (status !== 200 && status !== 401 && allowed && hostPort.startsWith('127.0.0.1:')) {
      console.log(`[kiln test setup] registry ${hostPort} not answering: running scripts/registry-up`);
      await run(script('registry-up'), [], { ...scriptEnv, REGISTRY_UP_PORT: port, REGISTRY_UP_AUTH: auth ? '1' : '0' }, 10 * 60_000);
      status = await registryStatus(hostPort);
    }
    const ok = auth ? status === 401 : status === 200;
    log.push(`registry ${hostPort}${auth ? ' (auth)' : ''}: ${ok ? 'up' : `MISSING (GET /v2/ → ${status || 'no answer'})`}`);
    registriesUp &&= ok;
  }

  let busybox = false;
  let debian = false;
  if (engine) {
    busybox = await imagePresent(dockerHost, 'busybox:local');
    debian = await imagePresent(dockerHost, 'debian:bookworm-local');
    // A registry that came up empty (fresh data dir) needs the base images pushed again.
    const pushed = registriesUp ? await registryHasBusybox(registry) : true;
    if ((!busybox || !debian || !pushed) && (allowed || existsSync('/usr/bin/busybox'))) {
      console.log('[kiln test setup] base images missing: running scripts/base-images');
      await run(script('base-images'), [], { ...scriptEnv, BASE_IMAGES_DEBIAN: allowed ? '1' : '0', BASE_IMAGES_REGISTRY: registry }, 20 * 60_000);
      busybox = await imagePresent(dockerHost, 'busybox:local');
      debian = await imagePresent(dockerHost, 'debian:bookworm-local');
    }
  }

  let browser = existsSync(chromium);
  if (!browser && allowed && chromium === '/usr/bin/chromium') {
    console.log('[kiln test setup] chromium missing: running scripts/browser-up');
    await run(script('browser-up'), [], scriptEnv, 15 * 60_000);
    browser = existsSync(chromium);
  }
  const buildkit = engine && (await buildkitUsable(dockerHost));

  const missing: Part[] = [];
  // Without busybox:local almost no engine suite can run, so it counts against the engine.
  if (!engine || !busybox) missing.push('engine');
  if (!registriesUp) missing.push('registry');
  if (!browser) missing.push('browser');
  if (!buildkit) missing.push('buildkit');
  if (!debian) missing.push('debian');

  env.DOCKER_HOST = dockerHost;
  env.KILN_TEST_DOCKER_HOST = dockerHost;
  env.KILN_TEST_REGISTRY = registry;
  env.KILN_TEST_AUTH_REGISTRY = authRegistry;
  env.KILN_TEST_CHROMIUM = chromium;
  env.KILN_TEST_MISSING = missing.join(',');

  const lines = [
    `engine ${dockerHost}: ${engine ? 'up' : 'MISSING'}`,
    `base images: busybox:local ${busybox ? 'ok' : 'MISSING'}, debian:bookworm-local ${debian ? 'ok' : 'MISSING'}`,
    ...log,
    `buildkit (oracle via /usr/bin/docker): ${buildkit ? 'up' : 'MISSING'}`,
    `chromium ${chromium}: ${browser ? 'ok' : 'MISSING'}`,
    `provisioning ${allowed ? 'allowed (root on Debian/Ubuntu)' : 'not allowed here'}; ${((Date.now() - t0) / 1000).toFixed(1)}s`,
  ];
  const bar = '='.repeat(72);
  console.log(`\n${bar}\n[kiln test setup]\n  ${lines.join('\n  ')}`);
  if (missing.length) {
    console.log(`  !!! NOT AVAILABLE: ${missing.join(', ')} — suites needing them will be ${env.CI === 'true' ? 'FAILED (CI=true)' : 'SKIPPED'}`);
  }
  console.log(bar);
  if (env.CI === 'true' && missing.length) {
    throw new Error(`CI=true: could not provision ${missing.join(', ')}`);
  }
}
