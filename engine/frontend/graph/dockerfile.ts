// Dockerfile ↔ graph. Opening a Dockerfile in the editor: stages become groups, instructions
// nodes; edges follow FROM, COPY --from and RUN --mount from=. Each node keeps its line range so
// the source panel can highlight it. graphToDockerfile writes the reverse where a form exists.
import { parse } from '../dockerfile/parser/index.js';
import { parseDockerfileAST } from '../dockerfile/instructions/parse.js';
import type { Instruction, Stage } from '../dockerfile/instructions/types.js';
import { ShellLex } from '../dockerfile/shell/lex.js';
import { emptyDocument, type GraphDocument, type GraphNode, type GraphMount } from './document.js';
import { isExporter, isSource } from './ports.js';

export function dockerfileToGraph(text: string, filename = 'Dockerfile'): GraphDocument {
  const { ast, directives } = parse(text, filename);
  const lex = new ShellLex(directives.escape);
  // literal values are unquoted; a value that reads a variable keeps its instruction verbatim
  const literal = (w: string): string | undefined => (/[$]/.test(w) ? undefined : lex.processWord(w, {}));
  const pairs = (ps: { key: string; value: string; legacy: boolean }[]): Record<string, string> | undefined => {
    const out: Record<string, string> = {};
    for (const p of ps) {
      const k = p.legacy ? p.key : literal(p.key);
      const v = p.legacy ? p.value : literal(p.value);
      if (k === undefined || v === undefined || /\$|[$]/.test(p.value)) return undefined;
      out[k] = v;
    }
    return out;
  };
  const df = parseDockerfileAST(ast, filename, text);
  const doc = emptyDocument();
  doc.name = filename;
  let seq = 0;
  const add = (kind: GraphNode['kind'], params: Record<string, unknown>, ins?: { location: { startLine: number; endLine: number }; original: string }): GraphNode => {
    const n: GraphNode = { id: `n${++seq}`, kind, params, position: { x: 0, y: 0 }, ...(ins ? { location: { file: filename, startLine: ins.location.startLine, endLine: ins.location.endLine }, label: ins.original } : {}) };
    doc.nodes.push(n);
    return n;
  };
  const edge = (source: string, target: string, targetPort: string, sourcePort = 'out') => doc.edges.push({ id: `e${doc.edges.length + 1}`, source, sourcePort, target, targetPort });
  const stageTail = new Map<string, string>(); // stage name or index → last node id
  const images = new Map<string, string>();
  let context: string | undefined;
  const contextNode = () => (context ??= add('local', { name: 'context' }).id);
  const imageNode = (ref: string) => {
    let id = images.get(ref);
    if (!id) images.set(ref, (id = add('image', { ref }).id));
    return id;
  };
  // a --from / FROM reference: an earlier stage by name or index, else an image
  const resolveFrom = (ref: string) => stageTail.get(ref.toLowerCase()) ?? imageNode(ref);

  if (df.metaArgs.length) doc.metaArgs = df.metaArgs.map((m) => m.original);

  df.stages.forEach((st: Stage) => {
    const members: string[] = [];
    const ref = st.from.image;
    let tail: string;
    let fromNode: GraphNode;
    if (ref === 'scratch') fromNode = add('scratch', {}, st.from);
    else if (stageTail.has(ref.toLowerCase())) {
      // FROM <stage>: the stage continues from that stage's result — a config node marks the FROM line
      fromNode = add('config', { instruction: st.from.original }, st.from);
      edge(stageTail.get(ref.toLowerCase())!, fromNode.id, 'in');
    } else fromNode = add('image', { ref, ...(st.from.platform ? { platform: st.from.platform } : {}) }, st.from);
    members.push(fromNode.id);
    tail = fromNode.id;
    for (const ins of st.commands) {
      const n = instructionNode(ins, add, resolveFrom, contextNode, edge, pairs);
      edge(tail, n.id, 'in');
      members.push(n.id);
      tail = n.id;
    }
    stageTail.set(String(st.index), tail);
    if (st.name) stageTail.set(st.name.toLowerCase(), tail);
    doc.groups.push({ id: `stage${st.index}`, name: st.name ?? `stage ${st.index}`, nodes: members });
  });
  return doc;
}

function instructionNode(
  ins: Instruction,
  add: (kind: GraphNode['kind'], params: Record<string, unknown>, ins?: Instruction) => GraphNode,
  resolveFrom: (ref: string) => string,
  contextNode: () => string,
  edge: (s: string, t: string, port: string) => void,
  pairs: (ps: { key: string; value: string; legacy: boolean }[]) => Record<string, string> | undefined,
): GraphNode {
  switch (ins.kind) {
    case 'run': {
      if (ins.heredocs.length) return add('config', { instruction: ins.original }, ins);
      const mounts: GraphMount[] = [];
      const froms: [number, string][] = [];
      for (const spec of ins.mounts) {
        const kv = Object.fromEntries(spec.split(',').map((p) => { const i = p.indexOf('='); return i < 0 ? [p, 'true'] : [p.slice(0, i), p.slice(i + 1)]; }));
        const target = kv.target ?? kv.dst ?? kv.destination ?? '';
        const type = kv.type ?? 'bind';
        if (type === 'cache') mounts.push({ type: 'cache', target, ...(kv.id ? { id: kv.id } : {}), ...(kv.sharing ? { sharing: kv.sharing as 'shared' | 'private' | 'locked' } : {}) });
        else if (type === 'secret') mounts.push({ type: 'secret', target: target || `/run/secrets/${kv.id}`, id: kv.id ?? target.split('/').pop() ?? '' });
        else if (type === 'tmpfs') mounts.push({ type: 'tmpfs', target });
        else if (type === 'bind') {
          mounts.push({ type: 'bind', target, ...(kv.source ?? kv.src ? { selector: kv.source ?? kv.src } : {}), ...(kv.rw || kv.readwrite ? { readonly: false } : {}) });
          froms.push([mounts.length - 1, kv.from ?? '']);
        } else return add('config', { instruction: ins.original }, ins);
      }
      const params = ins.prependShell ? { command: ins.cmd.join(' '), shell: true } : { command: ins.cmd.join(' '), shell: false, args: ins.cmd };
      const n = add('run', { ...params, mounts, ...(ins.network ? { network: ins.network } : {}) }, ins);
      for (const [i, from] of froms) edge(from ? resolveFrom(from) : contextNode(), n.id, `mount${i}`);
      return n;
    }
    case 'copy':
    case 'add': {
      const remote = ins.kind === 'add' && ins.sources.some((s) => /^(https?|git):\/\/|\.git$/.test(s));
      if (ins.heredocs.length || remote || ins.parents || ins.exclude.length) return add('config', { instruction: ins.original }, ins);
      const n = add('copy', { src: ins.sources.length === 1 ? ins.sources[0] : ins.sources, dest: ins.dest, ...(ins.chown ? { chown: ins.chown } : {}), ...(ins.chmod && /^[0-7]{3,4}$/.test(ins.chmod) ? { chmod: ins.chmod } : {}) }, ins);
      edge(ins.from ? resolveFrom(ins.from) : contextNode(), n.id, 'from');
      return n;
    }
    case 'env':
    case 'label': {
      const kv = pairs(ins.pairs);
      return add('config', kv ? { [ins.kind === 'env' ? 'env' : 'labels']: kv } : { instruction: ins.original }, ins);
    }
    case 'cmd':
    case 'entrypoint':
      // shell form keeps its text verbatim: the shell is the config's, only the Dockerfile knows it
      return ins.prependShell ? add('config', { instruction: ins.original }, ins) : add('config', { [ins.kind]: ins.cmd }, ins);
    case 'expose':
      return add('config', { ports: ins.ports }, ins);
    case 'user':
      return add('config', { user: ins.user }, ins);
    case 'workdir':
      return add('config', { workdir: ins.path }, ins);
    default:
      return add('config', { instruction: ins.original }, ins);
  }
}

export interface DockerfileFromGraph {
  dockerfile: string;
  /** nodes with no Dockerfile form, with the reason */
  unsupported: { nodeId: string; reason: string }[];
}

/** Write a graph as a Dockerfile: one stage per chain of nodes ending in a node others read. */
export function graphToDockerfile(doc: GraphDocument): DockerfileFromGraph {
  const unsupported: DockerfileFromGraph['unsupported'] = [];
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const inEdge = (id: string, port: string) => doc.edges.find((e) => e.target === id && e.targetPort === port);
  const consumers = (id: string) => doc.edges.filter((e) => e.source === id);
  // a node starts a new stage when its 'in' source is a source node, or feeds several nodes / a --from
  const stageOf = new Map<string, string>(); // node id → stage name it ends
  const lines: string[] = [];
  const emitted = new Set<string>();
  let stageN = 0;
  if (doc.metaArgs) lines.push(...doc.metaArgs, '');
  const fromRef = (id: string): string => {
    const n = byId.get(id)!;
    if (n.kind === 'image') return String(n.params.ref);
    if (n.kind === 'scratch') return 'scratch';
    return ensureStage(id);
  };
  const ensureStage = (tail: string): string => {
    const known = stageOf.get(tail);
    if (known) return known;
    // walk back to the stage start
    const chain: string[] = [];
    let cur: string | undefined = tail;
    while (cur) {
      const n = byId.get(cur)!;
      if (isSource(n.kind)) break;
      chain.unshift(cur);
      const e = inEdge(cur, 'in');
      cur = e?.source;
      if (cur && chain.length > 0 && cur !== tail && stageOf.has(cur)) break;
    }
    const head = cur ? byId.get(cur) : undefined;
    // dependencies first (other stages this chain reads)
    for (const id of chain) for (const e of doc.edges.filter((x) => x.target === id && x.targetPort !== 'in')) {
      const s = byId.get(e.source)!;
      if (!isSource(s.kind)) ensureStage(e.source);
    }
    const base = head ? (isSource(head.kind) && head.kind !== 'image' && head.kind !== 'scratch' ? undefined : head.kind === 'image' || head.kind === 'scratch' ? fromRef(head.id) : stageOf.get(head.id)) : 'scratch';
    const name = `stage${stageN++}`;
    if (head && base === undefined) unsupported.push({ nodeId: head.id, reason: `a ${head.kind} source cannot be a Dockerfile base (FROM takes an image or a stage)` });
    lines.push(`FROM ${base ?? 'scratch'} AS ${name}`);
    for (const id of chain) {
      if (emitted.has(id)) continue;
      emitted.add(id);
      const l = instructionLine(byId.get(id)!, doc, fromRef, unsupported);
      if (l) lines.push(l);
    }
    lines.push('');
    stageOf.set(tail, name);
    return name;
  };
  void consumers;
  // stage tails: nodes nobody reads through 'in', plus exporters' inputs
  for (const n of doc.nodes) {
    if (isExporter(n.kind)) {
      unsupported.push({ nodeId: n.id, reason: 'exporters have no Dockerfile form (use kiln build --output)' });
      const e = inEdge(n.id, 'in');
      if (e && !isSource(byId.get(e.source)!.kind)) ensureStage(e.source);
      continue;
    }
    if (isSource(n.kind)) {
      // a bare FROM: a stage with no instructions
      if ((n.kind === 'image' || n.kind === 'scratch') && !doc.edges.some((e) => e.source === n.id)) lines.push(`FROM ${fromRef(n.id)} AS stage${stageN++}`, '');
      continue;
    }
    if (!doc.edges.some((e) => e.source === n.id && e.targetPort === 'in')) ensureStage(n.id);
  }
  return { dockerfile: lines.join('\n').trimEnd() + '\n', unsupported };
}

function instructionLine(n: GraphNode, doc: GraphDocument, fromRef: (id: string) => string, unsupported: DockerfileFromGraph['unsupported']): string | undefined {
  const p = n.params as Record<string, any>;
  const src = (port: string) => doc.edges.find((e) => e.target === n.id && e.targetPort === port)?.source;
  const q = (xs: string[]) => JSON.stringify(xs);
  switch (n.kind) {
    case 'run': {
      const flags: string[] = [];
      (p.mounts as GraphMount[] | undefined ?? []).forEach((m, i) => {
        if (m.type === 'bind') {
          const from = src(`mount${i}`);
          const fromN = from ? doc.nodes.find((x) => x.id === from) : undefined;
          flags.push(`--mount=type=bind,target=${m.target}${m.selector ? `,source=${m.selector}` : ''}${fromN && fromN.kind !== 'local' ? `,from=${fromRef(from!)}` : ''}${m.readonly === false ? ',rw' : ''}`);
        } else if (m.type === 'cache') flags.push(`--mount=type=cache,target=${m.target}${m.id ? `,id=${m.id}` : ''}${m.sharing ? `,sharing=${m.sharing}` : ''}`);
        else if (m.type === 'secret') flags.push(`--mount=type=secret,id=${m.id},target=${m.target}`);
        else flags.push(`--mount=type=tmpfs,target=${m.target}`);
      });
      if (p.network) flags.push(`--network=${p.network}`);
      const pre: string[] = [];
      if (p.workdir) pre.push(`WORKDIR ${p.workdir}`);
      if (p.user) pre.push(`USER ${p.user}`);
      for (const [k, v] of Object.entries((p.env ?? {}) as Record<string, string>)) pre.push(`ENV ${k}=${dq(String(v))}`);
      const cmd = p.shell === false ? q(p.args ?? [p.command]) : p.command;
      return [...pre, ['RUN', ...flags, cmd].join(' ')].join('\n');
    }
    case 'copy': {
      const from = src('from');
      const fromN = from ? doc.nodes.find((x) => x.id === from) : undefined;
      const flags: string[] = [];
      if (fromN && fromN.kind !== 'local') flags.push(`--from=${fromRef(from!)}`);
      if (p.chown) flags.push(`--chown=${p.chown}`);
      if (p.chmod) flags.push(`--chmod=${p.chmod}`);
      const srcs: string[] = Array.isArray(p.src) ? p.src : [p.src];
      // JSON form keeps paths with spaces whole
      const words = [...srcs, p.dest];
      return ['COPY', ...flags, words.some((w) => /\s/.test(w)) ? q(words) : words.join(' ')].join(' ');
    }
    case 'config': {
      if (p.instruction) return p.instruction;
      const out: string[] = [];
      if (p.env) out.push(`ENV ${Object.entries(p.env).map(([k, v]) => `${k}=${dq(String(v))}`).join(' ')}`);
      if (p.labels) out.push(`LABEL ${Object.entries(p.labels).map(([k, v]) => `${dq(k)}=${dq(String(v))}`).join(' ')}`);
      if (p.ports) out.push(`EXPOSE ${p.ports.join(' ')}`);
      if (p.user) out.push(`USER ${p.user}`);
      if (p.workdir) out.push(`WORKDIR ${p.workdir}`);
      if (p.entrypoint) out.push(`ENTRYPOINT ${q(p.entrypoint)}`);
      if (p.cmd) out.push(`CMD ${q(p.cmd)}`);
      return out.join('\n') || undefined;
    }
    case 'mkdir':
      return `RUN mkdir ${p.parents === false ? '' : '-p '}-m ${p.mode ?? '0755'} ${p.path}`;
    case 'rm':
      return `RUN rm -rf ${p.path}`;
    case 'mkfile':
      return `COPY --chmod=${p.mode ?? '0644'} <<'KILN_EOF' ${p.path}\n${p.data ?? ''}\nKILN_EOF`;
    default:
      unsupported.push({ nodeId: n.id, reason: `${n.kind} has no Dockerfile form` });
      return undefined;
  }
}

/** A Dockerfile double-quoted word: the shell lexer reads back exactly `s`. */
function dq(s: string): string {
  return '"' + s.replace(/[\\"$`]/g, (c) => '\\' + c) + '"';
}
