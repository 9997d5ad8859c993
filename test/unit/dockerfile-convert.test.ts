import { describe, it, expect } from 'vitest';
import { dockerfileToLLB, describeStages, DockerfileError } from '../../engine/frontend/dockerfile/index.js';
import type { ResolvedImage } from '../../engine/worker/types.js';
import type { ExecOp, FileOp } from '../../engine/llb/ops.js';

// The base image's config is an input to the frontend: this is the data a registry would return.
const busybox = async (ref: string): Promise<ResolvedImage> => ({
  ref,
  imageId: 'sha256:' + '1'.repeat(64),
  config: {
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
    history: [{ created_by: 'Imported from -' }],
  },
});

const conv = (dockerfile: string, extra: Record<string, unknown> = {}) => dockerfileToLLB({ dockerfile, resolveImage: busybox, platform: 'linux/amd64', ...extra });

function execs(def: { vertices: { op: { kind: string } }[] }): ExecOp[] {
  return def.vertices.map((v) => v.op).filter((o): o is ExecOp => o.kind === 'exec');
}

describe('dockerfileToLLB', () => {
  it('writes history as BuildKit does', async () => {
    const r = await conv(`FROM busybox
ARG A=1
ARG B
ENV E=x
RUN echo hi
RUN ["echo","x"]
WORKDIR /app
WORKDIR rel
USER 1000
LABEL a=b
EXPOSE 90 80/tcp
VOLUME /v
SHELL ["/bin/sh","-xc"]
CMD echo c
ENTRYPOINT ["e"]
STOPSIGNAL SIGKILL
HEALTHCHECK --interval=5s CMD true
ONBUILD RUN echo ob
MAINTAINER me
`);
    const h = r.imageConfig.history!.map((x) => `${x.empty_layer ? 'E' : 'L'} ${x.created_by}`);
    expect(h).toEqual([
      'L Imported from -',
      'E ARG A=1',
      'E ARG B',
      'E ENV E=x',
      'L RUN |2 A=1 B= /bin/sh -c echo hi # buildkit',
      'L RUN |2 A=1 B= echo x # buildkit',
      'L WORKDIR /app',
      'L WORKDIR /app/rel',
      'E USER 1000',
      'E LABEL a=b',
      'E EXPOSE map[80/tcp:{} 90/tcp:{}]',
      'E VOLUME [/v]',
      'E SHELL [/bin/sh -xc]',
      'E CMD ["/bin/sh" "-xc" "echo c"]',
      'E ENTRYPOINT ["e"]',
      'E STOPSIGNAL SIGKILL',
      `E HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "0s" "0s" '\\x00'}`,
      'E MAINTAINER me',
    ]);
    const c = r.imageConfig.config;
    expect(c.Env).toEqual(['PATH=/bin', 'E=x']);
    expect(c.Cmd).toEqual(['/bin/sh', '-xc', 'echo c']);
    expect(c.Entrypoint).toEqual(['e']);
    expect(c.WorkingDir).toBe('/app/rel');
    expect(c.OnBuild).toEqual(['RUN echo ob']);
    expect(c.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'true'], Interval: 5e9 });
    expect(r.definition.imageConfig).toBe(r.imageConfig);
  });

  it('scopes ARGs: globals reach FROM, and a stage sees them only when redeclared', async () => {
    const r = await conv(`ARG TAG=local
ARG OTHER=o
FROM busybox:\${TAG}
ARG TAG
RUN echo $TAG $OTHER
`, { buildArgs: { TAG: 'v2' } });
    const src = r.definition.vertices.find((v) => v.op.kind === 'source')!;
    expect((src.op as { identifier: string }).identifier).toBe('docker-image://busybox:v2');
    const run = execs(r.definition)[0]!;
    expect(run.env).toContain('TAG=v2');
    expect(run.env.some((e) => e.startsWith('OTHER='))).toBe(false);
  });

  it('expands ENV with the environment from before the instruction', async () => {
    const r = await conv(`FROM busybox
ENV A=1
ENV A=2 B=$A
`);
    expect(r.imageConfig.config.Env).toEqual(['PATH=/bin', 'A=2', 'B=1']);
  });

  it('builds only the stages the target needs, and resolves COPY --from', async () => {
    const r = await conv(`FROM busybox AS gen
RUN echo gen > /g
FROM busybox AS unused
RUN echo never
FROM busybox
COPY --from=gen /g /x
`);
    const runs = execs(r.definition).map((e) => e.args.join(' '));
    expect(runs).toEqual(['/bin/sh -c echo gen > /g']);
    const file = r.definition.vertices.find((v) => v.op.kind === 'file')!;
    expect((file.op as FileOp).actions[0]).toMatchObject({ action: 'copy', srcPath: '/g', destPath: '/x' });
    // BuildKit names a step after the instruction as written, flags included
    expect(file.metadata?.progressName).toBe('[stage-2 2/2] COPY --from=gen /g /x');
    // dependsOn names image refs as well as stages (the `kiln graph` contract)
    expect(r.stages.map((s) => [s.name, [...s.dependsOn].sort()])).toEqual([['gen', ['busybox']], ['unused', ['busybox']], ['2', ['busybox', 'gen']]]);
  });

  it('names steps exactly as BuildKit prints them (measured on Docker 20.10 --progress=plain)', async () => {
    // BuildKit 20.10 printed, for this file: "[2/5] WORKDIR\t/FOO/BAR", "[3/5] COPY\t--CHOWN=1:1
    // Dockerfile\t/x", "[4/5] RUN\tECHO  "$HOME"  $NOPE": it upper-cases up to the first space
    // and keeps quotes and unset variables in RUN names.
    const r = await conv('FROM busybox\nWORKDIR\t/foo/Bar\nCOPY\t--chown=1:1 Dockerfile\t/x\nRUN\techo  "$HOME"  $NOPE\nRUN echo "$HOME" ${NOPE} >/dev/null\n');
    const names = r.definition.vertices.map((v) => v.metadata?.progressName).filter((n): n is string => !!n && /^\[\d/.test(n));
    expect(names).toEqual([
      '[2/5] WORKDIR\t/FOO/BAR',
      '[3/5] COPY\t--CHOWN=1:1 Dockerfile\t/x',
      '[4/5] RUN\tECHO  "$HOME"  $NOPE',
      '[5/5] RUN echo "$HOME" ${NOPE} >/dev/null',
    ]);
  });

  it('translates RUN mounts with BuildKit defaults', async () => {
    const r = await conv(`FROM busybox AS tools
FROM busybox
RUN --mount=type=cache,target=/cache --mount=type=secret,id=k --mount=type=bind,from=tools,source=/t,target=/mnt --mount=type=tmpfs,target=/tmp/w true
`);
    const run = execs(r.definition)[0]!;
    expect(run.mounts).toEqual([
      { type: 'cache', target: '/cache', id: '/cache', sharing: 'shared', mode: 0o755 },
      { type: 'secret', target: '/run/secrets/k', id: 'k', uid: 0, gid: 0, mode: 0o400, required: false },
      { type: 'bind', input: 1, target: '/mnt', selector: '/t', readonly: true },
      { type: 'tmpfs', target: '/tmp/w' },
    ]);
  });

  it('points SSH_AUTH_SOCK at the first ssh mount, unless the Dockerfile sets it', async () => {
    const r = await conv('FROM busybox\nRUN --mount=type=ssh --mount=type=ssh,id=b,target=/b.sock true\nENV SSH_AUTH_SOCK=/mine\nRUN --mount=type=ssh true\nRUN true\n');
    const [a, b, c] = execs(r.definition);
    expect(a!.env).toContain('SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0');
    expect(a!.env.filter((e) => e.startsWith('SSH_AUTH_SOCK='))).toHaveLength(1);
    expect(b!.env).toContain('SSH_AUTH_SOCK=/mine');
    expect(b!.env).not.toContain('SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0');
    expect(c!.env.some((e) => e.startsWith('SSH_AUTH_SOCK=') && e !== 'SSH_AUTH_SOCK=/mine')).toBe(false);
  });

  it('refuses --security=insecure without the entitlement', async () => {
    await expect(conv('FROM busybox\nRUN --security=insecure true\n')).rejects.toThrow(/security.insecure/);
    const ok = await conv('FROM busybox\nRUN --security=insecure true\n', { allowInsecure: true });
    expect(execs(ok.definition)[0]!.security).toBe('insecure');
  });

  it('reports a missing stage target and a circular reference with locations', async () => {
    await expect(conv('FROM busybox AS a\n', { target: 'b' })).rejects.toThrow(/target stage "b" could not be found/);
    const err = await conv('FROM busybox AS a\nCOPY --from=b /x /y\nFROM busybox AS b\nCOPY --from=a /x /y\n').catch((e) => e);
    expect(err).toBeInstanceOf(DockerfileError);
    expect(err.message).toMatch(/circular dependency/);
    expect(err.excerpt).toMatch(/>>>/);
  });

  it('suggests the closest flag for an unknown one', async () => {
    const err = await conv('FROM busybox\nCOPY --chmown=1 a /b\n').catch((e) => e);
    expect(err).toBeInstanceOf(DockerfileError);
    expect(err.message).toMatch(/unknown flag: --chmown.*did you mean chown/);
    expect(err.location.startLine).toBe(2);
  });

  it('passes .dockerignore patterns to the context source', async () => {
    const r = await conv('FROM busybox\nCOPY . /app\n', { dockerignore: '# c\n*.log\n!keep.log\n' });
    const local = r.definition.vertices.find((v) => v.op.kind === 'source' && (v.op as { identifier: string }).identifier === 'local://context')!;
    expect(JSON.parse((local.op as { attrs: Record<string, string> }).attrs['excludePatterns']!)).toEqual(['*.log', '!keep.log']);
  });

  it('COPY --link merges a layer made on scratch', async () => {
    const r = await conv('FROM busybox\nCOPY --link a /a\n');
    const out = r.definition.vertices.find((v) => v.digest === r.definition.output!.digest)!;
    expect(out.op.kind).toBe('merge');
  });

  it('describeStages needs no image resolution', () => {
    const s = describeStages({ dockerfile: 'ARG B=busybox\nFROM $B AS one\nFROM one\n' });
    expect(s).toEqual([
      expect.objectContaining({ name: 'one', index: 0, base: 'busybox', dependsOn: ['busybox'] }),
      expect.objectContaining({ name: '1', index: 1, base: 'one', dependsOn: ['one'] }),
    ]);
  });

  it('resolves named build contexts before images', async () => {
    const seen: string[] = [];
    const r = await dockerfileToLLB({
      dockerfile: 'FROM base\nCOPY --from=assets /a /a\n',
      platform: 'linux/amd64',
      buildContexts: { base: 'docker-image://busybox:pinned', assets: './assets' },
      resolveImage: async (ref) => (seen.push(ref), busybox(ref)),
    });
    expect(seen).toEqual(['busybox:pinned']);
    const ids = r.definition.vertices.filter((v) => v.op.kind === 'source').map((v) => (v.op as { identifier: string }).identifier);
    expect(ids.sort()).toEqual(['docker-image://busybox:pinned', 'local://assets']);
  });

  it('FROM --platform sets the stage platform and keeps TARGETPLATFORM', async () => {
    const r = await conv('FROM --platform=$BUILDPLATFORM busybox AS b\nFROM busybox\nARG TARGETPLATFORM\nCOPY --from=b /x /x\nRUN echo $TARGETPLATFORM\n', { platform: 'linux/arm64' });
    const plats = r.definition.vertices.filter((v) => v.op.kind === 'source').map((v) => (v.op as { platform?: { architecture: string } }).platform?.architecture);
    expect(plats).toContain('arm64');
    expect(r.imageConfig.architecture).toBe('arm64');
    expect(execs(r.definition)[0]!.env).toContain('TARGETPLATFORM=linux/arm64');
  });

  it('keeps proxy args out of env and history but gives them to the process', async () => {
    const r = await conv('FROM busybox\nRUN wget x\n', { buildArgs: { HTTP_PROXY: 'http://127.0.0.1:3128' } });
    const run = execs(r.definition)[0]!;
    expect(run.proxyEnv).toEqual(['HTTP_PROXY=http://127.0.0.1:3128']);
    expect(run.env.some((e) => e.startsWith('HTTP_PROXY'))).toBe(false);
    expect(r.imageConfig.history!.at(-1)!.created_by).toBe('RUN /bin/sh -c wget x # buildkit');
    expect(r.warnings.filter((w) => w.rule === 'UnusedBuildArg')).toEqual([]);
  });

  it('runs the ONBUILD triggers of a base image first and drops them from the config', async () => {
    const withTriggers = async (ref: string): Promise<ResolvedImage> => {
      const img = await busybox(ref);
      img.config.config.OnBuild = ['RUN echo triggered', 'ENV FROM_TRIGGER=1'];
      return img;
    };
    const r = await dockerfileToLLB({ dockerfile: 'FROM onbuild-base\nRUN echo mine\n', resolveImage: withTriggers, platform: 'linux/amd64' });
    expect(execs(r.definition).map((e) => e.args[2])).toEqual(['echo triggered', 'echo mine']);
    expect(r.imageConfig.config.OnBuild).toBeUndefined();
    expect(r.imageConfig.config.Env).toContain('FROM_TRIGGER=1');
  });
});
