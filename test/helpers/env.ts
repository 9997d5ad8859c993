// What the integration and e2e suites run against. test/setup/global.ts provisions the parts
// (scripts/engine-up, registry-up, base-images, browser-up) and exports their addresses here
// through the environment. Under CI=true a missing part is a failure; elsewhere the suite is
// skipped loudly.
import { describe } from 'vitest';

export const DOCKER_HOST = process.env.KILN_TEST_DOCKER_HOST ?? process.env.DOCKER_HOST ?? 'unix:///run/docker-kiln.sock';
export const REGISTRY = process.env.KILN_TEST_REGISTRY ?? '127.0.0.1:5000';
/** basic auth kiln/kiln */
export const AUTH_REGISTRY = process.env.KILN_TEST_AUTH_REGISTRY ?? '127.0.0.1:5001';
export const CHROMIUM = process.env.KILN_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const BUSYBOX = 'busybox:local';
export const DEBIAN = 'debian:bookworm-local';

const missing = (process.env.KILN_TEST_MISSING ?? '').split(',').filter(Boolean);

/** describe() that runs only when `parts` (engine, registry, browser, buildkit) are up. */
export function describeWith(parts: string[], name: string, fn: () => void): void {
  const absent = parts.filter((p) => missing.includes(p));
  if (absent.length === 0) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      throw new Error(`CI=true and ${absent.join(', ')} could not be provisioned`);
    });
    return;
  }
  console.warn(`\n*** SKIPPED "${name}": ${absent.join(', ')} not available (see test/setup/global.ts) ***\n`);
  describe.skip(name, fn);
}
