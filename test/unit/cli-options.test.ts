import { describe, expect, it } from 'vitest';
import os from 'node:os';
import { parseDuration, parseKeyValues, parseOutputCsv, parseSecret, parseSize } from '../../engine/cli/options.js';
import { plainPrinter } from '../../engine/cli/progress.js';
import { program } from '../../engine/cli/main.js';
import { completion } from '../../engine/cli/commands/misc.js';
import { createControlService } from '../../engine/control/service.js';
import path from 'node:path';
import fs from 'node:fs';

describe('CLI option parsers', () => {
  it('parses sizes, durations, key=values, outputs and secrets', () => {
    expect(parseSize('10GB')).toBe(10e9);
    expect(parseSize('512MiB')).toBe(512 * 1024 ** 2);
    expect(() => parseSize('lots')).toThrow(/invalid size/);
    expect(parseDuration('1h30m')).toBe(5.4e6);
    expect(() => parseDuration('soon')).toThrow(/invalid duration/);
    expect(parseKeyValues(['A=1', 'B=x=y'], '--build-arg')).toEqual({ A: '1', B: 'x=y' });
    expect(parseOutputCsv('type=oci,dest=out.tar')).toEqual({ type: 'oci', attrs: { dest: 'out.tar' } });
    expect(parseOutputCsv('./dir')).toEqual({ type: 'local', attrs: { dest: './dir' } });
    process.env['KILN_TEST_SECRET'] = 's3cret';
    expect(parseSecret('id=tok,env=KILN_TEST_SECRET', () => Buffer.alloc(0))).toEqual(['tok', Buffer.from('s3cret').toString('base64')]);
    expect(parseSecret('id=f,src=/x', () => Buffer.from('file'))).toEqual(['f', Buffer.from('file').toString('base64')]);
    expect(() => parseSecret('src=/x', () => Buffer.alloc(0))).toThrow(/id=/);
  });

  it('plain progress prints buildx-style #N lines', () => {
    let out = '';
    const p = plainPrinter((s) => (out += s));
    p.event({ type: 'vertex', jobId: 'j', digest: 'd1', name: '[1/2] RUN a', inputs: [], started: 1000 });
    p.event({ type: 'log', jobId: 'j', vertex: 'd1', stream: 1, data: 'hello\n', timestamp: 1200 });
    p.event({ type: 'vertex', jobId: 'j', digest: 'd1', name: '[1/2] RUN a', inputs: [], started: 1000, completed: 1300 });
    p.event({ type: 'vertex', jobId: 'j', digest: 'd2', name: '[2/2] RUN b', inputs: ['d1'], cached: true });
    expect(out).toBe('#1 [1/2] RUN a\n#1 0.2s hello\n#1 DONE 0.3s\n\n#2 [2/2] RUN b\n#2 CACHED\n\n');
  });

  it('declares the documented commands and completion scripts name them', () => {
    const names = program(() => {}).commands.map((c) => c.name());
    for (const n of ['build', 'bake', 'graph', 'du', 'prune', 'history', 'debug', 'serve', 'app', 'login', 'completion']) expect(names).toContain(n);
    expect(completion('bash')).toMatch(/complete -F _kiln kiln/);
    expect(completion('zsh')).toMatch(/#compdef kiln/);
  });
});

describe('kiln graph JSON', () => {
  it('resolves ARG-expanded stage names and lists dependencies', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-graph-'));
    const svc = await createControlService({ root, dockerHost: `unix://${root}/none.sock` });
    try {
      const dockerfile = [
        'ARG CROSS=arm',
        'FROM busybox AS cross-arm',
        'RUN echo arm',
        'FROM busybox AS cross-x86',
        'RUN echo x86',
        'FROM cross-${CROSS} AS tool',
        'RUN echo tool',
        'FROM busybox AS deps',
        'RUN --mount=from=tool,target=/t ls /t',
        'FROM scratch',
        'COPY --from=deps /etc /etc',
        'COPY --from=tool /bin /bin',
      ].join('\n');
      const g = await svc.graph({ kind: 'dockerfile', dockerfile, context: root });
      const table = g.stages.map((s) => [s.name, s.base, [...s.dependsOn].sort()]);
      expect(table).toEqual([
        ['cross-arm', 'busybox', ['busybox']],
        ['cross-x86', 'busybox', ['busybox']],
        ['tool', 'cross-arm', ['cross-arm']],
        ['deps', 'busybox', ['busybox', 'tool']],
        ['4', 'scratch', ['deps', 'tool']],
      ]);
      const g2 = await svc.graph({ kind: 'dockerfile', dockerfile, context: root, buildArgs: { CROSS: 'x86' } });
      expect(g2.stages[2]!.base).toBe('cross-x86');
    } finally {
      await svc.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
