// 4 clients build overlapping graphs at once through kiln serve's HTTP API: each shared vertex
// executes once (one distinct non-cached execution across all clients), every result is correct.
import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProgressEvent } from '../../engine/solver/types.js';
import { createControlService, type ControlService } from '../../engine/control/service.js';
import { startServer, type RunningServer } from '../../engine/control/http/server.js';
import { createToken } from '../../engine/control/http/token.js';
import { connectHttp } from '../../engine/control/client.js';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';

let root: string;
let svc: ControlService;
let server: RunningServer;
let token: string;

describeWith(['engine'], 'kiln serve: concurrent clients', () => {
  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-serve-conc-'));
    svc = await createControlService({ root, dockerHost: DOCKER_HOST });
    token = createToken(root);
    server = await startServer({ api: svc, token, staticDir: root });
  });
  afterAll(async () => {
    await server?.close();
    await svc?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('shared vertices run once across 4 clients', async () => {
    const salt = Math.random().toString(36).slice(2);
    const shared = `FROM busybox:local\nRUN echo shared-${salt} > /s && sleep 1\n`;
    const results = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const c = connectHttp(server.url, token);
        const id = `conc-${salt}-${i}`;
        const events: ProgressEvent[] = [];
        let ended!: () => void;
        const end = new Promise<void>((r) => (ended = r));
        c.statusWithEnd(id, (e) => events.push(e), () => ended());
        const r = await c.solve({ id, input: { kind: 'dockerfile', dockerfile: `${shared}RUN cat /s && echo client-${i}\n`, context: root } });
        await end;
        c.close();
        return { r, events, i };
      }),
    );
    const starts = new Map<string, Set<number | undefined>>();
    for (const { r, events, i } of results) {
      expect(r.ok).toBe(true);
      const logs = events.filter((e) => e.type === 'log').map((e) => (e as { data: string }).data).join('');
      expect(logs).toContain(`client-${i}`);
      for (const e of events) if (e.type === 'vertex' && e.completed && !e.cached) (starts.get(e.name) ?? starts.set(e.name, new Set()).get(e.name)!).add(e.started);
    }
    const sharedRun = [...starts.keys()].find((n) => n.includes(`shared-${salt}`));
    expect(sharedRun).toBeDefined();
    expect(starts.get(sharedRun!)!.size).toBe(1);
  });
});
