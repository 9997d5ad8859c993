// Definitions produced by the Dockerfile frontend pass validateDefinition unchanged: the schema
// accepts everything the frontends emit (metadata, locations, warnings, image config).
import { describe, expect, it } from 'vitest';
import { dockerfileToLLB } from '../../engine/frontend/dockerfile/index.js';
import { validateDefinition } from '../../engine/llb/schema.js';

const resolveImage = async (ref: string) => ({
  ref,
  imageId: 'sha256:' + '1'.repeat(64),
  config: { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'] }, rootfs: { type: 'layers', diff_ids: [] }, history: [] },
});

describe('validateDefinition accepts frontend output', () => {
  it('a multi-stage Dockerfile with mounts, copies and args', async () => {
    const dockerfile = [
      'FROM busybox:local AS build',
      'ARG V=1',
      'WORKDIR /src',
      'COPY . .',
      'RUN --mount=type=cache,target=/cache --mount=type=tmpfs,target=/t echo $V > /out',
      'FROM scratch',
      'COPY --from=build /out /out',
      'ENV A=b',
      'CMD ["/out"]',
    ].join('\n');
    const r = await dockerfileToLLB({ dockerfile, resolveImage: resolveImage as never });
    const def = JSON.parse(JSON.stringify(r.definition));
    expect(validateDefinition(def)).toEqual(def);
    expect(def.vertices.some((v: { metadata?: { location?: unknown[] } }) => v.metadata?.location?.length)).toBe(true);
  });
});
