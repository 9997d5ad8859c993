// Graph document → LLB Definition. Each node becomes at most one vertex (metadata.location.nodeId
// names it, so the editor maps status events back onto nodes); exporters and config nodes add no
// vertex — they decide what is exported and with which image config.
import type { Definition, BuildWarning, VertexInput } from '../../llb/definition.js';
import type { ImageConfig } from '../../llb/image.js';
import type { Mount, FileAction, ChownOpt } from '../../llb/ops.js';
import { LLBGraph } from '../dockerfile/convert/graph.js';
import type { GraphDocument, GraphMount } from './document.js';
import { isExporter } from './ports.js';
import { validateGraphDocument } from './validate.js';

export interface GraphToLLBOptions {
  /** the base image's config, so image nodes carry env/cmd into the exported image */
  resolveImage?: (ref: string) => Promise<{ config: ImageConfig }>;
  /** build up to this node (default: the single exporter's input, else the single sink) */
  target?: string;
  platform?: { os: string; architecture: string; variant?: string };
}

export interface GraphToLLBResult {
  definition: Definition;
  imageConfig?: ImageConfig;
  warnings: BuildWarning[];
  /** node id → vertex digest (nodes without a vertex — config, exporters — map to their input's) */
  nodeVertex: Record<string, string>;
  /** the node whose result is the output */
  targetNode: string;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export async function graphToLLB(input: unknown, opts: GraphToLLBOptions = {}): Promise<GraphToLLBResult> {
  const doc = validateGraphDocument(input);
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const g = new LLBGraph();
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const states = new Map<string, { fs: VertexInput | null; config: ImageConfig }>();
  const nodeVertex: Record<string, string> = {};
  const warnings: BuildWarning[] = [];
  const into = (id: string, port: string) => doc.edges.filter((e) => e.target === id && e.targetPort === port).map((e) => e.source);

  const emptyConfig = (): ImageConfig => ({ architecture: platform.architecture, os: platform.os, config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' }, rootfs: { type: 'layers', diff_ids: [] }, history: [] });

  const build = async (id: string): Promise<{ fs: VertexInput | null; config: ImageConfig }> => {
    const done = states.get(id);
    if (done) return done;
    const n = byId.get(id)!;
    const meta = (description: string) => ({ description, location: [{ file: doc.name ?? 'graph', startLine: n.location?.startLine ?? 0, endLine: n.location?.endLine ?? 0, nodeId: n.id }] });
    const one = async (port: string) => {
      const src = into(id, port)[0];
      return src ? build(src) : { fs: null, config: emptyConfig() };
    };
    const p = n.params as Record<string, any>;
    let out: { fs: VertexInput | null; config: ImageConfig };
    switch (n.kind) {
      case 'scratch':
        out = { fs: null, config: emptyConfig() };
        break;
      case 'image': {
        const fs = g.add({ kind: 'source', identifier: `docker-image://${p.ref}`, platform }, [], meta(`[${n.id}] FROM ${p.ref}`));
        const resolved = opts.resolveImage ? (await opts.resolveImage(p.ref)).config : emptyConfig();
        out = { fs, config: structuredClone(resolved) };
        break;
      }
      case 'local': {
        const attrs: Record<string, string> = {};
        if (p.include?.length) attrs['includePatterns'] = JSON.stringify(p.include);
        if (p.exclude?.length) attrs['excludePatterns'] = JSON.stringify(p.exclude);
        out = { fs: g.add({ kind: 'source', identifier: `local://${p.name}`, ...(Object.keys(attrs).length ? { attrs } : {}) }, [], meta(`[${n.id}] local ${p.name}`)), config: emptyConfig() };
        break;
      }
      case 'git': {
        const url = String(p.url);
        const frag = p.ref || p.subdir ? `#${p.ref ?? ''}${p.subdir ? ':' + p.subdir : ''}` : '';
        const attrs: Record<string, string> = { 'git.fullurl': url + frag };
        if (p.keepGitDir) attrs['git.keepgitdir'] = 'true';
        out = { fs: g.add({ kind: 'source', identifier: `git://${url.replace(/^[a-z]+:\/\//, '')}${frag}`, attrs }, [], meta(`[${n.id}] git ${url}`)), config: emptyConfig() };
        break;
      }
      case 'http': {
        const u = new URL(p.url);
        const attrs: Record<string, string> = { filename: p.filename ?? (u.pathname.split('/').pop() || 'index.html'), chmod: (p.chmod ?? 0o644).toString(8) };
        if (p.checksum) attrs['checksum'] = p.checksum;
        out = { fs: g.add({ kind: 'source', identifier: p.url, attrs }, [], meta(`[${n.id}] http ${p.url}`)), config: emptyConfig() };
        break;
      }
      case 'run': {
        const base = await one('in');
        const inputs: VertexInput[] = [];
        const idx = (s: VertexInput | null) => (s ? inputs.push(s) - 1 : -1);
        const rootfs = idx(base.fs);
        const mounts: Mount[] = [{ type: 'bind', input: rootfs, target: '/', output: 0 }];
        const ms = p.mounts as GraphMount[];
        for (let i = 0; i < ms.length; i++) {
          const m = ms[i]!;
          const src = into(id, `mount${i}`)[0];
          const srcFs = src ? (await build(src)).fs : null;
          if (m.type === 'bind') mounts.push({ type: 'bind', input: idx(srcFs), target: m.target, ...(m.selector ? { selector: m.selector } : {}), readonly: m.readonly ?? true });
          else if (m.type === 'cache') mounts.push({ type: 'cache', target: m.target, id: m.id ?? m.target, sharing: m.sharing ?? 'shared', ...(src ? { input: idx(srcFs) } : {}) });
          else if (m.type === 'secret') mounts.push({ type: 'secret', target: m.target, id: m.id, required: m.required ?? false });
          else mounts.push({ type: 'tmpfs', target: m.target, ...(m.size ? { size: m.size } : {}) });
        }
        const imgEnv = base.config.config.Env ?? [`PATH=${DEFAULT_PATH}`];
        const env = [...imgEnv.filter((e) => !(e.split('=')[0]! in p.env)), ...Object.entries(p.env as Record<string, string>).map(([k, v]) => `${k}=${v}`)];
        const args = p.shell ? [...(base.config.config.Shell ?? ['/bin/sh', '-c']), p.command] : (p.args ?? [p.command]);
        const cwd = p.workdir ?? base.config.config.WorkingDir ?? '/';
        const user = p.user ?? base.config.config.User;
        const fs = g.add({ kind: 'exec', rootfs, args, env, cwd: cwd || '/', ...(user ? { user } : {}), ...(p.network ? { network: p.network } : {}), mounts }, inputs, meta(`[${n.id}] RUN ${p.command}`));
        out = { fs, config: base.config };
        break;
      }
      case 'copy': {
        const dest = await one('in');
        const from = await one('from');
        const inputs: VertexInput[] = [];
        const idx = (s: VertexInput | null) => (s ? inputs.push(s) - 1 : -1);
        const b = idx(dest.fs);
        const srcIdx = idx(from.fs);
        const owner = p.chown ? parseChown(p.chown) : undefined;
        const srcs: string[] = Array.isArray(p.src) ? p.src : [p.src];
        const actions: FileAction[] = srcs.map((s) => ({ action: 'copy', src: srcIdx, srcPath: s, destPath: p.dest, createDestPath: true, allowWildcard: true, dirCopyContents: true, followSymlinks: true, ...(owner ? { owner } : {}), ...(p.chmod ? { mode: parseInt(p.chmod, 8) } : {}) }));
        out = { fs: g.add({ kind: 'file', base: b, actions }, inputs, meta(`[${n.id}] COPY ${p.src} ${p.dest}`)), config: dest.config };
        break;
      }
      case 'mkdir':
      case 'mkfile':
      case 'rm': {
        const base = await one('in');
        const inputs = base.fs ? [base.fs] : [];
        const action: FileAction =
          n.kind === 'mkdir' ? { action: 'mkdir', path: p.path, mode: parseInt(p.mode, 8), makeParents: p.parents }
          : n.kind === 'mkfile' ? { action: 'mkfile', path: p.path, mode: parseInt(p.mode, 8), data: Buffer.from(p.data, 'utf8').toString('base64') }
          : { action: 'rm', path: p.path, allowNotFound: p.allowNotFound, allowWildcard: true };
        out = { fs: g.add({ kind: 'file', base: base.fs ? 0 : -1, actions: [action] }, inputs, meta(`[${n.id}] ${n.kind} ${p.path}`)), config: base.config };
        break;
      }
      case 'merge': {
        // edge order in the document is the layer order: lower first
        const ins = await Promise.all(into(id, 'in').map(build));
        const fsIns = ins.map((s) => s.fs).filter((s): s is VertexInput => s !== null);
        out = { fs: fsIns.length ? g.add({ kind: 'merge', inputs: fsIns.map((_, i) => i) }, fsIns, meta(`[${n.id}] merge`)) : null, config: ins[0]?.config ?? emptyConfig() };
        break;
      }
      case 'config': {
        const base = await one('in');
        const baseCfg = into(id, 'base')[0] ? (await build(into(id, 'base')[0]!)).config : base.config;
        out = { fs: base.fs, config: applyConfig(structuredClone(baseCfg), p) };
        break;
      }
      default: {
        // exporters: pass their input through, with the config port's config if wired
        const base = await one('in');
        const cfgSrc = into(id, 'config')[0];
        out = { fs: base.fs, config: cfgSrc ? (await build(cfgSrc)).config : base.config };
      }
    }
    if (out.fs) nodeVertex[id] = out.fs.digest;
    states.set(id, out);
    return out;
  };

  const targetNode = opts.target ?? defaultTarget(doc);
  if (!byId.has(targetNode)) throw new Error(`target node "${targetNode}" does not exist`);
  // every node gets a vertex digest (for status mapping), but only the target's ancestors are output
  for (const n of doc.nodes) await build(n.id);
  const t = states.get(targetNode)!;
  const definition = g.marshal(t.fs);
  definition.imageConfig = t.config;
  return { definition, imageConfig: t.config, warnings, nodeVertex, targetNode };
}

function defaultTarget(doc: GraphDocument): string {
  const exporters = doc.nodes.filter((n) => isExporter(n.kind));
  if (exporters.length === 1) return exporters[0]!.id;
  const sinks = doc.nodes.filter((n) => !doc.edges.some((e) => e.source === n.id) && !isExporter(n.kind));
  if (exporters.length === 0 && sinks.length === 1) return sinks[0]!.id;
  if (doc.nodes.length === 0) throw new Error('the graph is empty');
  throw new Error(`the graph has ${exporters.length || sinks.length} ${exporters.length ? 'exporters' : 'end nodes'}; choose a target node`);
}

function parseChown(s: string): ChownOpt {
  const [u, gr] = s.split(':');
  const conv = (x: string | undefined) => (x === undefined || x === '' ? undefined : /^\d+$/.test(x) ? Number(x) : x);
  return { user: conv(u), group: conv(gr) };
}

function applyConfig(img: ImageConfig, p: Record<string, any>): ImageConfig {
  const c = img.config;
  if (p.entrypoint) { c.Entrypoint = p.entrypoint; if (!p.cmd) c.Cmd = null; }
  if (p.cmd) c.Cmd = p.cmd;
  if (p.env) {
    const env = (c.Env ?? []).filter((e) => !(e.split('=')[0]! in p.env));
    c.Env = [...env, ...Object.entries(p.env as Record<string, string>).map(([k, v]) => `${k}=${v}`)];
  }
  if (p.labels) c.Labels = { ...(c.Labels ?? {}), ...p.labels };
  if (p.ports) c.ExposedPorts = { ...(c.ExposedPorts ?? {}), ...Object.fromEntries((p.ports as string[]).map((x) => [x.includes('/') ? x : `${x}/tcp`, {}])) };
  if (p.user) c.User = p.user;
  if (p.workdir) c.WorkingDir = p.workdir;
  return img;
}

// the exporter mapping lives in its own module so the editor can import it without the LLB builder
export { exporterOutput } from './exporter-output.js';
