// Dockerfile → LLB, after BuildKit's dockerfile2llb. Each stage is dispatched once, on demand,
// starting from the target, so only the stages the target needs become vertices. The image config
// and its history are built alongside, exactly as BuildKit writes them.
import fs from 'node:fs';
import path from 'node:path';
import type { BuildWarning, SourceLocation, VertexInput, VertexMetadata } from '../../../llb/definition.js';
import type { ImageConfig } from '../../../llb/image.js';
import type { ChownOpt, ExecOp, FileAction, Mount, Platform } from '../../../llb/ops.js';
import type { ResolvedImage } from '../../../worker/types.js';
import { parse } from '../parser/index.js';
import { DockerfileParseError } from '../parser/errors.js';
import { ShellLex } from '../shell/lex.js';
import { DockerfileError, suggestSuffix } from '../errors.js';
import { parseDockerfileAST, parseInstruction } from '../instructions/parse.js';
import type { CopyInstruction, Instruction, ParsedDockerfile, RunInstruction, Stage } from '../instructions/types.js';
import { LLBGraph, type StateRef } from './graph.js';
import { goList, goQuoteList, goSetMap, healthcheckHistory } from './gofmt.js';
import { parseMount } from './mounts.js';
import { linkName, runLexer, runName, stepName } from './names.js';
import { excludingRule, parseIgnoreText as parseIgnoreLines } from './ignore.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];
const HISTORY_COMMENT = 'buildkit.dockerfile.v0';

export interface ConvertOptions {
  dockerfile: string;
  filename?: string;
  target?: string;
  buildArgs?: Record<string, string>;
  /** name → local path, or docker-image://ref */
  buildContexts?: Record<string, string>;
  contextName?: string;
  resolveImage: (ref: string) => Promise<ResolvedImage>;
  platform?: string;
  /** .dockerignore text (the caller reads `<Dockerfile>.dockerignore` or `.dockerignore`) */
  dockerignore?: string;
  /** the main context directory, when local: lets missing COPY sources fail early and clearly */
  contextDir?: string;
  /** RUN --security=insecure is refused unless the caller grants it */
  allowInsecure?: boolean;
}

export interface StageInfo {
  name: string;
  index: number;
  base: string;
  dependsOn: string[];
  location: SourceLocation;
}

interface StageState {
  stage: Stage;
  label: string;
  state: StateRef;
  image: ImageConfig;
  /** declared ARGs of the stage, in order, with resolved values */
  args: { key: string; value?: string }[];
  cmdSet: boolean;
  step: number;
  total: number;
  done: boolean;
  busy: boolean;
  /** what dispatching the stage read, in order: stage names, named contexts, image refs */
  deps: Set<string>;
}

export function parsePlatform(p: string | undefined): Platform {
  if (!p) {
    const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch;
    return { os: 'linux', architecture: arch };
  }
  const [os, architecture, variant] = p.split('/');
  return { os: os!, architecture: architecture ?? 'amd64', ...(variant ? { variant } : {}) };
}

function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function platformArgs(target: Platform, build: Platform): Map<string, string> {
  return new Map([
    ['TARGETPLATFORM', platformString(target)],
    ['TARGETOS', target.os],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
    ['BUILDPLATFORM', platformString(build)],
    ['BUILDOS', build.os],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
  ]);
}

function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

function envGet(env: string[] | undefined, key: string): string | undefined {
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if ((i < 0 ? e : e.slice(0, i)) === key) return i < 0 ? '' : e.slice(i + 1);
  }
  return undefined;
}

function envSet(env: string[], key: string, value: string): string[] {
  const out = env.filter((e) => (e.indexOf('=') < 0 ? e : e.slice(0, e.indexOf('='))) !== key);
  const idx = env.findIndex((e) => (e.indexOf('=') < 0 ? e : e.slice(0, e.indexOf('='))) === key);
  if (idx >= 0) {
    const copy = [...env];
    copy[idx] = `${key}=${value}`;
    return copy;
  }
  return [...out, `${key}=${value}`];
}

function parseChown(s: string): ChownOpt {
  const [u, g] = s.split(':');
  const conv = (x: string | undefined) => (x === undefined || x === '' ? undefined : /^\d+$/.test(x) ? Number(x) : x);
  const out: ChownOpt = {};
  const user = conv(u);
  const group = conv(g);
  if (user !== undefined) out.user = user;
  if (group !== undefined) out.group = group;
  return out;
}

function isURL(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

function isGitURL(s: string): boolean {
  return /^git@[^:]+:/.test(s) || /^git:\/\//.test(s) || (/^https?:\/\//.test(s) && /\.git(#.*)?$/.test(s));
}

function hasWildcard(s: string): boolean {
  return /[*?[]/.test(s);
}

function normalizePorts(words: string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const [portPart, proto = 'tcp'] = w.split('/');
    const range = /^(\d+)-(\d+)$/.exec(portPart!);
    if (range) {
      for (let p = Number(range[1]); p <= Number(range[2]); p++) out.push(`${p}/${proto.toLowerCase()}`);
    } else if (/^\d+$/.test(portPart!)) out.push(`${portPart}/${proto.toLowerCase()}`);
    else throw new Error(`invalid containerPort: ${portPart}`);
  }
  return out;
}

export class Converter {
  readonly graph = new LLBGraph();
  readonly warnings: BuildWarning[] = [];
  readonly file: string;
  readonly parsed: ParsedDockerfile;
  private states: StageState[] = [];
  private lex: ShellLex;
  /** names RUN steps the way BuildKit prints them (quotes kept, unset variables as written) */
  private runLex: ShellLex;
  private target: Platform;
  private build: Platform;
  private metaArgs = new Map<string, string | undefined>();
  private buildArgs: Record<string, string>;
  private ignore: string[];
  private images = new Map<string, Promise<ResolvedImage>>();
  private usedBuildArgs = new Set<string>();

  constructor(private opts: ConvertOptions) {
    this.file = opts.filename ?? 'Dockerfile';
    let res: ReturnType<typeof parse>;
    try {
      res = parse(opts.dockerfile, this.file);
    } catch (e) {
      // one error type for every frontend failure, with the excerpt the parser cannot make
      if (e instanceof DockerfileParseError) throw new DockerfileError(e.reason, e.location, opts.dockerfile);
      throw e;
    }
    for (const w of res.warnings) {
      this.warnings.push({ rule: 'Parse', message: w.short, url: w.url, location: { file: this.file, startLine: w.location.start.line, endLine: w.location.end.line } });
    }
    this.lex = new ShellLex(res.directives.escape ?? '\\');
    this.runLex = runLexer(this.lex.escapeToken);
    this.parsed = parseDockerfileAST(res.ast, this.file, opts.dockerfile);
    this.target = parsePlatform(opts.platform);
    this.build = parsePlatform(undefined);
    this.buildArgs = opts.buildArgs ?? {};
    this.ignore = opts.dockerignore ? parseIgnoreLines(opts.dockerignore) : [];
    // global ARGs: platform args are automatic; the rest take --build-arg over their default
    const auto = platformArgs(this.target, this.build);
    for (const [k, v] of auto) this.metaArgs.set(k, v);
    for (const a of this.parsed.metaArgs) {
      for (const kv of a.args) {
        const env = this.metaEnv();
        const def = kv.value === undefined ? undefined : this.expand(kv.value, env, a);
        const v = this.buildArgs[kv.key] ?? def;
        if (kv.key in this.buildArgs) this.usedBuildArgs.add(kv.key);
        this.metaArgs.set(kv.key, v);
      }
    }
    this.states = this.parsed.stages.map((stage) => ({
      stage,
      label: stage.name ?? `stage-${stage.index}`,
      state: null,
      image: { architecture: this.target.architecture, os: this.target.os, config: {} },
      args: [],
      cmdSet: false,
      step: 0,
      total: 1 + stage.commands.filter((c) => ['run', 'copy', 'add', 'workdir'].includes(c.kind)).length,
      done: false,
      busy: false,
      deps: new Set<string>(),
    }));
  }

  private metaEnv(): Map<string, string> {
    const m = new Map<string, string>();
    for (const [k, v] of this.metaArgs) if (v !== undefined) m.set(k, v);
    return m;
  }

  private fail(msg: string, ins: { location: SourceLocation }): never {
    throw new DockerfileError(msg, ins.location, this.opts.dockerfile);
  }

  warn(rule: string, message: string, location: SourceLocation): void {
    this.warnings.push({ rule, message, location, url: `https://docs.docker.com/go/dockerfile/rule/${rule.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}/` });
  }

  /** Word expansion that also reports references to unset variables (UndefinedVar). */
  private expand(word: string, env: Map<string, string>, ins: Instruction, rule = 'UndefinedVar'): string {
    try {
      const r = this.lex.processWordWithMatches(word, env);
      for (const name of r.unmatched) {
        if (rule === 'UndefinedArgInFrom') this.warn(rule, `FROM argument '${name}' is not declared${suggestSuffix(name, env.keys())}`, ins.location);
        else this.warn(rule, `Usage of undefined variable '$${name}'${suggestSuffix(name, env.keys())}`, ins.location);
      }
      return r.result;
    } catch (e) {
      return this.fail((e as Error).message, ins);
    }
  }

  private expandWords(word: string, env: Map<string, string>, ins: Instruction): string[] {
    try {
      return this.lex.processWords(word, env);
    } catch (e) {
      return this.fail((e as Error).message, ins);
    }
  }

  /** The env that instruction arguments are expanded with: stage ARGs, then ENV over them. */
  private stageEnv(s: StageState): Map<string, string> {
    const m = new Map<string, string>();
    for (const a of s.args) if (a.value !== undefined) m.set(a.key, a.value);
    for (const e of s.image.config.Env ?? []) {
      const i = e.indexOf('=');
      m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
    }
    return m;
  }

  resolveImage(ref: string): Promise<ResolvedImage> {
    let p = this.images.get(ref);
    if (!p) {
      p = this.opts.resolveImage(ref);
      this.images.set(ref, p);
    }
    return p;
  }

  findStage(name: string, before?: number): StageState | undefined {
    const n = name.toLowerCase();
    if (/^\d+$/.test(n)) {
      const idx = Number(n);
      if (before !== undefined && idx >= before) return undefined;
      return this.states[idx];
    }
    return this.states.find((s) => s.stage.name === n && (before === undefined || s.stage.index !== before));
  }

  targetStage(): StageState {
    const t = this.opts.target;
    if (!t) return this.states[this.states.length - 1]!;
    const s = this.states.find((x) => x.stage.name === t.toLowerCase());
    if (!s) {
      const names = this.states.map((x) => x.stage.name).filter((x): x is string => !!x);
      throw new DockerfileError(`target stage "${t}" could not be found${suggestSuffix(t, names)}`, { file: this.file, startLine: 1, endLine: 1 }, this.opts.dockerfile);
    }
    return s;
  }

  private meta(s: StageState, ins: Instruction, text: string, step: boolean): VertexMetadata {
    if (step) s.step++;
    const multi = this.states.length > 1 || s.stage.name !== undefined;
    // BuildKit pads the step number to the width of the total: "[ 2/12]"
    const n = String(s.step).padStart(String(s.total).length);
    const prefix = multi ? `[${s.label} ${n}/${s.total}]` : `[${n}/${s.total}]`;
    return {
      description: text,
      progressName: `${prefix} ${text}`,
      group: s.label,
      location: [{ ...ins.location }],
    };
  }

  private history(s: StageState, createdBy: string, empty: boolean): void {
    (s.image.history ??= []).push({ created_by: createdBy, comment: HISTORY_COMMENT, ...(empty ? { empty_layer: true } : {}) });
  }

  /** A source for --from / FROM / mount from: a stage, a named context, or an image. */
  private async sourceFor(name: string, ins: Instruction, current: number, plat: Platform = this.target): Promise<{ state: StateRef; image?: ImageConfig; stage?: StageState }> {
    const st = this.findStage(name, current);
    const deps = this.states[current]?.deps;
    if (st && st.stage.index !== current) {
      deps?.add(st.stage.name ?? String(st.stage.index));
      await this.dispatch(st, ins);
      return { state: st.state, image: st.image, stage: st };
    }
    if (/^\d+$/.test(name)) this.fail(`invalid from flag value ${name}: refers to a stage that is not defined before this one`, ins);
    const ctx = this.opts.buildContexts?.[name];
    if (name !== 'scratch' || ctx !== undefined) deps?.add(name);
    if (ctx !== undefined) {
      if (ctx.startsWith('docker-image://')) return this.imageSource(ctx.slice('docker-image://'.length), ins, plat);
      return { state: this.localSource(name, []) };
    }
    return this.imageSource(name, ins, plat);
  }

  private async imageSource(ref: string, ins: Instruction, plat: Platform): Promise<{ state: StateRef; image: ImageConfig }> {
    if (ref === 'scratch') return { state: null, image: this.emptyImage() };
    let img: ResolvedImage;
    try {
      img = await this.resolveImage(ref);
    } catch (e) {
      return this.fail(`failed to resolve source metadata for ${ref}: ${(e as Error).message}`, ins);
    }
    const state = this.graph.add({ kind: 'source', identifier: `docker-image://${ref}`, platform: plat }, [], {
      description: `[internal] load metadata for ${ref}`,
      location: [{ ...ins.location }],
    });
    return { state, image: img.config };
  }

  private emptyImage(): ImageConfig {
    return { architecture: this.target.architecture, os: this.target.os, ...(this.target.variant ? { variant: this.target.variant } : {}), config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' }, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
  }

  private localSource(name: string, exclude: string[]): VertexInput {
    const attrs: Record<string, string> = {};
    if (exclude.length) attrs['excludePatterns'] = JSON.stringify(exclude);
    return this.graph.add({ kind: 'source', identifier: `local://${name}`, ...(Object.keys(attrs).length ? { attrs } : {}) }, [], {
      description: `[internal] load build context ${name}`,
    });
  }

  private contextSource(): VertexInput {
    return this.localSource(this.opts.contextName ?? 'context', this.ignore);
  }

  /** Dispatch a stage (and, first, what it depends on). */
  async dispatch(s: StageState, from?: Instruction): Promise<void> {
    if (s.done) return;
    if (s.busy) this.fail(`circular dependency detected on stage: ${s.label}`, from ?? s.stage.from);
    s.busy = true;
    const f = s.stage.from;
    const meta = this.metaEnv();
    const baseName = this.expand(f.image, meta, f, 'UndefinedArgInFrom');
    // FROM --platform changes this stage's platform only; TARGET* args keep the build's target
    const plat = f.platform ? parsePlatform(this.expand(f.platform, meta, f, 'UndefinedArgInFrom')) : this.target;
    const lower = baseName.toLowerCase();
    const parent = this.findStage(lower, s.stage.index);
    let onbuild: string[] = [];
    if (parent && parent.stage.index < s.stage.index && parent.stage.name === lower) {
      s.deps.add(lower);
      await this.dispatch(parent, f);
      s.state = parent.state;
      s.image = clone(parent.image);
      onbuild = s.image.config.OnBuild ?? [];
    } else {
      const src = await this.sourceFor(baseName, f, s.stage.index, plat);
      s.state = src.state;
      s.image = clone(src.image ?? this.emptyImage());
      s.image.history ??= [];
      onbuild = s.image.config.OnBuild ?? [];
      if (s.state) this.meta(s, f, `FROM ${baseName}`, true);
      else s.step++;
    }
    s.image.architecture = plat.architecture;
    s.image.os = plat.os;
    if (plat.variant) s.image.variant = plat.variant;
    else delete s.image.variant;
    delete s.image.config.OnBuild;
    delete s.image.created;
    delete s.image.rootfs;
    // ONBUILD triggers of the base run first, as if written right after FROM
    for (const trigger of onbuild) {
      const res = parse(trigger, this.file);
      for (const node of res.ast.children) {
        node.startLine = f.location.startLine;
        node.endLine = f.location.endLine;
        const ins = parseInstruction(node, this.file, this.opts.dockerfile);
        await this.command(s, ins);
      }
    }
    for (const ins of s.stage.commands) await this.command(s, ins);
    s.busy = false;
    s.done = true;
  }

  private async command(s: StageState, ins: Instruction): Promise<void> {
    const env = this.stageEnv(s);
    const cfg = s.image.config;
    switch (ins.kind) {
      case 'env': {
        const parts: string[] = [];
        let e = cfg.Env ?? [];
        for (const p of ins.pairs) {
          const key = this.expand(p.key, env, ins);
          const value = this.expand(p.value, env, ins);
          e = envSet(e, key, value);
          parts.push(`${key}=${value}`);
        }
        cfg.Env = e;
        this.history(s, `ENV ${parts.join(' ')}`, true);
        return;
      }
      case 'arg': {
        const parts: string[] = [];
        for (const a of ins.args) {
          const def = a.value === undefined ? undefined : this.expand(a.value, env, ins);
          parts.push(def === undefined ? a.key : `${a.key}=${def}`);
          let v: string | undefined = def;
          if (a.key in this.buildArgs) {
            v = this.buildArgs[a.key];
            this.usedBuildArgs.add(a.key);
          } else if (v === undefined && this.metaArgs.has(a.key)) v = this.metaArgs.get(a.key);
          s.args = s.args.filter((x) => x.key !== a.key);
          s.args.push({ key: a.key, value: v });
          env.set(a.key, v ?? '');
        }
        this.history(s, `ARG ${parts.join(' ')}`, true);
        return;
      }
      case 'label': {
        const parts: string[] = [];
        cfg.Labels ??= {};
        for (const p of ins.pairs) {
          const key = this.expand(p.key, env, ins);
          const value = this.expand(p.value, env, ins);
          cfg.Labels[key] = value;
          parts.push(`${key}=${value}`);
        }
        this.history(s, `LABEL ${parts.join(' ')}`, true);
        return;
      }
      case 'maintainer':
        s.image.author = ins.maintainer;
        this.history(s, `MAINTAINER ${ins.maintainer}`, true);
        return;
      case 'user': {
        const u = this.expand(ins.user, env, ins);
        cfg.User = u;
        this.history(s, `USER ${u}`, true);
        return;
      }
      case 'shell':
        cfg.Shell = [...ins.shell];
        this.history(s, `SHELL ${goList(ins.shell)}`, true);
        return;
      case 'cmd':
      case 'entrypoint': {
        const shell = cfg.Shell ?? ['/bin/sh', '-c'];
        const args = ins.prependShell ? [...shell, ins.cmd.join(' ')] : [...ins.cmd];
        if (ins.kind === 'cmd') {
          cfg.Cmd = args;
          s.cmdSet = true;
          // BuildKit 20.10 marks CMD (only CMD) as already escaped
          cfg.ArgsEscaped = true;
        } else {
          cfg.Entrypoint = args;
          if (!s.cmdSet) cfg.Cmd = null;
        }
        this.history(s, `${ins.kind.toUpperCase()} ${goQuoteList(args)}`, true);
        return;
      }
      case 'expose': {
        const words = ins.ports.flatMap((p) => this.expandWords(p, env, ins));
        let ports: string[];
        try {
          ports = normalizePorts(words);
        } catch (e) {
          return this.fail((e as Error).message, ins);
        }
        cfg.ExposedPorts ??= {};
        for (const p of ports) cfg.ExposedPorts[p] = {};
        this.history(s, `EXPOSE ${goSetMap(ports)}`, true);
        return;
      }
      case 'volume': {
        const vols = ins.volumes.map((v) => this.expand(v, env, ins));
        cfg.Volumes ??= {};
        for (const v of vols) {
          if (v.trim() === '') this.fail('VOLUME specified can not be an empty string', ins);
          cfg.Volumes[v] = {};
        }
        this.history(s, `VOLUME ${goList(vols)}`, true);
        return;
      }
      case 'stopsignal': {
        const sig = this.expand(ins.signal, env, ins);
        cfg.StopSignal = sig;
        this.history(s, `STOPSIGNAL ${sig}`, true);
        return;
      }
      case 'healthcheck': {
        const h: NonNullable<typeof cfg.Healthcheck> = { Test: ins.test };
        if (ins.interval) h.Interval = ins.interval;
        if (ins.timeout) h.Timeout = ins.timeout;
        if (ins.startPeriod) h.StartPeriod = ins.startPeriod;
        if (ins.startInterval) h.StartInterval = ins.startInterval;
        if (ins.retries) h.Retries = ins.retries;
        cfg.Healthcheck = h;
        this.history(s, healthcheckHistory(h), true);
        return;
      }
      case 'onbuild':
        cfg.OnBuild = [...(cfg.OnBuild ?? []), ins.expression];
        return;
      case 'workdir': {
        const p = this.expand(ins.path, env, ins);
        const wd = path.posix.resolve('/', cfg.WorkingDir || '/', p);
        cfg.WorkingDir = wd;
        const owner = cfg.User ? parseChown(cfg.User) : undefined;
        const action: FileAction = { action: 'mkdir', path: wd, mode: 0o755, makeParents: true, ...(owner ? { owner } : {}) };
        const inputs = s.state ? [s.state] : [];
        s.state = this.graph.add({ kind: 'file', base: s.state ? 0 : -1, actions: [action] }, inputs, this.meta(s, ins, stepName(this.lex, ins.original, env), true));
        this.history(s, `WORKDIR ${wd}`, false);
        return;
      }
      case 'run':
        return this.run(s, ins, env);
      case 'copy':
      case 'add':
        return this.copy(s, ins, env);
    }
  }

  private async run(s: StageState, ins: RunInstruction, env: Map<string, string>): Promise<void> {
    const cfg = s.image.config;
    const shell = cfg.Shell ?? ['/bin/sh', '-c'];
    let args: string[];
    if (ins.prependShell) {
      let line = ins.cmd.join(' ');
      if (ins.heredocs.length) {
        const only = ins.heredocs.length === 1 && /^<<-?["']?[A-Za-z0-9_]+["']?$/.test(line.trim());
        line = only ? ins.heredocs[0]!.content : [line, ...ins.heredocs.map((h) => h.content + h.name)].join('\n');
      }
      args = [...shell, line];
    } else args = [...ins.cmd];

    const inputs: VertexInput[] = [];
    const addInput = (st: StateRef): number => {
      if (!st) return -1;
      inputs.push(st);
      return inputs.length - 1;
    };
    const rootfs = addInput(s.state);
    const mounts: Mount[] = [];
    const secretEnv: NonNullable<ExecOp['secretEnv']> = [];
    let sshIndex = 0;
    for (const spec of ins.mounts) {
      let m;
      try {
        m = parseMount(spec, (v) => this.expand(v, env, ins), sshIndex);
      } catch (e) {
        return this.fail(`RUN --mount: ${(e as Error).message}`, ins);
      }
      const target = m.target ? path.posix.resolve(cfg.WorkingDir || '/', m.target) : m.target;
      switch (m.type) {
        case 'bind':
        case 'cache': {
          let input: number | undefined;
          if (m.from) input = addInput((await this.sourceFor(m.from, ins, s.stage.index)).state);
          else if (m.type === 'bind') input = addInput(this.contextSource());
          const selector = m.source ? path.posix.resolve('/', m.source) : undefined;
          if (m.type === 'bind') mounts.push({ type: 'bind', input: input ?? -1, target, ...(selector && selector !== '/' ? { selector } : {}), readonly: m.readonly });
          else
            mounts.push({
              type: 'cache', target, id: m.id!, sharing: m.sharing,
              ...(input !== undefined ? { input } : {}), ...(selector && selector !== '/' ? { selector } : {}),
              ...(m.readonly && spec.includes('ro') ? { readonly: true } : {}),
              ...(m.uid !== undefined ? { uid: m.uid } : {}), ...(m.gid !== undefined ? { gid: m.gid } : {}), mode: m.mode,
            });
          break;
        }
        case 'tmpfs':
          mounts.push({ type: 'tmpfs', target, ...(m.size ? { size: m.size } : {}) });
          break;
        case 'secret':
          if (m.env) secretEnv.push({ name: m.env, id: m.id!, required: m.required });
          if (m.target) mounts.push({ type: 'secret', target, id: m.id!, uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode, required: m.required });
          break;
        case 'ssh':
          sshIndex++;
          mounts.push({ type: 'ssh', target, id: m.id!, uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode, required: m.required });
          break;
      }
    }
    if (ins.security && ins.security !== 'sandbox' && ins.security !== 'insecure') this.fail(`RUN --security: unsupported value ${ins.security}`, ins);
    if (ins.security === 'insecure' && !this.opts.allowInsecure) {
      this.fail("RUN --security=insecure needs the security.insecure entitlement: allow it explicitly (kiln build --allow security.insecure)", ins);
    }
    if (ins.network && !['default', 'none', 'host'].includes(ins.network)) this.fail(`RUN --network: unsupported network mode ${ins.network}${suggestSuffix(ins.network, ['default', 'none', 'host'])}`, ins);

    // env: image ENV, then stage ARGs that ENV does not override (BuildKit's build-arg env)
    let execEnv = [...(cfg.Env ?? [])];
    const histArgs: string[] = [];
    for (const a of s.args) {
      // history names every stage ARG, with the ENV value when ENV overrides it (BuildKit 20.10)
      const fromEnv = envGet(cfg.Env, a.key);
      histArgs.push(`${a.key}=${fromEnv ?? a.value ?? ''}`);
      if (fromEnv === undefined && a.value !== undefined) execEnv.push(`${a.key}=${a.value}`);
    }
    // proxy args are predefined: usable without ARG, never in history, and kept apart from env so
    // the worker can keep them out of the cache key (unless the stage declared them as ARGs)
    const proxyEnv: string[] = [];
    for (const p of PROXY_ARGS) {
      if (p in this.buildArgs && envGet(execEnv, p) === undefined) proxyEnv.push(`${p}=${this.buildArgs[p]}`);
    }
    if (envGet(execEnv, 'PATH') === undefined) execEnv = [`PATH=${DEFAULT_PATH}`, ...execEnv];
    // as BuildKit's llb.AddSSHSocket: ssh clients in the step find the first agent socket
    const ssh = mounts.find((m) => m.type === 'ssh');
    if (ssh && envGet(execEnv, 'SSH_AUTH_SOCK') === undefined) execEnv.push(`SSH_AUTH_SOCK=${ssh.target}`);

    const op: ExecOp = {
      kind: 'exec',
      rootfs,
      args,
      env: execEnv,
      cwd: cfg.WorkingDir || '/',
      ...(cfg.User ? { user: cfg.User } : {}),
      ...(ins.network && ins.network !== 'default' ? { network: ins.network as ExecOp['network'] } : {}),
      ...(ins.security === 'insecure' ? { security: 'insecure' as const } : {}),
      mounts,
      ...(secretEnv.length ? { secretEnv } : {}),
      ...(proxyEnv.length ? { proxyEnv } : {}),
    };
    const text = runName(this.runLex, ins.original, env, ins.cmd, ins.heredocs, ins.prependShell);
    s.state = this.graph.add(op, inputs, this.meta(s, ins, text, true));
    const cmdText = histArgs.length ? `|${histArgs.length} ${histArgs.join(' ')} ${args.join(' ')}` : args.join(' ');
    this.history(s, `RUN ${cmdText} # buildkit`, false);
  }

  private async copy(s: StageState, ins: CopyInstruction, env: Map<string, string>): Promise<void> {
    const cfg = s.image.config;
    const isAdd = ins.kind === 'add';
    const sources = ins.sources.map((x) => this.expand(x, env, ins));
    const destRaw = this.expand(ins.dest, env, ins);
    const chown = ins.chown ? parseChown(this.expand(ins.chown, env, ins)) : undefined;
    let mode: number | string | undefined;
    if (ins.chmod) {
      const c = this.expand(ins.chmod, env, ins);
      if (/^[0-7]{3,4}$/.test(c)) mode = parseInt(c, 8);
      else if (/^([ugoa]*[-+=][rwxXst]*,?)+$/.test(c)) mode = c;
      else this.fail(`invalid chmod parameter: '${c}'. it should be octal string like '755' or a valid symbolic mode`, ins);
    }
    const heredocNames = new Map(ins.heredocs.map((h) => [h.name, h] as const));
    // a wildcard that matches one file still copies to a file path: only several sources force a dir
    const multi = sources.length > 1;
    if (sources.length > 1 && !destRaw.endsWith('/')) {
      this.fail(`When using ${ins.kind.toUpperCase()} with more than one source file, the destination must be a directory and end with a /`, ins);
    }
    const destDir = destRaw.endsWith('/') || destRaw.endsWith('/.') || destRaw === '.' || multi;
    let dest = path.posix.resolve(cfg.WorkingDir || '/', destRaw);
    if (destDir && !dest.endsWith('/')) dest += '/';

    let srcState: StateRef = null;
    let fromExternal = false;
    if (ins.from) {
      if (isAdd) this.fail('ADD does not support --from', ins);
      const name = this.expand(ins.from, env, ins);
      srcState = (await this.sourceFor(name, ins, s.stage.index)).state;
      fromExternal = true;
    }

    const inputs: VertexInput[] = [];
    const idxOf = (st: StateRef): number => {
      if (!st) return -1;
      const i = inputs.findIndex((x) => x.digest === st.digest && (x.output ?? 0) === (st.output ?? 0));
      if (i >= 0) return i;
      inputs.push(st);
      return inputs.length - 1;
    };
    // the destination base comes first so that index 0 is always the base (or --link's scratch)
    const baseIdx = ins.link ? -1 : idxOf(s.state);
    const actions: FileAction[] = [];
    for (const src of sources) {
      const h = heredocNames.get(src.replace(/^<<-?["']?|["']?$/g, ''));
      if (h && src.startsWith('<<')) {
        const p = destDir ? dest + h.name : dest;
        actions.push({ action: 'mkfile', path: p, mode: typeof mode === 'number' ? mode : 0o644, data: Buffer.from(h.content).toString('base64'), ...(chown ? { owner: chown } : {}) });
        continue;
      }
      let from: StateRef;
      let srcPath: string;
      let unpack = false;
      if (!fromExternal && isAdd && isGitURL(src)) {
        from = this.graph.add({ kind: 'source', identifier: `git://${src.replace(/^[a-z]+:\/\//, '')}`, attrs: { 'git.fullurl': src, ...(ins.keepGitDir ? { 'git.keepgitdir': 'true' } : {}) } }, [], { description: `[internal] git ${src}`, location: [{ ...ins.location }] });
        srcPath = '/';
      } else if (!fromExternal && isAdd && isURL(src)) {
        const u = new URL(src);
        const filename = path.posix.basename(u.pathname) || 'index.html';
        // a downloaded file is 0600 unless --chmod says otherwise, as in BuildKit
        const attrs: Record<string, string> = { filename, chmod: typeof mode === 'number' ? mode.toString(8) : '600' };
        if (ins.checksum) attrs['checksum'] = this.expand(ins.checksum, env, ins);
        from = this.graph.add({ kind: 'source', identifier: src, attrs }, [], { description: `[internal] fetch ${src}`, location: [{ ...ins.location }] });
        srcPath = '/' + filename;
      } else {
        if (ins.checksum) this.fail('checksum can\'t be specified for non-HTTP(S) sources', ins);
        const norm = path.posix.normalize(src);
        if (!fromExternal && (norm === '..' || norm.startsWith('../') || norm.startsWith('/..'))) {
          this.fail(`${ins.kind.toUpperCase()} source ${JSON.stringify(src)} is outside the build context`, ins);
        }
        srcPath = path.posix.resolve('/', src);
        if (!fromExternal) this.checkContextSource(src, srcPath, ins);
        from = fromExternal ? srcState : this.contextSource();
        unpack = isAdd && (ins.unpack ?? true);
      }
      actions.push({
        action: 'copy',
        src: idxOf(from),
        srcPath,
        destPath: dest,
        ...(chown ? { owner: chown } : {}),
        ...(mode !== undefined ? { mode } : {}),
        followSymlinks: true,
        dirCopyContents: true,
        createDestPath: true,
        allowWildcard: true,
        allowEmptyWildcard: true,
        ...(unpack ? { attemptUnpack: true } : {}),
        ...(ins.exclude.length ? { excludePatterns: ins.exclude.map((e) => this.expand(e, env, ins)) } : {}),
        ...(ins.parents ? { parents: true } : {}),
      });
    }
    // the history keeps BuildKit's commit message (no flags); the vertex name is the instruction as written
    const text = `${ins.kind.toUpperCase()} ${[...sources, destRaw].join(' ')}`;
    const name = stepName(this.lex, ins.original, env);
    const meta = this.meta(s, ins, name, true);
    const layer = this.graph.add({ kind: 'file', base: baseIdx, actions }, inputs, meta);
    if (ins.link && s.state) {
      const link = linkName(name);
      s.state = this.graph.add({ kind: 'merge', inputs: [0, 1] }, [s.state, layer], { ...meta, description: link, progressName: meta.progressName!.slice(0, -name.length) + link });
    } else s.state = layer;
    this.history(s, `${text} # buildkit`, false);
  }

  /** With a local context at hand, a missing source fails here, naming the .dockerignore rule. */
  private checkContextSource(src: string, abs: string, ins: Instruction): void {
    const dir = this.opts.contextDir;
    if (!dir || hasWildcard(src)) return;
    const rel = abs.replace(/^\/+/, '');
    if (rel === '') return;
    const rule = excludingRule(this.ignore, rel);
    const exists = fs.existsSync(path.join(dir, rel)) || isSymlink(path.join(dir, rel));
    if (!exists) this.fail(`failed to calculate checksum: "${abs}" not found in the build context`, ins);
    if (rule) this.fail(`"${abs}" not found: it is excluded by .dockerignore rule ${JSON.stringify(rule)}`, ins);
  }

  /** Build the target's graph. */
  async convert(): Promise<{ output: StateRef; image: ImageConfig; stage: StageState }> {
    const t = this.targetStage();
    await this.dispatch(t);
    for (const k of Object.keys(this.buildArgs)) {
      if (!this.usedBuildArgs.has(k) && !PROXY_ARGS.includes(k) && !k.startsWith('BUILDKIT_')) {
        // BuildKit reports unused build args as a warning of its own
        this.warnings.push({ rule: 'UnusedBuildArg', message: `build argument ${JSON.stringify(k)} was not consumed` });
      }
    }
    return { output: t.state, image: t.image, stage: t };
  }

  /**
   * Every stage with what it depends on: stage names, named contexts and image refs (not
   * `scratch`). A dispatched stage reports what its dispatch read (so `--from`, FROM and mount
   * names are expanded exactly as the build expanded them); any other stage is read statically,
   * its names expanded with the global ARGs, the stage's ARGs (build args over defaults) and ENVs.
   */
  stageInfos(): StageInfo[] {
    return this.states.map((s) => {
      const stage = s.stage;
      const meta = this.metaEnv();
      const word = (w: string, env: Map<string, string>) => {
        try {
          return this.lex.processWord(w, env);
        } catch {
          return w; // kept as written
        }
      };
      const base = word(stage.from.image, meta);
      let deps: string[];
      if (s.done) deps = [...s.deps];
      else {
        const out = new Set<string>();
        const add = (n: string) => {
          const st = this.findStage(n.toLowerCase(), stage.index);
          if (st && st.stage.index !== stage.index) out.add(st.stage.name ?? String(st.stage.index));
          else if ((n !== 'scratch' || this.opts.buildContexts?.[n] !== undefined) && !/^\d+$/.test(n)) out.add(n);
        };
        add(base);
        const env = new Map(meta);
        for (const c of stage.commands) {
          if (c.kind === 'arg')
            for (const a of c.args) {
              const def = a.value === undefined ? undefined : word(a.value, env);
              const v = this.buildArgs[a.key] ?? def ?? this.metaArgs.get(a.key);
              env.set(a.key, v ?? '');
            }
          if (c.kind === 'env') for (const p of c.pairs) env.set(word(p.key, env), word(p.value, env));
          if ((c.kind === 'copy' || c.kind === 'add') && c.from) add(word(c.from, env));
          if (c.kind === 'run')
            for (const m of c.mounts) {
              const f = /(?:^|,)from=([^,]+)/.exec(m);
              if (f) add(word(f[1]!, env));
            }
        }
        deps = [...out];
      }
      return { name: stage.name ?? String(stage.index), index: stage.index, base, dependsOn: deps, location: { ...stage.from.location } };
    });
  }
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

