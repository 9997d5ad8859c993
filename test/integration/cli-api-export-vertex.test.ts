// ControlAPI.solve with options.exportVertex ("export this node" in the editor), on the real
// engine, in-process and over HTTP (the kiln serve transport): the named vertex's result is what
// the outputs receive (an intermediate stage, not the Dockerfile's final image), the response
// names that vertex, and a digest that is not in the build is a clear failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ControlAPI, SolveInput } from '../../engine/control/api.js';
import { createControlService, type ControlService } from '../../engine/control/service.js';
import { startServer, type RunningServer } from '../../engine/control/http/server.js';
import { createToken } from '../../engine/control/http/token.js';
import { connectHttp } from '../../engine/control/client.js';
import { describeWith, DOCKER_HOST } from '../helpers/env.js';

let root: string;
let ctx: string;
let salt: string;
let svc: ControlService;
let server: RunningServer;
let http: ReturnType<typeof connectHttp>;

const input = (): SolveInput => ({
  kind: 'dockerfile',
  context: ctx,
  dockerfile: `FROM busybox:local AS base\nRUN echo base-${salt} > /b\nFROM base AS build\nRUN echo build-${salt} > /x\nFROM busybox:local\nCOPY --from=build /x /x\nRUN echo final-${salt} > /final\n`,
});

function suite(name: string, get: () => ControlAPI) {
  describe(name, () => {
    it('exports the named vertex, not the output, and reports it', async () => {
      const api = get();
      const g = await api.graph(input());
      const build = g.vertices.find((v) => v.name.includes(`echo build-${salt}`))!;
      const final = g.vertices.find((v) => v.name.includes(`echo final-${salt}`))!;
      expect(build && final).toBeTruthy();
      const dest = path.join(root, `out-${name.replace(/\W+/g, '-')}`);
      const r = await api.solve({ input: input(), options: { exportVertex: build.digest, outputs: [{ type: 'local', attrs: { dest } }], name: 'export-vertex' } });
      expect(r.error).toBeUndefined();
      expect(r.ok).toBe(true);
      expect(r.output).toBe(build.digest);
      expect(fs.readFileSync(path.join(dest, 'x'), 'utf8')).toBe(`build-${salt}\n`);
      expect(fs.readFileSync(path.join(dest, 'b'), 'utf8')).toBe(`base-${salt}\n`);
      // the final stage was neither exported nor needed
      expect(fs.existsSync(path.join(dest, 'final'))).toBe(false);
      const h = await api.historyGet(r.id);
      expect(h?.status).toBe('completed');
      expect(h?.vertices?.some((v) => v.name.includes(`echo final-${salt}`))).toBe(false);
      expect(h?.vertices?.some((v) => v.name.startsWith('exporting to local'))).toBe(true);
    });

    it('a vertex that is not in the build fails the solve with a clear error', async () => {
      const bogus = 'sha256:' + '0'.repeat(64);
      const r = await get().solve({ input: input(), options: { exportVertex: bogus, outputs: [{ type: 'local', attrs: { dest: path.join(root, 'never') } }] } });
      expect(r.ok).toBe(false);
      expect(r.error?.message).toContain(`target ${bogus} is not a vertex of the definition`);
      expect(fs.existsSync(path.join(root, 'never'))).toBe(false);
    });
  });
}

describeWith(['engine'], 'ControlAPI exportVertex', () => {
  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-exportvertex-'));
    ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-exportvertex-ctx-'));
    salt = Math.random().toString(36).slice(2);
    svc = await createControlService({ root: path.join(root, 'state'), dockerHost: DOCKER_HOST });
    const token = createToken(path.join(root, 'state'));
    server = await startServer({ api: svc, token, staticDir: path.join(root, 'no-ui') });
    http = connectHttp(server.url, token);
  });
  afterAll(async () => {
    http?.close();
    await server?.close();
    await svc?.prune({ all: true }).catch(() => undefined);
    await svc?.close();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(ctx, { recursive: true, force: true });
  });

  suite('in-process', () => svc);
  suite('over HTTP', () => http);
});
