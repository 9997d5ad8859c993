// The foundation the other suites stand on: the private Docker Engine that test/setup/global.ts
// provisioned answers, has no bridge network (so no container can reach a private-range address),
// carries the base images, and the two registries speak the distribution API.
import Docker from 'dockerode';
import { expect, it } from 'vitest';
import { AUTH_REGISTRY, BUSYBOX, DOCKER_HOST, REGISTRY, describeWith } from '../helpers/env.js';

function dockerode(): Docker {
  if (DOCKER_HOST.startsWith('unix://')) return new Docker({ socketPath: DOCKER_HOST.slice('unix://'.length) });
  const u = new URL(DOCKER_HOST.replace(/^tcp:/, 'http:'));
  return new Docker({ host: u.hostname, port: Number(u.port || 2375) });
}

describeWith(['engine'], 'foundation: Docker Engine', () => {
  const docker = dockerode();

  it('answers ping and reports a server version with an API version', async () => {
    const pong = await docker.ping();
    expect(String(pong)).toBe('OK');
    const v = await docker.version();
    expect(v.Version).toMatch(/^\d+\.\d+/);
    expect(Number(v.ApiVersion)).toBeGreaterThanOrEqual(1.41);
  });

  it('has no bridge network: only host and none', async () => {
    const nets = await docker.listNetworks();
    const drivers = nets.map((n) => n.Driver);
    expect(drivers).not.toContain('bridge');
    expect(nets.map((n) => n.Name)).toEqual(expect.arrayContaining(['host', 'none']));
  });

  it('has the busybox base image', async () => {
    const img = await docker.getImage(BUSYBOX).inspect();
    expect(img.RepoTags).toContain(BUSYBOX);
    expect(img.Config.Cmd).toEqual(['/bin/sh']);
  });
});

describeWith(['registry'], 'foundation: registries', () => {
  it('the open registry answers GET /v2/ with 200 and the distribution API header', async () => {
    const res = await fetch(`http://${REGISTRY}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });

  it('the auth registry challenges anonymous requests and accepts kiln/kiln', async () => {
    const anon = await fetch(`http://${AUTH_REGISTRY}/v2/`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate') ?? '').toMatch(/^Basic realm=/i);
    const authed = await fetch(`http://${AUTH_REGISTRY}/v2/`, {
      headers: { authorization: `Basic ${Buffer.from('kiln:kiln').toString('base64')}` },
    });
    expect(authed.status).toBe(200);
    const wrong = await fetch(`http://${AUTH_REGISTRY}/v2/`, {
      headers: { authorization: `Basic ${Buffer.from('kiln:nope').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
  });
});
