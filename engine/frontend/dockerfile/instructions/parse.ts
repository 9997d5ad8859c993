// AST → typed instructions and stages. Mirrors BuildKit's instructions.Parse: validates argument
// counts and flags per instruction and groups commands under their FROM.
import type { Node } from '../parser/ast.js';
import { DockerfileError, suggestSuffix } from '../errors.js';
import { parseFlags, parseGoDuration, type FlagSpec } from './flags.js';
import type { Instruction, InstructionLocation, KeyValue, ParsedDockerfile, Stage, ArgInstruction, FromInstruction } from './types.js';

export const INSTRUCTIONS = [
  'add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label',
  'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir',
] as const;

const FLAGS: Record<string, FlagSpec> = {
  from: { strings: ['platform'] },
  run: { arrays: ['mount'], strings: ['network', 'security'] },
  copy: { strings: ['from', 'chown', 'chmod'], bools: ['link', 'parents'], arrays: ['exclude'] },
  add: { strings: ['chown', 'chmod', 'checksum'], bools: ['link', 'keep-git-dir', 'unpack'], arrays: ['exclude'] },
  healthcheck: { strings: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'] },
};

function args(node: Node): string[] {
  const out: string[] = [];
  for (let n = node.next; n; n = n.next) out.push(n.value);
  return out;
}

function locOf(node: Node, file: string): InstructionLocation {
  const loc: InstructionLocation = { file, startLine: node.startLine, endLine: node.endLine };
  if (node.range) {
    loc.startColumn = node.range.start.column;
    loc.endColumn = node.range.end.column;
  }
  return loc;
}

function keywordOf(node: Node): string {
  const m = /^\s*(\S+)/.exec(node.original);
  return m ? m[1]! : node.value;
}

/** Parse one instruction node. `source` is the Dockerfile text (for excerpts). */
export function parseInstruction(node: Node, file: string, source?: string): Instruction {
  const name = node.value.toLowerCase();
  const location = locOf(node, file);
  const base = { name, keyword: keywordOf(node), original: node.original, location, node };
  const fail = (msg: string): never => {
    throw new DockerfileError(msg, location, source);
  };
  if (!(INSTRUCTIONS as readonly string[]).includes(name)) {
    fail(`unknown instruction: ${keywordOf(node)}${suggestSuffix(name, INSTRUCTIONS.map((i) => i.toUpperCase()))}`);
  }
  const flags = parseFlags(name.toUpperCase(), node.flags, FLAGS[name] ?? {}, location, source);
  const a = args(node);
  const json = !!node.attributes.json;
  const need = (n: number, what = 'argument') => {
    if (a.length < n) fail(`${name.toUpperCase()} requires at least ${n === 1 ? 'one ' + what : n + ' ' + what + 's'}`);
  };
  switch (name) {
    case 'from': {
      if (a.length !== 1 && a.length !== 3) fail('FROM requires either one or three arguments');
      if (a.length === 3 && a[1]!.toLowerCase() !== 'as') fail('FROM requires either one or three arguments');
      const stageName = a.length === 3 ? a[2]!.toLowerCase() : undefined;
      if (stageName !== undefined && !/^[a-z][a-z0-9-_.]*$/.test(stageName)) fail(`invalid name for build stage: "${a[2]}", name can't start with a number or contain symbols`);
      return { ...base, kind: 'from', image: a[0]!, stageName, asKeyword: a[1], platform: flags.strings.get('platform') };
    }
    case 'arg': {
      need(1);
      return {
        ...base,
        kind: 'arg',
        args: a.map((w) => {
          const eq = w.indexOf('=');
          if (eq === 0) fail(`ARG names can not be blank`);
          return eq < 0 ? { key: w } : { key: w.slice(0, eq), value: w.slice(eq + 1) };
        }),
      };
    }
    case 'env':
    case 'label': {
      if (a.length === 0) fail(`${name.toUpperCase()} requires at least one argument`);
      const pairs: KeyValue[] = [];
      for (let i = 0; i + 1 < a.length; i += 3) {
        if (a[i] === '') fail(`${name.toUpperCase()} names can not be blank`);
        pairs.push({ key: a[i]!, value: a[i + 1]!, legacy: a[i + 2] !== '=' });
      }
      return { ...base, kind: name, pairs } as Instruction;
    }
    case 'maintainer':
      need(1);
      return { ...base, kind: 'maintainer', maintainer: a.join(' ') };
    case 'run': {
      if (a.length === 0 && node.heredocs.length === 0) fail('RUN requires at least one argument');
      return {
        ...base,
        kind: 'run',
        cmd: a,
        prependShell: !json,
        mounts: flags.arrays.get('mount') ?? [],
        network: flags.strings.get('network'),
        security: flags.strings.get('security'),
        heredocs: node.heredocs,
      };
    }
    case 'cmd':
    case 'entrypoint':
      return { ...base, kind: name, cmd: a, prependShell: !json && a.length > 0 };
    case 'shell':
      if (!json) fail('SHELL requires the arguments to be in JSON form');
      need(1);
      return { ...base, kind: 'shell', shell: a };
    case 'workdir':
      if (a.length !== 1) fail('WORKDIR requires exactly one argument');
      return { ...base, kind: 'workdir', path: a[0]! };
    case 'user':
      if (a.length !== 1) fail('USER requires exactly one argument');
      return { ...base, kind: 'user', user: a[0]! };
    case 'expose':
      need(1);
      return { ...base, kind: 'expose', ports: a };
    case 'volume':
      need(1);
      return { ...base, kind: 'volume', volumes: a.filter((v) => v.trim() !== '') };
    case 'stopsignal':
      if (a.length !== 1) fail('STOPSIGNAL requires exactly one argument');
      return { ...base, kind: 'stopsignal', signal: a[0]! };
    case 'healthcheck': {
      need(1);
      const typ = a[0]!.toUpperCase();
      if (typ === 'NONE') {
        if (a.length > 1 || node.flags.length > 0) fail('HEALTHCHECK NONE takes no arguments');
        return { ...base, kind: 'healthcheck', test: ['NONE'] };
      }
      if (typ !== 'CMD') fail(`Unknown type ${JSON.stringify(a[0])} in HEALTHCHECK (try CMD)`);
      const rest = a.slice(1);
      if (rest.length === 0) fail('Missing command after HEALTHCHECK CMD');
      const test = json ? ['CMD', ...rest] : ['CMD-SHELL', rest.join(' ')];
      const dur = (f: string): number | undefined => {
        const v = flags.strings.get(f);
        if (v === undefined) return undefined;
        let d: number;
        try {
          d = parseGoDuration(v);
        } catch (e) {
          return fail(`${(e as Error).message}`);
        }
        if (d !== 0 && d < 1e6) fail(`Interval "${f}" cannot be less than 1ms`);
        return d;
      };
      const retriesRaw = flags.strings.get('retries');
      let retries: number | undefined;
      if (retriesRaw !== undefined) {
        retries = Number(retriesRaw);
        if (!Number.isInteger(retries)) fail(`HEALTHCHECK: invalid --retries ${retriesRaw}`);
        if (retries < 0) fail('--retries cannot be negative');
      }
      return {
        ...base,
        kind: 'healthcheck',
        test,
        interval: dur('interval'),
        timeout: dur('timeout'),
        startPeriod: dur('start-period'),
        startInterval: dur('start-interval'),
        retries,
      };
    }
    case 'onbuild': {
      const sub = node.next?.children[0];
      const expr = node.original.replace(/^\s*onbuild\s+/i, '');
      const subName = (sub?.value ?? expr.split(/\s+/)[0] ?? '').toLowerCase();
      if (subName === 'onbuild') fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (subName === 'from' || subName === 'maintainer') fail(`${subName.toUpperCase()} isn't allowed as an ONBUILD trigger`);
      return { ...base, kind: 'onbuild', expression: expr };
    }
    case 'copy':
    case 'add': {
      if (a.length < 2 && !(a.length === 1 && node.heredocs.length > 0)) fail(`${name.toUpperCase()} requires at least two arguments, but only one was provided. Destination could not be determined`);
      if (a.length < 2) fail(`${name.toUpperCase()} requires at least two arguments`);
      return {
        ...base,
        kind: name,
        sources: a.slice(0, -1),
        dest: a[a.length - 1]!,
        from: flags.strings.get('from'),
        chown: flags.strings.get('chown'),
        chmod: flags.strings.get('chmod'),
        link: flags.bools.get('link') ?? false,
        parents: flags.bools.get('parents') ?? false,
        exclude: flags.arrays.get('exclude') ?? [],
        checksum: flags.strings.get('checksum'),
        keepGitDir: flags.bools.get('keep-git-dir'),
        unpack: flags.bools.get('unpack'),
        heredocs: node.heredocs,
      } as Instruction;
    }
  }
  return fail(`unknown instruction: ${name}`);
}

/** The whole file: meta ARGs, then stages. */
export function parseDockerfileAST(root: Node, file: string, source?: string): ParsedDockerfile {
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  const all: Instruction[] = [];
  for (const child of root.children) {
    const ins = parseInstruction(child, file, source);
    all.push(ins);
    if (ins.kind === 'from') {
      stages.push({ name: (ins as FromInstruction).stageName, index: stages.length, from: ins as FromInstruction, commands: [] });
    } else if (stages.length === 0) {
      if (ins.kind !== 'arg') throw new DockerfileError(`no build stage in current context`, ins.location, source);
      metaArgs.push(ins);
    } else {
      stages[stages.length - 1]!.commands.push(ins);
    }
  }
  if (stages.length === 0) {
    throw new DockerfileError('the Dockerfile has no build stage (no FROM instruction)', { file, startLine: 1, endLine: 1 }, source);
  }
  return { metaArgs, stages, all };
}
