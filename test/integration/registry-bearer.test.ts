// Bearer-token auth (WWW-Authenticate realm/service/scope), which neither local registry speaks:
// a small token gate on 127.0.0.1 in front of the real registry issues tokens for kiln/kiln.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, REGISTRY } from '../helpers/env.js';
import { assembleImage } from '../../engine/exporter/image.js';
import { pushImage } from '../../engine/registry/push.js';
import type { LayerRef } from '../../engine/worker/types.js';

let gate: http.Server;
let host: string;
let tmp: string;
const scopes: string[] = [];

describeWith(['registry'], 'registry bearer auth', () => {
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-bearer-'));
    const [th, tp] = REGISTRY.split(':');
    gate = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/token') {
        scopes.push(`${url.searchParams.get('service')} ${url.searchParams.get('scope')}`);
        const ok = req.headers.authorization === 'Basic ' + Buffer.from('kiln:kiln').toString('base64');
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? '{"token":"good"}' : '{"details":"bad credentials"}');
        return;
      }
      if (req.headers.authorization !== 'Bearer good') {
        req.resume();
        const repo = /^\/v2\/(.+?)\/(blobs|manifests)\//.exec(url.pathname)?.[1] ?? '';
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="gate",scope="repository:${repo}:pull,push"` }).end();
        return;
      }
      const up = http.request({ host: th, port: Number(tp), method: req.method, path: req.url, headers: req.headers }, (ur) => { res.writeHead(ur.statusCode ?? 502, ur.headers); ur.pipe(res); });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(gate.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    gate.closeAllConnections();
    await new Promise<void>((r) => gate.close(() => r()));
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('gets a token with the challenge service and scope; bad credentials give a kiln login hint', async () => {
    const pack = tar.pack();
    pack.entry({ name: 'b.bin', mtime: new Date(0) }, randomBytes(1000));
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    const layer: LayerRef = { diffId: 'sha256:' + createHash('sha256').update(buf).digest('hex'), size: buf.length, open: async () => Readable.from([buf]) };
    const img = await assembleImage([layer], undefined, { cacheDir: path.join(tmp, 'b') });
    const bad = await pushImage(img, `${host}/kiln-f/bearer:v1`, { credentials: { username: 'kiln', password: 'nope' } }).catch((e: Error) => e);
    expect((bad as Error).message).toMatch(new RegExp(`registry ${host}, repository kiln-f/bearer: 401.*kiln login ${host}`));
    const ok = await pushImage(img, `${host}/kiln-f/bearer:v1`, { credentials: { username: 'kiln', password: 'kiln' } });
    expect(ok.digest).toBe(img.manifestDesc.digest);
    expect(scopes).toContain('gate repository:kiln-f/bearer:pull,push');
  }, 60_000);
});
