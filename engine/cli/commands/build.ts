// `kiln build [CONTEXT]`: docker build's and buildctl's flags onto one solve call.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { OutputSpec, SolveRequest, SolveResponse } from '../../control/api.js';
import { connect, UsageError } from '../connect.js';
import { parseKeyValues, parseOutputCsv, parseSecret } from '../options.js';
import { makePrinter } from '../progress.js';

export interface BuildFlags {
  file?: string;
  tag: string[];
  target?: string;
  buildArg: string[];
  buildContext: string[];
  secret: string[];
  ssh: string[];
  cache: boolean;
  noCacheFilter?: string[];
  network?: string;
  output: string[];
  /** --output=type=docker / type=registry shorthands (buildx) */
  load?: boolean;
  push?: boolean;
  cacheFrom: string[];
  cacheTo: string[];
  progress: string;
  addr?: string;
  token?: string;
  metadataFile?: string;
  allow: string[];
}

export async function buildRequest(contextArg: string, f: BuildFlags): Promise<SolveRequest> {
  const context = path.resolve(contextArg);
  if (!fs.existsSync(context) || !fs.statSync(context).isDirectory()) throw new UsageError(`context ${contextArg} is not a directory`);
  const file = f.file ? path.resolve(f.file) : path.join(context, 'Dockerfile');
  if (!fs.existsSync(file)) throw new UsageError(`cannot read ${path.relative(process.cwd(), file) || file}: no such file`);
  if (f.network && !['default', 'none', 'host'].includes(f.network)) throw new UsageError(`--network must be default, none or host`);
  if (!['auto', 'tty', 'plain', 'rawjson'].includes(f.progress)) throw new UsageError(`--progress must be auto, tty, plain or rawjson`);
  for (const a of f.allow) if (a !== 'security.insecure') throw new UsageError(`--allow: unknown entitlement ${a}`);
  const outputs: OutputSpec[] = [];
  // buildx's shorthands: --load is --output=type=docker, --push is --output=type=registry
  const specs = [...f.output, ...(f.load ? ['type=docker'] : []), ...(f.push ? ['type=registry'] : [])];
  if (f.push && !f.tag.length) throw new UsageError('--push needs a name to push to: give -t/--tag NAME (or --output type=registry,name=NAME)');
  if (specs.length) {
    const parseOutputSpec = await import('../../control/deps.js')
      .then((d) => d.loadExporter())
      .then((m) => m.parseOutputSpec, () => parseOutputCsv);
    // an image output without name= is named by the tags (before parsing: type=registry requires a name)
    const named = (o: string) => (f.tag.length && /(^|,)\s*type=(image|docker|registry)\s*(,|$)/.test(o) && !/(^|,)\s*name=/.test(o) ? [o, ...f.tag.map((t) => `name=${t}`)].join(',') : o);
    for (const o of specs) {
      try {
        outputs.push(parseOutputSpec(named(o)));
      } catch (e) {
        throw new UsageError(`${(e as Error).message}${/needs name=/.test((e as Error).message) ? ' (or -t/--tag NAME)' : ''}`);
      }
    }
  } else if (f.tag.length) outputs.push({ type: 'docker', attrs: { name: f.tag.join(',') } });
  // destinations are written by the service, whose directory need not be this one
  for (const o of outputs) if (o.attrs['dest'] && o.attrs['dest'] !== '-') o.attrs['dest'] = path.resolve(o.attrs['dest']);
  const { parseCacheSpec } = await import('../../control/remotecache/spec.js');
  // directories are the service's (like the context): made absolute here, against this cwd
  const cacheSpec = (raw: string, flag: '--cache-to' | '--cache-from', k: 'dest' | 'src') => {
    const c = parseCacheSpec(raw, flag);
    if (c.type === 'local') c.attrs[k] = path.resolve(c.attrs[k]!);
    return c;
  };
  const cacheFrom = f.cacheFrom.map((c) => cacheSpec(c, '--cache-from', 'src'));
  const cacheTo = f.cacheTo.map((c) => cacheSpec(c, '--cache-to', 'dest'));
  const secrets = Object.fromEntries(f.secret.map((s) => parseSecret(s, (p) => fs.readFileSync(p))));
  const text = fs.readFileSync(file, 'utf8');
  const rel = path.relative(context, file);
  const name = rel.startsWith('..') ? file : rel;
  const isGraph = file.endsWith('.kiln.json');
  // a graph document has no ARGs and names its local sources itself: refuse rather than ignore
  if (isGraph && (f.buildArg.length || f.buildContext.length)) throw new UsageError(`${f.buildArg.length ? '--build-arg' : '--build-context'} applies to Dockerfiles only, not to the graph document ${path.basename(file)}`);
  const input: SolveRequest['input'] = isGraph
    ? { kind: 'graph', document: parseJson(text, file), context, ...(f.target ? { target: f.target } : {}) }
    : {
        kind: 'dockerfile',
        dockerfile: text,
        filename: name,
        context,
        ...(f.target ? { target: f.target } : {}),
        buildArgs: parseKeyValues(f.buildArg, '--build-arg'),
        buildContexts: localContexts(parseKeyValues(f.buildContext, '--build-context')),
      };
  return {
    id: randomUUID(),
    input,
    options: {
      outputs,
      ...(f.cache === false ? { noCache: true } : {}),
      ...(f.noCacheFilter?.length ? { noCacheFilter: f.noCacheFilter.flatMap((s) => s.split(',')) } : {}),
      ...(f.network ? { network: f.network as 'default' } : {}),
      ...(Object.keys(secrets).length ? { secrets } : {}),
      ...(f.ssh.length ? { ssh: f.ssh.map(sshSpec) } : {}),
      ...(f.allow.includes('security.insecure') ? { allowInsecure: true } : {}),
      ...(cacheFrom.length ? { cacheFrom } : {}),
      ...(cacheTo.length ? { cacheTo } : {}),
      name: f.tag[0] ?? name,
    },
  };
}

/**
 * `--build-context name=dir` is relative to this cwd (as in docker buildx), not to the context;
 * the service resolves against the context, so local dirs are made absolute here. Sources with a
 * scheme (docker-image://, https://, target:) pass through.
 */
function localContexts(m: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(m)) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || v.startsWith('target:')) continue;
    const abs = path.resolve(v);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new UsageError(`--build-context ${k}=${v}: ${abs} is not a directory`);
    m[k] = abs;
  }
  return m;
}

/**
 * `--ssh default` is this shell's agent (SSH_AUTH_SOCK), as docker buildx reads it on the client;
 * sent as `default=/abs/socket` so a `kiln serve` on this machine forwards the same agent.
 */
function sshSpec(spec: string): string {
  const [id, sock] = spec.includes('=') ? [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)] : [spec, process.env.SSH_AUTH_SOCK];
  if (!id) throw new UsageError(`--ssh ${spec}: expected default or ID=SOCKET`);
  if (!sock) throw new UsageError(`--ssh ${spec}: SSH_AUTH_SOCK is not set; start an agent (eval $(ssh-agent)) or pass ${id}=/path/to/socket`);
  const abs = path.resolve(sock);
  if (!fs.existsSync(abs)) throw new UsageError(`--ssh ${spec}: ${abs}: no such socket`);
  return `${id}=${abs}`;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    // bad input like a Dockerfile syntax error: exit 1, naming the file
    throw new Error(`${path.basename(file)}: not valid JSON: ${(e as Error).message}`);
  }
}

/** Prints the failure as BuildKit's CLI does: message, Dockerfile excerpt with the line marked, log tail. */
export function formatFailure(r: SolveResponse): string {
  const e = r.error;
  if (!e) return 'ERROR: build failed\n';
  const out = [`ERROR: ${e.message.split('\n')[0]}`];
  if (e.location && e.excerpt) out.push('------', ` > ${e.location.file}:${e.location.startLine}`, '------', e.excerpt, '------');
  if (e.logTail?.length) out.push(...e.logTail.map((l) => ` > ${l}`), '------');
  return out.join('\n') + '\n';
}

export async function runBuild(contextArg: string, f: BuildFlags, root?: string): Promise<number> {
  const req = await buildRequest(contextArg, f);
  const toStdout = req.options?.outputs?.some((o) => o.attrs['dest'] === '-') ?? false;
  const c = await connect({ ...(f.addr ? { addr: f.addr } : {}), ...(f.token ? { token: f.token } : {}), ...(root ? { root } : {}), useServe: !toStdout });
  const printer = makePrinter(f.progress, process.stderr, process.stdout);
  let ended!: () => void;
  const endP = new Promise<void>((r) => (ended = r));
  const un = c.statusWithEnd(req.id!, (e) => printer.event(e), () => ended());
  const onSig = () => void c.api.cancel(req.id!);
  process.once('SIGINT', onSig);
  try {
    const r = await c.api.solve(req);
    await Promise.race([endP, new Promise((res) => setTimeout(res, 2000))]);
    un();
    printer.done();
    for (const w of r.warnings) process.stderr.write(`WARNING: ${w.rule}: ${w.message}${w.location ? ` (${w.location.file}:${w.location.startLine})` : ''}\n`);
    if (f.metadataFile) {
      fs.writeFileSync(f.metadataFile, JSON.stringify(metadataOf(r.id, r.output, r.exports), null, 2) + '\n');
    }
    if (f.progress === 'rawjson') process.stdout.write(JSON.stringify({ type: 'result', ...r }) + '\n');
    if (!r.ok) {
      process.stderr.write(formatFailure(r));
      return 1;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSig);
    await c.close();
  }
}

/** `--metadata-file`'s entry for one result: the build ref, the output vertex and what each export reported (buildx's keys) */
export function metadataOf(id: string, output: string | undefined, exports: Record<string, unknown>[]): Record<string, unknown> {
  const meta: Record<string, unknown> = { 'kiln.build.ref': id, ...(output ? { 'kiln.output.vertex': output } : {}) };
  for (const x of exports) Object.assign(meta, x);
  return meta;
}
