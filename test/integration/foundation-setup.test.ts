// The provisioning layer: the setup scripts reuse what is already up (they never restart the
// engine or a registry), and the global setup recognises unit-only runs, which need nothing.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUTH_REGISTRY, DOCKER_HOST, REGISTRY, describeWith } from '../helpers/env.js';
import { isUnitOnly, provision } from '../setup/global.js';

const scripts = path.resolve(__dirname, '../../scripts');
const runScript = (name: string, env: Record<string, string> = {}): string =>
  execFileSync(path.join(scripts, name), { env: { ...process.env, DOCKER_HOST, ...env }, encoding: 'utf8', timeout: 120_000 }).trim();
const lastLine = (s: string): string => s.split('\n').at(-1) ?? '';

describe('global setup: unit-only runs provision nothing', () => {
  const argv = (...a: string[]) => ['node', '/x/node_modules/vitest/vitest.mjs', ...a];
  it('treats filters that are all under test/unit as unit-only', () => {
    expect(isUnitOnly(argv('run', 'test/unit'), {})).toBe(true);
    expect(isUnitOnly(argv('run', 'test/unit/a.test.ts', './test/unit/b'), {})).toBe(true);
    expect(isUnitOnly(argv('run', '--reporter', 'json', 'test/unit'), {})).toBe(true);
  });
  it('provisions for full runs and for any non-unit filter', () => {
    expect(isUnitOnly(argv('run'), {})).toBe(false);
    expect(isUnitOnly(argv('run', 'test/unit', 'test/integration/x.test.ts'), {})).toBe(false);
    expect(isUnitOnly(argv('run', '--reporter=json', '--outputFile.json=/tmp/x.json'), {})).toBe(false);
  });
  it('honours KILN_TEST_UNIT_ONLY=1', () => {
    expect(isUnitOnly(argv('run'), { KILN_TEST_UNIT_ONLY: '1' })).toBe(true);
  });
});

describeWith(['engine'], 'setup scripts: engine-up reuses the running engine', () => {
  it('prints the DOCKER_HOST of the engine that is already up', () => {
    const before = execFileSync('/usr/bin/docker', ['info', '--format', '{{.ID}}'], { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' }).trim();
    expect(lastLine(runScript('engine-up'))).toBe(DOCKER_HOST);
    const after = execFileSync('/usr/bin/docker', ['info', '--format', '{{.ID}} {{.ContainersRunning}}'], { env: { ...process.env, DOCKER_HOST }, encoding: 'utf8' }).trim();
    expect(after.split(' ')[0]).toBe(before);
  });
});

describeWith(['registry'], 'setup scripts: registry-up reuses the running registries', () => {
  it('prints host:port for the open and the auth registry without starting new ones', () => {
    const [, openPort] = REGISTRY.split(':');
    const [, authPort] = AUTH_REGISTRY.split(':');
    expect(lastLine(runScript('registry-up', { REGISTRY_UP_PORT: openPort! }))).toBe(REGISTRY);
    expect(lastLine(runScript('registry-up', { REGISTRY_UP_PORT: authPort!, REGISTRY_UP_AUTH: '1' }))).toBe(AUTH_REGISTRY);
  });
});

describe('global setup: reporting what could not be provisioned', () => {
  const argv = ['node', 'vitest.mjs', 'run'];
  // Addresses where nothing listens, and provisioning switched off, so nothing gets started.
  const absent = {
    KILN_TEST_NO_PROVISION: '1',
    KILN_TEST_DOCKER_HOST: 'unix:///tmp/kiln-no-such-engine.sock',
    KILN_TEST_REGISTRY: '127.0.0.1:1',
    KILN_TEST_AUTH_REGISTRY: '127.0.0.1:2',
    KILN_TEST_CHROMIUM: '/nonexistent/chromium',
  };

  it('outside CI lists every missing part in KILN_TEST_MISSING and exports the addresses', async () => {
    const env: NodeJS.ProcessEnv = { ...absent, CI: 'false' };
    await provision(env, argv);
    expect(env.KILN_TEST_MISSING!.split(',').sort()).toEqual(['browser', 'buildkit', 'debian', 'engine', 'registry']);
    expect(env.DOCKER_HOST).toBe(absent.KILN_TEST_DOCKER_HOST);
    expect(env.KILN_TEST_REGISTRY).toBe('127.0.0.1:1');
    expect(env.KILN_TEST_CHROMIUM).toBe('/nonexistent/chromium');
  });

  it('under CI=true a missing part fails the run', async () => {
    await expect(provision({ ...absent, CI: 'true' }, argv)).rejects.toThrow(/CI=true: could not provision .*engine/);
  });

  it('a unit-only run provisions and checks nothing', async () => {
    const env: NodeJS.ProcessEnv = { ...absent };
    await provision(env, ['node', 'vitest.mjs', 'run', 'test/unit']);
    expect(env.KILN_TEST_MISSING).toBe('');
    expect(env.DOCKER_HOST).toBeUndefined();
  });
});

describeWith(['engine', 'registry', 'buildkit', 'debian'], 'global setup: detecting the parts that are up', () => {
  it('reports only the part it was pointed away from', async () => {
    const env: NodeJS.ProcessEnv = {
      KILN_TEST_NO_PROVISION: '1',
      KILN_TEST_DOCKER_HOST: DOCKER_HOST,
      KILN_TEST_REGISTRY: REGISTRY,
      KILN_TEST_AUTH_REGISTRY: AUTH_REGISTRY,
      KILN_TEST_CHROMIUM: '/nonexistent/chromium',
    };
    await provision(env, ['node', 'vitest.mjs', 'run']);
    expect(env.KILN_TEST_MISSING).toBe('browser');
  });

  it('an open registry pointed at as the auth one counts as missing', async () => {
    const env: NodeJS.ProcessEnv = { KILN_TEST_NO_PROVISION: '1', KILN_TEST_DOCKER_HOST: DOCKER_HOST, KILN_TEST_REGISTRY: REGISTRY, KILN_TEST_AUTH_REGISTRY: REGISTRY };
    await provision(env, ['node', 'vitest.mjs', 'run']);
    expect(env.KILN_TEST_MISSING!.split(',')).toContain('registry');
  });
});
