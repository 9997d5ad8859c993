// Loads the control service (engine/control/service.ts) that the app hosts (or the root owner's client).
// It is loaded lazily and by URL so the shell still opens — and tells the user what is wrong —
// when the engine cannot start (no Docker, broken native module): the UI then gets an API whose
// info() reports the problem and how to fix it, instead of a crashed app.
import type { ControlAPI, InfoResponse } from '../engine/control/api.js';

export type HostedService = ControlAPI & { close(): Promise<void> | void };

type ServiceModule = { openRootService(opts: Record<string, unknown>): Promise<HostedService & { owner: string }> };

const NO_ENGINE_HINT =
  'Kiln needs a Docker Engine. Start Docker (or set DOCKER_HOST), or on Debian/Ubuntu run `sudo scripts/engine-up`, then restart Kiln.';

export function unavailableService(reason: string, version = '0.0.0'): HostedService {
  const fail = async (): Promise<never> => {
    throw new Error(`engine unavailable: ${reason}`);
  };
  const info: InfoResponse = {
    version,
    engine: { ok: false, endpoint: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock', error: reason, hint: NO_ENGINE_HINT },
    root: '',
  };
  return {
    solve: fail,
    status: () => () => {},
    cancel: fail,
    historyList: async () => [],
    historyGet: async () => undefined,
    du: fail,
    prune: fail,
    workers: async () => [],
    info: async () => info,
    graph: fail,
    project: fail,
    close: () => {},
  };
}

export async function loadControlService(opts: Record<string, unknown> = {}, version?: string): Promise<HostedService> {
  try {
    // A computed specifier: the shell must build and start even before/without the service module.
    // One engine per root: the running `kiln serve` of the state root if there is one (the app is
    // then its client), else the app's own engine, published on loopback so a CLI on the same
    // root becomes the app's client (engine/control/http/publish.ts).
    const spec = new URL('../engine/control/http/publish.js', import.meta.url).href;
    const mod = (await import(spec)) as ServiceModule;
    return await mod.openRootService({ role: 'Kiln app', ...opts });
  } catch (e) {
    return unavailableService(e instanceof Error ? e.message : String(e), version);
  }
}
