// The same API suite over the in-process service and over HTTP + WebSocket (kiln serve). It needs
// no Docker Engine: it points the service at a socket that does not exist, so info() must report
// the missing engine with a hint while graph, history and validation work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ControlAPI } from '../../engine/control/api.js';
import { createControlService, type ControlService } from '../../engine/control/service.js';
import { startServer, type RunningServer } from '../../engine/control/http/server.js';
import { createToken } from '../../engine/control/http/token.js';
import { connectHttp } from '../../engine/control/client.js';

const DOCKERFILE = `FROM busybox AS base
RUN echo base > /b
FROM base AS build
RUN echo build > /x
FROM busybox
COPY --from=build /x /x
`;

function apiSuite(name: string, get: () => ControlAPI) {
  describe(name, () => {
    it('info reports version and root, and a hint when the engine is missing', async () => {
      const info = await get().info();
      expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(info.root.length).toBeGreaterThan(0);
      if (!info.engine.ok) expect(info.engine.hint).toMatch(/engine-up|Docker/);
    });
    it('graph returns stages with dependencies and vertices with locations', async () => {
      const g = await get().graph({ kind: 'dockerfile', dockerfile: DOCKERFILE, context: os.tmpdir() });
      expect(g.stages.map((s) => s.name)).toEqual(['base', 'build', '2']);
      expect(g.stages[1]!.base).toBe('base');
      expect(g.stages[2]!.dependsOn).toContain('build');
      const runs = g.vertices.filter((v) => v.op === 'exec');
      expect(runs).toHaveLength(2);
      expect(runs.map((r) => r.location?.startLine).sort()).toEqual([2, 4]);
      const digests = new Set(g.vertices.map((v) => v.digest));
      for (const v of g.vertices) for (const i of v.inputs) expect(digests.has(i)).toBe(true);
    });
    it('rejects malformed requests', async () => {
      await expect(get().graph({ kind: 'nope' } as never)).rejects.toThrow(/invalid/);
      await expect(get().solve({ input: { kind: 'dockerfile' } } as never)).rejects.toThrow(/invalid/);
    });
    it('history lists builds and a failed solve is recorded with its error', async () => {
      const id = `t-${Math.random().toString(36).slice(2)}`;
      const events: string[] = [];
      const r = await get().solve({ id, input: { kind: 'dockerfile', dockerfile: 'FROM busybox\nRUN false\nBOGUS x\n', context: os.tmpdir() } });
      expect(r.ok).toBe(false);
      expect(r.error?.message.length).toBeGreaterThan(0);
      const h = await get().historyGet(id);
      expect(h?.status).toBe('failed');
      expect((await get().historyList()).map((e) => e.id)).toContain(id);
      // a late subscriber still gets the end of the stream
      await new Promise<void>((resolve) => {
        const un = get().status(id, (e) => events.push(e.type));
        setTimeout(() => {
          un();
          resolve();
        }, 50);
      });
      expect(await get().historyGet('does-not-exist')).toBeUndefined();
    });
    it('refuses cancel and historyGet ids that are not build ids, naming the method', async () => {
      for (const bad of ['', 'has space', '../etc/passwd', 'x'.repeat(129)]) {
        await expect(get().cancel(bad)).rejects.toThrow(bad === '' ? /invalid cancel request/ : /invalid cancel request: id ".*" is not a build id/);
        await expect(get().historyGet(bad)).rejects.toThrow(/invalid historyGet request/);
      }
      await expect(get().cancel(42 as never)).rejects.toThrow(/invalid cancel request/);
      // a well-formed id of no running build is fine: it may have just ended
      await expect(get().cancel('not-running')).resolves.toBeUndefined();
    });
  });
}

let root: string;
let svc: ControlService;
let server: RunningServer;
let token: string;
let http: ReturnType<typeof connectHttp>;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-control-'));
  svc = await createControlService({ root, dockerHost: `unix://${path.join(root, 'no-docker.sock')}` });
  token = createToken(root);
  server = await startServer({ api: svc, token, staticDir: path.join(root, 'no-ui') });
  http = connectHttp(server.url, token);
});
afterAll(async () => {
  http?.close();
  await server?.close();
  await svc?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

apiSuite('control API in-process', () => svc);
apiSuite('control API over HTTP', () => http);

describe('kiln serve auth', () => {
  it('stores the token with mode 0600 and prints it in a loopback URL', () => {
    expect(fs.statSync(path.join(root, 'serve.token')).mode & 0o777).toBe(0o600);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    expect(server.host).toBe('127.0.0.1');
  });
  it('refuses calls without a token and with a wrong one', async () => {
    const base = new URL(server.url).origin;
    expect((await fetch(`${base}/api/info`)).status).toBe(401);
    expect((await fetch(`${base}/api/info`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${base}/api/info?token=wrong`)).status).toBe(401);
    await expect(connectHttp(server.url, 'wrong').info()).rejects.toThrow(/unauthorized/);
    const ok = await fetch(`${base}/api/info`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { version: string }).version).toMatch(/\d/);
  });
  it('refuses a WebSocket without the token', async () => {
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(new URL('/api/ws', server.url.replace('http', 'ws')).href);
    const outcome = await new Promise<string>((r) => {
      ws.once('open', () => r('open'));
      ws.once('error', (e) => r(String(e.message)));
    });
    expect(outcome).toMatch(/401/);
  });
  it('serves UI routes with a CSP or says the renderer is not built', async () => {
    const res = await fetch(new URL('/', server.url).origin + '/');
    expect([200, 404]).toContain(res.status);
    if (res.status === 200) expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    else expect(await res.text()).toMatch(/build:renderer/);
  });
});
