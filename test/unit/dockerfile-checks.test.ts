import { describe, it, expect } from 'vitest';
import { dockerfileToLLB, DockerfileError } from '../../engine/frontend/dockerfile/index.js';
import type { ResolvedImage } from '../../engine/worker/types.js';

const resolveImage = async (ref: string): Promise<ResolvedImage> => ({
  ref,
  imageId: 'sha256:' + '2'.repeat(64),
  config: { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'] } },
});

async function rules(dockerfile: string): Promise<[string, number | undefined][]> {
  const r = await dockerfileToLLB({ dockerfile, resolveImage, platform: 'linux/amd64' });
  return r.warnings.map((w) => [w.rule, w.location?.startLine]);
}

describe('build checks', () => {
  it('reports each rule at its line', async () => {
    const got = await rules(`ARG API_TOKEN=x
FROM busybox as Build
from busybox AS build
ENV legacy value
FROM $UNDECLARED AS scratch
MAINTAINER me
WORKDIR rel
RUN echo $FOO
COPY $NOPE /x
CMD echo hi
`);
    expect(got).toEqual(expect.arrayContaining([
      ['SecretsUsedInArgOrEnv', 1],
      ['StageNameCasing', 2],
      ['FromAsCasing', 2],
      ['ConsistentInstructionCasing', 3],
      ['DuplicateStageName', 3],
      ['LegacyKeyValueFormat', 4],
      ['ReservedStageName', 5],
      ['UndefinedArgInFrom', 5],
      ['MaintainerDeprecated', 6],
      ['WorkdirRelativePath', 7],
      ['UndefinedVar', 9],
      ['JSONArgsRecommended', 10],
    ]));
    // RUN is expanded by the shell, not by the frontend
    expect(got.find(([r, l]) => r === 'UndefinedVar' && l === 8)).toBeUndefined();
  });

  it('reports UndefinedArgInFrom for an undeclared FROM variable', async () => {
    const r = await dockerfileToLLB({ dockerfile: 'FROM busybox:${TAGG}\n', resolveImage }).catch((e) => e);
    // the image ref busybox: is still resolvable here; the warning is what matters
    const ws = 'warnings' in r ? r.warnings : [];
    expect(ws.map((w: { rule: string; message: string }) => [w.rule, w.message])).toEqual([['UndefinedArgInFrom', "FROM argument 'TAGG' is not declared"]]);
  });

  it('reports platform-flag and repeated-instruction rules', async () => {
    const got = await rules('FROM --platform=linux/amd64 busybox AS a\nFROM --platform=$TARGETPLATFORM busybox\nCMD ["a"]\nCMD ["b"]\n');
    expect(got).toEqual(expect.arrayContaining([
      ['FromPlatformFlagConstDisallowed', 1],
      ['RedundantTargetPlatform', 2],
      ['MultipleInstructionsDisallowed', 3],
    ]));
  });

  it('honours # check=skip and error=true', async () => {
    const err = await dockerfileToLLB({ dockerfile: '# check=skip=JSONArgsRecommended;error=true\nFROM busybox\nMAINTAINER x\nCMD echo\n', resolveImage }).catch((e) => e);
    expect(err).toBeInstanceOf(DockerfileError);
    expect(err.message).toMatch(/lint violation found for rules: MaintainerDeprecated/);
    expect(err.location.startLine).toBe(3);
    expect(err.warnings.map((w: { rule: string; error?: boolean }) => [w.rule, w.error])).toEqual([['MaintainerDeprecated', true]]);
    const clean = await dockerfileToLLB({ dockerfile: '# check=error=true\nFROM busybox\nCMD ["x"]\n', resolveImage });
    expect(clean.warnings).toEqual([]);
    const all = await dockerfileToLLB({ dockerfile: '# check=skip=all\nFROM busybox\nMAINTAINER x\n', resolveImage });
    expect(all.warnings).toEqual([]);
  });
});
