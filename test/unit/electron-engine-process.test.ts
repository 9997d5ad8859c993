// The utility-process split: engine-client.ts (main process) ↔ engine-host.ts (engine process),
// joined here by an in-memory channel that structured-clones every message, as Electron's
// postMessage does, so nothing that cannot cross a process boundary slips through.
import { describe, expect, it } from 'vitest';
import type { InfoResponse } from '../../engine/control/api.js';
import type { ProgressEvent } from '../../engine/solver/types.js';
import { connectEngineProcess } from '../../electron/engine-client.js';
import { serveControl, type HostReply, type HostRequest } from '../../electron/engine-host.js';
import { unavailableService, type HostedService } from '../../electron/service.js';

function pair(api: HostedService) {
  const toHost: Array<(m: HostRequest) => void> = [];
  const toMain: Array<(m: HostReply) => void> = [];
  const exits: Array<(c: number) => void> = [];
  let killed = false;
  serveControl(
    {
      onMessage: (fn) => void toHost.push(fn),
      postMessage: (m) => queueMicrotask(() => toMain.forEach((f) => f(structuredClone(m)))),
    },
    api,
  );
  const client = connectEngineProcess({
    postMessage: (m) => queueMicrotask(() => toHost.forEach((f) => f(structuredClone(m)))),
    onMessage: (fn) => void toMain.push(fn),
    onExit: (fn) => void exits.push(fn),
    kill: () => void (killed = true),
  });
  return { client, exit: (code: number) => exits.forEach((f) => f(code)), killed: () => killed };
}

function service() {
  let emit: ((e: ProgressEvent) => void) | undefined;
  let stops = 0;
  let closed = false;
  const base = unavailableService('test');
  const info: InfoResponse = { version: '1.2.3', engine: { ok: true, endpoint: 'unix:///e.sock' }, root: '/root' };
  const svc: HostedService = {
    ...base,
    info: async () => info,
    historyGet: async (id: string) => ({ id, name: `build ${id}`, createdAt: 5, status: 'completed' as const }),
    cancel: async (id: string) => {
      throw new Error(`no build ${id}`);
    },
    status: (_id, onEvent) => {
      emit = onEvent;
      return () => void stops++;
    },
    close: () => void (closed = true),
  };
  return { svc, info, emit: (e: ProgressEvent) => emit?.(e), stops: () => stops, closed: () => closed };
}

describe('engine in a utility process', () => {
  it('relays calls with their arguments and results across the process boundary', async () => {
    const s = service();
    const { client } = pair(s.svc);
    expect(await client.info()).toEqual(s.info);
    expect(await client.historyGet('b9')).toEqual({ id: 'b9', name: 'build b9', createdAt: 5, status: 'completed' });
    expect(await client.workers()).toEqual([]);
  });

  it('turns a failed call into a rejected promise with the message', async () => {
    const { client } = pair(service().svc);
    await expect(client.cancel('b1')).rejects.toThrow('no build b1');
    await expect(client.du()).rejects.toThrow(/engine unavailable: test/);
  });

  it('streams status events until unsubscribed', async () => {
    const s = service();
    const { client } = pair(s.svc);
    const got: ProgressEvent[] = [];
    const stop = client.status('b1', (e) => got.push(e));
    await new Promise((r) => setTimeout(r, 0));
    const ev: ProgressEvent = { type: 'status', jobId: 'b1', vertex: 'sha256:ab', id: 'layer', current: 10, total: 20, timestamp: 3 };
    s.emit(ev);
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual([ev]);
    stop();
    await new Promise((r) => setTimeout(r, 0));
    expect(s.stops()).toBe(1);
  });

  it('fails pending and later calls once the engine process exits', async () => {
    const { client, exit } = pair(service().svc);
    const call = client.historyList();
    exit(3);
    await expect(call).rejects.toThrow(/exited \(code 3\)/);
    await expect(client.info()).rejects.toThrow(/exited \(code 3\)/);
  });

  it('close() closes the service in the engine process, then stops it', async () => {
    const s = service();
    const { client, killed } = pair(s.svc);
    await client.close();
    expect(s.closed()).toBe(true);
    expect(killed()).toBe(true);
  });
});
