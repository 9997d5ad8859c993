import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from '../../engine/frontend/dockerfile/parser/index.js';
import { parseDockerfileAST } from '../../engine/frontend/dockerfile/instructions/parse.js';
import { parseGoDuration, formatGoDuration } from '../../engine/frontend/dockerfile/instructions/flags.js';
import { dockerfileToLLB, DockerfileError } from '../../engine/frontend/dockerfile/index.js';
import type { ResolvedImage } from '../../engine/worker/types.js';
import type { ExecOp, FileOp } from '../../engine/llb/ops.js';

const instr = (text: string) => parseDockerfileAST(parse(text, 'Dockerfile').ast, 'Dockerfile', text);
const resolveImage = async (ref: string): Promise<ResolvedImage> => ({ ref, imageId: ref, config: { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'] } } });

describe('instructions', () => {
  it('types every instruction and groups them by stage', () => {
    const df = instr(`ARG V=1
FROM busybox AS Base
ENV A=1
LABEL k=v
RUN --mount=type=cache,target=/c --network=none echo hi
CMD ["a"]
ENTRYPOINT b c
SHELL ["/bin/bash","-c"]
WORKDIR /w
USER u
EXPOSE 80
VOLUME ["/v"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=1m30s --retries=2 CMD ["true"]
ONBUILD RUN echo x
MAINTAINER m
COPY --from=x --chown=1:2 --chmod=644 --link a b /d/
ADD --checksum=sha256:00 https://example.invalid/f /f
`);
    expect(df.metaArgs[0]!.args).toEqual([{ key: 'V', value: '1' }]);
    expect(df.stages).toHaveLength(1);
    const st = df.stages[0]!;
    expect(st.name).toBe('base');
    expect(st.commands.map((c) => c.kind)).toEqual(['env', 'label', 'run', 'cmd', 'entrypoint', 'shell', 'workdir', 'user', 'expose', 'volume', 'stopsignal', 'healthcheck', 'onbuild', 'maintainer', 'copy', 'add']);
    const [env, , run, cmd, ep, , , , , , , hc, ob, , copy, add] = st.commands as any[];
    expect(env.pairs).toEqual([{ key: 'A', value: '1', legacy: false }]);
    expect(run).toMatchObject({ mounts: ['type=cache,target=/c'], network: 'none', prependShell: true });
    expect(cmd).toMatchObject({ cmd: ['a'], prependShell: false });
    expect(ep).toMatchObject({ cmd: ['b c'], prependShell: true });
    expect(hc).toMatchObject({ test: ['CMD', 'true'], interval: 90e9, retries: 2 });
    expect(ob.expression).toBe('RUN echo x');
    expect(copy).toMatchObject({ from: 'x', chown: '1:2', chmod: '644', link: true, sources: ['a', 'b'], dest: '/d/' });
    expect(add).toMatchObject({ checksum: 'sha256:00', sources: ['https://example.invalid/f'] });
    expect(copy.location).toMatchObject({ file: 'Dockerfile', startLine: 17, endLine: 17 });
  });

  it('rejects unknown instructions with a suggestion and a marked excerpt', () => {
    let err: unknown;
    try {
      instr('FROM busybox\nRUNN echo\n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DockerfileError);
    const e = err as DockerfileError;
    expect(e.message).toMatch(/unknown instruction: RUNN \(did you mean RUN\?\)/);
    expect(e.location).toMatchObject({ file: 'Dockerfile', startLine: 2 });
    expect(e.excerpt).toContain('>>> 2 | RUNN echo');
  });

  it('validates argument counts and flag values', () => {
    expect(() => instr('FROM a b\n')).toThrow(/one or three arguments/);
    expect(() => instr('FROM a\nCOPY x\n')).toThrow(/at least two arguments/);
    expect(() => instr('FROM a\nHEALTHCHECK --interval=abc CMD true\n')).toThrow(/invalid duration/);
    expect(() => instr('FROM a\nCOPY --link=maybe a b\n')).toThrow(/boolean/);
    expect(() => instr('FROM a\nSHELL sh -c\n')).toThrow(/JSON form/);
    expect(() => instr('FROM a\nONBUILD ONBUILD RUN x\n')).toThrow(/Chaining ONBUILD/);
  });

  it('formats and parses Go durations', () => {
    expect(parseGoDuration('1m30s')).toBe(90e9);
    expect(parseGoDuration('500ms')).toBe(5e8);
    expect(formatGoDuration(90e9)).toBe('1m30s');
    expect(formatGoDuration(3e9)).toBe('3s');
    expect(formatGoDuration(0)).toBe('0s');
    expect(formatGoDuration(36e11)).toBe('1h0m0s');
  });
});

describe('conversion errors and heredocs', () => {
  it('names the .dockerignore rule that hides a COPY source', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-df-'));
    try {
      fs.writeFileSync(path.join(dir, 'app.log'), 'x');
      const err = await dockerfileToLLB({ dockerfile: 'FROM busybox\nCOPY app.log /x\n', resolveImage, contextDir: dir, dockerignore: '*.log\n' }).catch((e) => e);
      expect(err).toBeInstanceOf(DockerfileError);
      expect(err.message).toMatch(/excluded by \.dockerignore rule "\*\.log"/);
      const missing = await dockerfileToLLB({ dockerfile: 'FROM busybox\nCOPY nope /x\n', resolveImage, contextDir: dir }).catch((e) => e);
      expect(missing.message).toMatch(/"\/nope" not found/);
      expect(missing.location.startLine).toBe(2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns parse errors into DockerfileError with an excerpt', async () => {
    const err = await dockerfileToLLB({ dockerfile: 'FROM busybox\nENV A=1 B\n', resolveImage }).catch((e) => e);
    expect(err).toBeInstanceOf(DockerfileError);
    expect(err.location.startLine).toBe(2);
    expect(err.excerpt).toContain('>>> 2 | ENV A=1 B');
  });

  it('refuses a source that escapes the context', async () => {
    const err = await dockerfileToLLB({ dockerfile: 'FROM busybox\nCOPY ../secret /x\n', resolveImage }).catch((e) => e);
    expect(err).toBeInstanceOf(DockerfileError);
    expect(err.message).toMatch(/outside the build context/);
  });

  it('runs a RUN heredoc through the shell and writes a COPY heredoc', async () => {
    const r = await dockerfileToLLB({ dockerfile: 'FROM busybox\nRUN <<EOF\necho one\necho two\nEOF\nCOPY <<CONF /etc/app.conf\nkey=value\nCONF\n', resolveImage });
    const run = r.definition.vertices.map((v) => v.op).find((o): o is ExecOp => o.kind === 'exec')!;
    expect(run.args.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(run.args[2]).toContain('echo one\necho two');
    const file = r.definition.vertices.map((v) => v.op).find((o): o is FileOp => o.kind === 'file')!;
    expect(file.actions[0]).toMatchObject({ action: 'mkfile', path: '/etc/app.conf', data: Buffer.from('key=value\n').toString('base64') });
  });
});
