// A typed LLB builder in the spirit of BuildKit's client/llb: States are immutable handles to a
// vertex output (or scratch); run/file/merge make new vertices; marshal() turns the graph reachable
// from a State into a Definition with content digests. Inputs are referred to by State here and by
// index/digest in the marshalled form, so a graph built twice the same way has the same digests.
import type { Definition, DefinitionVertex, SourceLocation, VertexMetadata } from './definition.js';
import type { ChownOpt, ExecOp, FileAction, Mount, NetworkMode, Op, Platform } from './ops.js';
import { vertexDigest } from './vertex-digest.js';

// re-exported: callers that rewrite vertices (engine/control) recompute digests with it
export { vertexDigest };

/** a vertex under construction: its op refers to inputs by index into `inputs` */
interface Node {
  op: Op;
  inputs: Output[];
  metadata?: VertexMetadata;
  /** memoised digest (nodes are immutable once made) */
  digest?: string;
}

interface Output {
  node: Node;
  index: number;
}

/** per-State defaults for run(), like BuildKit's State env/dir/user */
interface StateMeta {
  env: [string, string][];
  cwd: string;
  user?: string;
}

export interface VertexOptions {
  description?: string;
  ignoreCache?: boolean;
  group?: string;
  progressName?: string;
  location?: SourceLocation[];
}

export type RunMount =
  | { type: 'bind'; from: State; target: string; selector?: string; readonly?: boolean }
  | { type: 'cache'; target: string; id: string; sharing?: 'shared' | 'private' | 'locked'; from?: State; selector?: string; readonly?: boolean; uid?: number; gid?: number; mode?: number }
  | { type: 'tmpfs'; target: string; size?: number }
  | { type: 'secret'; target: string; id: string; uid?: number; gid?: number; mode?: number; required?: boolean }
  | { type: 'ssh'; target: string; id?: string; uid?: number; gid?: number; mode?: number; required?: boolean };

export interface RunOptions extends VertexOptions {
  /** argv; or `shell` for `/bin/sh -c <shell>` */
  args?: string[];
  shell?: string;
  env?: Record<string, string> | string[];
  cwd?: string;
  user?: string;
  network?: NetworkMode;
  security?: 'sandbox' | 'insecure';
  mounts?: RunMount[];
  secretEnv?: { name: string; id: string; required?: boolean }[];
  extraHosts?: string[];
  proxyEnv?: string[];
}

/** a file action whose copy source is a State (resolved to an input index at build time) */
export type BuilderAction =
  | Exclude<FileAction, { action: 'copy' }>
  | (Omit<Extract<FileAction, { action: 'copy' }>, 'src'> & { from: State });

export class State {
  /** null = scratch */
  readonly output: Output | null;
  readonly meta: StateMeta;

  constructor(output: Output | null, meta?: StateMeta) {
    this.output = output;
    this.meta = meta ?? { env: [], cwd: '/' };
  }

  /** a copy with an env default for later run() calls */
  env(key: string, value: string): State {
    return new State(this.output, { ...this.meta, env: [...this.meta.env.filter(([k]) => k !== key), [key, value]] });
  }
  dir(cwd: string): State {
    return new State(this.output, { ...this.meta, cwd: cwd.startsWith('/') ? cwd : joinPath(this.meta.cwd, cwd) });
  }
  user(user: string): State {
    return new State(this.output, { ...this.meta, user });
  }

  run(opts: RunOptions | string): ExecState {
    const o: RunOptions = typeof opts === 'string' ? { shell: opts } : opts;
    const args = o.args ?? (o.shell !== undefined ? ['/bin/sh', '-c', o.shell] : undefined);
    if (!args?.length) throw new Error('run: args or shell is required');
    const inputs: Output[] = [];
    const rootfs = this.output ? addInput(inputs, this.output) : -1;
    const env = new Map(this.meta.env);
    if (Array.isArray(o.env)) {
      for (const e of o.env) {
        const i = e.indexOf('=');
        env.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
      }
    } else for (const [k, v] of Object.entries(o.env ?? {})) env.set(k, v);
    // output 0 is the root; every writable bind mount gets the next output index
    let nextOutput = 1;
    const mountOutputs = new Map<string, number>();
    const mounts: Mount[] = (o.mounts ?? []).map((m): Mount => {
      switch (m.type) {
        case 'bind': {
          const input = m.from.output ? addInput(inputs, m.from.output) : -1;
          const out = m.readonly ? undefined : nextOutput++;
          if (out !== undefined) mountOutputs.set(m.target, out);
          return { type: 'bind', input, target: m.target, selector: m.selector, readonly: m.readonly, output: out };
        }
        case 'cache': {
          const input = m.from?.output ? addInput(inputs, m.from.output) : undefined;
          return { type: 'cache', target: m.target, id: m.id, sharing: m.sharing ?? 'shared', input, selector: m.selector, readonly: m.readonly, uid: m.uid, gid: m.gid, mode: m.mode };
        }
        case 'tmpfs':
          return { type: 'tmpfs', target: m.target, size: m.size };
        case 'secret':
          return { type: 'secret', target: m.target, id: m.id, uid: m.uid, gid: m.gid, mode: m.mode, required: m.required };
        case 'ssh':
          return { type: 'ssh', target: m.target, id: m.id ?? 'default', uid: m.uid, gid: m.gid, mode: m.mode, required: m.required };
      }
    });
    const op: ExecOp = {
      kind: 'exec',
      rootfs,
      args,
      env: [...env].map(([k, v]) => `${k}=${v}`),
      cwd: o.cwd ?? this.meta.cwd,
      user: o.user ?? this.meta.user,
      network: o.network,
      security: o.security,
      mounts,
      secretEnv: o.secretEnv,
      extraHosts: o.extraHosts,
      proxyEnv: o.proxyEnv,
    };
    const node: Node = { op, inputs, metadata: metadataOf(o, args.join(' ')) };
    return new ExecState(node, mountOutputs, this.meta);
  }

  /** apply file actions on top of this State (mkdir, mkfile, rm, copy) */
  file(actions: BuilderAction | BuilderAction[], opts: VertexOptions = {}): State {
    const list = Array.isArray(actions) ? actions : [actions];
    const inputs: Output[] = [];
    const base = this.output ? addInput(inputs, this.output) : -1;
    const resolved: FileAction[] = list.map((a): FileAction => {
      if (a.action !== 'copy') return a;
      const { from, ...rest } = a;
      const src = from.output ? addInput(inputs, from.output) : -1;
      return { ...rest, src };
    });
    const node: Node = { op: { kind: 'file', base, actions: resolved }, inputs, metadata: metadataOf(opts, list.map((a) => a.action).join(', ')) };
    return new State({ node, index: 0 }, this.meta);
  }

  /** the Definition of everything this State depends on; its output is this State */
  marshal(opts: { metadata?: Record<string, VertexMetadata> } = {}): Definition {
    const vertices: DefinitionVertex[] = [];
    // by digest, not by node: image('x') built twice is one vertex
    const seen = new Set<string>();
    const visit = (n: Node): void => {
      const digest = nodeDigest(n);
      if (seen.has(digest)) return;
      seen.add(digest);
      for (const i of n.inputs) visit(i.node);
      const meta = { ...n.metadata, ...opts.metadata?.[digest] };
      vertices.push({ digest, op: n.op, inputs: n.inputs.map(inputRef), metadata: Object.keys(meta).length ? meta : undefined });
    };
    if (this.output) visit(this.output.node);
    return { version: 1, vertices, output: this.output ? inputRef(this.output) : null };
  }

  /** the digest of the vertex this State is an output of (undefined for scratch) */
  digest(): string | undefined {
    return this.output ? nodeDigest(this.output.node) : undefined;
  }
}

export class ExecState extends State {
  private readonly mountOutputs: Map<string, number>;
  constructor(node: Node, mountOutputs: Map<string, number>, meta: StateMeta) {
    super({ node, index: 0 }, meta);
    this.mountOutputs = mountOutputs;
  }
  /** the root filesystem after the command */
  root(): State {
    return new State(this.output, this.meta);
  }
  /** the content of a writable bind mount after the command */
  getMount(target: string): State {
    const index = this.mountOutputs.get(target);
    if (index === undefined) throw new Error(`getMount: no writable bind mount at ${target}`);
    return new State({ node: this.output!.node, index }, this.meta);
  }
}

// ---- sources -------------------------------------------------------------------------------

function source(identifier: string, attrs: Record<string, string | undefined>, opts: VertexOptions & { platform?: Platform } = {}): State {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) clean[k] = v;
  const node: Node = {
    op: { kind: 'source', identifier, attrs: Object.keys(clean).length ? clean : undefined, platform: opts.platform },
    inputs: [],
    metadata: metadataOf(opts, identifier),
  };
  return new State({ node, index: 0 });
}

export function scratch(): State {
  return new State(null);
}

export function image(ref: string, opts: VertexOptions & { platform?: Platform } = {}): State {
  return source(`docker-image://${ref}`, {}, opts);
}

export function local(name: string, opts: VertexOptions & { include?: string[]; exclude?: string[]; followPaths?: string[] } = {}): State {
  return source(
    `local://${name}`,
    {
      includePatterns: opts.include?.length ? JSON.stringify(opts.include) : undefined,
      excludePatterns: opts.exclude?.length ? JSON.stringify(opts.exclude) : undefined,
      followPaths: opts.followPaths?.length ? JSON.stringify(opts.followPaths) : undefined,
    },
    opts,
  );
}

export function git(url: string, opts: VertexOptions & { ref?: string; subdir?: string; keepGitDir?: boolean } = {}): State {
  const base = /^[a-z]+:\/\//.test(url) || url.startsWith('git@') ? url : `git://${url}`;
  const frag = opts.ref || opts.subdir ? `#${opts.ref ?? ''}${opts.subdir ? `:${opts.subdir}` : ''}` : '';
  return source(`${base}${frag}`, { keepGitDir: opts.keepGitDir ? 'true' : undefined }, opts);
}

export function http(url: string, opts: VertexOptions & { checksum?: string; filename?: string; chmod?: number; uid?: number; gid?: number } = {}): State {
  return source(
    url,
    {
      checksum: opts.checksum,
      filename: opts.filename,
      chmod: opts.chmod !== undefined ? opts.chmod.toString(8) : undefined,
      uid: opts.uid?.toString(),
      gid: opts.gid?.toString(),
    },
    opts,
  );
}

/** layer states on top of each other, lower first */
export function merge(states: State[], opts: VertexOptions = {}): State {
  const inputs: Output[] = [];
  const idx: number[] = [];
  for (const s of states) if (s.output) idx.push(addInput(inputs, s.output));
  if (idx.length === 0) return scratch();
  const node: Node = { op: { kind: 'merge', inputs: idx }, inputs, metadata: metadataOf(opts, 'merge') };
  return new State({ node, index: 0 });
}

// ---- file action helpers -------------------------------------------------------------------

export function mkdir(path: string, mode = 0o755, opts: { makeParents?: boolean; owner?: ChownOpt; timestamp?: number } = {}): BuilderAction {
  return { action: 'mkdir', path, mode, ...opts };
}

export function mkfile(path: string, mode: number, data: string | Buffer, opts: { owner?: ChownOpt; timestamp?: number } = {}): BuilderAction {
  return { action: 'mkfile', path, mode, data: Buffer.from(data).toString('base64'), ...opts };
}

export function rm(path: string, opts: { allowNotFound?: boolean; allowWildcard?: boolean } = {}): BuilderAction {
  return { action: 'rm', path, ...opts };
}

export type CopyOptions = Omit<Extract<FileAction, { action: 'copy' }>, 'action' | 'src' | 'srcPath' | 'destPath'>;

export function copy(from: State, srcPath: string, destPath: string, opts: CopyOptions = {}): BuilderAction {
  return { action: 'copy', from, srcPath, destPath, ...opts };
}

// ---- internals -----------------------------------------------------------------------------

function addInput(inputs: Output[], o: Output): number {
  const i = inputs.findIndex((x) => x.node === o.node && x.index === o.index);
  if (i >= 0) return i;
  inputs.push(o);
  return inputs.length - 1;
}

function inputRef(o: Output): { digest: string; output?: number } {
  return o.index ? { digest: nodeDigest(o.node), output: o.index } : { digest: nodeDigest(o.node) };
}

function nodeDigest(n: Node): string {
  if (!n.digest) n.digest = vertexDigest(n.op, n.inputs.map(inputRef));
  return n.digest;
}

function metadataOf(o: VertexOptions, fallback: string): VertexMetadata | undefined {
  const m: VertexMetadata = {
    description: o.description ?? fallback,
    ignoreCache: o.ignoreCache || undefined,
    group: o.group,
    progressName: o.progressName,
    location: o.location,
  };
  return m;
}

function joinPath(a: string, b: string): string {
  return (a.endsWith('/') ? a : a + '/') + b;
}
